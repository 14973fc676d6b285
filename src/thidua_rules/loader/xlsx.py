"""One cluster's data from an Excel workbook (``.xlsx``): its sheets read as tables of exact
text cells (numbers as the cell shows them, never through a binary float's digits), then
checked as the sections of a data file (:mod:`.bundle`). Errors name the sheet and the cell."""

from __future__ import annotations

import datetime
import io
import math
import re
import zipfile
from decimal import Decimal
from typing import Any

from ..errors import Issue, PolicyError
from ..model import Dataset, Policy
from .bundle import check_tables
from .sections import SECTIONS, ItemSource, cluster_table, section_items
from .tables import Table, column_letter

#: The sheets a data workbook may have (``units`` and ``cluster`` it must have).
SHEETS = ("cluster", "units", *SECTIONS, "members")
#: Excel shows at most 15 significant digits: a number holding more was not typed but computed
#: (``=0.1+0.2`` holds 0.30000000000000004), and is not exactly what the cell shows.
SHOWN_DIGITS = 15
#: A float past this is not a whole number exactly (2**53).
_EXACT_WHOLE = 2 ** 53
_QUOTED = re.compile(r'"[^"]*"|\\.|\[[^\]]*\]')
_PLACES = re.compile(r"[0#?](?:[0#?,]*)(?:\.([0#?]*))?")

WORKBOOK_HINT = "save it from Excel (or LibreOffice) as an Excel workbook (.xlsx)"


def openpyxl_module() -> Any:
    """``openpyxl``, or one line saying how to install it."""
    try:
        import openpyxl
    except ImportError:
        raise PolicyError([Issue(file="thidua", message="reading and writing .xlsx workbooks needs openpyxl: "
                                 "pip install 'thidua_rules[xlsx]'")]) from None
    return openpyxl


def _shown_places(number_format: str) -> int | str | None:
    """The decimal places a cell's number format shows; ``None``: all of them (``General``);
    a string: why the format cannot be read back exactly."""
    if number_format in ("General", "@", ""):
        return None
    section = _QUOTED.sub("", number_format.split(";")[0])
    if "%" in section:
        return "a percentage"
    if "E" in section.upper() or "/" in section:
        return "a scientific or fraction format"
    match = _PLACES.search(section)
    if match is None:
        return None
    return len(match.group(1) or "")


def cell_text(value: Any, number_format: str) -> tuple[str, str]:
    """A cell's value as the text a CSV cell would hold, and ``""``; or ``""`` and the problem.

    Text is kept as written; ``True``/``False`` are ``true``/``false``; a whole number is its
    digits. A fractional number (openpyxl gives a float) is its shortest round-trip text
    (``repr``), taken only when it is exactly what the cell shows: at most 15 significant digits
    (Excel's display) and no more decimals than the cell's number format shows."""
    if value is None:
        return "", ""
    if isinstance(value, str):
        return value, ""
    if isinstance(value, bool):
        return ("true" if value else "false"), ""
    if isinstance(value, datetime.datetime | datetime.date | datetime.time | datetime.timedelta):
        return "", "a date or time; type the number (or text) instead, in a cell formatted as General or Text"
    if isinstance(value, int):
        number = Decimal(value)
    elif isinstance(value, float):
        if not math.isfinite(value):
            return "", "not a finite number"
        number = Decimal(repr(value))
        if number == number.to_integral_value() and abs(number) < _EXACT_WHOLE:
            number = number.to_integral_value()
        elif len(number.normalize().as_tuple().digits) > SHOWN_DIGITS:
            return "", (f"the cell holds {value!r}, more digits than Excel shows (a formula's binary "
                        "rounding?): round it (=ROUND(…)) or type the value")
    else:
        return "", f"a cell value thidua cannot read ({type(value).__name__})"
    places = _shown_places(number_format)
    if isinstance(places, str):
        return "", (f"the cell is formatted as {places} ('{number_format}'), which does not show the value "
                    f"{_plain(number)} as thidua reads it: format the cell as General or Number")
    exponent = number.normalize().as_tuple().exponent
    if places is not None and isinstance(exponent, int) and -exponent > places:
        return "", (f"the cell shows {places} decimal places but holds {_plain(number)}: round the value, or "
                    "show every decimal (format the cell as General)")
    return _plain(number), ""


def _plain(number: Decimal) -> str:
    if number == number.to_integral_value():
        return str(int(number))
    return f"{number.normalize():f}"


