"""A self-contained, printable HTML report, in Vietnamese (the default) or English: ranking, a
score chart, decisions, council items.

One file with no external resource: the style sheet is inline, the chart is inline SVG and
there is no script. It reads on a phone (the tables scroll sideways) and prints on A4 (each
unit's decisions on a page of their own). Every piece of user text goes through
:func:`~.escape.html_text`; every coordinate of the chart is a Decimal rounded half-up to two
places, so the same result gives the same bytes.

Every word comes from the message catalogue (:mod:`thidua_rules.messages`) in the page's
language: the Markdown report's ``report_*`` texts where the words are the same, ``html_*`` for
the page's own (the chart, the footer's labels); decisions, council items, a criterion's working,
its scoring layers, band caps and derived inputs through the Markdown report's
:class:`~.markdown.ReportTexts`; every number from :meth:`_Names.num`, as the language writes it.
The policy's own names (units, titles, criteria, bands) are shown as the policy declares them.
"""

from __future__ import annotations

import re
from decimal import ROUND_CEILING, ROUND_HALF_EVEN, ROUND_HALF_UP, Context, Decimal
from typing import Any

from ..decimals import plain
from ..engine import Result
from ..exprtext import show_value
from ..messages import format_number, template
from .escape import html_cell, html_text
from .layerstext import layer_blocks, number_writer
from .markdown import ReportTexts, seen_text, separation_text, working_text

#: The bar colours, in the policy's group order (the Okabe–Ito palette: told apart by readers
#: with a colour-vision deficiency, and legible in greyscale print); a policy with more groups
#: starts the list again.
PALETTE = ("#0072b2", "#e69f00", "#009e73", "#cc79a7", "#56b4e9", "#d55e00", "#f0e442", "#999999")

_CENTI = Decimal("0.01")
#: The chart's arithmetic, whatever the thread's decimal context: 28 digits before rounding.
_CONTEXT = Context(prec=28, rounding=ROUND_HALF_EVEN)

#: The chart's geometry, in SVG user units (the picture scales to the page's width).
_WIDTH = 720
_LEFT = 10
_PLOT = Decimal(560)
_LEGEND_ROW = 20
_UNIT_ROW = 46
_BAR_HEIGHT = 18

STYLE = """\
:root { color-scheme: light; --ink: #1a1a1a; --muted: #555; --rule: #c8c8c8; --band: #f3f5f8; }
* { box-sizing: border-box; }
body { margin: 0 auto; max-width: 62rem; padding: 1rem; color: var(--ink); background: #fff;
  font: 16px/1.45 "Noto Sans", "Segoe UI", Roboto, Arial, sans-serif; }
h1 { font-size: 1.5rem; margin: 0 0 .25rem; }
h2 { font-size: 1.25rem; margin: 1.75rem 0 .5rem; border-bottom: 2px solid var(--ink); }
h3 { font-size: 1.1rem; margin: 1.5rem 0 .5rem; }
h4 { font-size: 1rem; margin: 1rem 0 .25rem; }
p, ul { margin: .4rem 0; }
.policy { color: var(--muted); margin-bottom: 1rem; }
.scroll { overflow-x: auto; -webkit-overflow-scrolling: touch; }
table { border-collapse: collapse; width: 100%; margin: .5rem 0; }
caption { text-align: left; color: var(--muted); padding-bottom: .25rem; }
th, td { border: 1px solid var(--rule); padding: .3rem .5rem; text-align: left; vertical-align: top; }
th { background: var(--band); }
td.num, th.num { text-align: right; white-space: nowrap; font-variant-numeric: tabular-nums; }
.ranking { min-width: 36rem; }
.criteria { min-width: 40rem; }
.criteria td:first-child { min-width: 10rem; }
td.notes { overflow-wrap: anywhere; min-width: 14rem; }
figure { margin: .5rem 0 1rem; }
.chart { overflow-x: auto; }
.chart svg { display: block; width: 100%; min-width: 540px; height: auto; max-width: 720px; }
figcaption { color: var(--muted); font-size: .875rem; }
.chart text { font-family: inherit; fill: var(--ink); }
.unit { border-top: 1px solid var(--rule); margin-top: 1.5rem; }
.decisions li { margin: .2rem 0; }
.status { font-weight: 600; }
.none { color: var(--muted); }
footer { margin-top: 2.5rem; padding-top: .5rem; border-top: 2px solid var(--ink); color: var(--muted);
  font-size: .875rem; }
footer dl { display: grid; grid-template-columns: max-content 1fr; gap: .15rem 1rem; margin: .4rem 0; }
footer dt { font-weight: 600; }
footer dd { margin: 0; overflow-wrap: anywhere; }
code { font-family: "Noto Sans Mono", Consolas, monospace; font-size: .9em; overflow-wrap: anywhere; }
@media (max-width: 40rem) {
  body { padding: .5rem; font-size: 15px; }
  h1 { font-size: 1.25rem; }
  footer dl { grid-template-columns: 1fr; }
  footer dd { margin-bottom: .3rem; }
}
@page { size: A4; margin: 15mm 12mm; }
@media print {
  body { max-width: none; padding: 0; font-size: 10.5pt; }
  * { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
  .scroll, .chart { overflow: visible; }
  .ranking, .criteria, .criteria td:first-child, .chart svg { min-width: 0; }
  h2, h3, h4 { break-after: avoid; }
  tr, .chart, li { break-inside: avoid; }
  .cluster + .cluster { break-before: page; }
  .unit { break-before: page; border-top: 0; margin-top: 0; }
  footer { break-inside: avoid; }
}
"""


