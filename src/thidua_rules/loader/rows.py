"""Data files read into rows: JSON, JSON lines and CSV (as dicts, or as cells with their
layout for the fast unit path), and flat rows grouped into the ``clusters`` structure that
:class:`~thidua_rules.loader.data.DataChecker` checks."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from typing import Any

from ..decimals import JSON_NUMBERS, LONG_INTEGER
from ..errors import Issue, PolicyError
from ..model import Policy
from ..plans import plan_for
from .common import Issues

#: Key under which a row of a CSV or JSON-lines file keeps its line number (never a string, so
#: it cannot clash with a field name).
LINE: Any = object()


def _parse_json(data: bytes, file: str) -> Any:
    try:
        return json.loads(data.decode("utf-8"), **JSON_NUMBERS)
    except UnicodeDecodeError as exc:
        raise PolicyError([Issue(file=file, message=f"not UTF-8 text (byte {exc.start})")]) from None
    except json.JSONDecodeError as exc:
        raise PolicyError([Issue(file=file, line=exc.lineno, column=exc.colno,
                                 message=f"JSON syntax: {exc.msg}")]) from None
    except ValueError:  # int() refuses more than 4300 digits
        raise PolicyError([Issue(file=file, message=f"JSON syntax: {LONG_INTEGER}")]) from None


def _csv_rows(data: bytes, file: str) -> list[tuple[int, dict[str, Any]]]:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise PolicyError([Issue(file=file, message=f"not UTF-8 text (byte {exc.start})")]) from None
    reader = CsvRows(csv.reader(io.StringIO(text, newline=""), strict=True))
    rows = []
    try:
        for row in reader:
            if None in row:
                raise PolicyError([Issue(file=file, line=reader.line_num,
                                         message="more cells than header columns")])
            rows.append((reader.line_num, row))
    except csv.Error as exc:
        raise PolicyError([Issue(file=file, line=reader.line_num, message=f"CSV syntax: {exc}")]) from None
    return rows


class CsvRows:
    """The rows of ``csv.DictReader`` over a ``csv.reader``, each without its empty cells, and its
    ``line_num``, made without the DictReader's per-row overhead.

    Each row is ``{k: v for k, v in row.items() if v not in (None, "")}`` of the DictReader's row,
    keys in the same order: the first row is the header, blank rows are skipped, cells past the
    header are kept under the key ``None``. ``line_num`` is the DictReader's: the reader's line
    after the row; when reading fails, after the last row given or, if blank rows were being
    skipped, after the first of them.
    """

    def __init__(self, reader: Any) -> None:
        self.reader = reader
        self.line_num = 0

    def read_header(self) -> list[str] | None:
        """The first row (None for an empty file)."""
        header = next(self.reader, None)
        self.line_num = self.reader.line_num
        return header

    def cells(self) -> Iterator[list[str]]:
        """The rows after the header as lists of cells, blank rows skipped, ``line_num`` kept."""
        reader = self.reader
        blank = False  # the row being read began with blank rows
        for row in reader:
            if not row:
                if not blank:
                    self.line_num = reader.line_num
                    blank = True
                continue
            self.line_num = reader.line_num
            blank = False
            yield row

    def __iter__(self) -> Iterator[dict[Any, Any]]:
        header = self.read_header()
        if header is None:
            return
        width = len(header)
        unique = len(set(header)) == width
        for row in self.cells():
            if not unique:
                # A repeated column name: a later cell, even empty, replaces an earlier one.
                d: dict[Any, Any] = dict(zip(header, row, strict=False))
                if width < len(row):
                    d[None] = row[width:]
                elif width > len(row):
                    for key in header[len(row):]:
                        d[key] = None
                yield {k: v for k, v in d.items() if v not in (None, "")}
            elif width < len(row):
                d = {k: v for k, v in zip(header, row, strict=False) if v}
                d[None] = row[width:]
                yield d
            elif "" in row:
                # cells are strings; a short row's missing cells (None) are left out as well
                yield {k: v for k, v in zip(header, row, strict=False) if v}
            else:  # no empty cell to leave out: the same dict, made in one call
                yield dict(zip(header, row, strict=False))


def _jsonl_rows(data: bytes, file: str) -> list[tuple[int, dict[str, Any]]]:
    rows = []
    for number, line in enumerate(data.decode("utf-8", errors="strict").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line, **JSON_NUMBERS)
        except json.JSONDecodeError as exc:
            raise PolicyError([Issue(file=file, line=number, column=exc.colno,
                                     message=f"JSON syntax: {exc.msg}")]) from None
        except ValueError:  # int() refuses more than 4300 digits
            raise PolicyError([Issue(file=file, line=number, message=f"JSON syntax: {LONG_INTEGER}")]) from None
        if not isinstance(row, dict):
            raise PolicyError([Issue(file=file, line=number, message="expected one JSON object per line")])
        rows.append((number, row))
    return rows


def _rows_to_clusters(rows: list[tuple[int, dict[str, Any]]], policy: Policy,
                      issues: Issues) -> dict[str, Any]:
    """Flat unit rows (each naming its ``cluster``) → the ``clusters`` structure of a TOML file."""
    clusters: dict[str, dict[str, Any]] = {}
    for line, row in rows:
        cluster_id = row.pop("cluster", None)
        if not isinstance(cluster_id, str) or not cluster_id:
            issues.line = line
            issues.add("", "missing 'cluster' (the id of the unit's cluster)")
            issues.line = None
            continue
        cluster = clusters.setdefault(cluster_id, {"id": cluster_id, "units": []})
        row[LINE] = line
        cluster["units"].append(row)
    return {"clusters": [clusters[c] for c in sorted(clusters)]}


class CsvRow:
    """A data row of a CSV file whose header names each column once, kept as its cells: the
    usual unit is made straight from them (``DataChecker.units``); any other row is checked as
    the dict ``csv_rows`` gives (:meth:`CsvLayout.row_dict`)."""

    __slots__ = ("cells", "line")

    def __init__(self, line: int, cells: list[str]) -> None:
        self.line = line
        self.cells = cells


def cells_dict(header: tuple[str, ...], cells: list[str]) -> dict[Any, Any]:
    """``csv_rows``' row for ``cells`` under ``header`` (naming each column once; empty cells
    left out), without its ``cluster``."""
    return {k: v for k, v in zip(header, cells, strict=False) if v and k != "cluster"}


class CsvLayout:
    """The columns of a CSV file whose header names each column once."""

    def __init__(self, header: tuple[str, ...]) -> None:
        self.header = header
        self.width = len(header)
        self.id_at = header.index("id") if "id" in header else None
        self.name_at = header.index("name") if "name" in header else None

    def row_dict(self, row: CsvRow) -> dict[Any, Any]:
        """The row as ``_rows_to_clusters`` keeps it: :func:`cells_dict`, its line under ``LINE``."""
        d = cells_dict(self.header, row.cells)
        d[LINE] = row.line
        return d

    def row_id(self, row: CsvRow) -> Any:
        """The row's ``id`` cell (``None`` when empty or missing, as ``csv_rows`` leaves it out)."""
        at = self.id_at
        return (row.cells[at] or None) if at is not None and at < len(row.cells) else None


