"""One cluster's data from tables: a data TOML whose ``[files]`` names its CSV files, or a
workbook's sheets (:mod:`.xlsx`). The tables become the sections of a data file, checked by the
one :class:`~thidua_rules.loader.data.DataChecker`; each issue is then put back on the file and
line (or sheet and cell) it came from."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from pathlib import Path, PurePath
from typing import Any

import attrs

from ..errors import Issue, PolicyError
from ..model import Dataset, Policy
from .common import DATA_MAX_BYTES, Issues, Unreadable, read_regular, take, unreadable_message
from .digest import content_digest
from .rows import CsvLayout, CsvRow, cap_repeats, header_issues, text_values_of, unit_column, unit_header
from .sections import SECTION_COLUMNS, SECTIONS, ItemSource, section_items
from .tables import Table, csv_table, padded

#: The keys of ``[files]``: the units file, a file per section, and the members file.
FILE_KEYS = ("units", *SECTIONS, "members")
_NESTED = re.compile(r"^clusters\[0\](?:\(id=[^()]*\))?")
_ITEM = re.compile(r"^(votes|history|discipline|deferrals)\[(\d+)\](?:\([^()]*\))?")
_UNIT_KEY = re.compile(r"^units\(id=[^()]*\)\.([^.\[]+)")
_MISSING = re.compile(r"missing field '([^']*)'")
_COLUMN = re.compile(r"column '([^']*)'")

#: Relocates an issue of the ``[cluster]`` table (``cluster.leader``): a sheet's row of the key.
ClusterPlace = Callable[[Issue], Issue]


def units_rows(policy: Policy, table: Table, cluster_id: Any, issues: list[Issue]) -> tuple[list[Any], CsvLayout]:
    """The units table's rows as :class:`CsvRow` items of its layout (the CSV loader's fast
    path), its header's problems in ``issues``; a ``cluster`` column may be left out, and where
    given names the cluster of the data."""
    try:
        header = unit_header(policy, list(table.header), table.file)
    except PolicyError as exc:  # a column named twice: no row can be read (as for a CSV data file)
        issues.extend(table.issue(table.header_line, i.message) for i in exc.issues)
        raise PolicyError(issues) from None
    layout = CsvLayout(tuple(header))
    layout.header_problems = header_issues(policy, tuple(header), "", need_cluster=False)
    for problem in layout.header_problems[0]:
        named = _COLUMN.search(problem.message)
        at = header.index(named.group(1)) if named and named.group(1) in header else None
        issues.append(table.issue(table.header_line, problem.message, column=at))
    if "id" not in header:  # no unit has an id: every reference to one would be reported too
        raise PolicyError(issues)
    at_cluster = table.column_of("cluster") if "cluster" in header else None
    rows = []
    width = len(header)
    for line, cells in table.rows:
        if at_cluster is not None and at_cluster < len(cells) and cells[at_cluster] not in ("", cluster_id):
            issues.append(table.issue(line, f"this row names cluster '{cells[at_cluster]}', but the file holds the units "
                                      f"of cluster '{cluster_id}': leave the cell empty or write {cluster_id}", column=at_cluster))
        rows.append(CsvRow(line, padded(cells, width) if len(cells) < width else cells))
    return rows, layout


def check_tables(policy: Policy, *, file: str, body: dict[str, Any], units: Table,
                 sources: Mapping[str, list[ItemSource]], early: list[Issue],
                 members: Any = None, cluster_place: ClusterPlace | None = None,
                 members_place: Callable[[Issue], Issue] | None = None) -> Dataset:
    """Check ``body`` (a data file's top table: ``cluster`` and the sections, the units given by
    the ``units`` table) and make the dataset; raise every problem at once, each where it was
    written. ``sources``: where each item of a section read from a table came from;
    ``members``: member rows (:func:`~.data.read_member_rows`) checked as a ``--members`` file."""
    from .data import DataChecker, _attach_members

    issues = Issues(file)
    cluster_id = body["cluster"].get("id") if isinstance(body.get("cluster"), dict) else None
    rows, layout = units_rows(policy, units, cluster_id, early)
    checker = DataChecker(policy, issues, text_values=text_values_of(units.delimiter))
    checker.layout, checker.quiet = layout, layout.quiet
    if members is not None:
        from .members import units_with_members

        checker.members_elsewhere = units_with_members(members[1])
        checker.member_ids_elsewhere = {r["id"] for r in members[1] if isinstance(r, dict) and isinstance(r.get("id"), str)}
    # As one of ``[[clusters]]`` (whose units may be rows of cells, as a CSV file's are); the
    # issues' paths are then said as a ``[cluster]`` file's (``cluster.leader``, ``votes[0]``).
    nested = {**(body["cluster"] if isinstance(body.get("cluster"), dict) else {}),
              **{k: v for k, v in body.items() if k != "cluster"}, "units": rows}
    clusters = checker.clusters({"clusters": [nested]})
    if members is not None:
        clusters = _attach_members(policy, clusters, members, issues)

    def place(issue: Issue) -> Issue:
        prefix = _NESTED.match(issue.path) if issue.file == file else None
        if prefix is not None:
            rest = issue.path[prefix.end():]
            section = rest.lstrip(".").split("[")[0].split(".")[0]
            issue = attrs.evolve(issue, path=rest.lstrip(".") if section in (*SECTIONS, "units", "plugin_data",
                                                                             "members") else "cluster" + rest)
        if members_place is not None and issue.file == members[0]:
            return members_place(issue)
        if issue.file != file:
            return issue
        if issue.line is not None:  # a unit's row
            key = _UNIT_KEY.match(issue.path)
            return units.issue(issue.line, issue.message, issue.path,
                               units.column_of(key.group(1)) if key else None)
        item = _ITEM.match(issue.path)
        if item is not None and item.group(1) in sources and int(item.group(2)) < len(sources[item.group(1)]):
            return sources[item.group(1)][int(item.group(2))].issue(issue.path[item.end():], issue.path, issue.message)
        if issue.path == "units":  # no unit at all
            return units.issue(None, issue.message)
        if cluster_place is not None and (issue.path == "cluster" or issue.path.startswith("cluster.")):
            return cluster_place(issue)
        return issue

    def said(issue: Issue) -> bool:
        """A unit's missing field whose cell was said to be wrong when read."""
        missing = _MISSING.match(issue.message) if issue.line is not None and issue.file == file else None
        return missing is not None and (issue.line, units.column_of(missing.group(1))) in units.bad

    found = early + [place(i) for i in issues.items if not said(i)]
    if found:
        raise PolicyError(cap_repeats(found))
    return Dataset(file=file, sha256=content_digest(clusters), clusters=clusters)