def render_html(doc: dict[str, Any], result: Result, lang: str = "vi") -> str:
    """The HTML report of ``doc`` (the canonical document of ``result``) in ``lang`` (``vi``, the
    default, or ``en``), as UTF-8 text with a final newline."""
    policy = result.policy
    names = _Names(doc, result, lang)
    one: dict[str, Any] = doc["clusters"][0] if len(doc["clusters"]) == 1 else {"name": policy.name,
                                                                                   "year": policy.year}
    heading = names.h("report_cluster", name=html_text(str(one["name"])), year=str(one["year"]))
    out = ["<!DOCTYPE html>",
           f'<html lang="{html_text(lang)}">',
           "<head>",
           '<meta charset="utf-8">',
           '<meta name="viewport" content="width=device-width, initial-scale=1">',
           f"<title>{names.h('html_title', heading=heading)}</title>",
           "<style>", STYLE.rstrip("\n"), "</style>",
           "</head>",
           "<body>",
           "<header>",
           f"<h1>{names.h('report_heading')}</h1>",
           f'<p class="policy">{html_text(policy.name)} (<code>{html_text(policy.id)}</code>)</p>',
           "</header>",
           "<main>"]
    for number, cluster in enumerate(doc["clusters"], 1):
        out += _cluster(cluster, number, names, result)
    out += ["</main>", *_footer(doc["provenance"], names), "</body>", "</html>"]
    return "\n".join(out) + "\n"


