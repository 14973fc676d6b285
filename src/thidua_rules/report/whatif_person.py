"""`thidua whatif` output for a member: the person titles missed and the votes that flip each."""

from __future__ import annotations

from typing import Any

from ..whatif_person import PersonWhatIf
from .escape import md_code, md_text, visible
from .jsontext import indented
from .whatif import _change, _heading, _target_doc

#: The JSON document's ``format`` for a member (a unit's is ``thidua-whatif/1``).
FORMAT = "thidua-whatif-person/1"


def render_person_whatif(answer: PersonWhatIf, fmt: str) -> str:
    if fmt == "json":
        return indented(person_whatif_document(answer)) + "\n"
    lines = _lines(answer, markdown=fmt == "markdown")
    return "\n".join(lines if fmt == "markdown" else map(visible, lines)) + "\n"


def person_whatif_document(answer: PersonWhatIf) -> dict[str, Any]:
    """The plain-data document (keys sorted when written)."""
    return {
        "format": FORMAT,
        "provenance": {"policy": answer.policy, "policy_sha256": answer.policy_sha256,
                       "data_sha256": answer.data_sha256},
        "person": {"id": answer.person, "name": answer.name, "unit": answer.unit, "cluster": answer.cluster,
                   "proposed": list(answer.proposed)},
        "search": {"evaluations": answer.evaluations, "budget": answer.budget, "cut": answer.cut},
        "targets": [_target_doc(t, str) for t in answer.targets],
    }


def _lines(answer: PersonWhatIf, *, markdown: bool) -> list[str]:
    text = md_text if markdown else str
    bullet, sub = ("- ", "  - ") if markdown else ("  ", "    ")
    search = (f"search: {answer.evaluations} evaluations of the cluster (at most {answer.budget})"
              + ("; CUT: the budget ran out before every change was tried" if answer.cut else ""))
    proposed = f"proposed: {', '.join(answer.proposed) or '-'}"
    if markdown:
        out = [f"# What if: {md_text(answer.name)} ({md_code(answer.person)})", "",
               f"- unit: {md_code(answer.unit)}, cluster: {md_code(answer.cluster)}", f"- {md_text(proposed)}",
               f"- {md_text(search)}"]
    else:
        out = [f"what if: {answer.name} ({answer.person}), unit {answer.unit}, cluster {answer.cluster}", proposed,
               search]
    if not answer.targets:
        out += ["", "nothing missed: every person title is won"]
    for target in answer.targets:
        heading = _heading(target)
        out += ["", f"## {md_text(heading)}" if markdown else heading]
        if markdown:
            out.append("")
        out.append(f"{bullet}why: {text(target.why)}")
        if target.votes:
            out.append(f"{bullet}votes: {text(target.votes)}")
        if target.changes:
            out.append(f"{bullet}single changes that flip it (each verified by re-evaluating the cluster):")
            out += [f"{sub}{text(_change(c))}" for c in target.changes]
        else:
            out.append(f"{bullet}not reachable by votes: {text(target.unreachable)}")
    return out