def _csv_clusters(data: bytes, file: str, policy: Policy,
                  issues: Issues) -> tuple[dict[str, Any], CsvLayout | None]:
    """``_rows_to_clusters(_csv_rows(data, file), …)`` with each row a :class:`CsvRow` of the
    file's :class:`CsvLayout` (the same clusters, rows, line numbers, issues and errors), or,
    when the header repeats a column name, exactly that (and no layout)."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise PolicyError([Issue(file=file, message=f"not UTF-8 text (byte {exc.start})")]) from None
    reader = CsvRows(csv.reader(io.StringIO(text, newline=""), strict=True))
    clusters: dict[str, dict[str, Any]] = {}
    no_cluster: list[int] = []  # lines of rows without a cluster: reported after reading them all
    try:
        header = reader.read_header()
        if header is None:
            return {"clusters": []}, None
        if len(set(header)) != len(header):
            return _rows_to_clusters(_csv_rows(data, file), policy, issues), None
        width = len(header)
        at = header.index("cluster") if "cluster" in header else width
        for cells in reader.cells():
            line = reader.line_num
            if len(cells) > width:
                raise PolicyError([Issue(file=file, line=line, message="more cells than header columns")])
            cluster_id = cells[at] if at < len(cells) else ""
            if not cluster_id:
                no_cluster.append(line)
                continue
            cluster = clusters.get(cluster_id)
            if cluster is None:
                cluster = clusters[cluster_id] = {"id": cluster_id, "units": []}
            cluster["units"].append(CsvRow(line, cells))
    except csv.Error as exc:
        raise PolicyError([Issue(file=file, line=reader.line_num, message=f"CSV syntax: {exc}")]) from None
    for line in no_cluster:
        issues.line = line
        issues.add("", "missing 'cluster' (the id of the unit's cluster)")
        issues.line = None
    return {"clusters": [clusters[c] for c in sorted(clusters)]}, csv_layout(policy, tuple(header))


def csv_layout(policy: Policy, header: tuple[str, ...]) -> CsvLayout:
    """The layout of ``header``, kept per policy for the headers seen last (a streamed run
    asks for it per cluster)."""
    layouts = plan_for("csv-layouts", policy, lambda p: {})
    layout = layouts.get(header)
    if layout is None:
        if len(layouts) >= 16:
            layouts.clear()
        layout = layouts[header] = CsvLayout(header)
    return layout
