"""Data files read into rows: JSON, JSON lines and CSV (as dicts, or as cells with their
layout for the fast unit path), and flat rows grouped into the ``clusters`` structure that
:class:`~thidua_rules.loader.data.DataChecker` checks."""

from __future__ import annotations

import csv
import io
import json
import re
import unicodedata
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from ..decimals import JSON_NUMBERS, LONG_INTEGER
from ..errors import Issue, PolicyError, did_you_mean
from ..model import Policy
from ..plans import plan_for
from .common import Issues, binary_problem, check_depth, decode_text, deep_line, item_path, kept, not_utf8, too_deep
from .convert import DECIMAL_COMMA

#: Key under which a row of a CSV or JSON-lines file keeps its line number (never a string, so
#: it cannot clash with a field name).
LINE: Any = object()


class _DuplicateKey(Exception):
    def __init__(self, key: str) -> None:
        self.key = key


def _unique_pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """``object_pairs_hook``: a key given twice in one object is refused, as TOML refuses it
    (``json`` would keep the last silently)."""
    d = dict(pairs)
    if len(d) != len(pairs):
        seen: set[str] = set()
        for k, _ in pairs:
            if k in seen:
                raise _DuplicateKey(k)
            seen.add(k)
    return d


def _duplicate(file: str, key: str, line: int | None = None) -> PolicyError:
    return PolicyError([Issue(file=file, line=line, message=f"key {json.dumps(key, ensure_ascii=False)} "
                              "given twice in one JSON object; keep one")])


#: A ``\\uD800``-``\\uDFFF`` escape in JSON text: half of a surrogate pair, or a lone surrogate.
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")
_SURROGATE = re.compile("[\ud800-\udfff]")


def _visible(text: str) -> str:
    """``text`` with each lone surrogate written as its escape (``\\ud800``): it is no
    character, and no file or terminal can hold it."""
    return _SURROGATE.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


def lone_surrogates(value: Any, file: str, line: int | None = None, path: str = "") -> list[Issue]:
    """One issue per string (or key) of parsed JSON that holds a lone surrogate: JSON lets an
    escape such as ``"\\ud800"`` stand alone, but it is half of a UTF-16 pair, no character,
    and no text can be written with it (``json`` accepts it; UTF-8 cannot encode it). ``path``
    is the key path of ``value`` (``units(id=a)`` for a row of a JSON-lines file)."""
    issues: list[Issue] = []

    def add(path: str, text: str, what: str) -> None:
        first = _SURROGATE.search(text)
        assert first is not None
        issues.append(Issue(file=file, line=line, path=_visible(path), message=(
            f"{what} holds the lone surrogate '\\u{ord(first.group()):04x}' (an escape that is half of a "
            "character pair); write the character itself, or remove the escape")))

    def walk(item: Any, path: str) -> None:
        if isinstance(item, str):
            if _SURROGATE.search(item):
                add(path, item, "the text")
        elif isinstance(item, dict):
            for key, inner in item.items():
                inner_path = f"{path}.{key}" if path else str(key)
                if isinstance(key, str) and _SURROGATE.search(key):
                    add(inner_path, key, "the key")
                walk(inner, inner_path)
        elif isinstance(item, list):
            for index, inner in enumerate(item):
                walk(inner, item_path(path, index, inner))

    walk(value, path)
    return issues


def _parse_json(data: bytes, file: str) -> Any:
    text = decode_text(data, file, "json")
    try:
        parsed = json.loads(text, **JSON_NUMBERS, object_pairs_hook=_unique_pairs)
    except _DuplicateKey as exc:
        raise _duplicate(file, exc.key) from None
    except RecursionError:
        raise too_deep(file, deep_line(text, "json")) from None
    except json.JSONDecodeError as exc:
        raise PolicyError([Issue(file=file, line=exc.lineno, column=exc.colno,
                                 message=f"JSON syntax: {exc.msg}")]) from None
    except ValueError:  # int() refuses more than 4300 digits
        raise PolicyError([Issue(file=file, message=f"JSON syntax: {LONG_INTEGER}")]) from None
    check_depth(parsed, file, text, "json")
    if _SURROGATE_ESCAPE.search(text):
        problems = lone_surrogates(parsed, file)
        if problems:
            raise PolicyError(problems)
    return parsed


