"""`thidua whatif` output: one unit's missed decisions and what flips each, as text, JSON or Markdown."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from ..decimals import quantum
from ..whatif import Change, Effect, Points, Target, WhatIf
from .escape import md_code, md_text, visible
from .jsontext import indented

#: ``thidua whatif --format`` names.
WHATIF_FORMATS = ("json", "markdown", "text")
#: The JSON document's ``format``; a new or changed key bumps the version.
FORMAT = "thidua-whatif/1"

_FOUND_BY = {
    "scan": "",
    "bisect": " (found by doubling and bisection: one step less was evaluated and does not flip it)",
    "value": "",
    "exact": "",
}


def render_whatif(answer: WhatIf, fmt: str) -> str:
    if fmt == "json":
        return indented(whatif_document(answer)) + "\n"
    if fmt == "markdown":
        return _markdown(answer)
    return _text(answer)


# ---------------------------------------------------------------- the document


def whatif_document(answer: WhatIf) -> dict[str, Any]:
    """The plain-data document: keys sorted when written, decimals as strings at the policy's precision."""
    n = _number(answer.precision)
    return {
        "format": FORMAT,
        "provenance": {"policy": answer.policy, "policy_sha256": answer.policy_sha256,
                       "data_sha256": answer.data_sha256},
        "unit": {"id": answer.unit, "name": answer.name, "cluster": answer.cluster, "rank": answer.rank,
                 "tied": answer.tied, "total": n(answer.total), "band": answer.band,
                 "proposed": list(answer.proposed)},
        "search": {"evaluations": answer.evaluations, "budget": answer.budget, "cut": answer.cut},
        "targets": [_target_doc(t, n) for t in answer.targets],
    }


def _target_doc(target: Target, n: Any) -> dict[str, Any]:
    return {
        "kind": target.kind, "id": target.id, "name": target.name, "now": target.now, "why": target.why,
        "goal": target.goal, "gap": None if target.gap is None else n(target.gap),
        "points": [{"kind": p.kind, "id": p.id, "needed": None if p.needed is None else n(p.needed),
                    "room": None if p.room is None else n(p.room), "reason": p.reason, "reads": list(p.reads)}
                   for p in target.points],
        "votes": target.votes,
        "changes": [{"kind": c.kind, "name": c.name, "before": c.before, "after": c.after,
                     "found_by": c.found_by,
                     "effects": [{"what": e.what, "before": e.before, "after": e.after} for e in c.effects]}
                    for c in target.changes],
        "reachable": bool(target.changes),
        "unreachable": target.unreachable,
        "cut": target.cut,
    }


def _number(places: int) -> Any:
    q = quantum(places)
    return lambda value: f"{value.quantize(q):f}"


# ---------------------------------------------------------------- text


def _heading(target: Target) -> str:
    if target.kind == "title":
        return f"title {target.id} ({target.name}): {target.now}"
    if target.kind == "rank":
        return f"rank {target.now} → {target.id}"
    return f"band {target.now} → {target.id} ({target.name})"


def _effect(effect: Effect) -> str:
    what = effect.what.replace(".", " ", 1) if effect.what.startswith(("criterion.", "bonus.", "deduction.",
                                                                        "title.")) else effect.what
    text = f"{what} {effect.before} → {effect.after}"
    if effect.what.startswith(("criterion.", "bonus.", "deduction.")) or effect.what == "total":
        delta = Decimal(effect.after) - Decimal(effect.before)
        text += f" ({'+' if delta > 0 else ''}{delta:f})"
    return text


def _change(change: Change) -> str:
    name = f"yes-votes on {change.name}" if change.kind == "votes" else change.name
    effects = "; ".join(_effect(e) for e in change.effects) or "no score changes"
    return f"{name} {change.before} → {change.after}: {effects}{_FOUND_BY[change.found_by]}"


def _points_line(point: Points, n: Any) -> str:
    reads = f"; reads {', '.join(point.reads)}" if point.reads else ""
    if point.needed is None:
        return f"{point.kind} {point.id}: not reachable: {point.reason}{reads}"
    word = "-" if point.kind == "deduction" else "+"
    return f"{point.kind} {point.id}: {word}{n(point.needed)} ({point.reason}{reads})"


