"""The Markdown report for a council (Vietnamese by default, ``--lang en``): ranking, proposals per
title, leadership, council items and each unit's explanation, every text through the message
catalogue (:mod:`thidua_rules.messages`), with the policy's labels and the language's numbers."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from ..decimals import round_half_up
from ..engine import Result
from ..exprtext import describe, names, show_value
from ..messages import format_number, render
from ..model import Policy
from .escape import formula_safe, md_cell, md_code, md_text
from .layerstext import layer_lines, number_writer


class ReportTexts:
    """The texts of one report: the policy's names, the language, numbers at the policy precision."""

    def __init__(self, result: Result, doc: dict[str, Any], lang: str) -> None:
        self.policy: Policy = result.policy
        self.lang = lang
        self.places = self.policy.precision
        self.unit_name = {u["id"]: u["name"] for u in doc["units"]}
        self.labels = names(self.policy, lang)

    def t(self, code: str, **params: Any) -> str:
        """The catalogue text of ``code`` (ids in params shown by the policy's names)."""
        return render(code, params, self.lang, policy=self.policy, units=self.unit_name)

    def n(self, value: Any) -> str:
        """A score as the language writes it, at the policy precision (``102,00``)."""
        return format_number(Decimal(value), self.places, self.lang)

    def label(self, name: str) -> str:
        """An expression name (an input, ``rank``, ``group.x``…) or a function call, for a reader."""
        if name in self.labels:
            return self.labels[name]
        return describe(name, self.policy, self.lang)


def render_markdown(doc: dict[str, Any], result: Result, lang: str = "vi") -> str:
    w = ReportTexts(result, doc, lang)
    policy = result.policy
    title_name = {t.id: t.name for t in policy.titles}
    band_name = {b.id: b.name for b in policy.bands}
    units = {u["id"]: u for u in doc["units"]}
    unit_name = w.unit_name
    # council items about members name them (a person's quota tie, a vote awaited)
    shown_name = {**{p["id"]: p["name"] for p in doc.get("people", [])}, **unit_name}

    def who(unit_id: str | None) -> str:
        return "—" if unit_id is None else f"{md_text(shown_name.get(unit_id, unit_id))} ({md_code(unit_id)})"

    out = [f"# {w.t('report_heading')}", "", f"**{md_text(policy.name)}** ({md_code(policy.id)})", ""]
    for cluster in doc["clusters"]:
        columns = w.t("report_ranking_columns")
        out += [f"## {md_text(w.t('report_cluster', name=cluster['name'], year=str(cluster['year'])))}", "",
                f"### {w.t('report_ranking')}", "", f"| {columns} |", "|---:|---|---:|---|---|"]
        for unit_id in cluster["ranking"]:
            u = units[unit_id]
            rank = w.t("report_tied", rank=str(u["rank"])) if u["tied"] else str(u["rank"])
            proposed = "; ".join(title_name[t] for t in u["proposed"]) or "—"
            band = band_name.get(u["band"], "—") if u["band"] else "—"
            out.append(f"| {rank} | {md_cell(u['name'])} | {md_cell(w.n(u['total']))} | {md_cell(band)} "
                       f"| {md_cell(proposed)} |")
        out += ["", f"### {w.t('report_proposals')}", ""]
        for title in policy.titles:
            listed = [unit_name[i] for i in cluster["ranking"] if title.id in units[i]["proposed"]]
            out.append(f"- **{md_text(title.name)}**: "
                       f"{', '.join(map(md_text, listed)) if listed else w.t('report_no_unit')}")
        lead = cluster["leadership"]
        if lead:
            out += ["", f"### {w.t('report_leadership', year=str(lead['year']))}", "",
                    f"- {w.t('report_leader')}: {who(lead['leader'])}",
                    f"- {w.t('report_deputy')}: {who(lead['deputy'])}",
                    f"- {w.t('report_basis')}: {md_text(w.t(lead['code'], **lead['params']))}"]
        out += ["", f"### {w.t('report_council')}", ""]
        if cluster["council"]:
            for item in cluster["council"]:
                text = md_text(w.t(item["code"], **item["params"]))
                if item["kind"] == "deferred":
                    if item["code"] == "council_deferred":  # the heading says it is deferred
                        text = md_text(w.t("deferred", **item["params"]))
                    which = (", ".join(title_name.get(t, t) for t in item["title"].split(",") if t)
                             or w.t("report_every_title"))
                    out.append(f"- **{w.t('report_deferred')}** ({md_text(which)}): "
                               f"{', '.join(who(u) for u in item['units'])} — {text}")
                elif item["kind"] == "score_undecided":  # the scorers of a layer disagree (docs/layers.md)
                    criterion = next((c.name for c in policy.criteria if c.id == item["title"]), item["title"])
                    heading = f"**{md_text(w.t('report_score_undecided', criterion=criterion))}**"
                    out.append("- " + w.t("report_score_undecided_line", heading=heading,
                                          units=", ".join(who(u) for u in item["units"]), text=text))
                else:
                    name = _title_label(policy, item["title"])
                    out.append(f"- **{md_text(name)}**: {', '.join(who(u) for u in item['units'])} — {text}")
        else:
            out.append(w.t("report_none"))
        out += _people(w, result, cluster["id"])
        out += ["", f"### {w.t('report_units')}", ""]
        for unit_id in cluster["ranking"]:
            out += _unit(w, units[unit_id], band_name)
    prov = doc["provenance"]
    out += _legal_basis(w, prov.get("legal_basis", []), policy.evaluation_date)
    out += [f"## {w.t('report_provenance')}", "",
            f"- {md_text(w.t('report_software', version=prov['engine_version']))}",
            f"- {w.t('report_policy', id=md_code(prov['policy']['id']), sha=md_code(prov['policy']['sha256']))}",
            f"- {w.t('report_data', sha=md_code(prov['data']['sha256']))}"]
    for plugin in prov["plugins"]:
        out.append("- " + w.t("report_plugin", name=md_code(plugin["name"]), distribution=md_text(plugin["distribution"]),
                              version=md_text(plugin["version"]), hooks=", ".join(md_code(h) for h in plugin["hooks"])))
    return "\n".join(out) + "\n"