def jsonl_rows(lines: Iterable[bytes], file: str) -> Iterator[tuple[int, dict[str, Any]]]:
    """``(line, row)`` for each object of a JSON-lines file given as its raw lines (a binary
    file, or ``io.BytesIO`` of its bytes: split at ``\\n`` only, as JSON strings may hold other
    line separators); blank lines are skipped. The one reader of the in-memory loader and the
    streaming driver: the same rows, lines and errors."""
    surrogates: list[Issue] = []
    for number, raw in enumerate(lines, start=1):
        if number == 1:
            problem = binary_problem(raw[:8], "jsonl")
            if problem is not None:
                raise PolicyError([Issue(file=file, message=problem)])
            if raw.startswith(b"\xef\xbb\xbf"):  # a byte-order mark
                raw = raw[3:]
        try:
            line = raw.decode("utf-8")
        except UnicodeDecodeError:
            raise not_utf8(file, number, "jsonl") from None
        if not line.strip():
            continue
        try:
            row = json.loads(line, **JSON_NUMBERS, object_pairs_hook=_unique_pairs)
        except _DuplicateKey as exc:
            raise _duplicate(file, exc.key, number) from None
        except RecursionError:
            raise too_deep(file, number) from None
        except json.JSONDecodeError as exc:
            raise PolicyError([Issue(file=file, line=number, column=exc.colno,
                                     message=f"JSON syntax: {exc.msg}")]) from None
        except ValueError:  # int() refuses more than 4300 digits
            raise PolicyError([Issue(file=file, line=number, message=f"JSON syntax: {LONG_INTEGER}")]) from None
        if not isinstance(row, dict):
            raise PolicyError([Issue(file=file, line=number, message="expected one JSON object per line")])
        try:
            check_depth(row, file, line, "json")
        except PolicyError:
            raise too_deep(file, number) from None
        if "\\u" in line and _SURROGATE_ESCAPE.search(line):
            problems = lone_surrogates(row, file, number, item_path("units", 0, row).replace("[0]", ""))
            if problems:  # the row is not given; every such line is reported at the end
                surrogates.extend(problems)
                continue
        yield number, row
    if surrogates:
        raise PolicyError(surrogates)


def _csv_text(data: bytes, file: str) -> str:
    return decode_text(data, file, "csv")


def _outside_quotes(line: str, mark: str) -> int:
    """How many times ``mark`` appears in ``line`` outside double-quoted cells."""
    return sum(part.count(mark) for part in line.split('"')[::2])


def csv_delimiter(first_line: str, known: Callable[[str], bool] | None = None) -> str:
    """The delimiter of a CSV file, decided from its first line (the header) alone: ``,``, or
    ``;`` as Excel writes in a locale whose decimal mark is a comma (Vietnamese among them).

    A header without ``;`` outside quotes is ``,`` (every comma-separated file reads as it
    always did). Otherwise the header is split both ways: the split with more ``known``
    columns wins (a column id or label); then the one with more delimiters outside quotes;
    then ``,``."""
    if ";" not in first_line or _outside_quotes(first_line, ";") == 0:
        return ","

    def score(delimiter: str) -> tuple[int, int]:
        found = 0
        if known is not None:
            try:  # (a quoted cell running on past the line: its reader's error is the file's)
                cells = next(csv.reader([first_line.rstrip("\r\n")], delimiter=delimiter), [])
            except csv.Error:
                cells = []
            found = sum(1 for cell in cells if known(cell))
        return found, _outside_quotes(first_line, delimiter)

    return ";" if score(";") > score(",") else ","


def first_line(text: str) -> str:
    """``text`` up to its first line end (``\n``, ``\r``), as ``csv.reader`` ends its first line."""
    end = len(text)
    for mark in ("\n", "\r"):
        at = text.find(mark, 0, end)
        if at >= 0:
            end = at
    return text[:end]


def text_values_of(delimiter: str) -> bool | str:
    """The ``text_values`` of the checker of a CSV file with ``delimiter``."""
    return DECIMAL_COMMA if delimiter == ";" else True