class _Names:
    """The display names of the ids a report shows: units, titles, bands, groups, criteria."""

    def __init__(self, doc: dict[str, Any], result: Result, lang: str) -> None:
        policy = result.policy
        self.policy = policy
        self.units = {u["id"]: u for u in doc["units"]}
        self.title = {t.id: t.name for t in policy.titles}
        if policy.people is not None:
            for t in policy.people.titles:
                self.title.setdefault(t.id, t.name)
        self.band = {b.id: b.name for b in policy.bands}
        self.group = {g.id: g.name for g in policy.groups}
        self.criterion = {c.id: c.name for c in policy.criteria}
        self.lang = lang
        #: The Markdown report's texts (the message catalogue, the policy's labels), in ``lang``.
        self.words = ReportTexts(result, doc, lang)

    def h(self, code: str, **markup: str) -> str:
        """The catalogue text of ``code`` as HTML: the template's own words escaped, each
        ``{field}`` replaced by ``markup[field]``, which the caller has escaped (or marked up)."""
        text = html_text(template(code, self.lang, self.policy))
        return _FIELD.sub(lambda m: markup.get(m.group(1), ""), text)

    def num(self, text: str) -> str:
        """A number of the document (``"102.00"``) as the page's language writes it (``102,00``
        in Vietnamese, ``102.00`` in English), with the digits after the point it was written
        with (the policy precision for scores)."""
        places = len(text.partition(".")[2])
        return format_number(Decimal(text), places, self.lang)

    def unit(self, unit_id: str | None) -> str:
        if unit_id is None:
            return "—"
        unit = self.units.get(unit_id)
        return unit["name"] if unit is not None else unit_id


# ---------------------------------------------------------------- the words and the numbers

#: A ``{field}`` of a catalogue template (as :mod:`thidua_rules.messages` reads them).
_FIELD = re.compile(r"\{([a-z_]+)\}")


def _decision_text(title: dict[str, Any], names: _Names) -> str:
    """What was decided on one title for one unit, and why, as the Markdown report says it: the
    status, the first failed check's message with what it saw, and the place against the quota
    (plain text, not yet escaped)."""
    w = names.words
    text = w.t("title_" + title["status"])
    failed = next((c for c in title["checks"] if not c["passed"]), None)
    if failed:
        text += f" — {w.t(failed['code'], **failed['params'])}"
        seen = seen_text(w, failed)
        if seen:
            text += f" ({seen})"
    if "quota" in title and title["status"] != "failed":
        text += " " + w.t("report_quota", place=str(title["quota"]["place"]), limit=str(title["quota"]["limit"]))
    return text


def _council_text(item: dict[str, Any], names: _Names) -> str:
    """Why an item is before the council (a vote not yet held, a tie at a quota cut, a
    deferral), through the message catalogue (plain text)."""
    return names.words.t(item["code"], **item["params"])


def _leadership_text(lead: dict[str, Any], names: _Names) -> str:
    """Why these units lead next year, through the message catalogue."""
    return names.words.t(lead["code"], **lead["params"])


def _separation_text(sep: dict[str, Any], names: _Names) -> str:
    return separation_text(names.words, sep)


# ---------------------------------------------------------------- one cluster


def _cluster(cluster: dict[str, Any], number: int, names: _Names, result: Result) -> list[str]:
    out = [f'<section class="cluster" id="cum-{number}">',
           f"<h2>{names.h('report_cluster', name=html_text(cluster['name']), year=str(cluster['year']))}</h2>"]
    out += _ranking(cluster, names)
    out += _chart(cluster, number, names, result)
    out += _proposals(cluster, names)
    out += _leadership(cluster, names)
    out += _council(cluster, names)
    out += [f"<h3>{names.h('html_units')}</h3>"]
    for unit_id in cluster["ranking"]:
        out += _unit(names.units[unit_id], names)
    out.append("</section>")
    return out


def _rank(unit: dict[str, Any], names: _Names) -> str:
    """A unit's rank, with the tie said (plain text)."""
    return names.words.t("report_tied", rank=str(unit["rank"])) if unit["tied"] else str(unit["rank"])


def _band(unit: dict[str, Any], names: _Names, missing: str = "—") -> str:
    return names.band.get(unit["band"], unit["band"]) if unit["band"] else missing


def _columns(code: str, names: _Names, numeric: tuple[int, ...]) -> str:
    """A table's header row from a catalogue text of ``|``-separated column names (the Markdown
    report's ``report_ranking_columns`` is one); the columns at ``numeric`` are right-aligned."""
    cells = [f'<th scope="col"{_NUM if place in numeric else ""}>{html_text(label)}</th>'
             for place, label in enumerate(names.words.t(code).split(" | "))]
    return "<thead><tr>" + "".join(cells) + "</tr></thead>"


