"""`thidua diff`: what a new scoring table changes on the same data — the rules that differ
between two policies and the units whose total, rank, band or titles move because of them."""

from __future__ import annotations

import datetime
from collections.abc import Mapping, Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

import attrs

from .decimals import plain
from .errors import Issue, PolicyError
from .tomlfmt import escaped, join_path, toml_key

FORMAT_VERSION = "thidua-diff/1"
DIFF_FORMATS = ("json", "markdown", "text")

# ---------------------------------------------------------------- loading


@attrs.frozen(kw_only=True)
class Side:
    """One policy of the comparison: its resolved tables (``extends`` merged), compiled form and
    the result it gives on the data."""

    raw: Mapping[str, Any]
    policy: Any       # thidua_rules.model.Policy
    document: Mapping[str, Any]


def load_side(policy_path: str, data_path: str, *, data_format: str | None = None,
              members: str | None = None) -> Side:
    """Compile ``policy_path``, evaluate it on ``data_path`` and keep its merged tables.

    :raises PolicyError: the policy or data has problems (every one, as ``evaluate`` says them).
    """
    from .engine import evaluate
    from .loader import load_data, parse_policy
    from .loader.common import read_bytes
    from .loader.extends import resolve
    from .report.document import build_document

    data = read_bytes(policy_path, policy_path)
    policy = parse_policy(data, file=policy_path, path=policy_path)
    raw, digest = resolve(data, file=policy_path, path=policy_path)
    if digest != policy.sha256:  # a base it extends changed between the two reads
        raise PolicyError([Issue(file=policy_path, message="a file changed while it was read; run again")])
    dataset = load_data(data_path, policy, format=data_format, members=members)
    return Side(raw=raw, policy=policy, document=build_document(evaluate(policy, dataset)))


# ---------------------------------------------------------------- the policies


def normal(value: Any) -> Any:
    """A TOML value compared by meaning: numbers as Decimal (``35`` and ``35.0`` are equal),
    tables with sorted keys, dates as ISO text."""
    if isinstance(value, bool) or isinstance(value, str) or value is None:
        return value
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, Decimal):
        return value
    if isinstance(value, dict):
        return {str(k): normal(v) for k, v in sorted(value.items())}
    if isinstance(value, list | tuple):
        return [normal(v) for v in value]
    if isinstance(value, datetime.date | datetime.time):
        return value.isoformat()
    return str(value)


def _entry_path(section: str, entry_id: str) -> str:
    return f"{section}(id={escaped(entry_id)})"


def _by_id(items: Any) -> tuple[dict[str, Any], list[str]] | None:
    """``{id: table}`` and the ids in order, or None when ``items`` is not a list of tables with
    distinct string ids (then it is compared as one value)."""
    if not isinstance(items, list) or not all(isinstance(i, dict) and isinstance(i.get("id"), str) for i in items):
        return None
    ids = [i["id"] for i in items]
    if len(set(ids)) != len(ids):
        return None
    return dict(zip(ids, items, strict=True)), ids


def _change(path: str, old: Any, new: Any) -> dict[str, Any]:
    kind = "added" if old is None else "removed" if new is None else "changed"
    return {"path": path, "change": kind, "old": old, "new": new}


def _diff_tables(path: str, old: Any, new: Any, out: list[dict[str, Any]]) -> None:
    """Key-by-key changes between two normalised values: a table is descended into, an array of
    tables with distinct ids is matched by id (``criteria(id=chi_tieu)``, whatever the positions,
    with one ``order`` change when the ids both have are in a new order); anything else (a list,
    a number, a string) is compared whole."""
    if old == new:
        return
    if isinstance(old, dict) and isinstance(new, dict):
        for key in sorted(set(old) | set(new)):
            _diff_tables(join_path(path, key), old.get(key), new.get(key), out)
        return
    old_items, new_items = _by_id(old), _by_id(new)
    if old_items is None or new_items is None or not (old_items[1] or new_items[1]):
        out.append(_change(path, old, new))
        return
    (old_map, old_ids), (new_map, new_ids) = old_items, new_items
    for entry_id in sorted(set(old_map) | set(new_map)):
        _diff_tables(_entry_path(path, entry_id), old_map.get(entry_id), new_map.get(entry_id), out)
    common = set(old_ids) & set(new_ids)
    kept_old = [i for i in old_ids if i in common]
    kept_new = [i for i in new_ids if i in common]
    if kept_old != kept_new:  # bands and titles are read in order: a new order is a new rule
        out.append({"path": path, "change": "order", "old": kept_old, "new": kept_new})