def _csv_rows(data: bytes, file: str, dialect: list[str] | None = None) -> list[tuple[int, dict[str, Any]]]:
    """The rows of a CSV file (a members file); ``dialect``, if given, gets its delimiter."""
    text = _csv_text(data, file)
    delimiter = csv_delimiter(first_line(text))
    if dialect is not None:
        dialect.append(delimiter)
    reader = CsvRows(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True),
                     header=unique_header(file))
    rows = []
    try:
        for row in reader:
            if None in row:
                raise PolicyError([Issue(file=file, line=reader.line_num,
                                         message="more cells than header columns")])
            if row:  # a row of empty cells (``,,,`` as Excel leaves) is a blank row
                rows.append((reader.line_num, row))
    except csv.Error as exc:
        raise PolicyError([Issue(file=file, line=reader.line_num, message=f"CSV syntax: {exc}")]) from None
    return rows


def repeated_columns(header: list[str], file: str) -> None:
    """A column named twice: refused (``csv.DictReader`` would keep the last cell silently)."""
    if len(set(header)) == len(header):
        return
    at: dict[str, list[int]] = {}
    for i, name in enumerate(header, start=1):
        at.setdefault(name, []).append(i)
    issues = [Issue(file=file, line=1, message=f"column '{name}' appears {len(places)} times (columns "
                    f"{', '.join(map(str, places[:-1]))} and {places[-1]}); keep one")
              for name, places in at.items() if len(places) > 1]
    raise PolicyError(issues)


def unique_header(file: str) -> Callable[[list[str]], list[str]]:
    def fix(header: list[str]) -> list[str]:
        repeated_columns(header, file)
        return header

    return fix


#: Columns of a unit CSV file besides the policy's inputs.
UNIT_COLUMNS = ("cluster", "id", "name")


def _normal(text: str) -> str:
    return unicodedata.normalize("NFC", text.strip())


def _label_ids(policy: Policy) -> dict[str, str]:
    """Per policy: each input's ``label`` (NFC, trimmed) → its id, for labels naming one input and
    no column id (a header written as the labels people see instead of the ids)."""
    def build(p: Policy) -> dict[str, str]:
        ids = {*UNIT_COLUMNS, *(f.id for f in p.inputs)}
        by_label: dict[str, list[str]] = {}
        for field in p.inputs:
            if field.label:
                by_label.setdefault(_normal(field.label), []).append(field.id)
        return {label: found[0] for label, found in by_label.items()
                if len(found) == 1 and label not in ids and label}

    return plan_for("csv-labels", policy, build)


def unit_column(policy: Policy) -> Callable[[str], bool]:
    """Whether a header cell of a unit CSV file names a column (as :func:`unit_header` reads it)."""
    ids = {*UNIT_COLUMNS, *(f.id for f in policy.inputs)}
    labels = _label_ids(policy)

    def known(cell: str) -> bool:
        return cell in ids or _normal(cell) in ids or _normal(cell) in labels

    return known


def unit_header(policy: Policy, header: list[str], file: str) -> list[str]:
    """A unit CSV file's header with each cell naming a column by its id: a cell that is an id
    or an input's label once trimmed and NFC-normalised is that id. A column named twice is
    refused."""
    ids = {*UNIT_COLUMNS, *(f.id for f in policy.inputs)}
    labels = _label_ids(policy)
    fixed = []
    for cell in header:
        if cell not in ids:
            name = _normal(cell)
            cell = name if name in ids else labels.get(name, cell)
        fixed.append(cell)
    repeated_columns(fixed, file)
    return fixed