def _title_label(policy: Policy, title_id: str) -> str:
    people = {t.id: t.name for t in policy.people.titles} if policy.people is not None else {}
    return next((t.name for t in policy.titles if t.id == title_id), None) or people.get(title_id, title_id)


def _unit(w: ReportTexts, u: dict[str, Any], band_name: dict[str, str]) -> list[str]:
    """One unit's explanation: each criterion's working, the totals, the band, the ranking and
    each title's decision with its reason."""
    ex = u["explanation"]
    policy = w.policy
    out = [f"#### {md_text(w.t('report_unit_heading', rank=str(u['rank']), name=u['name'], total=w.n(u['total'])))}",
           "", f"| {w.t('report_criteria_columns')} |", "|---|---:|---:|---|"]
    for spec, c in zip(policy.criteria, ex["criteria"], strict=True):
        out.append(f"| {md_cell(spec.name)} | {md_cell(w.n(c['points']))} | {md_cell(w.n(c['score']))} "
                   f"| {formula_safe(md_text(working_text(w, spec, c)))} |")
    out.append("")
    out += layer_lines(policy, ex["criteria"], w.lang, number_writer(w.lang))
    out.append("- " + w.t("report_totals", score=w.n(ex["score"]), bonus=w.n(ex["bonus"]["applied"]),
                          deduction=w.n(ex["deduction"]["applied"]), total=w.n(u["total"])))
    band = band_name.get(u["band"], "—") if u["band"] else w.t("report_no_band")
    out.append(f"- {md_text(w.t('report_band', band=band))}")
    for cap in ex["band"].get("caps", []):
        out.append(f"  - {md_text(w.t('report_band_cap', plugin=cap['plugin'], reason=w.t(cap['code'], **cap['params'])))}")
    for d in ex.get("derived", []):
        out.append(f"- {md_text(w.t('report_derived', input=w.label(d['input']), value=show_value(d['value'], w.lang), plugin=d['plugin']))}")
    for name, m in ex.get("members", {}).items():
        out.append(f"- {md_text(w.t('report_members', input=w.label(name), value=show_value(m['value'], w.lang), count=str(len(m['members']))))}")
    for side in ("above", "below"):
        sep = ex["ranking"][side]
        if sep:
            how = separation_text(w, sep)
            out.append(f"- {md_text(w.t('report_' + side, unit=w.unit_name.get(sep['unit'], sep['unit']), how=how))}")
    for t in ex["titles"]:
        line = f"- {md_text(_title_label(policy, t['id']))}: {w.t('title_' + t['status'])}"
        failed = next((c for c in t["checks"] if not c["passed"]), None)
        if failed:
            line += f" — {md_text(w.t(failed['code'], **failed['params']))}"
            seen = seen_text(w, failed)
            if seen:
                line += f" ({md_text(seen)})"
        if "quota" in t and t["status"] != "failed":
            line += " " + w.t("report_quota", place=str(t["quota"]["place"]), limit=str(t["quota"]["limit"]))
        out.append(line)
    out.append("")
    return out