def read_tables(data: bytes, file: str) -> tuple[dict[str, Table], list[Issue]]:
    """The workbook's sheets as tables (every problem of its cells in the list). Row 1 is the
    header; when row 1 is hidden (the template's ids), row 2 is a row of labels, not data."""
    openpyxl = openpyxl_module()
    def load(data_only: bool) -> Any:
        try:
            return openpyxl.load_workbook(io.BytesIO(data), data_only=data_only)
        except (zipfile.BadZipFile, KeyError, OSError, ValueError, TypeError) as exc:
            raise PolicyError([Issue(file=file, message=f"not a readable .xlsx workbook ({type(exc).__name__}): "
                                     f"{WORKBOOK_HINT}")]) from None

    formulas = load(False)
    saved: list[Any] = []  # the workbook of saved values, read when a formula is first met

    def values(name: str) -> Any:
        if not saved:
            saved.append(load(True))
        return saved[0][name]

    issues: list[Issue] = []
    tables: dict[str, Table] = {}
    for sheet in formulas.worksheets:
        name = sheet.title
        if name not in SHEETS:
            hint = " (the ballots go in a sheet named 'votes')" if name.strip().lower() in ("ballots", "ballot") else ""
            issues.append(Issue(file=file, path=f"sheet '{name}'", message=f"unknown sheet{hint}; the sheets are "
                                f"{', '.join(SHEETS)}: rename or remove it (nothing in it would be read)"))
            continue
        hidden_ids = bool(sheet.row_dimensions[1].hidden) if 1 in sheet.row_dimensions else False
        first_data = 3 if hidden_ids else 2
        table = Table(file=file, header=[], rows=[], sheet=name)
        for row in sheet.iter_rows(min_row=1):
            line = row[0].row if row else 0
            if line == 2 and hidden_ids:
                continue  # the labels under the hidden ids
            cells: list[str] = []
            for cell in row:
                if cell.data_type == "f" or (isinstance(cell.value, str) and cell.value.startswith("=")
                                             and cell.data_type != "s"):
                    cached = values(name).cell(row=cell.row, column=cell.column).value
                    if cached is None:
                        issues.append(table.issue(line, "a formula with no saved value (the file was not saved by "
                                                  "a spreadsheet program): open and save it, or type the value",
                                                  column=cell.column - 1))
                        table.bad.add((line, cell.column - 1))
                        cells.append("")
                        continue
                    value = cached
                else:
                    value = cell.value
                if cell.data_type == "e":
                    issues.append(table.issue(line, f"an error value {value}; type the value", column=cell.column - 1))
                    table.bad.add((line, cell.column - 1))
                    cells.append("")
                    continue
                text, problem = cell_text(value, cell.number_format or "General")
                if problem:
                    issues.append(table.issue(line, problem, column=cell.column - 1))
                    table.bad.add((line, cell.column - 1))
                cells.append(text)
            while cells and cells[-1] == "":
                cells.pop()
            if line == 1:
                table.header = [c.strip() for c in cells]
                table.header_line = 1
            elif line >= first_data and cells:
                if len(cells) > len(table.header):
                    issues.append(table.issue(line, "a cell right of the last column (it has no header): give "
                                              "the column a header or clear the cell", column=len(cells) - 1))
                    cells = cells[:len(table.header)]
                table.rows.append((line, cells))
        tables[name] = table
    for name in ("cluster", "units"):
        if name not in tables:
            issues.append(Issue(file=file, message=f"no sheet named '{name}'; a data workbook has sheets "
                                f"{', '.join(SHEETS)} ('cluster' and 'units' at least; see `thidua template`)"))
    return tables, issues


def workbook_data(data: bytes, policy: Policy, *, file: str, members: Any = None) -> Dataset:
    """A data workbook (see docs/spreadsheets.md) checked against ``policy``."""
    from .data import MemberRows
    from .rows import LINE

    tables, issues = read_tables(data, file)
    if "cluster" not in tables or "units" not in tables:
        raise PolicyError(issues)
    cluster, key_lines = cluster_table(tables["cluster"], issues)
    cluster_sheet = tables["cluster"]

    def cluster_place(issue: Issue) -> Issue:
        missing = re.match(r"missing key '([^']*)'", issue.message)
        key = issue.path.split(".")[1].split("[")[0] if "." in issue.path else missing.group(1) if missing else ""
        line = key_lines.get(key)
        return cluster_sheet.issue(line, issue.message, issue.path, 1 if line is not None else None)

    body: dict[str, Any] = {"cluster": cluster}
    sources: dict[str, list[ItemSource]] = {}
    for name in SECTIONS:
        if name in tables:
            body[name], sources[name] = section_items(tables[name], name, policy, issues)
    members_place = None
    if "members" in tables and tables["members"].rows:
        if members is not None:
            issues.append(Issue(file=file, path="sheet 'members'", message="members given twice: in this sheet "
                                "and with --members; give them in one place"))
        else:
            sheet = tables["members"]
            rows = []
            for line, cells in sheet.rows:
                row: dict[Any, Any] = {k: v for k, v in zip(sheet.header, cells, strict=False) if v and k}
                row[LINE] = line
                rows.append(row)
            marker = f"{file}\x00members"
            members = MemberRows((marker, rows))
            members.text_values = True

            def members_place(issue: Issue) -> Issue:
                key = re.match(r"^members\(id=[^()]*\)\.([^.\[]+)", issue.path)
                return sheet.issue(issue.line, issue.message, issue.path,
                                   sheet.column_of(key.group(1)) if key else None)
    return check_tables(policy, file=file, body=body, units=tables["units"], sources=sources, early=issues,
                        members=members, cluster_place=cluster_place, members_place=members_place)


__all__ = ["SHEETS", "cell_text", "column_letter", "read_tables", "workbook_data"]