def header_issues(policy: Policy, header: tuple[str, ...], file: str, *,
                  need_cluster: bool = True) -> tuple[list[Issue], frozenset[str]]:
    """A unit CSV file's header problems, once for the file (on line 1) rather than once per row:
    unknown columns and missing required ones; and the columns they name, whose per-row
    messages are left out. ``need_cluster=False``: a file of one cluster's units, named by a
    data file that gives the cluster (the ``cluster`` column may be left out)."""
    inputs = {f.id: f for f in policy.inputs}
    issues = []
    quiet = set()
    for name in header:
        if name not in inputs and name not in UNIT_COLUMNS:
            issues.append(Issue(file=file, line=1, message=f"unknown column '{name}'"
                                f"{did_you_mean(name, [*UNIT_COLUMNS, *inputs])}"))
            quiet.add(name)
    if "id" not in header:
        issues.append(Issue(file=file, line=1, message="missing column 'id' (the unit's id)"))
        quiet.add("id")
    if "cluster" not in header and need_cluster:
        issues.append(Issue(file=file, line=1, message="missing column 'cluster' (the id of the unit's cluster)"))
        quiet.add("cluster")
    for field in policy.inputs:
        if (field.id not in header and field.required and field.default is None and not field.plugin
                and field.members is None):
            label = f" ({field.label})" if field.label else ""
            issues.append(Issue(file=file, line=1, message=f"missing column '{field.id}'{label}"))
            quiet.add(field.id)
    return issues, frozenset(quiet)


class CsvRows:
    """The rows of ``csv.DictReader`` over a ``csv.reader``, each without its empty cells, and its
    ``line_num``, made without the DictReader's per-row overhead.

    Each row is ``{k: v for k, v in row.items() if v not in (None, "")}`` of the DictReader's row,
    keys in the same order: the first row is the header, blank rows are skipped, cells past the
    header are kept under the key ``None``. ``line_num`` is the DictReader's: the reader's line
    after the row; when reading fails, after the last row given or, if blank rows were being
    skipped, after the first of them.
    """

    def __init__(self, reader: Any, header: Callable[[list[str]], list[str]] | None = None) -> None:
        self.reader = reader
        self.line_num = 0
        #: the header as the rows are keyed, made from the first row (the first row as it is)
        self.fix_header = header
        #: after iterating: the header's cells, and the last row's (-1: no row)
        self.width, self.last_cells = 0, -1

    def read_header(self) -> list[str] | None:
        """The first row (None for an empty file), through ``header`` if given."""
        header = next(self.reader, None)
        self.line_num = self.reader.line_num
        if header is not None and self.fix_header is not None:
            header = self.fix_header(header)
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
        width = self.width = len(header)
        unique = len(set(header)) == width
        for row in self.cells():
            self.last_cells = len(row)
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
    return list(jsonl_rows(io.BytesIO(data), file))


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
        #: :func:`header_issues` (for no file) when made by :func:`csv_layout`
        self.header_problems: tuple[list[Issue], frozenset[str]] = ([], frozenset())

    def issues(self, file: str) -> list[Issue]:
        """The header's problems, for ``file``, on line 1."""
        return [Issue(file=file, line=1, message=i.message) for i in self.header_problems[0]]

    @property
    def quiet(self) -> frozenset[str]:
        """Columns whose problem the header gives: their per-row messages are left out."""
        return self.header_problems[1]

    def row_dict(self, row: CsvRow) -> dict[Any, Any]:
        """The row as ``_rows_to_clusters`` keeps it: :func:`cells_dict`, its line under ``LINE``."""
        d = cells_dict(self.header, row.cells)
        d[LINE] = row.line
        return d

    def row_id(self, row: CsvRow) -> Any:
        """The row's ``id`` cell (``None`` when empty or missing, as ``csv_rows`` leaves it out)."""
        at = self.id_at
        return (row.cells[at] or None) if at is not None and at < len(row.cells) else None


def cut_off(file: str, line: int, cells: int, width: int) -> PolicyError:
    """A last row shorter than the header and without a line end: the file was cut off (a copy
    or a download that stopped, a file being written), not a row that ends early."""
    return PolicyError([Issue(file=file, line=line, message=f"the last row has {cells} of {width} cells and "
                              "no line end: the file looks cut off; copy or save it again")])