_NUM = ' class="num"'


def _ranking(cluster: dict[str, Any], names: _Names) -> list[str]:
    out = [f"<h3>{names.h('report_ranking')}</h3>",
           '<div class="scroll">',
           '<table class="ranking">',
           f"<caption>{names.h('html_ranking_caption', count=str(len(cluster['ranking'])))}</caption>",
           _columns("report_ranking_columns", names, (0, 2)),
           "<tbody>"]
    for unit_id in cluster["ranking"]:
        u = names.units[unit_id]
        proposed = "; ".join(names.title.get(t, t) for t in u["proposed"]) or "—"
        out.append(f'<tr data-unit="{html_text(unit_id)}"><td class="num">{html_text(_rank(u, names))}</td>'
                   f'<th scope="row">{html_cell(u["name"])}</th>'
                   f'<td class="num">{html_cell(names.num(u["total"]))}</td>'
                   f"<td>{html_cell(_band(u, names))}</td><td>{html_cell(proposed)}</td></tr>")
    out += ["</tbody>", "</table>", "</div>"]
    return out


def _proposals(cluster: dict[str, Any], names: _Names) -> list[str]:
    out = [f"<h3>{names.h('report_proposals')}</h3>", "<ul>"]
    for title in names.policy.titles:
        units = [names.unit(i) for i in cluster["ranking"] if title.id in names.units[i]["proposed"]]
        shown = html_text(", ".join(units)) if units else f'<span class="none">{names.h("report_no_unit")}</span>'
        out.append(f"<li><strong>{html_text(title.name)}</strong>: {shown}</li>")
    out.append("</ul>")
    return out


def _leadership(cluster: dict[str, Any], names: _Names) -> list[str]:
    lead = cluster["leadership"]
    if not lead:
        return []
    return [f"<h3>{names.h('report_leadership', year=str(lead['year']))}</h3>",
            '<ul class="leadership">',
            f"<li>{names.h('report_leader')}: <strong>{html_text(names.unit(lead['leader']))}</strong></li>",
            f"<li>{names.h('report_deputy')}: <strong>{html_text(names.unit(lead['deputy']))}</strong></li>",
            f"<li>{names.h('report_basis')}: {html_text(_leadership_text(lead, names))}</li>",
            "</ul>"]


def _council(cluster: dict[str, Any], names: _Names) -> list[str]:
    """What the council (Hội đồng Thi đua – Khen thưởng) must decide: units awaiting its vote,
    units tied across a quota cut, deferred units."""
    out = [f"<h3>{names.h('report_council')}</h3>"]
    if not cluster["council"]:
        return [*out, f'<p class="council none">{names.h("report_none")}</p>']
    out.append('<ul class="council">')
    for item in cluster["council"]:
        units = html_text(", ".join(names.unit(u) for u in item["units"]))
        if item["kind"] == "deferred":
            which = (", ".join(names.title.get(t, t) for t in item["title"].split(",") if t)
                     or names.words.t("report_every_title"))
            label = f"{names.words.t('report_deferred')} ({which})"
        elif item["kind"] == "score_undecided":  # the scorers of a layer disagree (docs/layers.md)
            label = names.words.t("report_score_undecided", criterion=names.criterion.get(item["title"], item["title"]))
        else:
            label = names.title.get(item["title"], item["title"])
        out.append(f"<li><strong>{html_text(label)}</strong>: {units} — {html_text(_council_text(item, names))}</li>")
    out.append("</ul>")
    return out


