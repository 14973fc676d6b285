"""`thidua explain`: one unit's explanation as readable text."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from ..engine import Result
from ..messages import reason_code, render
from .document import build_document
from .escape import visible
from .layerstext import layer_lines_en


def _show(value: Any) -> str:
    if isinstance(value, list | tuple | frozenset):
        return "[" + ", ".join(_show(v) for v in value) + "]"
    if isinstance(value, Decimal):
        return f"{value:f}"
    return str(value)


def _seen(seen: dict[str, Any]) -> str:
    return ", ".join(f"{k} = {_show(v)}" for k, v in seen.items())


def find_unit(result: Result, wanted: str) -> tuple[str | None, str]:
    """The id of the unit ``wanted`` names: its id, its exact name, or the one id or name equal
    to it once accents, case and spaces are folded (``'cục công nghệ thông tin'``); else
    ``(None, message)`` with a suggestion."""
    from ..errors import did_you_mean, folded

    units = [u for c in result.clusters for u in c.units]
    if any(u.id == wanted for u in units):
        return wanted, ""
    for match in (lambda u: u.name == wanted, lambda u: folded(wanted) in (folded(u.name), folded(u.id))):
        found = sorted({u.id for u in units if match(u)})
        if len(found) == 1:
            return found[0], ""
        if found:
            return None, f"'{wanted}' names {len(found)} units ({', '.join(found)}); give the id"
    people = [p.person.id for c in result.clusters for p in c.people]
    choices = [u.id for u in units] + [u.name for u in units] + people
    what = "unit or member" if people else "unit"
    return None, f"unknown {what} '{wanted}'{did_you_mean(wanted, choices)}"


def _why(code: str, params: Any, lang: str, policy: Any) -> str:
    """A reason through the catalogue: in English exactly the result's ``reason`` (ids as they
    are); in Vietnamese with the policy's names."""
    return render(code, params, lang, policy=None if lang == "en" else policy)