def seen_text(w: ReportTexts, check: dict[str, Any]) -> str:
    """The values a failed check looked at, where its message does not already say them: a
    condition's names and calls, by their labels; a plugin check's facts as it gave them."""
    if check["code"] == "condition_false":
        return ", ".join(f"{w.label(k)} = {show_value(v, w.lang, w.policy, k)}" for k, v in check["seen"].items())
    if "plugin" in check:
        return ", ".join(f"{k} = {show_value(v, w.lang)}" for k, v in check["seen"].items())
    return ""


def separation_text(w: ReportTexts, sep: dict[str, Any]) -> str:
    if sep["key"] is None:
        return w.t("separation_tied")
    this = "—" if sep["this"] is None else w.n(sep["this"])
    other = "—" if sep["other"] is None else w.n(sep["other"])
    return w.t("separation_key", key=w.label(sep["key"]), this=this, other=other)


def working_text(w: ReportTexts, spec: Any, c: dict[str, Any]) -> str:
    """How a criterion's points come about, the way a reader checks them: the method's
    arithmetic with the unit's values (``35 × 10 / 11 ≈ 31,82``), then the clamp to
    ``[0, points]`` where it applied, then the values by their labels."""
    lang, facts = w.lang, c["facts"]
    inline: Any = getattr(spec.scorer, "inline", None) if spec.method_plugin.startswith("thidua_rules.") else None
    method = inline[0] if inline else None
    raw = Decimal(c["raw"])
    result = w.n(raw)
    equals = "=" if round_half_up(raw, w.places) == raw else "≈"  # the working shows it rounded
    if c["gated"]:
        text = w.t("work_gated")
    elif "override" in c:
        text = w.t("work_override", plugin=c["override"])
    elif method == "proportional":
        text = w.t("work_proportional", points=show_value(spec.points, lang), value=show_value(facts["value"], lang),
                   target=show_value(facts["target"], lang), equals=equals, result=result)
    elif method == "formula":
        text = w.t("work_formula", formula=describe(inline[1].source, w.policy, lang, values=c["inputs"]),
                   equals=equals, result=result)
    elif method == "per_item":
        text = w.t("work_per_item", each=show_value(facts["each"], lang), value=show_value(facts["value"], lang),
                   equals=equals, result=result)
    elif method == "bands":
        value = f"{describe(inline[1].source, w.policy, lang)} = {show_value(facts['value'], lang)}"
        if facts.get("band") == "none":
            text = w.t("work_bands_none", value=value)
        else:
            bound = ("≥ " + show_value(facts["at_least"], lang)) if "at_least" in facts else ("> " + show_value(facts["above"], lang))
            text = w.t("work_bands", value=value, bound=bound, result=result)
    elif method == "lookup":
        value = (f"{describe(inline[1].source, w.policy, lang)} = "
                 f"{show_value(facts['value'], lang, w.policy, inline[1].source.strip())}")
        text = w.t("work_lookup" if facts.get("listed") else "work_lookup_default", value=value, result=result)
    elif method == "full_if":
        condition = describe(inline[1].source, w.policy, lang)
        text = w.t("work_full_if_true" if facts.get("condition") else "work_full_if_false",
                   condition=condition, result=result)
    else:
        text = w.t("work_points", result=result)
    if c["capped"]:
        text += "; " + w.t("work_capped", points=w.n(c["points"]), score=w.n(c["score"]))
    shown = [f"{w.label(k)} = {show_value(v, lang)}" for k, v in c["inputs"].items()
             if method not in ("bands", "lookup")]
    return text + (f" ({', '.join(shown)})" if shown else "")


