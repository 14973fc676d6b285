"""thidua_rules plugin ``cand`` for Public Security (Công an nhân dân) emulation clusters.

Two things a scoring table cannot express:

* **Cross-inspection (kiểm tra chéo).** At the year end every unit of the cluster is inspected
  and scored by the other units (domain.md §8.2–8.3). The data file gives the scores in
  ``[plugin_data.cand.cross_scores]``, one table per inspected unit mapping each inspecting unit
  to its score. The plugin derives, for each unit, the inputs the policy declares with
  ``plugin = "cand"``: ``cross_score`` (the median of the other units' scores, exact),
  ``cross_min`` and ``cross_max`` (the spread, shown in the explanation) and ``cross_count``
  (how many scores were used). A unit's score of itself is never used.
* **Discipline caps on the band.** A unit whose head was disciplined cannot be rated above a
  ceiling (Cần Thơ QĐ 2579/QĐ-UBND 2025 Art. 6 k4–5, domain.md §6.5 and §8.4): khiển trách →
  at most "tốt", cảnh cáo → at most "hoàn thành", cách chức or above → "không hoàn thành".
  The policy states the mapping in ``[plugin.cand] band_caps`` and names the enum input that
  records the head's discipline in ``discipline_input``.

Policy: ``policies/cand-cum5-2023.toml``; data: ``examples/cand-cum5-2023/units.toml``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any

from thidua_rules import Cluster, PolicyContext, Reason, Unit, hookimpl

#: The inputs this plugin can derive, and what they mean.
DERIVED = {
    "cross_count": "number of cross-inspection scores used",
    "cross_max": "highest score given by another unit",
    "cross_min": "lowest score given by another unit",
    "cross_score": "median of the scores given by the other units",
}
SECTION_KEYS = ("band_caps", "discipline_input")
#: Vietnamese names of discipline forms, for the explanation.
LABELS = {
    "khien_trach": "khiển trách", "canh_cao": "cảnh cáo", "cach_chuc": "cách chức",
    "bai_nhiem": "bãi nhiệm", "giang_chuc": "giáng chức", "ha_bac_luong": "hạ bậc lương",
}

Report = Callable[[str, str], None]

#: The texts of the plugin's reason codes (``register_messages``): a band cap's, by language.
#: ``{ceiling}`` is the band's id; the reports show it by the band's name.
MESSAGES = {
    "en": {"cand.head_disciplined": "head disciplined ({label}): at most '{ceiling}'"},
    "vi": {"cand.head_disciplined": "thủ trưởng đơn vị bị kỷ luật ({label}): xếp loại không cao hơn “{ceiling}” "
                                    "(Cần Thơ QĐ 2579/QĐ-UBND 2025 Điều 6 khoản 4–5)"},
}


def _is_number(value: Any) -> bool:
    return isinstance(value, int | Decimal) and not isinstance(value, bool)


def median(values: list[Decimal]) -> Decimal:
    """The exact median: the middle value, or the mean of the two middle values."""
    ordered = sorted(values)
    middle = len(ordered) // 2
    if len(ordered) % 2:
        return ordered[middle]
    return (ordered[middle - 1] + ordered[middle]) / 2


@hookimpl
def validate_policy_section(section: Mapping[str, Any], policy: PolicyContext, report: Report) -> None:
    """Check ``[plugin.cand]`` and the inputs the policy declares with ``plugin = "cand"``."""
    for key in sorted(set(section) - set(SECTION_KEYS)):
        report(key, f"unknown key '{key}'; expected {' or '.join(SECTION_KEYS)}")
    for name in policy.derived:
        if name not in DERIVED:
            report("", f"input '{name}' is declared with plugin = 'cand', but cand derives only "
                   f"{', '.join(sorted(DERIVED))}")
    caps = section.get("band_caps")
    if caps is None:
        return
    if not isinstance(caps, Mapping):
        report("band_caps", "expected a table of discipline value = band, e.g. { khien_trach = \"tot\" }")
        return
    field_name = section.get("discipline_input", "head_discipline")
    if not isinstance(field_name, str):
        report("discipline_input", "expected the name of an enum input")
        return
    field = policy.inputs.get(field_name)
    if field is None or field.type != "enum":
        report("discipline_input" if "discipline_input" in section else "",
               f"'{field_name}' must be an enum input of the policy (the head's discipline)")
        return
    for value, band in caps.items():
        if value not in field.values:
            report(f"band_caps.{value}", f"'{value}' is not a value of '{field_name}'; expected one of "
                   f"{', '.join(field.values)}")
        elif band not in policy.bands:
            report(f"band_caps.{value}", f"unknown band '{band}'; expected one of {', '.join(policy.bands)}")


@hookimpl
def validate_plugin_data(section: Mapping[str, Any], cluster: Cluster, config: Mapping[str, Any],
                         report: Report) -> None:
    """Check ``[plugin_data.cand.cross_scores]``: known units, scores >= 0, a score for every unit."""
    for key in sorted(set(section) - {"cross_scores"}):
        report(key, f"unknown key '{key}'; expected cross_scores")
    scores = section.get("cross_scores", {})
    if not isinstance(scores, Mapping):
        report("cross_scores", "expected a table: inspected unit = { inspecting unit = score }")
        return
    ids = [u.id for u in cluster.units]
    for unit_id, given in scores.items():
        if unit_id not in ids:
            report(f"cross_scores.{unit_id}", f"unknown unit '{unit_id}'")
            continue
        if not isinstance(given, Mapping):
            report(f"cross_scores.{unit_id}", "expected a table: inspecting unit = score")
            continue
        for by, score in given.items():
            if by not in ids:
                report(f"cross_scores.{unit_id}.{by}", f"unknown unit '{by}'")
            elif not _is_number(score):
                report(f"cross_scores.{unit_id}.{by}", f"expected a number, got {type(score).__name__}")
            elif score < 0:
                report(f"cross_scores.{unit_id}.{by}", f"expected a score >= 0, got {score}")
    if "cross_scores" in section:
        for unit_id in ids:
            others = [by for by in scores.get(unit_id, {}) if by != unit_id] if isinstance(
                scores.get(unit_id, {}), Mapping) else []
            if not others:
                report("cross_scores", f"no score for unit '{unit_id}' from another unit")


@hookimpl
def derive_inputs(unit: Unit, env: Mapping[str, Any], names: tuple[str, ...], data: Mapping[str, Any],
                  config: Mapping[str, Any]) -> Mapping[str, Any]:
    """The median, spread and count of the scores the other units gave ``unit``."""
    given = data.get("cross_scores", {}).get(unit.id, {})
    scores = [Decimal(score) for by, score in sorted(given.items()) if by != unit.id]
    if not scores:
        raise ValueError("no cross-inspection score from another unit in [plugin_data.cand.cross_scores]")
    values = {
        "cross_count": Decimal(len(scores)),
        "cross_max": max(scores),
        "cross_min": min(scores),
        "cross_score": median(scores),
    }
    return {name: values[name] for name in names}


@hookimpl
def cap_band(unit: Unit, env: Mapping[str, Any], bands: tuple[str, ...],
             config: Mapping[str, Any]) -> tuple[str, str] | None:
    """The band ceiling for the head's discipline, from ``[plugin.cand] band_caps``."""
    caps = config.get("band_caps", {})
    discipline = env.get(config.get("discipline_input", "head_discipline"))
    ceiling = caps.get(discipline) if isinstance(discipline, str) else None
    if ceiling is None:
        return None
    # Cần Thơ QĐ 2579/QĐ-UBND 2025 Art. 6 k4-5: the head's discipline caps the unit's band
    params = {"discipline": discipline, "label": LABELS.get(discipline, discipline), "ceiling": ceiling}
    return ceiling, Reason("cand.head_disciplined", params)


@hookimpl
def register_messages(register: Callable[[Mapping[str, Mapping[str, str]]], None]) -> None:
    """The English and Vietnamese texts of the band cap's reason."""
    register(MESSAGES)
