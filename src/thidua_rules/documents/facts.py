"""The facts each document shows, per cluster, as plain data (the templates' context).

Everything comes from the result (scores, ranks, bands, title outcomes), the policy (names,
labels, points, thresholds, sources) and the data (ballots, the optional ``[meeting]``). Names,
never ids, are shown; numbers go through :func:`~.text.number` and fixed phrases through
:func:`~.text.decision`. The contexts are dicts of strings, lists and dicts only, so a template
(the shipped one or an agency's) sees the same names whatever the engine's classes.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from ..builtin.titles import share_text, votes_check
from ..engine import ClusterResult, Result
from ..model import Cluster, Dataset, Meeting, Policy
from ..report.document import build_document
from ..report.escape import visible
from ..tomlfmt import escape_char
from .legal import cited, instruments, law_basis, title_basis
from .text import decision, number

#: Template names (without ``.docx``), in the order the documents are written.
DOCUMENTS = ("bang-tong-hop-diem", "bien-ban-hop", "to-trinh", "danh-sach-de-nghi")
_ROMAN = ("I", "II", "III", "IV", "V", "VI", "VII", "VIII", "IX", "X", "XI", "XII", "XIII", "XIV", "XV")


_NUMERAL = re.compile(r"-?[0-9]+(\.[0-9]+)?")
#: Characters XML 1.0 cannot hold (surrogates, U+FFFE, U+FFFF), shown as escapes like controls.
_NOT_XML = re.compile("[\ud800-\udfff\ufffe\uffff]")


def roman(n: int) -> str:
    return _ROMAN[n - 1] if n <= len(_ROMAN) else str(n)


class Names:
    """Ids → names of the policy's and the result's things (units, titles, bands, inputs…)."""

    def __init__(self, policy: Policy, result: Result, lang: str = "vi") -> None:
        self.lang = lang
        people_titles = policy.people.titles if policy.people is not None else ()
        self.titles = {t.id: t.name for t in (*policy.titles, *people_titles)}
        self.bands = {b.id: b.name for b in policy.bands}
        self.labels = {f.id: f.label or f.id for f in policy.inputs}
        self.units = {u.id: u.name for c in result.clusters for u in c.units}

    def say(self, code: str, params: Mapping[str, Any] | None = None) -> str:
        """A phrase of the documents in their language (:func:`~.text.decision`)."""
        return decision(code, params, self.lang)

    def num(self, value: Decimal | int, places: int | None = None) -> str:
        """A number as the documents' language writes it (:func:`~.text.number`)."""
        return number(value, places, self.lang)

    def blank(self, text: str) -> str:
        """``text``, or the dotted blank to fill in by hand."""
        return text or self.say("blank")

    def title(self, title_id: str) -> str:
        return self.titles.get(title_id, title_id)

    def band(self, band_id: str | None) -> str:
        return "" if band_id is None else self.bands.get(band_id, band_id)

    def value(self, text: Any) -> str:
        """An input's value as the document writes it: numbers in Vietnamese format, a rating by its band's name."""
        if isinstance(text, bool):
            return self.say("value.true" if text else "value.false")
        if isinstance(text, list):
            return ", ".join(self.value(v) for v in text)
        text = str(text)
        if _NUMERAL.fullmatch(text):
            return self.num(Decimal(text))
        return self.bands.get(text, text)


def build_contexts(policy: Policy, data: Dataset, result: Result,
                   lang: str = "vi") -> dict[str, dict[str, dict[str, Any]]]:
    """Per cluster id, per document name (:data:`DOCUMENTS`), the template context; the
    engine's phrases and numbers in ``lang`` (the shipped templates' own words are Vietnamese)."""
    doc = build_document(result)
    names = Names(policy, result, lang)
    by_cluster = {c.id: c for c in data.clusters}
    contexts: dict[str, dict[str, dict[str, Any]]] = {}
    for cluster_result in result.clusters:
        cluster = by_cluster[cluster_result.id]
        units = [u for u in doc["units"] if u["cluster"] == cluster.id]
        common = _common(policy, names, cluster)
        contexts[cluster.id] = {
            "bang-tong-hop-diem": {**common, **_score_sheet(policy, names, units)},
            "bien-ban-hop": {**common, **_minutes(policy, names, cluster, cluster_result)},
            "to-trinh": {**common, **_proposal(policy, names, cluster, cluster_result)},
            "danh-sach-de-nghi": {**common, **_proposal_list(policy, names, cluster_result)},
        }
    return _safe(contexts)


