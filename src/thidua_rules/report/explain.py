"""`thidua explain`: one unit's explanation as readable text."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from ..engine import Result
from ..messages import catalogue, reason_code, render, show
from .document import build_document
from .escape import visible
from .layerstext import digits, layer_lines_explain, number_writer


def _show(value: Any, lang: str = "en") -> str:
    """A value as the explanation shows it: in English as the result writes it, in Vietnamese
    with the language's numbers (``0,8``)."""
    if lang != "en":
        return str(digits(value, lang)) if isinstance(value, str) else show(value, lang)
    if isinstance(value, list | tuple | frozenset):
        return "[" + ", ".join(_show(v) for v in value) + "]"
    if isinstance(value, Decimal):
        return f"{value:f}"
    return str(value)


def _plain(value: Any, lang: str) -> str:
    """A value the result holds, as written (English) or in the language's numbers."""
    return str(value) if lang == "en" else digits(value, lang)


def _seen(seen: dict[str, Any], lang: str = "en") -> str:
    return ", ".join(f"{k} = {_show(v, lang)}" for k, v in seen.items())


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


class _Words:
    """The layout words of an explanation in ``lang``, from the catalogue (``explain_*``)."""

    def __init__(self, lang: str) -> None:
        self.lang = lang

    def __call__(self, code: str, **params: Any) -> str:
        # no policy: the trace shows ids as they are; the result's numbers keep their digits
        return render(code, {k: digits(v, self.lang) for k, v in params.items()}, self.lang)

    def check(self, name: str) -> str:
        """A title check's name: the engine's checks in the language, a plugin's as it is."""
        code = "check_" + name
        return render(code, {}, self.lang) if code in catalogue(self.lang) else name