def explain_unit(result: Result, unit_id: str, lang: str = "en") -> str:
    """Every point and decision of one unit; the reasons in ``lang`` (the rest is English)."""
    doc = build_document(result)
    unit = next(u for u in doc["units"] if u["id"] == unit_id)
    policy = result.policy
    names = {c.id: c.name for c in policy.criteria}
    title_names = {t.id: t.name for t in policy.titles}
    ex = unit["explanation"]
    # What the council decides about this unit, per title (a tie at a quota cut, a vote awaited).
    cluster = next(c for c in doc["clusters"] if c["id"] == unit["cluster"])
    council: dict[str, list[dict[str, Any]]] = {}
    for item in cluster["council"]:
        if item["kind"] != "deferred" and unit_id in item["units"]:
            council.setdefault(item["title"], []).append(item)
    tied = " (shared)" if unit["tied"] else ""
    out = [f"{unit['name']} ({unit['id']}), cluster {unit['cluster']}",
           f"rank {unit['rank']}{tied}, total {unit['total']}, band {unit['band'] or '-'}",
           f"proposed: {', '.join(unit['proposed']) or '-'}", ""]
    if ex.get("derived"):
        out.append("derived inputs:")
        out.extend(f"  {d['input']} = {d['value']} (plugin {d['plugin']})" for d in ex["derived"])
    if ex.get("members"):
        out.append("counted from members:")
        for name, m in ex["members"].items():
            shown = ", ".join(m["members"][:10]) + (f", … ({len(m['members'])} in all)" if len(m["members"]) > 10 else "")
            out.append(f"  {name} = {m['value']} ({m['kind']}): {shown or 'nobody'}")
    out.append("criteria:")
    for c in ex["criteria"]:
        by = f", scored by plugin {c['override']}" if c.get("override") else ""
        line = f"  {c['id']} ({names[c['id']]}): {c['score']} of {c['points']} [{c['method']}{by}]"
        details = []
        if c["inputs"]:
            details.append(_seen(c["inputs"]))
        if c["gated"]:
            details.append("gate failed: 0")
        elif c["capped"]:
            details.append(f"raw {c['raw']} kept within [0, {c['points']}]")
        elif Decimal(c["raw"]) != Decimal(c["layers"][0]["score"] if "layers" in c else c["score"]):
            details.append(f"raw {c['raw']} rounded half-up")
        out.append(line + (f"; {'; '.join(details)}" if details else ""))
        out += layer_lines_en(policy, c)
    for g in ex["groups"]:
        cap = f" (sum {g['sum']} capped at {g['max']})" if g["capped"] else ""
        out.append(f"  group {g['id']}: {g['score']}{cap}")
    out.append(f"  criteria total: {ex['score']}")
    for kind, items, agg in (("bonus", ex["bonuses"], ex["bonus"]), ("deduction", ex["deductions"], ex["deduction"])):
        for a in items:
            cap = f" (raw {a['raw']}, item cap {a['max']})" if a["capped"] else ""
            out.append(f"  {kind} {a['id']}: {a['score']}{cap}" + (f"; {_seen(a['inputs'])}" if a["inputs"] else ""))
        cap = f" (sum {agg['sum']} capped at {agg['max']})" if agg["sum"] != agg["applied"] else ""
        out.append(f"  {kind} applied: {agg['applied']}{cap}")
    out.append(f"  total: {unit['total']}")
    out.append(f"band: {unit['band'] or '-'}" + (f" (minimum {ex['band']['min']})" if ex["band"]["min"] else ""))
    for cap in ex["band"].get("caps", []):
        out.append(f"  at most {cap['ceiling']} (plugin {cap['plugin']}): {_why(cap['code'], cap['params'], lang, policy)}")
    for skipped in ex["band"]["skipped"]:
        out.append(f"  not {skipped['band']}: '{skipped['failed']}' is false")
    out.append("ranking:")
    for side in ("above", "below"):
        sep = ex["ranking"][side]
        if sep is None:
            continue
        if sep["key"] is None:
            out.append(f"  {side} {sep['unit']}: equal on every ranking key (shared rank)")
        else:
            out.append(f"  {side} {sep['unit']}: separated by {sep['key']} ({sep['this']} vs {sep['other']})")
    out.append("titles:")
    for t in ex["titles"]:
        out.append(f"  {t['id']} ({title_names[t['id']]}): {t['status']}")
        for c in t["checks"]:
            mark = "ok" if c["passed"] else "FAILED"
            reason = f": {_why(c['code'], c['params'], lang, policy)}" if c["reason"] else ""
            seen = f" [{_seen(c['seen'])}]" if c["seen"] else ""
            out.append(f"    {c['check']} {mark}{reason}{seen}")
        if "quota" in t:
            q = t["quota"]
            out.append(f"    quota: place {q['place']} of limit {q['limit']} (raw {q['raw']})")
            if "runoff_yes" in q:
                out.append(f"    round 2: {q['runoff_yes']} yes-votes (the ballot between the units tied at the quota cut)")
        for item in council.get(t["id"], ()):
            out.append(f"    council: {_why(item['code'], item['params'], lang, policy)}")
    return "\n".join(map(visible, out)) + "\n"  # control characters in names shown escaped


def explain_person(result: Result, person_id: str, lang: str = "en") -> str | None:
    """One member's titles, each check with its reason and the values it saw; None if unknown."""
    people = result.policy.people
    found = next((p for c in result.clusters for p in c.people if p.person.id == person_id), None)
    if found is None or people is None:
        return None
    names = {t.id: t.name for t in people.titles}
    person = found.person
    out = [f"{person.name} ({person.id}), unit {person.unit}",
           f"record: {_seen({k: _show(v) for k, v in person.values.items()})}",
           f"proposed: {', '.join(found.proposed) or '-'}", "titles:"]
    for outcome in found.titles:
        out.append(f"  {outcome.title} ({names[outcome.title]}): {outcome.status}")
        for c in outcome.checks:
            mark = "ok" if c.passed else "FAILED"
            code, params = reason_code(c.reason)
            reason = f": {_why(code, params, lang, result.policy)}" if c.reason else ""
            seen = {k: _show(v) for k, v in c.seen.items()}
            out.append(f"    {c.check} {mark}{reason}" + (f" [{_seen(seen)}]" if seen else ""))
    return "\n".join(map(visible, out)) + "\n"  # control characters in names shown escaped