def _unit(u: dict[str, Any], names: _Names) -> list[str]:
    ex = u["explanation"]
    num = names.num
    heading = names.h("report_unit_heading", rank=html_text(_rank(u, names)), name=html_text(u["name"]),
                      total=html_text(num(u["total"])))
    band = f"<strong>{html_text(_band(u, names, names.words.t('report_no_band')))}</strong>"
    out = [f'<article class="unit" data-unit="{html_text(u["id"])}">',
           f"<h4>{heading}</h4>",
           f"<p>{names.h('report_band', band=band)}</p>",
           '<div class="scroll">',
           '<table class="criteria">',
           _columns("html_criteria_columns", names, (1, 2)),
           "<tbody>"]
    for spec, c in zip(names.policy.criteria, ex["criteria"], strict=True):
        # the criterion's working as the Markdown report gives it: the arithmetic with the
        # unit's values, the clamp, the inputs by their labels
        notes = working_text(names.words, spec, c)
        out.append(f"<tr><td>{html_cell(names.criterion.get(c['id'], c['id']))}</td>"
                   f'<td class="num">{html_cell(num(c["points"]))}</td>'
                   f'<td class="num">{html_cell(num(c["score"]))}</td><td>{html_cell(notes)}</td></tr>')
    totals = names.h("report_totals", score=html_text(num(ex["score"])), bonus=html_text(num(ex["bonus"]["applied"])),
                     deduction=html_text(num(ex["deduction"]["applied"])), total=html_text(num(u["total"])))
    out += ["</tbody>", "</table>", "</div>", *_layers(ex["criteria"], names), f"<p>{totals}</p>", "<ul>"]
    for cap in ex["band"].get("caps", []):
        out.append("<li>" + names.h("report_band_cap", plugin=f"<code>{html_text(cap['plugin'])}</code>",
                                    reason=html_text(names.words.t(cap["code"], **cap["params"]))) + "</li>")
    w = names.words
    for d in ex.get("derived", []):
        out.append("<li>" + html_text(w.t("report_derived", input=w.label(d["input"]),
                                          value=show_value(d["value"], w.lang), plugin=d["plugin"])) + "</li>")
    for name, m in ex.get("members", {}).items():
        out.append("<li>" + html_text(w.t("report_members", input=w.label(name), value=show_value(m["value"], w.lang),
                                          count=str(len(m["members"])))) + "</li>")
    for side in ("above", "below"):
        sep = ex["ranking"][side]
        if sep:
            out.append("<li>" + names.h("report_" + side, unit=html_text(names.unit(sep["unit"])),
                                        how=html_text(_separation_text(sep, names))) + "</li>")
    out += ["</ul>", '<ul class="decisions">']
    for t in ex["titles"]:
        out.append(f'<li data-status="{html_text(t["status"])}"><span class="status">'
                   f"{html_text(names.title.get(t['id'], t['id']))}</span>: {html_text(_decision_text(t, names))}</li>")
    out += ["</ul>", "</article>"]
    return out


def _layers(criteria: list[dict[str, Any]], names: _Names) -> list[str]:
    """The scoring layers of the criteria that have them (self-score, cross-inspection, the
    council's change, each with its scorers and reasons), as the Markdown report lists them."""
    blocks = layer_blocks(names.policy, criteria, names.lang, number_writer(names.lang),
                          lambda ident: f"<code>{html_text(ident)}</code>", html_text)
    if not blocks:
        return []
    out = ['<ul class="layers">']
    for heading, lines in blocks:
        out += [f"<li>{heading}", "<ul>", *(f"<li>{line}</li>" for line in lines), "</ul>", "</li>"]
    out.append("</ul>")
    return out


# ---------------------------------------------------------------- the chart


def _coordinate(value: Decimal) -> str:
    """An SVG coordinate: two places, half-up, without a sign on zero."""
    rounded = value.quantize(_CENTI, rounding=ROUND_HALF_UP)
    return f"{rounded + 0:f}" if rounded else "0.00"