def _safe(value: Any) -> Any:
    """Every string with its control characters (and what XML cannot hold) shown as escapes
    (``\\x1b``), as in the text reports: a name can neither break the document nor hide text."""
    if isinstance(value, str):
        return _NOT_XML.sub(lambda m: escape_char(m.group()), visible(value))
    if isinstance(value, dict):
        return {k: _safe(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_safe(v) for v in value]
    return value


def _common(policy: Policy, names: Names, cluster: Cluster) -> dict[str, Any]:
    meeting = cluster.meeting or Meeting()
    year, month, day = (meeting.date.split("-") if meeting.date else ("", "", ""))
    place = meeting.place
    date_line = names.say("date.line", {"place": names.blank(place), "day": names.blank(day), "month": names.blank(month),
                                       "year": year or str(cluster.year)})
    return {
        "authority": meeting.authority.upper(),
        "issuer": cluster.name.upper(),
        "cluster_name": cluster.name,
        "policy_name": policy.name,
        "year": str(cluster.year),
        "date_line": date_line,
        "recipient": names.blank(meeting.recipient),
    }


# ---------------------------------------------------------------- 1. bảng tổng hợp điểm


def _score_sheet(policy: Policy, names: Names, units: list[dict[str, Any]]) -> dict[str, Any]:
    places = policy.precision
    groups = {g.id: g for g in policy.groups}
    criteria = {c.id: c for c in policy.criteria}
    adjustments = {a.id: a for a in (*policy.bonuses, *policy.deductions)}
    layer_names = {layer.id: layer.name for layer in policy.layers}
    summary = []
    details = []
    for stt, unit in enumerate(units, start=1):
        ex = unit["explanation"]
        summary.append({
            "stt": str(stt), "name": unit["name"], "score": names.num(Decimal(ex["score"]), places),
            "bonus": names.num(Decimal(ex["bonus"]["applied"]), places),
            "deduction": names.num(Decimal(ex["deduction"]["applied"]), places),
            "total": names.num(Decimal(unit["total"]), places), "rank": str(unit["rank"]),
            "band": names.band(unit["band"]),
        })
        rows: list[dict[str, Any]] = []
        for g_index, group in enumerate(ex["groups"], start=1):
            g = groups.get(group["id"])
            note = names.say("group.capped", {"max": names.num(Decimal(group["max"]), places)}) if group["capped"] else ""
            rows.append({"stt": roman(g_index), "name": g.name if g else group["id"],
                         "points": "" if group["max"] is None else names.num(Decimal(group["max"]), places),
                         "method": note, "self": "", "assessed": "",
                         "score": names.num(Decimal(group["score"]), places)})
            members = [c for c in ex["criteria"] if c["group"] == group["id"]]
            for c_index, item in enumerate(members, start=1):
                criterion = criteria.get(item["id"])
                rows.append({"stt": str(c_index), "name": criterion.name if criterion else item["id"],
                             "points": names.num(Decimal(item["points"]), places),
                             "method": _method_text(names, item), "score": names.num(Decimal(item["score"]), places),
                             **_layer_cells(names, item.get("layers", ()), layer_names, places)})
        n = len(ex["groups"])
        for kind, key, items in (("bonus", "bonus", ex["bonuses"]), ("deduction", "deduction", ex["deductions"])):
            if not items:
                continue
            n += 1
            block = ex[key]
            note = names.say("adjustment.capped", {"max": names.num(Decimal(block["max"]), places)}) \
                if block["max"] is not None and Decimal(block["sum"]) > Decimal(block["max"]) else ""
            rows.append({"stt": roman(n), "name": names.say(f"row.{kind}"),
                         "points": "" if block["max"] is None else names.num(Decimal(block["max"]), places),
                         "method": note, "self": "", "assessed": "",
                         "score": names.num(Decimal(block["applied"]), places)})
            for i, item in enumerate(items, start=1):
                adjustment = adjustments.get(item["id"])
                rows.append({"stt": str(i), "name": adjustment.name if adjustment else item["id"],
                             "points": "" if item["max"] is None else names.num(Decimal(item["max"]), places),
                             "method": _inputs_text(names, item["inputs"]) if item["applies"] else "",
                             "self": "", "assessed": "", "score": names.num(Decimal(item["score"]), places)})
        total = ex["total"]
        rows.append({"stt": "", "name": names.say("row.total"), "points": "", "self": "", "assessed": "",
                     "method": names.say("total.capped", {"max": names.num(Decimal(total["max"]), places)})
                     if total["max"] is not None and Decimal(total["raw"]) > Decimal(total["max"]) else "",
                     "score": names.num(Decimal(unit["total"]), places)})
        rows.append({"stt": "", "name": names.say("row.band"), "points": "", "method": "", "self": "", "assessed": "",
                     "score": names.band(unit["band"])})
        for row in rows:  # the layers' notes of a criterion's row; none on the other rows
            row.setdefault("layers", [])
        details.append({"stt": str(stt), "name": unit["name"], "rank": str(unit["rank"]),
                        "total": names.num(Decimal(unit["total"]), places), "band": names.band(unit["band"]),
                        "rows": rows})
    return {"summary": summary, "units": details}


def _layer_cells(names: Names, layers: Any, layer_names: Mapping[str, str], places: int) -> dict[str, Any]:
    """A criterion's self-score (its first claim layer), assessed score (its last change layer)
    and, under the method, each change layer's score and the reasons of the scores it used
    (docs/layers.md; the form's "điểm tự chấm" and "điểm thẩm định" columns)."""
    claims = [step for step in layers if step["kind"] == "claim"]
    changes = [step for step in layers if step["kind"] == "change"]
    notes = []
    for step in changes:
        name = layer_names.get(step["layer"], step["layer"])
        if step["applied"] == "council":
            notes.append(names.say("layer.council", {"layer": name, "spread": names.num(Decimal(step["spread"]), places)}))
            continue
        reasons = "; ".join(e["reason"] for e in step.get("scores", ()) if e.get("used") and e["reason"])
        text = names.say("layer.step", {"layer": name, "score": names.num(Decimal(step["score"]), places)})
        notes.append(f"{text} ({reasons})" if reasons else text)
    return {"self": names.num(Decimal(claims[0]["score"]), places) if claims else "",
            "assessed": names.num(Decimal(changes[-1]["score"]), places) if changes else "",
            "layers": notes}


def _inputs_text(names: Names, inputs: Mapping[str, Any]) -> str:
    return "; ".join(f"{names.labels.get(k, k)}: {names.value(v)}" for k, v in inputs.items())


def _method_text(names: Names, item: Mapping[str, Any]) -> str:
    method = item["method"]
    code = f"method.{method}"
    head = names.say(code) if code in _METHODS else names.say("method.other", {"method": method})
    parts = [head]
    if item["inputs"]:
        parts[0] += ": " + _inputs_text(names, item["inputs"])
    if item["gated"]:
        parts.append(names.say("criterion.gated"))
    elif item["capped"]:
        parts.append(names.say("criterion.capped"))
    return "; ".join(parts)


_METHODS = frozenset(f"method.{m}" for m in ("proportional", "bands", "lookup", "formula", "per_item", "full_if"))


# ---------------------------------------------------------------- 2. biên bản họp


def _person(names: Names, meeting: Meeting, member_id: str | None) -> dict[str, str]:
    member = next((m for m in meeting.members if m.id == member_id), None)
    if member is None:
        return {"name": names.say("blank"), "position": ""}
    return {"name": member.name, "position": member.position}


def _minutes(policy: Policy, names: Names, cluster: Cluster, result: ClusterResult) -> dict[str, Any]:
    meeting = cluster.meeting or Meeting()
    members = meeting.members
    present = [m for m in members if m.present]
    absent = [m for m in members if not m.present]

    def listed(group: list[Any]) -> list[dict[str, str]]:
        return [{"stt": str(i), "name": m.name, "position": m.position,
                 "unit": names.units.get(m.unit, "") if m.unit else ""} for i, m in enumerate(group, start=1)]

    def clock(text: str) -> dict[str, str]:
        hour, _, minute = text.partition(":")
        return {"hour": names.blank(hour), "minute": names.blank(minute)}

    year, month, day = (meeting.date.split("-") if meeting.date else ("", "", ""))
    ranking = [{"stt": str(u.rank), "name": u.name, "total": names.num(u.total, policy.precision),
                "band": names.band(u.band)} for u in result.units]
    return {
        "minutes_number": names.blank(meeting.minutes_number),
        "start": clock(meeting.start), "end": clock(meeting.end),
        "day": names.blank(day), "month": names.blank(month), "meeting_year": year or names.say("blank"),
        "venue": names.blank(meeting.venue),
        "chair": _person(names, meeting, meeting.chair), "secretary": _person(names, meeting, meeting.secretary),
        "members_total": names.num(len(members)) if members else names.say("blank"),
        "members_present": names.num(len(present)) if members else names.say("blank"),
        "members_absent": names.num(len(absent)) if members else names.say("blank"),
        "present": listed(present), "absent": listed(absent),
        "written": [{"name": m.name, "position": m.position, "text": m.written} for m in absent if m.written],
        "content": meeting.content,
        "ranking": ranking,
        "votes": _votes(policy, names, cluster, result),
        "awaiting": _awaiting(policy, names, result),
        "results": _results(names, result),
    }


def _votes(policy: Policy, names: Names, cluster: Cluster, result: ClusterResult) -> list[dict[str, Any]]:
    """Per voted title (policy order), each candidate the ballot decided: yes-votes against the
    threshold, as a share of ALL the council's members (ND98 Art. 30 k7), and the quorum."""
    people_titles = policy.people.titles if policy.people is not None else ()
    outcomes: dict[str, list[tuple[str, str, Any]]] = {}
    for unit in result.units:
        for outcome in unit.titles:
            outcomes.setdefault(outcome.title, []).append((unit.id, unit.name, outcome))
    for person in result.people:
        for outcome in person.titles:
            outcomes.setdefault(outcome.title, []).append((person.person.id, person.person.name, outcome))
    votes = []
    for title in (*policy.titles, *people_titles):
        check = votes_check(title)
        ballot = next((b for b in cluster.ballots if b.title == title.id and b.round == 1), None)
        if check is None or ballot is None:
            continue
        percent = Decimal(check.share.numerator * 100) / Decimal(check.share.denominator)
        threshold = names.num(percent, None if percent == percent.to_integral_value() else 2)
        if check.quorum is None:
            quorum = names.say("vote.quorum_none")
        else:
            params = {"present": "" if ballot.present is None else names.num(ballot.present),
                      "members": names.num(ballot.voters), "quorum": share_text(check.quorum)}
            met = ballot.present is not None and ballot.present >= check.quorum * ballot.voters
            quorum = names.say("vote.quorum_met" if met else "vote.no_quorum", params)
        candidates: list[dict[str, str]] = []
        for subject, name, outcome in outcomes.get(title.id, []):
            seen = next((c for c in outcome.checks if c.check == "votes"), None)
            if seen is None:  # stopped before the vote (a requirement or condition failed)
                continue
            in_room = ballot.yes.get(subject, 0)
            written = ballot.written.get(subject, 0)
            yes = in_room + written
            share = names.num(Decimal(yes * 100) / Decimal(ballot.voters), 2)
            candidates.append({
                "stt": str(len(candidates) + 1), "name": name, "yes": names.num(in_room), "written": names.num(written),
                "total_yes": names.num(yes), "share": share, "threshold": threshold,
                "share_text": names.say("vote.share", {"share": share, "threshold": threshold}),
                "decision": names.say("vote.passed" if seen.passed else "vote.failed"),
            })
        votes.append({"title": title.name, "members": names.num(ballot.voters),
                      "present": "" if ballot.present is None else names.num(ballot.present),
                      "threshold": threshold, "quorum": quorum, "candidates": candidates})
    return votes


def _awaiting(policy: Policy, names: Names, result: ClusterResult) -> list[dict[str, str]]:
    """Per title, the candidates that await the council's vote (no ballot recorded yet)."""
    people_titles = policy.people.titles if policy.people is not None else ()
    waiting = []
    for title in (*policy.titles, *people_titles):
        who = [u.name for u in result.units for o in u.titles if o.title == title.id and o.status == "awaiting_vote"]
        who += [p.person.name for p in result.people for o in p.titles
                if o.title == title.id and o.status == "awaiting_vote"]
        if who:
            waiting.append({"title": title.name, "count": names.num(len(who)), "names": "; ".join(who)})
    return waiting


def _results(names: Names, result: ClusterResult) -> list[dict[str, str]]:
    """STT, name, title: every unit (rank order) and member proposed for something."""
    rows = []
    for unit in result.units:
        for title in unit.proposed:
            rows.append({"name": unit.name, "title": names.title(title), "kind": names.say("kind.collective")})
    for person in result.people:
        for title in person.proposed:
            rows.append({"name": person.person.name, "title": names.title(title), "kind": names.say("kind.individual")})
    return [{"stt": str(i), **row} for i, row in enumerate(rows, start=1)]


# ---------------------------------------------------------------- 3. tờ trình


def _proposal(policy: Policy, names: Names, cluster: Cluster, result: ClusterResult) -> dict[str, Any]:
    meeting = cluster.meeting or Meeting()
    people_titles = policy.people.titles if policy.people is not None else ()
    counts: list[dict[str, str]] = []
    bases: list[dict[str, str]] = []
    free: list[str] = []      # bases read from a title's source text
    laws: list[str] = []      # instruments of the law versions the titles follow
    for title in (*policy.titles, *people_titles):
        collective = sum(1 for u in result.units if title.id in u.proposed)
        individual = sum(1 for p in result.people if title.id in p.proposed)
        if not collective and not individual:
            continue
        if title.law is not None and title.law.articles:
            basis = law_basis(title.law.articles)
            laws.extend(instruments(title.law.instrument))
        else:
            basis = title_basis(title.id, title.source)
            free.append(basis)
        counts.append({"stt": str(len(counts) + 1), "title": title.name, "collective": names.num(collective),
                       "individual": names.num(individual)})
        if basis:
            bases.append({"title": title.name, "basis": basis})
    collective_total = sum(1 for u in result.units if u.proposed)
    individual_total = sum(1 for p in result.people if p.proposed)
    signer = _person(names, meeting, meeting.chair)
    return {
        "proposal_number": names.blank(meeting.proposal_number),
        "legal_basis": list(cited(free, laws)),
        "title_basis": bases,
        "counts": counts,
        "collective_total": names.num(collective_total), "individual_total": names.num(individual_total),
        "signer": signer,
    }


# ---------------------------------------------------------------- 4. danh sách đề nghị


def _proposal_list(policy: Policy, names: Names, result: ClusterResult) -> dict[str, Any]:
    collectives: list[dict[str, str]] = []
    for unit in result.units:
        if unit.proposed:
            collectives.append({"stt": str(len(collectives) + 1), "name": unit.name,
                                "titles": "; ".join(names.title(t) for t in unit.proposed)})
    individuals: list[dict[str, str]] = []
    for person in result.people:
        if person.proposed:
            position = person.person.values.get("position", "")
            individuals.append({"stt": str(len(individuals) + 1), "name": person.person.name,
                                "position": position if isinstance(position, str) else "",
                                "unit": names.units.get(person.person.unit, person.person.unit),
                                "titles": "; ".join(names.title(t) for t in person.proposed)})
    return {"collectives": collectives, "individuals": individuals}