def _named_file(base: Path | None, shown: str, value: str) -> tuple[Path, str] | str:
    """``[files]``' path ``value`` read beside the data file: its path and display name, or the
    problem."""
    if PurePath(value).is_absolute() or re.match(r"^[A-Za-z]:", value):
        return "give a path relative to this file"
    assert base is not None  # (said once, on [files], before)
    return base / value, str(PurePath(shown).parent / value)


def load_files(raw: dict[str, Any], policy: Policy, *, file: str, base: Path | None,
               members: Any = None) -> Dataset:
    """A data TOML (or JSON) with ``[files]``: ``[cluster]`` in it; the units, and each section
    not written inline, in the CSV files it names, relative to it (see docs/spreadsheets.md)."""
    from .data import read_member_rows

    issues = Issues(file)
    keys = {"cluster": ("table", True), "files": ("table", True), "plugin_data": ("table", False),
            **{name: ("table_list", False) for name in SECTIONS}}
    if "clusters" in raw or "units" in raw or "members" in raw:
        for name in ("clusters", "units", "members"):
            if name in raw:
                issues.add(name, f"'{name}' with [files]: [files] names one cluster's files, with its "
                           f"[cluster] table here; give the {name} in {'files.' + name if name != 'clusters' else 'one data file per cluster'}")
        issues.raise_if_any()
    top = take(issues, "", raw, keys)
    files = take(issues, "files", (top or {}).get("files", {}), {k: ("str", k == "units") for k in FILE_KEYS})
    if base is None and files:
        issues.add("files", "a data file naming other files is read from a path (its folder holds them)")
    issues.raise_if_any()
    assert top is not None and files is not None
    tables: dict[str, Table] = {}
    for name in FILE_KEYS:
        if name not in files:
            continue
        if name in top:
            issues.add(f"files.{name}", f"the {name} are written here as [[{name}]] too; give them in one place")
            continue
        found = _named_file(base, file, files[name])
        if isinstance(found, str):
            issues.add(f"files.{name}", found)
            continue
        path, shown = found
        if name == "members":
            if members is not None:
                issues.add("files.members", "members given twice: here and with --members; give them in one place")
                continue
            try:
                members = read_member_rows(path, display=shown)
            except PolicyError as exc:
                issues.items.extend(exc.issues)
            continue
        if path.suffix.lower() != ".csv":
            issues.add(f"files.{name}", f"'{files[name]}' is not a .csv file: [files] names CSV files (UTF-8)")
            continue
        try:
            data = read_regular(path, DATA_MAX_BYTES)
        except Unreadable as exc:
            issues.add(f"files.{name}", unreadable_message(exc, files[name]))
            continue
        known = unit_column(policy) if name == "units" else \
            (lambda cell, cols=SECTION_COLUMNS[name]: cell.strip() in cols)
        try:  # (the units' header is read by units_rows, the others' by section_items)
            tables[name] = csv_table(data, shown, known)
        except PolicyError as exc:
            issues.items.extend(exc.issues)
    issues.raise_if_any()
    units = tables.pop("units")
    early: list[Issue] = []
    sources: dict[str, list[ItemSource]] = {}
    body = {k: v for k, v in top.items() if k != "files"}
    for name, table in sorted(tables.items()):
        if table.delimiter != units.delimiter:
            early.append(table.issue(None, f"separated by '{table.delimiter}' but {units.file} by "
                                     f"'{units.delimiter}': save the files of one data set the same way"))
            continue
        body[name], sources[name] = section_items(table, name, policy, early)
    return check_tables(policy, file=file, body=body, units=units, sources=sources, early=early, members=members)
