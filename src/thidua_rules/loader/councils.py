"""Loading what ``councils.py`` decides on: a member's transfer, a unit council's ballot."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from ..errors import did_you_mean
from ..extensions import type_name
from ..model import PreferenceStep
from .common import escaped, take

if TYPE_CHECKING:
    from .data import DataChecker

#: The members-file keys of a transfer (CSV columns, TOML/JSON keys).
TRANSFER_KEYS = ("transferred_from", "months_at_previous", "previous_unit_opinion")


def member_units(rows: Iterable[Any]) -> dict[str, str]:
    """Member id → unit id of the well-formed member rows (for checking a unit council's ballot)."""
    return {row["id"]: row["unit"] for row in rows
            if isinstance(row, dict) and isinstance(row.get("id"), str) and isinstance(row.get("unit"), str)}


def check_transfer(checker: DataChecker, where: str, row: Mapping[str, Any], ids: set[str],
                   unit_id: Any) -> tuple[bool, dict[str, Any]]:
    """A member's ``transferred_from``, ``months_at_previous`` (whole months at the previous unit
    this year, 0 to 12) and ``previous_unit_opinion`` (true/false; absent: not given yet), as
    :class:`~thidua_rules.model.Person` keyword arguments. CSV cells are texts: an empty cell is
    absent, ``true``/``false`` are the opinion. TT 01/2024/TT-TANDTC Art. 29; TT 40/2014/TT-BCA."""
    raw = {key: row.get(key) for key in TRANSFER_KEYS}
    raw = {key: None if isinstance(value, str) and not value.strip() else value for key, value in raw.items()}
    source, months, opinion = raw["transferred_from"], raw["months_at_previous"], raw["previous_unit_opinion"]
    if source is None:
        for key in ("months_at_previous", "previous_unit_opinion"):
            if raw[key] is not None:
                checker.issues.add(f"{where}.{key}", f"'{key}' is for a transferred member; "
                                   "give 'transferred_from' (the previous unit) too, or remove it")
        return all(raw[k] is None for k in TRANSFER_KEYS[1:]), {}
    ok = True
    if not isinstance(source, str):
        checker.issues.add(f"{where}.transferred_from", f"expected a unit id, got {type_name(source)}")
        ok = False
    else:
        source = source.strip()
        if source not in ids:
            checker.issues.add(f"{where}.transferred_from", checker.unknown_unit(source, ids))
            ok = False
        elif source == unit_id:
            checker.issues.add(f"{where}.transferred_from", f"the member is of unit '{escaped(source)}' already; "
                               "'transferred_from' names the unit they came from")
            ok = False
    if isinstance(months, str) and months.strip().isascii() and months.strip().isdigit() and len(months.strip()) <= 2:
        months = int(months.strip())
    if months is None:
        checker.issues.add(where, "missing key 'months_at_previous' (whole months at the previous unit this year)")
        ok = False
    elif isinstance(months, bool) or not isinstance(months, int) or not 0 <= months <= 12:
        shown = f"'{escaped(months)}'" if isinstance(months, str) else str(months) if isinstance(months, int) \
            and not isinstance(months, bool) else type_name(months)
        checker.issues.add(f"{where}.months_at_previous", f"expected whole months from 0 to 12, got {shown}")
        ok = False
    if isinstance(opinion, str):
        word = opinion.strip().lower()
        if word in ("true", "false"):
            opinion = word == "true"
        else:
            checker.issues.add(f"{where}.previous_unit_opinion", f"expected true or false, got '{escaped(opinion)}'"
                               f"{did_you_mean(word, ['true', 'false'])}")
            ok = False
            opinion = None
    elif opinion is not None and not isinstance(opinion, bool):
        checker.issues.add(f"{where}.previous_unit_opinion", f"expected true or false, got {type_name(opinion)}")
        ok = False
        opinion = None
    return ok, {"transferred_from": source, "months_at_previous": months, "previous_unit_opinion": opinion}


def compile_preference(issues: Any, table: Any, inputs: Mapping[str, Any]) -> tuple[PreferenceStep, ...]:
    """``[people.ranking] order = [{ key = "female", direction = "desc" }, "years_of_service"]``:
    the declared preference chain among persons (ND152 Art. 4 k6: women are preferred among
    candidates of equal merit). A step is a person input that is a number or a boolean (true
    first when ``desc``, the default); a plain string is ``{ key = "...", direction = "desc" }``."""
    if table is None:
        return ()
    values = take(issues, "people.ranking", table, {"order": ("array", True)})
    if not values or "order" not in values:
        return ()
    known = sorted(f.id for f in inputs.values() if f.type in ("integer", "decimal", "boolean"))
    steps: list[PreferenceStep] = []
    for i, entry in enumerate(values["order"]):
        path = f"people.ranking.order[{i}]"
        if isinstance(entry, dict):
            spec = take(issues, path, entry, {"key": ("str", True), "direction": ("str", False)})
            if not spec or "key" not in spec:
                continue
            name, direction = spec["key"], spec.get("direction", "desc")
            if direction not in ("desc", "asc"):
                issues.add(f"{path}.direction", f"expected 'desc' or 'asc', got \"{escaped(direction)}\"")
                continue
        elif isinstance(entry, str):
            name, direction = entry, "desc"
        else:
            issues.add(path, 'expected a person input such as "female" or { key = "female", direction = "desc" }')
            continue
        if name not in known:
            what = "is not a number or a boolean" if name in inputs else "is not a person input"
            issues.add(path, f"'{escaped(name)}' {what}{did_you_mean(name, known)}; a preference step is a "
                       "[people.inputs] number or boolean")
            continue
        if any(step.key == name for step in steps):
            issues.add(path, f"'{escaped(name)}' is already a step of the chain")
            continue
        steps.append(PreferenceStep(key=name, descending=direction == "desc"))
    return tuple(steps)