def _csv_clusters(data: bytes, file: str, policy: Policy,
                  issues: Issues) -> tuple[dict[str, Any], CsvLayout | None, str]:
    """``_rows_to_clusters(_csv_rows(data, file), …)`` with each row a :class:`CsvRow` of the
    file's :class:`CsvLayout` (the same clusters, rows, line numbers, issues and errors); the
    header's problems once, on line 1 (:func:`header_issues`); and the file's delimiter."""
    text = _csv_text(data, file)
    delimiter = csv_delimiter(first_line(text), unit_column(policy))
    reader = CsvRows(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True),
                     header=lambda h: unit_header(policy, h, file))
    clusters: dict[str, list[CsvRow]] = {}  # (their ids are cells: kept() once the rows are read)
    no_cluster: list[int] = []  # lines of rows without a cluster: reported after reading them all
    try:
        header = reader.read_header()
        if header is None:
            return {"clusters": []}, None, delimiter
        width = len(header)
        at = header.index("cluster") if "cluster" in header else width
        cells: list[str] = header
        for cells in reader.cells():
            line = reader.line_num
            if len(cells) > width:
                raise PolicyError([Issue(file=file, line=line, message="more cells than header columns")])
            cluster_id = cells[at] if at < len(cells) else ""
            if not cluster_id:
                if any(cells):
                    no_cluster.append(line)
                continue  # a row of empty cells (``,,,`` as Excel leaves) is a blank row
            units = clusters.get(cluster_id)
            if units is None:
                units = clusters[cluster_id] = []
            units.append(CsvRow(line, cells))
    except csv.Error as exc:
        raise PolicyError([Issue(file=file, line=reader.line_num, message=f"CSV syntax: {exc}")]) from None
    if len(cells) < width and cells is not header and not text.endswith(("\n", "\r")):
        raise cut_off(file, reader.line_num, len(cells), width)
    layout = csv_layout(policy, tuple(header))
    issues.items.extend(layout.issues(file))
    if "cluster" not in layout.quiet:  # (no cluster column: said once, on the header)
        for line in no_cluster:
            issues.line = line
            issues.add("", "missing 'cluster' (the id of the unit's cluster)")
            issues.line = None
    return {"clusters": [{"id": kept(c), "units": clusters[c]} for c in sorted(clusters)]}, layout, delimiter


def csv_layout(policy: Policy, header: tuple[str, ...]) -> CsvLayout:
    """The layout of ``header``, kept per policy for the headers seen last (a streamed run
    asks for it per cluster)."""
    layouts: dict[tuple[str, ...], CsvLayout] = plan_for("csv-layouts", policy, lambda p: {})
    layout = layouts.get(header)
    if layout is None:
        if len(layouts) >= 16:
            layouts.clear()
        layout = layouts[header] = CsvLayout(header)
        layout.header_problems = header_issues(policy, header, "")
    return layout


#: Of the messages of one shape (the same problem, at the same key in other rows or units), this
#: many are shown, then one line with the count of the others.
SHOWN_REPEATS = 5
# Patterns of the error path: compiled (and cached by re) when there are issues, not at import.
_ITEM_KEY = r"\((\w+)=[^()]*\)"
_INDEX = r"\[\d+\]"
#: A workbook's cell or row in an issue's path (``sheet 'units' cell D7: …``): left out of its shape.
_CELL = r"^(sheet '[^']*' (?:cell [A-Z]+|row ))\d+"


def cap_repeats(items: list[Issue]) -> list[Issue]:
    """``items`` with each shape's messages after the first :data:`SHOWN_REPEATS` replaced by one
    line ``… and 9,995 more rows: <message>``, placed after the last one shown. A shape is the
    file, the key path with its indices and ids left out, and the message; order is kept."""
    def shape(issue: Issue) -> tuple[str, str, str]:
        path = re.sub(_CELL, r"\1", issue.path)
        return issue.file, re.sub(_INDEX, "[]", re.sub(_ITEM_KEY, r"(\1=)", path)), issue.message

    shapes = [shape(i) for i in items]
    total: dict[tuple[str, str, str], int] = {}
    for s in shapes:
        total[s] = total.get(s, 0) + 1
    if max(total.values(), default=0) <= SHOWN_REPEATS:
        return items
    out = []
    shown: dict[tuple[str, str, str], int] = {}
    for issue, s in zip(items, shapes, strict=True):
        n = shown[s] = shown.get(s, 0) + 1
        if n <= SHOWN_REPEATS:
            out.append(issue)
        if n == SHOWN_REPEATS and total[s] > SHOWN_REPEATS:
            rows = " rows" if issue.line is not None else ""
            out.append(Issue(file=issue.file, message=f"… and {total[s] - SHOWN_REPEATS:,} more{rows}: "
                             f"{issue.message}"))
    return out
