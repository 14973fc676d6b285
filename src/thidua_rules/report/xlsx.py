"""``--format xlsx``: the result as a workbook, from the canonical document. Sheets ``scores``
(per unit: each criterion's score, each group's subtotal, bonus, deduction, total, band),
``ranking`` (rank, unit, total, band, proposed titles), ``leadership`` and ``provenance``; with
scoring layers (docs/layers.md), a ``layers`` sheet after ``scores``: one row per score given
in a layer (self-score, assessed, final), with its scorer, reason and the layer's result."""

from __future__ import annotations

from typing import Any

from ..engine import Result
from .document import build_document
from .workbook import new_workbook, workbook_bytes
from .xlsxcells import put_number, put_text

#: The ``format`` written in the provenance sheet; a changed column or sheet bumps it.
XLSX_FORMAT = "thidua-result-xlsx/1"


def _header(sheet: Any, names: list[str]) -> None:
    for i, name in enumerate(names, start=1):
        put_text(sheet.cell(row=1, column=i), name)
        sheet.column_dimensions[sheet.cell(row=1, column=i).column_letter].width = max(10, min(48, len(name) + 2))
    sheet.freeze_panes = "A2"


def _row(sheet: Any, line: int, cells: list[tuple[str, Any]]) -> None:
    """Cells of one row: ``("text", s)``, ``("number", "98.50" or None)`` or ``("int", n)``."""
    for i, (kind, value) in enumerate(cells, start=1):
        cell = sheet.cell(row=line, column=i)
        if kind == "text":
            if value is not None:
                put_text(cell, value)
        elif kind == "int":
            cell.value = value
        else:
            put_number(cell, value)


def result_workbook(result: Result) -> Any:
    """The result's workbook (see the module's docstring)."""
    doc = build_document(result)
    workbook = new_workbook()
    criteria = [c.id for c in result.policy.criteria]
    groups = [g.id for g in result.policy.groups]
    scores = workbook.create_sheet("scores")
    _header(scores, ["cluster", "rank", "id", "name", *criteria, *(f"subtotal:{g}" for g in groups),
                     "score", "bonus", "deduction", "total", "band"])
    for line, unit in enumerate(doc["units"], start=2):
        e = unit["explanation"]
        by_criterion = {c["id"]: c["score"] for c in e["criteria"]}
        by_group = {g["id"]: g["score"] for g in e["groups"]}
        _row(scores, line, [("text", unit["cluster"]), ("int", unit["rank"]), ("text", unit["id"]),
                            ("text", unit["name"]), *(("number", by_criterion.get(c)) for c in criteria),
                            *(("number", by_group.get(g)) for g in groups), ("number", e["score"]),
                            ("number", e["bonus"]["applied"]), ("number", e["deduction"]["applied"]),
                            ("number", unit["total"]), ("text", unit["band"])])
    if result.policy.layers:
        _layers_sheet(workbook.create_sheet("layers"), doc)
    ranking = workbook.create_sheet("ranking")
    _header(ranking, ["cluster", "rank", "tied", "id", "name", "total", "band", "proposed"])
    for line, unit in enumerate(doc["units"], start=2):
        _row(ranking, line, [("text", unit["cluster"]), ("int", unit["rank"]), ("text", "true" if unit["tied"] else ""),
                             ("text", unit["id"]), ("text", unit["name"]), ("number", unit["total"]),
                             ("text", unit["band"]), ("text", ", ".join(unit["proposed"]))])
    leadership = workbook.create_sheet("leadership")
    _header(leadership, ["cluster", "year", "leader", "deputy", "reason"])
    line = 2
    for cluster in doc["clusters"]:
        lead = cluster["leadership"]
        if lead:
            _row(leadership, line, [("text", cluster["id"]), ("int", lead["year"]), ("text", lead["leader"]),
                                    ("text", lead["deputy"]), ("text", lead.get("reason"))])
            line += 1
    provenance = workbook.create_sheet("provenance")
    _header(provenance, ["key", "value"])
    prov = doc["provenance"]
    for line, (key, value) in enumerate([("format", XLSX_FORMAT), ("engine", prov["engine"]),
                                         ("engine_version", prov["engine_version"]),
                                         ("policy", prov["policy"]["id"]),
                                         ("policy_sha256", prov["policy"]["sha256"]),
                                         ("data_sha256", prov["data"]["sha256"])], start=2):
        _row(provenance, line, [("text", key), ("text", value)])
    return workbook


def _layers_sheet(sheet: Any, doc: dict[str, Any]) -> None:
    """Every layer of every criterion that has them, in ranking order then policy order: the
    computed score, each claim or change with each scorer's score and reason, and the layer's
    result (how it was reached: given, mean, min, max, third, council)."""
    _header(sheet, ["cluster", "id", "name", "criterion", "layer", "kind", "scorer", "third", "score", "reason",
                    "used", "applied", "spread", "difference", "layer_score", "final_score"])
    line = 2
    for unit in doc["units"]:
        for c in unit["explanation"]["criteria"]:
            for step in c.get("layers", ()):
                head = [("text", unit["cluster"]), ("text", unit["id"]), ("text", unit["name"]), ("text", c["id"]),
                        ("text", step["layer"]), ("text", step["kind"])]
                tail = [("text", step["applied"]), ("number", step.get("spread")),
                        ("number", step.get("difference")), ("number", step["score"]), ("number", c["score"])]
                for entry in step.get("scores") or [None]:
                    given = [("text", None), ("text", ""), ("number", None), ("text", None), ("text", "")] \
                        if entry is None else [
                        ("text", entry["scorer"]), ("text", "true" if entry.get("third") else ""),
                        ("number", entry["score"]), ("text", entry["reason"]),
                        ("text", {True: "true", False: "false"}.get(entry.get("used"), ""))]
                    _row(sheet, line, [*head, *given, *tail])
                    line += 1


def to_xlsx(result: Result) -> bytes:
    """The result's workbook as bytes, the same for the same result."""
    return workbook_bytes(result_workbook(result))