def day_text(iso: str, lang: str) -> str:
    """A date as ``lang`` writes it in an official document (``01/07/2025``; ``1 July 2025``)."""
    from datetime import date

    from babel.dates import format_date

    return format_date(date.fromisoformat(iso), "dd/MM/yyyy" if lang == "vi" else "d MMMM yyyy", locale=lang)


def _period(w: ReportTexts, in_force: dict[str, Any]) -> str:
    start, end = in_force.get("from"), in_force.get("until")
    if start and end:
        return w.t("legal_in_force_between", start=day_text(start, w.lang), end=day_text(end, w.lang))
    if start:
        return w.t("legal_in_force_from", start=day_text(start, w.lang))
    return w.t("legal_in_force_until", end=day_text(end, w.lang)) if end else w.t("legal_in_force_always")


def _legal_basis(w: ReportTexts, rules: list[dict[str, Any]], on: str | None) -> list[str]:
    """The legal basis section: per rule, the articles and the instrument of its version."""
    if not rules:
        return []
    out = [f"## {w.t('legal_heading')}", ""]
    if on is not None:
        out += [w.t("legal_on", date=day_text(on, w.lang)), ""]
    for rule in rules:
        head = f"- **{md_text(rule['title'])}** ({md_code(rule['rule'])}): "
        if rule["version"] is None:
            text = w.t("legal_own_rule")
            if rule["source"]:
                text += " " + w.t("legal_source", source=md_text(rule["source"]))
            out.append(head + text)
            continue
        parts = ["; ".join(md_text(a) for a in rule["articles"]) or w.t("legal_no_articles")]
        if rule["instrument"]:
            parts.append(md_text(rule["instrument"]))
        parts.append(_period(w, rule["in_force"]))
        edition = w.t("legal_version", version=md_code(rule["version"]))
        if rule["catalogue"]:
            edition += " " + w.t("legal_catalogue", catalogue=md_code(rule["catalogue"]))
        if rule["pinned"]:
            edition += w.t("legal_pinned")
        parts.append(edition)
        out.append(head + " — ".join(parts))
    return [*out, ""]


#: Up to this many names are listed under a person title; beyond it the report gives the count.
NAMES_LISTED = 30


def _people(w: ReportTexts, result: Result, cluster_id: str) -> list[str]:
    """Individual titles proposed in the cluster: counts per unit, and the names where few."""
    people_policy = result.policy.people
    cluster = next(c for c in result.clusters if c.id == cluster_id)
    if people_policy is None or not cluster.people:
        return []
    titles = people_policy.titles
    out = ["", f"### {w.t('report_people')}", "", w.t("report_people_note"), "",
           f"| {w.t('report_people_unit')} | " + " | ".join(md_cell(t.name) for t in titles) + " |",
           "|---|" + "---:|" * len(titles)]
    by_unit: dict[str, dict[str, int]] = {}
    for person in cluster.people:
        counts = by_unit.setdefault(person.person.unit, {})
        for title_id in person.proposed:
            counts[title_id] = counts.get(title_id, 0) + 1
    for unit in cluster.units:
        counts = by_unit.get(unit.id, {})
        out.append(f"| {md_cell(w.unit_name[unit.id])} | " + " | ".join(str(counts.get(t.id, 0)) for t in titles) + " |")
    out.append("")
    for title in titles:
        listed = [f"{md_text(p.person.name)} ({md_code(p.person.id)})" for p in cluster.people if title.id in p.proposed]
        shown = ", ".join(listed) if len(listed) <= NAMES_LISTED else w.t("report_people_many", count=str(len(listed)))
        out.append(f"- **{md_text(title.name)}**: {shown or w.t('report_nobody')}")
    return out
