"""Tables of text cells (companion CSV files, workbook sheets) → the data file's sections as a
TOML file writes them: ``[cluster]``, ``[[votes]]``, ``[[history]]``, ``[[discipline]]`` and
``[[deferrals]]``, with where each item came from (to address the checker's issues)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import attrs

from ..errors import Issue, did_you_mean
from ..model import Policy
from .convert import _DEC, _INT, comma_number, whole_number
from .tables import Table

#: Per section: its columns (name → kind, required). ``int`` and ``number`` cells are read as
#: numbers, ``list`` cells as ids separated by ``,``; ``text`` cells are kept as written.
SECTION_COLUMNS: dict[str, dict[str, tuple[str, bool]]] = {
    "votes": {"title": ("text", True), "round": ("int", False), "voters": ("int", False),
              "members": ("int", False), "present": ("int", False), "unit": ("text", False),
              "yes": ("int", False), "written": ("int", False), "note": ("text", False),
              "source": ("text", False)},
    "history": {"unit": ("text", True), "year": ("int", True), "band": ("text", False),
                "titles": ("list", False), "total": ("number", False), "rank": ("int", False),
                "note": ("text", False), "source": ("text", False)},
    "discipline": {"unit": ("text", True), "level": ("text", True), "from": ("int", True),
                   "until": ("int", True), "note": ("text", False), "source": ("text", False)},
    "deferrals": {"unit": ("text", True), "reason": ("text", True), "titles": ("list", False),
                  "note": ("text", False), "source": ("text", False)},
}
#: The keys of a ``cluster`` sheet (key in column A, value in column B).
CLUSTER_COLUMNS: dict[str, tuple[str, bool]] = {
    "id": ("text", True), "name": ("text", False), "year": ("int", False), "leader": ("text", False),
    "deputy": ("text", False), "rotation": ("list", False), "note": ("text", False), "source": ("text", False),
}
#: Cells of a ballot that belong to the ballot, not to one unit's row: rows of one ballot (same
#: title and round) give each of them once, or the same value in each row that gives it.
BALLOT_KEYS = ("voters", "members", "present", "note", "source")
SECTIONS = tuple(SECTION_COLUMNS)


@attrs.define
class ItemSource:
    """Where one item of a section came from: its table, its (first) row, the column of each key,
    and for a ballot the row of each unit it names."""

    table: Table
    line: int
    columns: dict[str, int] = attrs.Factory(dict)
    unit_lines: dict[str, int] = attrs.Factory(dict)

    def issue(self, path_rest: str, path: str, message: str) -> Issue:
        """The issue ``path: message`` of this item, ``path_rest`` being the path after the item
        (``.yes.cuc-cntt``, ``.year``): placed on the unit's row and the key's column."""
        parts = [p for p in path_rest.split(".") if p]
        line, column = self.line, None
        if parts:
            key = parts[0].split("[")[0]
            column = self.columns.get(key)
            if key in ("yes", "written") and len(parts) > 1:
                line = self.unit_lines.get(parts[1].strip('"'), line)
        return self.table.issue(line, message, path, column)


def text_number(text: str, kind: str, decimal_comma: bool) -> tuple[Any, str]:
    """A cell's text as an ``int`` (``kind == "int"``) or a Decimal, and ``""``; or ``None`` and
    the problem, with its fix."""
    text = text.strip()
    if decimal_comma:
        dotted, problem = comma_number(text)
        if problem:
            return None, problem
        if dotted is not None:
            text = dotted
    if kind == "int":
        if _INT.fullmatch(text):
            return whole_number(text), ""
        return None, f"expected a whole number, got '{text}'"
    if _DEC.fullmatch(text):
        return Decimal(text), ""
    return None, f"expected a number, got '{text}'"


def id_list(text: str) -> list[str]:
    """A cell listing ids: separated by ``,``, spaces around them ignored; an empty cell: none."""
    return [part.strip() for part in text.split(",") if part.strip()]


def _cell(table: Table, line: int, column: int, kind: str, text: str, issues: list[Issue]) -> Any:
    if kind == "text":
        return text
    if kind == "list":
        return id_list(text)
    value, problem = text_number(text, kind, table.decimal_comma)
    if problem:
        issues.append(table.issue(line, problem, column=column))
    return value


def _header(table: Table, columns: dict[str, tuple[str, bool]], extra: set[str],
            issues: list[Issue]) -> dict[str, int]:
    """Column name → its index; unknown and missing columns reported on the header."""
    at: dict[str, int] = {}
    for i, name in enumerate(table.header):
        name = name.strip()
        if not name and all(not cells[i:i + 1] or not cells[i] for _, cells in table.rows):
            continue  # an empty column (a sheet's unused column)
        if name in at:
            issues.append(table.issue(table.header_line, f"column '{name}' appears twice; keep one", column=i))
        elif name not in columns and name not in extra:
            issues.append(table.issue(table.header_line, f"unknown column '{name}'"
                                      f"{did_you_mean(name, [*columns, *sorted(extra)])}", column=i))
        else:
            at[name] = i
    for name, (_, required) in columns.items():
        if required and name not in at:
            issues.append(table.issue(table.header_line, f"missing column '{name}'"))
    return at


def section_items(table: Table, section: str, policy: Policy,
                  issues: list[Issue]) -> tuple[list[dict[str, Any]], list[ItemSource]]:
    """The items of ``section`` read from ``table``, as TOML writes them, and their sources.
    A history table may have a column per input (its value that year, as the checker reads it)."""
    columns = SECTION_COLUMNS[section]
    extra = {f.id for f in policy.inputs} if section == "history" else set()
    before = len(issues)
    at = _header(table, columns, extra, issues)
    if any(i.message.startswith("missing column") for i in issues[before:]):
        return [], []
    if section == "votes":
        return _ballots(table, at, issues)
    items, sources = [], []
    for line, cells in table.rows:
        item: dict[str, Any] = {}
        before = len(issues)
        for name, i in at.items():
            text = cells[i] if i < len(cells) else ""
            if text.strip() == "" and columns.get(name, ("text",))[0] != "list":
                continue  # an empty cell: the key is left out
            kind = columns.get(name, ("text", False))[0]
            if name in columns:
                value = _cell(table, line, i, kind, text, issues)
                if value is not None:
                    item[name] = value
            else:
                item[name] = text  # an input: the checker reads it as the input's type
        if section == "deferrals" and "titles" in item and not item["titles"]:
            del item["titles"]  # (an empty cell: every title, as `titles = []`)
        if len(issues) > before and any(columns[k][1] and k not in item for k in columns if k in at):
            continue  # a required cell said to be wrong above: not "missing" as well
        items.append(item)
        sources.append(ItemSource(table=table, line=line, columns=dict(at)))
    return items, sources


def _ballots(table: Table, at: dict[str, int],
             issues: list[Issue]) -> tuple[list[dict[str, Any]], list[ItemSource]]:
    """Rows of a votes table, one per unit (or member) voted on: the rows with the same title and
    round make one ballot; its own cells (``voters`` or ``members``, ``present``…) are given once
    or alike."""
    columns = SECTION_COLUMNS["votes"]
    ballots: dict[tuple[str, str], tuple[dict[str, Any], ItemSource]] = {}
    for line, cells in table.rows:
        def text(name: str, cells: list[str] = cells) -> str:
            i = at.get(name)
            return cells[i].strip() if i is not None and i < len(cells) else ""

        title, round_text = text("title"), text("round")
        if not title:
            issues.append(table.issue(line, "missing the title voted on", column=at.get("title")))
            continue
        key = (title, round_text)
        if key not in ballots:
            item: dict[str, Any] = {"title": title, "yes": {}}
            if round_text:
                value = _cell(table, line, at["round"], "int", round_text, issues)
                if value is not None:
                    item["round"] = value
            ballots[key] = (item, ItemSource(table=table, line=line, columns=dict(at)))
        item, source = ballots[key]
        for name in BALLOT_KEYS:
            if not text(name):
                continue
            value = _cell(table, line, at[name], columns[name][0], text(name), issues)
            if value is None:
                continue
            if name in item and item[name] != value:
                issues.append(table.issue(line, f"'{name}' is {value} here but {item[name]} in an earlier row "
                                          f"of the same ballot ('{title}'); give it once", column=at[name]))
            item[name] = value
        unit = text("unit")
        if not unit:
            if text("yes") or text("written"):
                issues.append(table.issue(line, "votes without the unit (or member) they are for",
                                          column=at.get("unit")))
            continue
        if unit in source.unit_lines:
            issues.append(table.issue(line, f"a second row for '{unit}' in the ballot for '{title}'",
                                      column=at.get("unit")))
            continue
        source.unit_lines[unit] = line
        for name in ("yes", "written"):
            if text(name):
                value = _cell(table, line, at[name], "int", text(name), issues)
                if value is not None:
                    item.setdefault(name, {})[unit] = value
    found = list(ballots.values())
    return [item for item, _ in found], [source for _, source in found]


def cluster_table(table: Table, issues: list[Issue]) -> tuple[dict[str, Any], dict[str, int]]:
    """A ``cluster`` sheet: each row a key (column A) and its value (column B); the header row
    is ``key``, ``value``. Returns the ``[cluster]`` table and the row of each key."""
    values: dict[str, Any] = {}
    lines: dict[str, int] = {}
    if [c.strip() for c in table.header[:2]] != ["key", "value"] or any(c.strip() for c in table.header[2:]):
        # (row 1 is never data: a key written there would be lost without a word)
        issues.append(table.issue(table.header_line, "row 1 of the cluster sheet is its header: 'key' in A1 and "
                                  "'value' in B1, then one key and its value per row"))
    for line, cells in table.rows:
        name = cells[0].strip() if cells else ""
        text = cells[1] if len(cells) > 1 else ""
        if any(c.strip() for c in cells[2:]):
            issues.append(table.issue(line, "a key takes one value, in column B", column=2))
        if not name:
            issues.append(table.issue(line, "a value without its key in column A", column=0))
            continue
        if name not in CLUSTER_COLUMNS:
            issues.append(table.issue(line, f"unknown key '{name}'{did_you_mean(name, CLUSTER_COLUMNS)}", column=0))
            continue
        if name in lines:
            issues.append(table.issue(line, f"key '{name}' given twice (row {lines[name]} too); keep one", column=0))
            continue
        lines[name] = line
        if text.strip() == "":
            continue  # an empty value: the key is left out
        value = _cell(table, line, 1, CLUSTER_COLUMNS[name][0], text.strip(), issues)
        if value is not None:
            values[name] = value
    if "id" not in values and "id" not in lines:
        issues.append(table.issue(None, "missing key 'id' (the cluster's id), a row with 'id' in column A"))
    return values, lines