def _segments(unit: dict[str, Any], names: _Names) -> list[tuple[str, Decimal]]:
    """The parts of a unit's bar: each group's score in policy order, the criteria outside any
    group, the bonus; as (label, points). The bar's length is the criteria score plus the bonus
    (the deduction is said in its title)."""
    ex = unit["explanation"]
    parts = [(names.group.get(g["id"], g["id"]), Decimal(g["score"])) for g in ex["groups"]]
    loose = [Decimal(c["score"]) for c in ex["criteria"] if c["group"] is None]
    if loose:
        parts.append((names.words.t("html_chart_other"), sum(loose, Decimal(0))))
    parts.append((names.words.t("html_chart_bonus"), Decimal(ex["bonus"]["applied"])))
    return [(label, max(points, Decimal(0))) for label, points in parts]


def _nominal(names: _Names) -> Decimal:
    """The most points the criteria can give: each group's maximum (else its criteria's
    points), plus the points of the criteria outside any group."""
    policy = names.policy
    total = Decimal(0)
    for group in policy.groups:
        points = sum((c.points for c in policy.criteria if c.group == group.id), Decimal(0))
        total += group.max if group.max is not None and group.max < points else points
    grouped = {g.id for g in policy.groups}
    total += sum((c.points for c in policy.criteria if c.group not in grouped), Decimal(0))
    return total


def _chart(cluster: dict[str, Any], number: int, names: _Names, result: Result) -> list[str]:
    units = [names.units[i] for i in cluster["ranking"]]
    bars = [(u, _segments(u, names)) for u in units]
    labels = [label for label, _ in bars[0][1]] if bars else []
    longest = max((sum((p for _, p in segs), Decimal(0)) for _, segs in bars), default=Decimal(0))
    step = _tick_step(max(_nominal(names), longest))
    ticks = [_CONTEXT.multiply(step, n) for n in range(_ticks(max(_nominal(names), longest), step) + 1)]
    scale = ticks[-1]

    def x(points: Decimal) -> Decimal:
        return _CONTEXT.add(_LEFT, _CONTEXT.divide(_CONTEXT.multiply(points, _PLOT), scale))

    top = 8 + _LEGEND_ROW * len(labels) + 8
    axis_y = top + _UNIT_ROW * len(bars) + 4
    height = axis_y + 24
    ident = f"bieu-do-{number}"
    num = names.num
    out = [f"<h3>{names.h('html_chart')}</h3>",
           '<figure class="chart">',
           f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {_WIDTH} {height}" '
           f'width="{_WIDTH}" height="{height}" role="img" aria-labelledby="{ident}-t {ident}-d">',
           f'<title id="{ident}-t">{names.h("html_chart_title")}</title>',
           f'<desc id="{ident}-d">{names.h("html_chart_desc", scale=html_text(num(plain(scale))))}</desc>',
           '<g class="legend" font-size="13">']
    for row, label in enumerate(labels):
        y = 8 + _LEGEND_ROW * row
        out.append(f'<rect x="{_LEFT}" y="{y}" width="12" height="12" fill="{PALETTE[row % len(PALETTE)]}"/>'
                   f'<text x="{_LEFT + 18}" y="{y + 11}">{html_text(label)}</text>')
    out.append("</g>")
    for tick in ticks:
        gx = _coordinate(x(tick))
        out.append(f'<line class="grid" x1="{gx}" y1="{top}" x2="{gx}" y2="{axis_y}" '
                   'stroke="#c8c8c8" stroke-width="1"/>')
    for row, (u, segs) in enumerate(bars):
        y = top + _UNIT_ROW * row
        parts = "; ".join(f"{label}: {num(_points(p, result))}" for label, p in segs)
        summary = names.h("html_chart_bar", rank=html_text(_rank(u, names)), name=html_text(u["name"]),
                          total=html_text(num(u["total"])), parts=html_text(parts),
                          deduction=html_text(num(u["explanation"]["deduction"]["applied"])))
        out += [f'<g class="bar" data-unit="{html_text(u["id"])}">',
                f"<title>{summary}</title>",
                f'<text x="{_LEFT}" y="{y + 14}" font-size="13">{html_text(_rank(u, names))}. {html_text(u["name"])}</text>']
        start = Decimal(0)
        for index, (label, points) in enumerate(segs):
            x0, x1 = _coordinate(x(start)), _coordinate(x(_CONTEXT.add(start, points)))
            start = _CONTEXT.add(start, points)
            if points == 0:
                continue
            out.append(f'<rect x="{x0}" y="{y + 20}" width="{_coordinate(Decimal(x1) - Decimal(x0))}" '
                       f'height="{_BAR_HEIGHT}" fill="{PALETTE[index % len(PALETTE)]}">'
                       f"<title>{html_text(f'{label}: {num(_points(points, result))}')}</title></rect>")
        out += [f'<text x="{_coordinate(x(start) + 6)}" y="{y + 34}" font-size="13" font-weight="600">'
                f"{html_text(num(u['total']))}</text>",
                "</g>"]
    out.append(f'<line x1="{_LEFT}" y1="{axis_y}" x2="{_coordinate(x(scale))}" y2="{axis_y}" '
               'stroke="#1a1a1a" stroke-width="1"/>')
    out.append('<g class="axis" font-size="11">')
    for place, tick in enumerate(ticks):
        anchor = "start" if place == 0 else "end" if place == len(ticks) - 1 else "middle"
        out.append(f'<text x="{_coordinate(x(tick))}" y="{axis_y + 16}" text-anchor="{anchor}">'
                   f"{html_text(num(plain(tick)))}</text>")
    out += ["</g>", "</svg>",
            f"<figcaption>{names.h('html_chart_caption')}</figcaption>",
            "</figure>"]
    return out


