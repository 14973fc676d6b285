"""A plain terminal table of the ranking, one block per cluster.

User text is shown with its control characters escaped (a name cannot move the cursor, colour
the terminal or start a line of its own) and every cell is made :func:`~.escape.formula_safe`,
so that the table pasted into a spreadsheet runs nothing."""

from __future__ import annotations

import unicodedata
from typing import Any

from .escape import table_cell, visible


def _width(text: str) -> int:
    return sum(0 if unicodedata.combining(ch) else 1 for ch in unicodedata.normalize("NFC", text))


def _pad(text: str, width: int, right: bool = False) -> str:
    gap = " " * (width - _width(text))
    return gap + text if right else text + gap


def render_table(doc: dict[str, Any]) -> str:
    units = {u["id"]: u for u in doc["units"]}
    out: list[str] = []
    for cluster in doc["clusters"]:
        out.append(visible(f"{cluster['name']} ({cluster['id']}), {cluster['year']}"))
        header = ["rank", "unit", "total", "band", "proposed"]
        rows = []
        for unit_id in cluster["ranking"]:
            u = units[unit_id]
            rank = f"{u['rank']}=" if u["tied"] else str(u["rank"])
            rows.append([table_cell(c) for c in (rank, u["id"], u["total"], u["band"] or "-",
                                                 ", ".join(u["proposed"]) or "-")])
        widths = [max(_width(r[i]) for r in [header, *rows]) for i in range(len(header))]
        right = {0, 2}
        out.append("  ".join(_pad(h, widths[i], i in right) for i, h in enumerate(header)).rstrip())
        out.append("  ".join("-" * w for w in widths))
        for row in rows:
            out.append("  ".join(_pad(c, widths[i], i in right) for i, c in enumerate(row)).rstrip())
        lead = cluster["leadership"]
        if lead:
            out.append(visible(f"leadership {lead['year']}: leader {lead['leader'] or '-'}, deputy {lead['deputy'] or '-'}"))
        for item in cluster["council"]:
            what = item["title"] or "all titles"
            out.append(visible(f"council: {what}: {', '.join(item['units'])} ({item['reason']})"))
        out.append("")
    return "\n".join(out)