def policy_changes(old_raw: Mapping[str, Any], new_raw: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Every difference between two resolved policies, sorted by key path.

    Arrays of tables with ids (``criteria``, ``bands``, ``titles``, ``people.titles``…) are
    matched by id: an entry is ``added``, ``removed`` or has ``changed`` keys
    (``criteria(id=chi_tieu).points``), and a new order of the ids both have is one ``order``
    change. Other values are compared key by key, numbers by value.
    """
    out: list[dict[str, Any]] = []
    _diff_tables("", normal(dict(old_raw)), normal(dict(new_raw)), out)
    # Where a rule's catalogue lies on disk (law.catalogue.file) is not part of the rule: two
    # copies of one catalogue in two folders are the same law.
    out = [c for c in out if not c["path"].endswith(".law.catalogue.file")]
    out.sort(key=lambda c: (c["path"], c["change"]))
    return out


def rule_of(path: str) -> str:
    """The rule a change belongs to: ``criteria(id=chi_tieu)`` for ``criteria(id=chi_tieu).points``,
    the section (``ranking``, ``scoring``) for the others."""
    head = path.split(".", 1)[0]
    if "(id=" in path and ")" in path:
        return path[: path.index(")") + 1]
    return head


# ---------------------------------------------------------------- the results


def _scores(unit: Mapping[str, Any]) -> dict[str, str]:
    """``{rule path: score}`` of one unit's criteria, groups, bonuses and deductions."""
    ex = unit["explanation"]
    out = {}
    for section, key in (("criteria", "criteria"), ("groups", "groups"), ("bonuses", "bonuses"),
                         ("deductions", "deductions")):
        for item in ex[key]:
            out[_entry_path(section, item["id"])] = item["score"]
    return out


def _statuses(unit: Mapping[str, Any]) -> dict[str, str]:
    return {t["id"]: t["status"] for t in unit["explanation"]["titles"]}


def _pair(old: Any, new: Any) -> dict[str, Any]:
    return {"old": old, "new": new}


def unit_changes(old_doc: Mapping[str, Any], new_doc: Mapping[str, Any],
                 changed_rules: set[str]) -> list[dict[str, Any]]:
    """The units whose total, rank, tie, band, proposals or title decisions differ, by cluster
    and unit id, each with the score lines that moved and the changed rules behind them."""
    old_units = {(u["cluster"], u["id"]): u for u in old_doc["units"]}
    new_units = {(u["cluster"], u["id"]): u for u in new_doc["units"]}
    out = []
    for key in sorted(set(old_units) | set(new_units)):
        old, new = old_units.get(key), new_units.get(key)
        if old is None or new is None:  # the same data, so only if a policy drops a cluster
            out.append({"cluster": key[0], "id": key[1], "name": (old or new or {})["name"],
                        "present": _pair(old is not None, new is not None)})
            continue
        entry: dict[str, Any] = {"cluster": key[0], "id": key[1], "name": new["name"]}
        for field in ("total", "rank", "tied", "band", "proposed"):
            if old[field] != new[field]:
                entry[field] = _pair(old[field], new[field])
        if "rank" in entry or "tied" in entry:  # a place is its rank and whether it is shared
            entry["rank"], entry["tied"] = _pair(old["rank"], new["rank"]), _pair(old["tied"], new["tied"])
        old_scores, new_scores = _scores(old), _scores(new)
        scores = [{"item": item, **_pair(old_scores.get(item), new_scores.get(item))}
                  for item in sorted(set(old_scores) | set(new_scores))
                  if old_scores.get(item) != new_scores.get(item)]
        old_status, new_status = _statuses(old), _statuses(new)
        # A title only one policy has, and that the unit fails, decides nothing for it: left out.
        titles = [{"title": t, **_pair(old_status.get(t), new_status.get(t))}
                  for t in sorted(set(old_status) | set(new_status)) if old_status.get(t) != new_status.get(t)
                  and {old_status.get(t), new_status.get(t)} != {None, "failed"}]
        if not (set(entry) - {"cluster", "id", "name"}) and not titles:
            continue  # a score line moved but nothing decided did (e.g. a group cap absorbed it)
        rules = {s["item"] for s in scores if s["item"] in changed_rules}
        if "band" in entry:  # the bands the unit left or reached, if their rule changed
            rules |= {_entry_path("bands", b) for b in (old["band"], new["band"]) if b is not None} & changed_rules
            rules |= {"bands"} & changed_rules
        if "total" in entry:
            rules |= {"scoring"} & changed_rules
        if "rank" in entry or "tied" in entry:
            rules |= {"ranking"} & changed_rules
        if titles:
            rules |= {_entry_path("titles", t["title"]) for t in titles} & changed_rules
            rules |= {"titles"} & changed_rules
        entry["scores"] = scores
        entry["titles"] = titles
        entry["rules"] = sorted(rules)
        out.append(entry)
    return out


def leadership_changes(old_doc: Mapping[str, Any], new_doc: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Clusters whose next leader or deputy differs."""
    old = {c["cluster"]: c for c in old_doc["leadership"]}
    new = {c["cluster"]: c for c in new_doc["leadership"]}
    out = []
    for cluster in sorted(set(old) | set(new)):
        a, b = old.get(cluster, {}), new.get(cluster, {})
        entry = {field: _pair(a.get(field), b.get(field)) for field in ("leader", "deputy")
                 if a.get(field) != b.get(field)}
        if entry:
            out.append({"cluster": cluster, **entry})
    return out


def people_changes(old_doc: Mapping[str, Any], new_doc: Mapping[str, Any],
                   changed_rules: set[str]) -> list[dict[str, Any]]:
    """Members (with ``--members``) whose proposed individual titles differ, by unit and id."""
    old = {(p["unit"], p["id"]): p for p in old_doc.get("people", [])}
    new = {(p["unit"], p["id"]): p for p in new_doc.get("people", [])}
    out = []
    for key in sorted(set(old) | set(new)):
        a, b = old.get(key, {}), new.get(key, {})
        if a.get("proposed") != b.get("proposed"):
            out.append({"unit": key[0], "id": key[1], "name": (a or b)["name"],
                        "proposed": _pair(a.get("proposed"), b.get("proposed")),
                        "rules": sorted(r for r in changed_rules if r == "people" or r.startswith("people."))})
    return out


def diff_document(old: Side, new: Side) -> dict[str, Any]:
    """The whole comparison as plain data (the JSON output): both policies' identities, the data
    digest, the policy changes, the unit changes and the leadership changes."""
    changes = policy_changes(old.raw, new.raw)
    rules = {rule_of(c["path"]) for c in changes}

    def who(side: Side) -> dict[str, Any]:
        p = side.document["provenance"]["policy"]
        return {"id": p["id"], "name": p["name"], "year": p["year"], "sha256": p["sha256"]}

    return {
        "format": FORMAT_VERSION,
        "old": who(old),
        "new": who(new),
        "data": {"sha256": new.document["provenance"]["data"]["sha256"]},
        "policy": changes,
        "units": unit_changes(old.document, new.document, rules),
        "leadership": leadership_changes(old.document, new.document),
        # Only with a members file, so that a diff without people keeps its shape.
        **({"people": people_changes(old.document, new.document, rules)}
           if "people" in old.document or "people" in new.document else {}),
    }


def is_empty(doc: Mapping[str, Any]) -> bool:
    return not (doc["policy"] or doc["units"] or doc["leadership"] or doc.get("people"))


# ---------------------------------------------------------------- rendering


def _shown(value: Any) -> str:
    """A policy value as TOML writes it (``35``, ``"tot"``, ``[…]``, numbers without trailing
    zeros); an absent one as ``—``."""
    from .tomlfmt import toml_value

    if value is None:
        return "—"
    if isinstance(value, Decimal):
        return plain(value)
    if isinstance(value, list):
        return "[" + ", ".join(_shown(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{toml_key(k)} = {_shown(v)}" for k, v in value.items()) + " }"
    return toml_value(value)


def render_json(doc: Mapping[str, Any]) -> str:
    """Canonical JSON: sorted keys, two-space indent, UTF-8, final newline."""
    from .report.document import value
    from .report.jsontext import indented

    return indented(value(doc)) + "\n"


def _value_text(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, list):
        return ", ".join(map(str, value)) or "—"
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def render_text(doc: Mapping[str, Any]) -> str:
    """One line per change, for a terminal or a script; nothing at all when the diff is empty."""
    lines = []
    for c in doc["policy"]:
        lines.append(f"policy {c['path']}: {c['change']}: {_shown(c['old'])} -> {_shown(c['new'])}")
    for u in doc["units"]:
        parts = [f"{field} {_value_text(u[field]['old'])} -> {_value_text(u[field]['new'])}"
                 for field in ("present", "total", "rank", "tied", "band", "proposed") if field in u]
        parts += [f"{t['title']} {_value_text(t['old'])} -> {_value_text(t['new'])}" for t in u.get("titles", [])]
        if u.get("rules"):
            parts.append(f"rules {', '.join(u['rules'])}")
        lines.append(f"unit {u['cluster']}/{u['id']}: " + "; ".join(parts))
    for lead in doc["leadership"]:
        parts = [f"{field} {_value_text(lead[field]['old'])} -> {_value_text(lead[field]['new'])}"
                 for field in ("leader", "deputy") if field in lead]
        lines.append(f"leadership {lead['cluster']}: " + "; ".join(parts))
    for person in doc.get("people", []):
        rules = f"; rules {', '.join(person['rules'])}" if person["rules"] else ""
        lines.append(f"person {person['unit']}/{person['id']}: proposed {_value_text(person['proposed']['old'])} -> "
                     f"{_value_text(person['proposed']['new'])}{rules}")
    return "".join(line + "\n" for line in lines)


CHANGE_VI = {"added": "thêm", "removed": "bỏ", "changed": "sửa", "order": "đổi thứ tự"}
STATUS_NONE = "—"


def render_markdown(doc: Mapping[str, Any], old: Side, new: Side) -> str:
    """The comparison as a Vietnamese Markdown report, in the style of the result report."""
    from .messages import render
    from .report.escape import md_cell, md_code, md_text

    def names(side: Side, attr: str) -> dict[str, str]:
        return {x.id: x.name for x in getattr(side.policy, attr)}

    band_name = {**names(old, "bands"), **names(new, "bands")}
    title_name = {**names(old, "titles"), **names(new, "titles")}
    item_name = {**{_entry_path(s, k): v for s, attr in (("criteria", "criteria"), ("groups", "groups"),
                                                        ("bonuses", "bonuses"), ("deductions", "deductions"))
                    for k, v in names(old, attr).items()},
                 **{_entry_path(s, k): v for s, attr in (("criteria", "criteria"), ("groups", "groups"),
                                                        ("bonuses", "bonuses"), ("deductions", "deductions"))
                    for k, v in names(new, attr).items()}}

    def band(b: Any) -> str:
        return md_text(band_name.get(b, b)) if b else "không xếp loại"

    def titles(ids: Sequence[str]) -> str:
        return "; ".join(md_text(title_name.get(t, t)) for t in ids) or "—"

    def status(s: Any) -> str:
        return render(f"title_{s}", {}, "vi") if s else STATUS_NONE

    o, n = doc["old"], doc["new"]
    out = ["# So sánh kết quả giữa hai bảng điểm", "",
           f"- Bảng điểm cũ: **{md_text(o['name'])}** ({md_code(o['id'])}), SHA-256 `{o['sha256']}`",
           f"- Bảng điểm mới: **{md_text(n['name'])}** ({md_code(n['id'])}), SHA-256 `{n['sha256']}`",
           f"- Dữ liệu: SHA-256 `{doc['data']['sha256']}`", ""]
    if is_empty(doc):
        return "\n".join([*out, "Không có thay đổi.", ""])
    out += ["## Thay đổi trong bảng điểm", ""]
    if doc["policy"]:
        out += ["| Quy tắc | Thay đổi | Cũ | Mới |", "|---|---|---|---|"]
        for c in doc["policy"]:
            out.append(f"| {md_code(c['path'])} | {CHANGE_VI[c['change']]} | {md_cell(_shown(c['old']))} "
                       f"| {md_cell(_shown(c['new']))} |")
    else:
        out.append("Không có (hai bảng điểm giống nhau về nội dung).")
    out += ["", "## Đơn vị có kết quả thay đổi", ""]
    if not doc["units"]:
        out.append("Không có.")
    for u in doc["units"]:
        out += [f"### {md_text(u['name'])} ({md_code(u['id'])}, cụm {md_code(u['cluster'])})", ""]
        if "present" in u:
            out.append(f"- Có trong kết quả: {'có' if u['present']['old'] else 'không'} → "
                       f"{'có' if u['present']['new'] else 'không'}")
        if "total" in u:
            out.append(f"- Tổng điểm: {u['total']['old']} → {u['total']['new']}")
        if "rank" in u:
            old_rank, new_rank = (f"{u['rank'][side]}{' (đồng hạng)' if u['tied'][side] else ''}"
                                  for side in ("old", "new"))
            out.append(f"- Hạng: {old_rank} → {new_rank}")
        if "band" in u:
            out.append(f"- Xếp loại: {band(u['band']['old'])} → {band(u['band']['new'])}")
        if "proposed" in u:
            out.append(f"- Đề nghị: {titles(u['proposed']['old'])} → {titles(u['proposed']['new'])}")
        for s in u.get("scores", []):
            out.append(f"- Điểm {md_text(item_name.get(s['item'], s['item']))} ({md_code(s['item'])}): "
                       f"{s['old'] or '—'} → {s['new'] or '—'}")
        for t in u.get("titles", []):
            out.append(f"- {md_text(title_name.get(t['title'], t['title']))}: {status(t['old'])} → {status(t['new'])}")
        if u.get("rules"):
            out.append(f"- Do quy tắc đã thay đổi: {', '.join(md_code(r) for r in u['rules'])}")
        elif "present" not in u:
            out.append("- Không do một quy tắc của đơn vị: thay đổi theo kết quả của các đơn vị khác")
        out.append("")
    if doc["leadership"]:
        out += ["## Cụm trưởng, cụm phó", ""]
        for lead in doc["leadership"]:
            for field, label in (("leader", "Cụm trưởng"), ("deputy", "Cụm phó")):
                if field in lead:
                    out.append(f"- Cụm {md_code(lead['cluster'])}, {label.lower()}: "
                               f"{md_code(lead[field]['old'] or '—')} → {md_code(lead[field]['new'] or '—')}")
        out.append("")
    if doc.get("people"):
        person_title = {t.id: t.name for side in (old, new) if side.policy.people is not None
                        for t in side.policy.people.titles}
        out += ["## Danh hiệu cá nhân thay đổi", ""]
        for person in doc["people"]:
            shown = ["; ".join(md_text(person_title.get(t, t)) for t in person["proposed"][side] or []) or "—"
                     for side in ("old", "new")]
            out.append(f"- {md_text(person['name'])} ({md_code(person['id'])}, đơn vị {md_code(person['unit'])}): "
                       f"{shown[0]} → {shown[1]}")
        out.append("")
    while out and out[-1] == "":
        out.pop()
    return "\n".join(out) + "\n"


def render(doc: Mapping[str, Any], fmt: str, old: Side, new: Side) -> str:
    if fmt == "json":
        return render_json(doc)
    if fmt == "markdown":
        return render_markdown(doc, old, new)
    return render_text(doc)


def diff_command(old_policy: str, new_policy: str, data: str, *, fmt: str | None, output: str | None,
                 data_format: str | None = None, members: str | None = None) -> str:
    """``thidua diff``: the rendered comparison (``fmt`` from the output's extension when not given;
    text by default), written atomically to ``output`` when given; returns the text."""
    from .report.writers import write_atomic

    chosen = _format_for(fmt, output)
    old = load_side(old_policy, data, data_format=data_format, members=members)
    new = load_side(new_policy, data, data_format=data_format, members=members)
    text = render(diff_document(old, new), chosen, old, new)
    if output:
        write_atomic(output, text)
    return text


_EXTENSIONS = {".json": "json", ".md": "markdown", ".markdown": "markdown", ".txt": "text"}


def _format_for(fmt: str | None, output: str | None) -> str:
    """``--format``, else the one the extension of ``-o`` names, else text; a folder, a device or
    a format that contradicts the extension is refused before any work (as for ``evaluate``)."""
    from .report.writers import output_target

    if output is None:
        return fmt or "text"
    output_target(output)
    extension = Path(output).suffix.lower()
    implied = _EXTENSIONS.get(extension)
    if fmt is None and implied is None:
        what = f"the extension '{extension}'" if extension else "a file name without an extension"
        raise PolicyError([Issue(file=output, message=f"cannot tell the output format from {what}; "
                                 "give --format (json, markdown, text)")])
    if fmt is not None and implied is not None and fmt != implied:
        wanted = min(e for e, f in _EXTENSIONS.items() if f == fmt)
        raise PolicyError([Issue(file=output, message=f"--format {fmt} does not match the extension "
                                 f"'{extension}' ({implied}); give --format {implied} or a name ending in {wanted}")])
    return fmt or implied or "text"