def _gap_line(target: Target, n: Any) -> str:
    assert target.gap is not None
    if target.kind == "rank":
        return (f"points needed: +{n(target.gap)} on the total to be strictly ahead on it "
                "(level totals go to the rest of the ranking chain):")
    return f"points needed: +{n(target.gap)} on the total:"


def _text(answer: WhatIf) -> str:
    n = _number(answer.precision)
    tied = " (shared)" if answer.tied else ""
    out = [f"what if: {answer.name} ({answer.unit}), cluster {answer.cluster}",
           f"now: rank {answer.rank}{tied}, total {n(answer.total)}, band {answer.band or '-'}; "
           f"proposed: {', '.join(answer.proposed) or '-'}",
           f"search: {answer.evaluations} evaluations of the cluster (at most {answer.budget})"
           + ("; CUT: the budget ran out before every change was tried" if answer.cut else "")]
    if not answer.targets:
        out += ["", "nothing missed: every title is won, rank 1, the highest band"]
    for target in answer.targets:
        out += ["", _heading(target), f"  why: {target.why}"]
        if target.votes:
            out.append(f"  votes: {target.votes}")
        if target.gap is not None:
            out.append(f"  {_gap_line(target, n)}")
            out += [f"    {_points_line(p, n)}" for p in target.points]
        if target.changes:
            out.append("  single changes that flip it (each verified by re-evaluating the cluster):")
            out += [f"    {_change(c)}" for c in target.changes]
        elif target.cut:
            out.append(f"  not found (search cut): {target.unreachable}")
        else:
            out.append(f"  not reachable by one change: {target.unreachable}")
    return "\n".join(map(visible, out)) + "\n"


# ---------------------------------------------------------------- markdown


def _markdown(answer: WhatIf) -> str:
    n = _number(answer.precision)
    tied = " (shared)" if answer.tied else ""
    out = [f"# What if: {md_text(answer.name)} ({md_code(answer.unit)})", "",
           f"- cluster: {md_code(answer.cluster)}",
           f"- now: rank {answer.rank}{tied}, total {n(answer.total)}, band {md_text(answer.band or '-')}",
           f"- proposed: {md_text(', '.join(answer.proposed) or '-')}",
           f"- search: {answer.evaluations} evaluations of the cluster (at most {answer.budget})"
           + ("; **cut**: the budget ran out before every change was tried" if answer.cut else "")]
    if not answer.targets:
        out += ["", "Nothing missed: every title is won, rank 1, the highest band."]
    for target in answer.targets:
        out += ["", f"## {md_text(_heading(target))}", "", f"- why: {md_text(target.why)}"]
        if target.votes:
            out.append(f"- votes: {md_text(target.votes)}")
        if target.gap is not None:
            out.append(f"- {md_text(_gap_line(target, n))}")
            out += [f"  - {md_text(_points_line(p, n))}" for p in target.points]
        if target.changes:
            out.append("- single changes that flip it (each verified by re-evaluating the cluster):")
            out += [f"  - {md_text(_change(c))}" for c in target.changes]
        elif target.cut:
            out.append(f"- **not found** (search cut): {md_text(target.unreachable)}")
        else:
            out.append(f"- **not reachable** by one change: {md_text(target.unreachable)}")
    return "\n".join(out) + "\n"


# ---------------------------------------------------------------- the command


def whatif_command(policy: Any, data: Any, result: Any, unit: str, *, fmt: str, budget: int, file: str) -> str:
    """``thidua whatif``: the unit named by id or name (as ``explain`` finds it), or a member by
    id (the votes its council's ballot needs: ``whatif_person``), rendered; an unknown unit is
    one error line with a suggestion."""
    from ..errors import Issue, PolicyError
    from ..whatif import what_if
    from .explain import find_unit

    unit_id, problem = find_unit(result, unit)
    if unit_id is None and any(p.person.id == unit for c in result.clusters for p in c.people):
        from ..whatif_person import person_what_if  # a member: the votes of its council (councils.py)
        from .whatif_person import render_person_whatif

        return render_person_whatif(person_what_if(policy, data, result, unit, budget=budget), fmt)
    if unit_id is None:
        raise PolicyError([Issue(file=file, message=problem)])
    return render_whatif(what_if(policy, data, result, unit_id, budget=budget), fmt)
