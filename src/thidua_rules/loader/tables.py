"""Tables of text cells (a CSV file, a workbook's sheet) and where each cell is, for error lines
that name the file and line (CSV) or the sheet and cell (workbook)."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Sequence

import attrs

from ..errors import Issue, PolicyError
from .common import decode_text
from .rows import CsvRows, csv_delimiter, first_line


def column_letter(index: int) -> str:
    """The spreadsheet name of the 0-based column ``index``: ``A``, …, ``Z``, ``AA``, …"""
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(ord("A") + rest) + letters
    return letters


@attrs.define
class Table:
    """The rows of one CSV file or sheet: a header and the data rows, each with its line (CSV:
    the line after the row, as ``csv.reader`` counts; a sheet: the row's number). Rows of empty
    cells are left out; cells are text, as written (a sheet's numbers as :mod:`.xlsx` writes them).

    :param file: The file as the user named it.
    :param sheet: The sheet's name in a workbook, ``None`` for a CSV file.
    :param delimiter: A CSV file's delimiter (``;``: its numbers have a decimal comma).
    """

    file: str
    header: list[str]
    rows: list[tuple[int, list[str]]]
    sheet: str | None = None
    delimiter: str = ","
    #: the header's line (1 in a CSV file; a sheet's header row, after the hidden id row if any)
    header_line: int = 1
    #: cells (line, 0-based column) whose problem was said when reading them (left empty): the
    #: checker's "missing field" for them is not said again
    bad: set[tuple[int, int]] = attrs.Factory(set)

    def issue(self, line: int | None, message: str, path: str = "", column: int | None = None) -> Issue:
        """An issue at ``line`` (and the 0-based ``column``): ``file:line: path: message`` for a
        CSV file, ``file: sheet 'units' cell D7: path: message`` for a sheet."""
        if self.sheet is None:
            return Issue(file=self.file, line=line, path=path, message=message)
        where = f"sheet '{self.sheet}'"
        if line is not None:
            where += f" cell {column_letter(column)}{line}" if column is not None else f" row {line}"
        return Issue(file=self.file, path=f"{where}: {path}" if path else where, message=message)

    def column_of(self, name: str) -> int | None:
        """The 0-based column named ``name`` in the header, if any."""
        return self.header.index(name) if name in self.header else None

    @property
    def decimal_comma(self) -> bool:
        return self.delimiter == ";"


def csv_table(data: bytes, file: str, known: Callable[[str], bool] | None = None) -> Table:
    """A CSV file's bytes as a :class:`Table` (UTF-8, a byte-order mark allowed; the delimiter
    from the header, ``known`` telling which header cells name columns). A row with more cells
    than the header, or broken quoting, is one error line."""
    text = decode_text(data, file, "csv")
    delimiter = csv_delimiter(first_line(text), known)
    reader = CsvRows(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True))
    rows: list[tuple[int, list[str]]] = []
    try:
        head = reader.read_header()
        for cells in reader.cells() if head is not None else ():
            if len(cells) > len(head or ()):
                raise PolicyError([Issue(file=file, line=reader.line_num, message="more cells than header columns")])
            if any(cells):  # a row of empty cells (``,,,`` as Excel leaves) is a blank row
                rows.append((reader.line_num, cells))
    except csv.Error as exc:
        raise PolicyError([Issue(file=file, line=reader.line_num, message=f"CSV syntax: {exc}")]) from None
    return Table(file=file, header=list(head or []), rows=rows, delimiter=delimiter)


def padded(cells: Sequence[str], width: int) -> list[str]:
    """``cells`` with empty cells added up to ``width``."""
    return [*cells, *([""] * (width - len(cells)))]