def explain_unit(result: Result, unit_id: str, lang: str = "en") -> str:
    """Every point and decision of one unit, its words and reasons in ``lang`` (ids as they are,
    beside the policy's names)."""
    doc = build_document(result)
    unit = next(u for u in doc["units"] if u["id"] == unit_id)
    policy = result.policy
    say = _Words(lang)
    names = {c.id: c.name for c in policy.criteria}
    title_names = {t.id: t.name for t in policy.titles}
    band_names = {b.id: b.name for b in policy.bands} if lang != "en" else {}
    ex = unit["explanation"]
    # What the council decides about this unit, per title (a tie at a quota cut, a vote awaited).
    cluster = next(c for c in doc["clusters"] if c["id"] == unit["cluster"])
    council: dict[str, list[dict[str, Any]]] = {}
    for item in cluster["council"]:
        if item["kind"] != "deferred" and unit_id in item["units"]:
            council.setdefault(item["title"], []).append(item)
    band = band_names.get(unit["band"], unit["band"]) if unit["band"] else "-"
    out = [say("explain_unit_heading", name=unit["name"], id=unit["id"], cluster=unit["cluster"]),
           say("explain_rank_shared" if unit["tied"] else "explain_rank", rank=str(unit["rank"]), total=unit["total"],
               band=band),
           say("explain_proposed", list=", ".join(unit["proposed"]) or "-"), ""]
    if ex.get("derived"):
        out.append(say("explain_derived"))
        out.extend("  " + say("explain_derived_item", input=d["input"], value=_plain(d["value"], lang), plugin=d["plugin"])
                   for d in ex["derived"])
    if ex.get("members"):
        out.append(say("explain_members"))
        for name, m in ex["members"].items():
            shown = ", ".join(m["members"][:10])
            if len(m["members"]) > 10:
                shown = say("explain_members_more", members=shown, count=str(len(m["members"])))
            out.append("  " + say("explain_members_item", name=name, value=_plain(m["value"], lang), kind=m["kind"],
                                  members=shown or say("explain_nobody")))
    out.append(say("explain_criteria"))
    for c in ex["criteria"]:
        line = say("explain_criterion_plugin" if c.get("override") else "explain_criterion", id=c["id"],
                   name=names[c["id"]], score=c["score"], points=c["points"], method=c["method"],
                   plugin=c.get("override", ""))
        details = []
        if c["inputs"]:
            details.append(_seen(c["inputs"], lang))
        if c["gated"]:
            details.append(say("explain_gate_failed"))
        elif c["capped"]:
            details.append(say("explain_capped", raw=c["raw"], points=c["points"]))
        elif Decimal(c["raw"]) != Decimal(c["layers"][0]["score"] if "layers" in c else c["score"]):
            details.append(say("explain_rounded", raw=c["raw"]))
        out.append("  " + line + (f"; {'; '.join(details)}" if details else ""))
        out += layer_lines_explain(policy, c, lang, number_writer(lang))
    for g in ex["groups"]:
        out.append("  " + say("explain_group_capped" if g["capped"] else "explain_group", id=g["id"], score=g["score"],
                              sum=g["sum"], max=str(g["max"])))
    out.append("  " + say("explain_criteria_total", score=ex["score"]))
    for kind, items, agg in (("bonus", ex["bonuses"], ex["bonus"]), ("deduction", ex["deductions"], ex["deduction"])):
        for a in items:
            line = say(f"explain_{kind}_capped" if a["capped"] else f"explain_{kind}", id=a["id"], score=a["score"],
                       raw=a["raw"], max=str(a["max"]))
            out.append("  " + line + (f"; {_seen(a['inputs'], lang)}" if a["inputs"] else ""))
        capped = agg["sum"] != agg["applied"]
        out.append("  " + say(f"explain_{kind}_applied_capped" if capped else f"explain_{kind}_applied",
                              applied=agg["applied"], sum=agg["sum"], max=str(agg["max"])))
    out.append("  " + say("explain_total", total=unit["total"]))
    out.append(say("explain_band_min", band=band, min=ex["band"]["min"]) if ex["band"]["min"]
               else say("explain_band", band=band))
    for cap in ex["band"].get("caps", []):
        out.append("  " + say("explain_band_cap", ceiling=band_names.get(cap["ceiling"], cap["ceiling"]),
                              plugin=cap["plugin"], reason=_why(cap["code"], cap["params"], lang, policy)))
    for skipped in ex["band"]["skipped"]:
        out.append("  " + say("explain_band_skipped", band=band_names.get(skipped["band"], skipped["band"]),
                              failed=skipped["failed"]))
    out.append(say("explain_ranking"))
    for side in ("above", "below"):
        sep = ex["ranking"][side]
        if sep is None:
            continue
        if sep["key"] is None:
            out.append("  " + say(f"explain_{side}_tied", unit=sep["unit"]))
        else:
            out.append("  " + say(f"explain_{side}", unit=sep["unit"], key=sep["key"], this=sep["this"],
                                  other=sep["other"]))
    out.append(say("explain_titles"))
    for t in ex["titles"]:
        out.append("  " + say("explain_title", id=t["id"], name=title_names[t["id"]], status=_status(t["status"], lang)))
        for c in t["checks"]:
            mark = say("explain_ok" if c["passed"] else "explain_failed")
            reason = f": {_why(c['code'], c['params'], lang, policy)}" if c["reason"] else ""
            seen = f" [{_seen(c['seen'], lang)}]" if c["seen"] else ""
            out.append(f"    {say.check(c['check'])} {mark}{reason}{seen}")
        if "quota" in t:
            q = t["quota"]
            out.append("    " + say("explain_quota", place=str(q["place"]), limit=str(q["limit"]), raw=q["raw"]))
            if "runoff_yes" in q:
                out.append("    " + say("explain_round_two", yes=str(q["runoff_yes"])))
        for item in council.get(t["id"], ()):
            out.append("    " + say("explain_council", reason=_why(item["code"], item["params"], lang, policy)))
    return "\n".join(map(visible, out)) + "\n"  # control characters in names shown escaped


def _status(status: str, lang: str) -> str:
    """A title's status: the result's word in English, the catalogue's text in Vietnamese."""
    return status if lang == "en" else render("title_" + status, {}, lang)


def explain_person(result: Result, person_id: str, lang: str = "en") -> str | None:
    """One member's titles, each check with its reason and the values it saw; None if unknown."""
    people = result.policy.people
    found = next((p for c in result.clusters for p in c.people if p.person.id == person_id), None)
    if found is None or people is None:
        return None
    say = _Words(lang)
    names = {t.id: t.name for t in people.titles}
    person = found.person
    out = [say("explain_person_heading", name=person.name, id=person.id, unit=person.unit),
           say("explain_record", values=_seen({k: _show(v, lang) for k, v in person.values.items()}, lang)),
           say("explain_proposed", list=", ".join(found.proposed) or "-"), say("explain_titles")]
    for outcome in found.titles:
        out.append("  " + say("explain_title", id=outcome.title, name=names[outcome.title],
                              status=_status(outcome.status, lang)))
        for c in outcome.checks:
            mark = say("explain_ok" if c.passed else "explain_failed")
            code, params = reason_code(c.reason)
            reason = f": {_why(code, params, lang, result.policy)}" if c.reason else ""
            seen = {k: _show(v, lang) for k, v in c.seen.items()}
            out.append(f"    {say.check(c.check)} {mark}{reason}" + (f" [{_seen(seen, lang)}]" if seen else ""))
    return "\n".join(map(visible, out)) + "\n"  # control characters in names shown escaped