#: At most this many steps on the chart's axis.
_MOST_TICKS = 6


def _ticks(top: Decimal, step: Decimal) -> int:
    """How many steps of ``step`` reach ``top`` (at least one)."""
    return max(1, int(_CONTEXT.divide(top, step).to_integral_value(rounding=ROUND_CEILING)))


def _tick_step(top: Decimal) -> Decimal:
    """The axis step: the smallest of 1, 2 and 5 times a power of ten (0.01 up) that reaches
    ``top`` in at most :data:`_MOST_TICKS` steps (100 → 20; 102 → 20, the axis ends at 120)."""
    for exponent in range(-2, 20):
        for digit in (1, 2, 5):
            step = Decimal(digit).scaleb(exponent)
            if _ticks(top, step) <= _MOST_TICKS:
                return step
    return Decimal(1).scaleb(20)


def _points(value: Decimal, result: Result) -> str:
    """A number of points at the policy's precision, half-up (the digits the document writes)."""
    places = Decimal(1).scaleb(-result.policy.precision)
    return f"{value.quantize(places, rounding=ROUND_HALF_UP):f}"


# ---------------------------------------------------------------- provenance


def _footer(prov: dict[str, Any], names: _Names) -> list[str]:
    h = names.h
    out = ["<footer>",
           f"<h2>{h('report_provenance')}</h2>",
           "<dl>",
           f"<dt>{h('html_software')}</dt><dd>thidua_rules {html_text(prov['engine_version'])}</dd>",
           f"<dt>{h('html_policy')}</dt><dd><code>{html_text(prov['policy']['id'])}</code>, "
           f"SHA-256 <code>{html_text(prov['policy']['sha256'])}</code></dd>",
           f"<dt>{h('html_data')}</dt><dd>SHA-256 <code>{html_text(prov['data']['sha256'])}</code></dd>"]
    for plugin in prov["plugins"]:
        out.append(f"<dt>{h('html_plugin')}</dt><dd><code>{html_text(plugin['name'])}</code> "
                   f"({html_text(plugin['distribution'])} {html_text(plugin['version'])}): "
                   f"{html_text(', '.join(plugin['hooks']))}</dd>")
    if not prov["plugins"]:
        out.append(f'<dt>{h("html_plugin")}</dt><dd class="none">{h("html_no_plugin")}</dd>')
    out += ["</dl>", "</footer>"]
    return out
