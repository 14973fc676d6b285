"""Unit data (TOML, JSON, CSV, JSON lines) → a checked :class:`~thidua_rules.model.Dataset`."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from decimal import Decimal
from pathlib import Path
from types import FunctionType, MappingProxyType
from typing import Any

import attrs

from ..codegen import define
from ..councils import foreign_members
from ..decimals import engine_context, number_problem
from ..errors import ExpressionRuntimeError, Issue, PolicyError, did_you_mean
from ..extensions import deep_freeze, type_name
from ..model import (
    RANKING_BALLOT,
    Ballot,
    Cluster,
    Dataset,
    Deferral,
    DisciplineRecord,
    HistoryRecord,
    InputField,
    Policy,
    Unit,
    Value,
    frozen_mapping,
)
from ..plans import plan_for
from ..records import fast_init
from ..tomlfmt import join_path, toml_value
from .common import (
    DATA_MAX_BYTES,
    UNIT_ID,
    Issues,
    escaped,
    item_path,
    kept,
    non_printing,
    parse_toml,
    read_bytes,
    take,
)
from .convert import (
    DECIMAL_COMMA,
    KNOWN_MAX,
    FieldConverter,
    field_converter,
)
from .councils import member_units
from .digest import content_digest
from .layers import check_scores
from .meeting import check_meeting
from .members import check_members, units_with_members
from .rows import (  # noqa: F401 - CsvRows, _csv_rows, cells_dict: re-exported for their users
    LINE,
    CsvLayout,
    CsvRow,
    CsvRows,
    _csv_clusters,
    _csv_rows,
    _jsonl_rows,
    _parse_json,
    _rows_to_clusters,
    cap_repeats,
    cells_dict,
    csv_layout,
    text_values_of,
)

FORMATS = {".toml": "toml", ".json": "json", ".csv": "csv", ".jsonl": "jsonl", ".ndjson": "jsonl", ".xlsx": "xlsx"}
CLUSTER_KEYS = {
    "id": ("str", True), "name": ("str", False), "year": ("int", False),
    "leader": ("str", False), "deputy": ("str", False), "rotation": ("str_list", False),
    "note": ("str", False), "source": ("str", False),
}
#: ``Unit(id=…, name=…, cluster=…, values=…)``, positionally, without the attrs ``__init__``.
_new_unit = fast_init(Unit)


#: Spreadsheet files given as data that are not read (an ``.xlsx`` workbook is, see :mod:`.xlsx`).
WORKBOOKS = (".xlsm", ".xls", ".ods")


def _format_of(path: str | Path, shown: str, format: str | None) -> str:
    kind = format or FORMATS.get(Path(path).suffix.lower())
    if kind is None and Path(path).suffix.lower() in WORKBOOKS:
        raise PolicyError([Issue(file=shown, message="this workbook format is not read: save it as an Excel "
                                 "workbook (.xlsx), or save the sheet as CSV UTF-8 (Comma delimited), and give that file")])
    if kind is None:
        raise PolicyError([Issue(file=shown, message="unknown data format; use a .toml, .json, .csv, "
                                 ".jsonl or .xlsx file (or --data-format)")])
    return kind


def load_data(path: str | Path, policy: Policy, *, display: str | None = None,
              format: str | None = None, members: str | Path | None = None) -> Dataset:
    """Read and check a data file (and optionally a members file) against ``policy``; raise
    :class:`PolicyError` with every problem of both files."""
    shown = display or str(path)
    kind = _format_of(path, shown, format)
    member_rows = None
    if members is not None:
        member_rows = read_member_rows(members)
    data = read_bytes(path, shown, limit=DATA_MAX_BYTES)
    return parse_data(data, policy, file=shown, format=kind, members=member_rows, base=Path(path).parent)


class MemberRows(tuple):  # type: ignore[type-arg]
    """``(file, rows)`` of :func:`read_member_rows`, with the ``text_values`` of its checker (a CSV
    file separated by ``;`` has decimal commas)."""

    text_values: bool | str = False


def read_member_rows(path: str | Path, display: str | None = None) -> tuple[str, list[Any]]:
    """A members file (TOML with ``[[members]]``, JSON, CSV, JSON lines) as raw rows."""
    shown = display or str(path)
    kind = _format_of(path, shown, None)
    if kind == "xlsx":
        raise PolicyError([Issue(file=shown, message="a members workbook is not read on its own: put the members "
                                 "in the data workbook's 'members' sheet, or save them as CSV UTF-8")])
    data = read_bytes(path, shown, limit=DATA_MAX_BYTES)
    if kind in ("csv", "jsonl"):
        rows: list[Any] = []
        dialect: list[str] = []
        for line, row in (_csv_rows(data, shown, dialect) if kind == "csv" else _jsonl_rows(data, shown)):
            row[LINE] = line
            rows.append(row)
        found = MemberRows((shown, rows))
        if dialect:
            found.text_values = text_values_of(dialect[0])
        return found
    raw = parse_toml(data, shown) if kind == "toml" else _parse_json(data, shown)
    issues = Issues(shown)
    top = take(issues, "", raw, {"members": ("table_list", True)})
    issues.raise_if_any()
    return shown, list((top or {}).get("members", []))


def parse_data(data: bytes, policy: Policy, *, file: str = "<data>", format: str = "toml",
               members: tuple[str, list[Any]] | None = None, base: str | Path | None = None) -> Dataset:
    """Check ``data`` (the bytes of a file of ``format``) against ``policy``. ``base``: the folder
    of the files a data file's ``[files]`` names (without it, such a file is refused).

    The numbers are read in the engine's decimal context whatever the caller's thread has: a
    caller's precision or traps never change a value, its canonical text or the digest."""
    with engine_context():
        if format == "xlsx":
            from .xlsx import workbook_data

            return workbook_data(data, policy, file=file, members=members)
        return _parse_data(data, policy, file=file, format=format, members=members,
                           base=None if base is None else Path(base))


def _parse_data(data: bytes, policy: Policy, *, file: str, format: str,
                members: tuple[str, list[Any]] | None, base: Path | None = None) -> Dataset:
    issues = Issues(file)
    if format == "toml":
        raw = parse_toml(data, file)
    elif format == "json":
        raw = _parse_json(data, file)
        if not isinstance(raw, dict):
            raise PolicyError([Issue(file=file, message="expected a JSON object at the top")])
    elif format == "csv":
        raw, layout, delimiter = _csv_clusters(data, file, policy, issues)
    elif format == "jsonl":
        raw = _rows_to_clusters(_jsonl_rows(data, file), policy, issues)
    else:
        raise PolicyError([Issue(file=file, message=f"unknown data format '{format}'")])
    if format in ("toml", "json") and "files" in raw:  # the units (and sections) in CSV files it names
        from .bundle import load_files

        return load_files(raw, policy, file=file, base=base, members=members)
    checker = DataChecker(policy, issues, text_values=text_values_of(delimiter) if format == "csv" else False)
    if format == "csv" and layout is not None:
        checker.layout, checker.quiet = layout, layout.quiet
    if members is not None:
        checker.members_elsewhere = units_with_members(members[1])
        checker.member_ids_elsewhere = {r["id"] for r in members[1]
                                        if isinstance(r, dict) and isinstance(r.get("id"), str)}
        checker.member_units_elsewhere = member_units(members[1])
    clusters = checker.clusters(raw)
    if members is not None:
        clusters = _attach_members(policy, clusters, members, issues)
    issues.items = cap_repeats(issues.items)
    issues.raise_if_any()
    return Dataset(file=file, sha256=content_digest(clusters), clusters=clusters)


def _attach_members(policy: Policy, clusters: tuple[Cluster, ...], members: tuple[str, list[Any]],
                    data_issues: Issues) -> tuple[Cluster, ...]:
    """Check a separate members file and give each cluster the members of its units."""
    file, rows = members
    issues = Issues(file)
    text_values = getattr(members, "text_values", None)  # (a read file's; given rows: by the name)
    checker = DataChecker(policy, issues, text_values=file.lower().endswith(".csv") if text_values is None
                          else text_values)
    cluster_of = {u.id: c.id for c in clusters for u in c.units}
    # Rows of units the data file does not know are reported by check_members against all ids.
    people = check_members(checker, "members", rows, set(cluster_of), max((c.year for c in clusters), default=0),
                           set())
    for cluster in clusters:
        if cluster.people and people:
            issues.add("", f"cluster '{cluster.id}' has members in the data file too; give them in one place")
    data_issues.items.extend(issues.items)
    by_cluster: dict[str, list[Any]] = {}
    for person in people:
        by_cluster.setdefault(cluster_of[person.unit], []).append(person)
    return tuple(attrs.evolve(c, people=tuple(by_cluster.get(c.id, ()))) if c.id in by_cluster else c
                 for c in clusters)


class DataChecker:
    """Checks the data structure against the policy and converts values to their input types."""

    def __init__(self, policy: Policy, issues: Issues, *, text_values: bool | str) -> None:
        self.policy = policy
        self.issues = issues
        #: values are cell texts (CSV): ``True``, or ``DECIMAL_COMMA`` for a file separated by ``;``
        self.text_values = text_values
        self.inputs = {f.id: f for f in policy.inputs}
        self.title_ids = {t.id: t for t in policy.titles}
        #: person titles (``[people]``) can be voted on too; their ballots name members
        self.person_titles = {t.id: t for t in policy.people.titles} if policy.people is not None else {}
        #: ids of members given in a separate members file (any cluster), and of this cluster's
        self.member_ids_elsewhere: set[str] = set()
        self.cluster_member_ids: set[str] = set()
        #: member id → unit, for a unit council's ballot (``councils.py``)
        self.member_units_elsewhere: dict[str, str] = {}
        self.cluster_member_units: dict[str, str] = {}
        self.band_ids = [b.id for b in policy.bands]
        self.unit_ids: set[str] = set()
        self.person_ids: set[str] = set()
        #: units whose member-derived inputs come from a members file given beside the data
        self.members_elsewhere: set[str] = set()
        #: units of the cluster being checked whose member-derived inputs are derived, not typed
        self.derived_for: set[str] = set()
        self.current_unit: str | None = None
        #: each input's converter and the reader of each row layout (per policy and kind of file)
        self.plan = _load_plan(policy, text_values)
        #: the columns of the CSV file whose rows are :class:`CsvRow` items, if any
        self.layout: CsvLayout | None = None
        #: columns of a CSV file whose problem its header gives (unknown or missing): their
        #: per-row messages are left out
        self.quiet: frozenset[str] = frozenset()
        #: the layout :meth:`cells_reader` was asked for last, and its reader
        self._cells_reader: tuple[Any, Any] = (None, None)
        #: the layouts' readers of this load (see :meth:`own_reader`)
        self._readers: dict[Any, _Reader] = {}

    def clusters(self, raw: dict[str, Any]) -> tuple[Cluster, ...]:
        if "clusters" in raw:
            top = take(self.issues, "", raw, {"clusters": ("table_list", True)})
            if top is None or "clusters" not in top:
                return ()
            items = [(item_path("clusters", i, c), c, c) for i, c in enumerate(top["clusters"])]
        else:
            top = take(self.issues, "", raw, {"cluster": ("table", True), "units": ("table_list", True),
                                              "votes": ("table_list", False), "history": ("table_list", False),
                                              "discipline": ("table_list", False), "deferrals": ("table_list", False),
                                              "members": ("table_list", False),
                                              "plugin_data": ("table", False), "meeting": ("table", False),
                                              "scores": ("table_list", False)})
            if top is None or "cluster" not in top:
                return ()
            items = [("cluster", top["cluster"], top)]
        seen: set[str] = set()
        result = []
        for path, meta, body in items:
            cluster = self.cluster(path, meta, body, nested=meta is body)
            if cluster is None:
                continue
            if cluster.id in seen:
                self.issues.add(f"{path}.id", f"duplicate cluster id '{cluster.id}'")
                continue
            seen.add(cluster.id)
            result.append(cluster)
        return tuple(sorted(result, key=lambda c: c.id))

    def cluster(self, path: str, meta: Any, body: Mapping[str, Any], *, nested: bool) -> Cluster | None:
        extra = ("units", "votes", "history", "discipline", "deferrals", "members", "plugin_data",
                 "meeting", "scores") if nested else ()
        values = take(self.issues, path, meta, CLUSTER_KEYS, extra=extra)
        if values is None or "id" not in values:
            return None
        if non_printing(self.issues, f"{path}.id", values["id"], "cluster"):
            return None
        year = values.get("year", self.policy.year)
        if year is None:
            self.issues.add(path, "missing key 'year' (the policy gives none either)")
            year = 0
        elif self.policy.year is not None and year != self.policy.year:
            self.issues.add(f"{path}.year", f"the data is for {year} but the policy is for {self.policy.year}")
        elif self.policy.evaluation_date is None and isinstance(year, int):
            from ..legal import outdated_for

            problem = outdated_for(self.policy, year)
            if problem:
                self.issues.add(f"{path}.year", problem)
        base = path if nested else ""
        units_raw = body.get("units", [])
        if not isinstance(units_raw, list) or not units_raw:
            self.issues.add(join_path(base, "units") if base else "units", "expected at least one unit")
            units_raw = []
        # Every well-formed id counts as known, even of a unit with bad fields: one mistake, one message.
        ids = {item["id"] for item in units_raw
               if isinstance(item, dict) and isinstance(item.get("id"), str) and UNIT_ID.fullmatch(item["id"])}
        if self.layout is not None:  # rows of a CSV file, as their cells
            row_id = self.layout.row_id
            ids.update(unit_id for item in units_raw if type(item) is CsvRow
                       and (unit_id := row_id(item)) is not None and UNIT_ID.fullmatch(unit_id))
        members_raw = body.get("members", [])
        self.derived_for = self.members_elsewhere | units_with_members(members_raw if isinstance(members_raw, list) else [])
        units = self.units(join_path(base, "units"), units_raw, ids, values["id"], year)
        self.issues.line = None
        people = check_members(self, join_path(base, "members"), members_raw, ids, year, self.person_ids) \
            if "members" in body else ()
        self.cluster_member_ids = self.member_ids_elsewhere | {
            r["id"] for r in (members_raw if isinstance(members_raw, list) else [])
            if isinstance(r, dict) and isinstance(r.get("id"), str)}
        self.cluster_member_units = {**self.member_units_elsewhere,
                                     **member_units(members_raw if isinstance(members_raw, list) else [])}
        for key_name in ("leader", "deputy"):
            if key_name in values and values[key_name] not in ids:
                self.issues.add(f"{path}.{key_name}", self.unknown_unit(values[key_name], ids))
        rotation = tuple(values.get("rotation", ()))
        for i, unit_id in enumerate(rotation):
            if unit_id not in ids:
                self.issues.add(f"{path}.rotation[{i}]", self.unknown_unit(unit_id, ids))
        if not rotation:
            self.policy_rotation(values["id"], ids)
        ballots = self.ballots(join_path(base, "votes"), body.get("votes", []), ids)
        history = self.history(join_path(base, "history"), body.get("history", []), ids, year)
        discipline = self.discipline(join_path(base, "discipline"), body.get("discipline", []), ids, year)
        deferrals = self.deferrals(join_path(base, "deferrals"), body.get("deferrals", []), ids)
        cluster = Cluster(
            id=values["id"], name=values.get("name", values["id"]), year=year,
            leader=values.get("leader"), deputy=values.get("deputy"), rotation=rotation,
            units=tuple(sorted(units, key=lambda u: u.id)), ballots=ballots, history=history,
            discipline=discipline, deferrals=deferrals, people=people,
            scores=check_scores(self.issues, join_path(base, "scores"), body.get("scores", []), ids, self.policy),
        )
        if "meeting" in body:
            meeting = check_meeting(self.issues, join_path(base, "meeting"), body["meeting"], unit_ids=ids,
                                    year=year, ballots=ballots, unit_titles=self.title_ids)
            cluster = attrs.evolve(cluster, meeting=meeting)
        if "plugin_data" in body or (self.policy.runtime is not None and self.policy.runtime.data_validators):
            cluster = self.plugin_data(join_path(base, "plugin_data"), body.get("plugin_data", {}), cluster)
        return cluster

    def policy_rotation(self, cluster_id: str, ids: set[str]) -> None:
        """The policy's ``[leadership] rotation`` against a cluster that gives none of its own.

        The policy's rotation is one cluster's order: it governs every cluster holding any of its
        units, and such a cluster must hold all of them (a misspelt id would otherwise be skipped
        and the turn pass to the next unit). A cluster holding none of them is not governed by it;
        data with several clusters gives each its own ``rotation``.
        """
        rule = self.policy.leadership
        if rule is None or rule.method != "rotation" or not any(u in ids for u in rule.rotation):
            return
        for i, unit_id in enumerate(rule.rotation):
            if unit_id not in ids:
                self.issues.items.append(Issue(
                    file=self.policy.file, path=f"leadership.rotation[{i}]",
                    message=f"unit '{unit_id}' is not in cluster '{cluster_id}'{did_you_mean(unit_id, ids)}; "
                            "a cluster of other units gives its own rotation"))

    def plugin_data(self, path: str, table: Any, cluster: Cluster) -> Cluster:
        """Attach the ``[plugin_data.<name>]`` sections, each checked by its plugin."""
        from ..plugins import PluginFault, invoke_checker

        runtime = self.policy.runtime
        loaded = runtime.loaded if runtime is not None else ()
        if not isinstance(table, dict):
            self.issues.add(path, f"expected a table, got {type_name(table)}")
            return cluster
        sections = {}
        for name, section in table.items():
            if name not in loaded:
                self.issues.add(join_path(path, name), f"unknown plugin '{name}'{did_you_mean(name, loaded)}; "
                                "the policy's [policy] plugins must name it")
            elif not isinstance(section, dict):
                self.issues.add(join_path(path, name), f"expected a table, got {type_name(section)}")
            else:
                sections[name] = section
        cluster = attrs.evolve(cluster, plugin_data=deep_freeze(sections))
        for name, impl in runtime.data_validators if runtime is not None else ():
            base = join_path(path, name)

            def report(key: str, message: str, _base: str = base) -> None:
                self.issues.add(f"{_base}.{key}" if key else _base, str(message))

            try:
                invoke_checker(impl, {"section": cluster.plugin_data.get(name, deep_freeze({})), "cluster": cluster,
                              "config": self.policy.plugin_config.get(name, deep_freeze({})),
                              "report": report}, limit=runtime.limit)
            except PluginFault as exc:
                self.issues.add(base, f"plugin '{name}' hook 'validate_plugin_data': {exc.message}")
        return cluster

    def unit_path(self, array_path: str, index: int, item: Any) -> str:
        """Where a unit is: its key path in TOML/JSON; its line and id in a row-based file."""
        if type(item) is CsvRow:
            assert self.layout is not None  # (rows of cells come with their file's layout)
            self.issues.line = item.line
            return f"units(id={escaped(str(self.layout.row_id(item)))})"
        if isinstance(item, dict) and LINE in item:
            self.issues.line = item[LINE]
            return f"units(id={escaped(str(item.get('id')))})"
        return item_path(array_path, index, item)

    def unknown_unit(self, unit_id: str, ids: Iterable[str]) -> str:
        return f"unknown unit '{unit_id}'{did_you_mean(unit_id, ids)}"

    def units(self, path: str, items: list[Any], ids: set[str], cluster: str, year: int) -> list[Unit]:
        """The well-formed units of ``items`` (at ``path``: tables, or :class:`CsvRow` items of the
        file's layout), in order; every problem worded. ``ids``: the cluster's ids that are
        strings of the right shape.

        Each item's values are read once by the row reader of its layout (:class:`_Reader`),
        which converts every value and notes each problem, and the policy's checks are evaluated
        once; a unit with nothing to word (a new well-formed id, a string name or none, no
        problem noted, no column or missing input to look at, every check holding) is made
        here, any other by :meth:`word_unit` from what was read, which words its problems."""
        units = []
        layout = self.layout
        if layout is not None:  # rows of a CSV file: one reader for all of them
            cells_reader = self.cells_reader(layout)
            width, id_at, name_at = layout.width, layout.id_at, layout.name_at
        unit_ids = self.unit_ids
        checks = bool(self.policy.checks)
        for index, item in enumerate(items):
            row: Any
            if type(item) is CsvRow:
                row, reader = item.cells, cells_reader
                if len(row) < width:  # a short row: the cells it lacks are empty
                    row = [*row, *[""] * (width - len(row))]
                unit_id = (row[id_at] or None) if id_at is not None else None
                name = (row[name_at] or None) if name_at is not None else None
            elif isinstance(item, dict):
                row, reader = item, self.reader(tuple(item))
                unit_id, name = item.get("id"), item.get("name")
            else:
                self.issues.add(item_path(path, index, item), f"expected a table, got {type_name(item)}")
                continue
            values = reader.read(row)
            failed: list[tuple[str, bool]] | None = None  # the checks' problems, once evaluated
            if reader.plain and not reader.notes:
                failed = self.check_problems(values, year) if checks else []
                # ``ids`` holds only well-formed ids: one of them is an id of the right shape.
                if (not failed and type(unit_id) is str and unit_id in ids and unit_id not in unit_ids
                        and (name is None or isinstance(name, str))):
                    unit_ids.add(unit_id)
                    self.current_unit = unit_id
                    unit_id = kept(unit_id)  # (not the cell: see kept())
                    units.append(_new_unit(unit_id, unit_id if name is None else kept(name), cluster,
                                           MappingProxyType(values)))
                    continue
            unit = self.word_unit(path, index, item, row, reader, values, failed, unit_id, name, cluster, year)
            if unit is not None:
                units.append(unit)
        return units

    def word_unit(self, array_path: str, index: int, item: Any, row: Any, reader: _Reader,
                  values: dict[str, Value], failed: list[tuple[str, bool]] | None, unit_id: Any, name: Any,
                  cluster: str, year: int) -> Unit | None:
        """The unit of ``item`` whose ``values`` ``reader`` read from ``row``, or ``None``, every
        problem worded at its key path (with its line, for a row of a CSV or JSON-lines file):
        its id, its name, each value (in the item's order), each input missing (in the policy's
        order), then each check (``failed``: their problems, or ``None`` when still to evaluate,
        after the missing inputs' defaults are added)."""
        where = self.unit_path(array_path, index, item)
        ok = self.unit_id_ok(where, unit_id)
        if name is not None and not isinstance(name, str):
            self.issues.add(f"{where}.name", f"expected a string, got {type_name(name)}")
        self.current_unit = unit_id if isinstance(unit_id, str) else None
        fields_ok = True
        if not reader.plain or reader.notes:
            fields_ok = self.word_fields(where, reader, row, values, require=True)
            values = dict(sorted(values.items()))  # (an input's default or a counted one added)
        if failed is None:
            failed = self.check_problems(values, year) if self.policy.checks else []
        for message, fails in failed:
            self.issues.add(where, message)
            fields_ok = fields_ok and not fails
        if not (ok and fields_ok):
            return None
        assert isinstance(unit_id, str)  # checked above: ok is False otherwise
        unit_id = kept(unit_id)
        return _new_unit(unit_id, kept(name) if isinstance(name, str) else unit_id, cluster, MappingProxyType(values))

    def unit_id_ok(self, where: str, unit_id: Any) -> bool:
        """Whether ``unit_id`` is a new well-formed unit id (then remembered); else worded."""
        if isinstance(unit_id, str) and non_printing(self.issues, f"{where}.id", unit_id, "unit"):
            return False
        if not isinstance(unit_id, str) or not UNIT_ID.fullmatch(unit_id):
            if unit_id is not None or "id" not in self.quiet:  # (no id column: said on the header)
                self.issues.add(where, "missing key 'id'" if unit_id is None else
                                f"unit id {toml_value(unit_id)} must be lower-case letters, digits, '-', '_' "
                                "and '.'")
            return False
        if unit_id in self.unit_ids:
            self.issues.add(f"{where}.id", f"duplicate unit id '{unit_id}'")
            return False
        self.unit_ids.add(unit_id)
        return True

    def check_problems(self, values: Mapping[str, Value], year: int) -> list[tuple[str, bool]]:
        """Each check of the policy that fails for ``values``, or cannot be evaluated: its message,
        and whether it fails (one that cannot be evaluated is reported, the unit kept). A check
        reading a value not given is left out: that value is reported already."""
        problems = []
        values_with_year = {**values, "year": Decimal(year)}
        for check in self.policy.checks:
            if not check.rule.names <= values_with_year.keys():
                continue
            try:
                with engine_context():
                    held = check.rule.evaluate(values_with_year)
            except ExpressionRuntimeError as exc:
                problems.append((f"check '{check.id}': {exc.message}", False))
                continue
            if not held:
                seen = ", ".join(f"{n} = {toml_value(values[n])}" for n in sorted(check.rule.names) if n in values)
                message = f": {check.message}" if check.message else ""
                problems.append((f"check '{check.id}' failed{message} ({seen})", True))
        return problems

    def cells_reader(self, layout: CsvLayout) -> _Reader:
        """The reader of the rows of ``layout`` (a CSV file's columns)."""
        seen, reader = self._cells_reader
        if seen is not layout:
            reader = self.own_reader(("cells", layout.header), lambda: _Reader(
                self.plan, layout.header, self.inputs, _UNIT_KEYS, cells=True))
            self._cells_reader = (layout, reader)
        return reader

    def reader(self, keys: tuple[Any, ...]) -> _Reader:
        """The reader of unit tables with ``keys``, in this order."""
        return self.own_reader(keys, lambda: _Reader(self.plan, keys, self.inputs, _UNIT_KEYS, cells=False))

    def own_reader(self, key: Any, make: Any) -> _Reader:
        """The policy's reader of a layout (made once per policy), with this load's own notes."""
        reader = self._readers.get(key)
        if reader is None:
            if len(self._readers) >= 64:
                self._readers.clear()
            reader = self._readers[key] = self.plan.reader(key, make).for_one_load()
        return reader

    def fields(self, path: str, item: Mapping[str, Any], *, skip: set[Any] | tuple[Any, ...],
               require: bool, inputs: Mapping[str, InputField] | None = None) -> tuple[dict[str, Value], bool]:
        """The item's well-typed values of ``inputs`` (the policy's unit inputs unless given), and
        whether every field was fine (read as a unit's are: :class:`_Reader`)."""
        inputs = self.inputs if inputs is None else inputs
        keys = tuple(item)
        # (``inputs`` are the units' or, given, the people's: known by their ids and that)
        reader = self.own_reader(
            ("fields", inputs is self.inputs, tuple(inputs), frozenset(skip), keys),
            lambda: _Reader(self.plan, keys, inputs, skip, cells=False))
        values = reader.read(item)
        ok = True
        if reader.notes or reader.others or (require and reader.absent):
            ok = self.word_fields(path, reader, item, values, require=require)
        return values, ok

    def word_fields(self, path: str, reader: _Reader, row: Any, values: dict[str, Value], *,
                    require: bool) -> bool:
        """The problems of a row ``reader`` read into ``values``: those it noted and those of the
        columns it leaves to this (:attr:`_Reader.others`), in the row's order, then (when
        ``require``) each input not given, in the policy's order; whether there were none.
        ``values`` loses the values with a problem and gains each missing input's default."""
        ok = True
        problems: list[tuple[int, str, str]] = []
        absent = list(reader.absent)
        for at, key, problem in reader.notes:
            del values[key]
            if problem:
                problems.append((at, key, problem))
            else:  # an empty cell: the input is not given
                absent.append(reader.inputs[key])
        reader.notes.clear()
        for at, key, field in reader.others:
            raw = row[at] if reader.cells else row[key]
            if reader.cells and not raw:  # an empty cell: nothing given
                if field is not None:
                    absent.append(field)
                continue
            if field is not None and field.plugin:
                problems.append((at, key, f"'{key}' is computed by plugin '{field.plugin}'; remove it from the data"))
            elif field is not None and field.members is not None and require and self.current_unit in self.derived_for:
                problems.append((at, key, f"'{key}' is counted from the unit's members; "
                                 "remove it from the data or give no members for this unit"))
            elif field is None:
                if key in self.quiet:  # an unknown column: said once, on the header
                    ok = False
                    continue
                problems.append((at, key, f"unknown field '{key}'{did_you_mean(key, reader.hints)}"))
            else:
                value, problem = self.convert(field, raw)
                if problem:
                    problems.append((at, key, problem))
                else:
                    values[key] = value
        for _, key, problem in sorted(problems, key=lambda p: p[0]):
            self.issues.add(join_path(path, key), problem)
            ok = False
        if require:
            order = reader.order
            for field in sorted(absent, key=lambda f: order[f.id]):
                if field.plugin or (field.members is not None and self.current_unit in self.derived_for):
                    continue
                if field.default is not None:
                    values[field.id], _ = self.convert(field, field.default)
                elif field.required and field.id in self.quiet:  # a missing column: said on the header
                    ok = False
                elif field.required:
                    label = f" ({field.label})" if field.label else ""
                    self.issues.add(path, f"missing field '{field.id}'{label}")
                    ok = False
        return ok

    def convert(self, field: InputField, raw: Any) -> tuple[Value, str]:
        """``raw`` as the field's type, or an error message (:func:`~.convert.field_converter`)."""
        return self.plan.converter_of(field).convert(raw)

    def ballots(self, path: str, items: Any, ids: set[str]) -> tuple[Ballot, ...]:
        """Ballots per title (and round). ``voters`` — or ``members``, the whole council — is the
        denominator of the threshold (ND98 Art. 30 k7); ``written`` holds the yes-opinions that
        absent members gave in writing, which count; ``present`` is for the quorum."""
        if not isinstance(items, list):
            self.issues.add(path, f"expected an array of tables, got {type_name(items)}")
            return ()
        ballots: dict[tuple[str, str, int], Ballot] = {}  # by (title, unit council or "", round)
        size_at: dict[tuple[str, str, int], str] = {}  # where each ballot gives its council's size
        for i, item in enumerate(items):
            where = f"{path}[{i}]"
            values = take(self.issues, where, item, {
                "title": ("str", True), "voters": ("int", False), "members": ("int", False),
                "yes": ("table", True), "written": ("table", False), "present": ("int", False),
                "round": ("int", False), "note": ("str", False), "source": ("str", False),
                "unit": ("str", False)})
            if not values or {"title", "yes"} - set(values):
                continue
            title_id = values["title"]
            council = values.get("unit", "")  # a unit's own council (councils.py), or the cluster's
            where = f"{where}(title={title_id}" + (f", unit={council})" if council else ")")
            if ("voters" in values) == ("members" in values):
                self.issues.add(where, "give exactly one of 'voters' or 'members' (everyone entitled to vote)")
                continue
            size_key = "voters" if "voters" in values else "members"
            voters = values[size_key]
            title = self.title_ids.get(title_id)
            round_ = values.get("round", 1)
            if title_id == RANKING_BALLOT and any(k.key == "vote" for k in self.policy.ranking):
                ballots[(title_id, "", round_)] = Ballot(
                    title=title_id, voters=voters, present=values.get("present"), round=round_,
                    yes=frozen_mapping(self.vote_counts(f"{where}.yes", values["yes"], ids, voters, "voters")),
                    written=frozen_mapping(self.vote_counts(f"{where}.written", values.get("written", {}), ids,
                                                            voters, "voters")))
                continue
            voted_ids, who = ids, "unit"
            if title is None and title_id in self.person_titles:
                # ND98 Art. 30 k7: CSTĐCS and CSTĐ are voted on too; the ballot names members.
                title, voted_ids, who = self.person_titles[title_id], self.cluster_member_ids, "member"
            if title is None:
                self.issues.add(f"{where}.title", f"unknown title '{title_id}'"
                                f"{did_you_mean(title_id, [*self.title_ids, *self.person_titles])}")
                continue
            if council and not self.unit_council(where, council, title_id, ids):
                continue
            if not title.takes_vote:
                self.issues.add(f"{where}.title", f"title '{title_id}' takes no vote (its policy entry has no 'votes')")
                continue
            if round_ not in (1, 2):
                self.issues.add(f"{where}.round", f"a title has at most two ballot rounds, got {round_}")
                continue
            if (title_id, council, round_) in ballots:
                self.issues.add(f"{where}.title", f"a second ballot for title '{title_id}'"
                                + (f" by the council of unit '{council}'" if council else "")
                                + (f" in round {round_}" if round_ > 1 else ""))
                continue
            if voters < 1:
                self.issues.add(f"{where}.{size_key}", f"expected at least 1 voter, got {voters}")
                continue
            present = values.get("present")
            if present is not None and not 0 <= present <= voters:
                self.issues.add(f"{where}.present", f"expected 0 to {voters} members present, got {present}")
                continue
            in_room = voters if present is None else present
            yes = self.vote_counts(f"{where}.yes", values["yes"], voted_ids, in_room,
                                   "voters" if present is None else "members present", who)
            written = self.vote_counts(f"{where}.written", values.get("written", {}), voted_ids,
                                       voters - in_room, "absent members", who)
            if council:
                yes, written = (self.council_members(f"{where}.{key}", counts, council)
                                for key, counts in (("yes", yes), ("written", written)))
            ballots[(title_id, council, round_)] = Ballot(title=title_id, voters=voters, yes=frozen_mapping(yes),
                                                          written=frozen_mapping(written), present=present,
                                                          round=round_, unit=council or None)
            size_at[(title_id, council, round_)] = f"{where}.{size_key}"
        for (title_id, council, round_) in sorted(ballots):
            first = ballots.get((title_id, council, 1))
            of = f" of unit '{council}'" if council else ""
            if round_ == 2 and first is None:
                self.issues.add(path, f"a round-2 ballot for '{title_id}'{of} without a round-1 ballot")
            elif round_ == 2 and first is not None and ballots[(title_id, council, 2)].voters != first.voters:
                # The same council votes in both rounds (ND98 Art. 30 k7: the share is of all its members).
                self.issues.add(size_at[(title_id, council, 2)], f"{ballots[(title_id, council, 2)].voters} members "
                                f"in round 2, {first.voters} in round 1: the same council votes in both rounds")
        self.one_kind_of_council(path, ballots)
        return tuple(ballots[k] for k in sorted(ballots))

    def unit_council(self, where: str, council: str, title_id: str, ids: set[str]) -> bool:
        """Whether a ballot's ``unit`` names a unit of the cluster, for a person's title: a unit's
        own council votes on its members' titles (ND98 Art. 30 k7; see ``councils.py``)."""
        if title_id not in self.person_titles or title_id in self.title_ids:
            self.issues.add(f"{where}.unit", f"a unit's own council votes on its members' titles only; "
                            f"'{title_id}' is not a person title: remove 'unit'")
            return False
        if council not in ids:
            self.issues.add(f"{where}.unit", self.unknown_unit(council, ids))
            return False
        return True

    def council_members(self, path: str, counts: dict[str, int], council: str) -> dict[str, int]:
        """``counts`` without (and reporting) the members of another unit than the council's."""
        for person, unit_id in foreign_members(counts, council, self.cluster_member_units):
            self.issues.add(join_path(path, person), f"member '{person}' is of unit '{unit_id}', not '{council}': "
                            f"give their votes in the ballot of unit '{unit_id}'")
            del counts[person]
        return counts

    def one_kind_of_council(self, path: str, ballots: Mapping[tuple[str, str, int], Ballot]) -> None:
        """A person title is voted on by the cluster's council or by each unit's, not both."""
        kinds: dict[str, set[bool]] = {}
        for title_id, council, _ in ballots:
            kinds.setdefault(title_id, set()).add(bool(council))
        for title_id in sorted(kinds):
            if len(kinds[title_id]) == 2:
                self.issues.add(path, f"title '{title_id}' has a cluster-wide ballot and ballots by unit "
                                "councils: give one or the other")

    def vote_counts(self, path: str, table: Mapping[str, Any], ids: set[str], most: int,
                    who: str, kind: str = "unit") -> dict[str, int]:
        counts: dict[str, int] = {}
        for unit_id, count in table.items():
            key_path = join_path(path, unit_id)
            if unit_id not in ids:
                self.issues.add(key_path, self.unknown_unit(unit_id, ids) if kind == "unit"
                                else f"unknown member '{unit_id}'{did_you_mean(unit_id, ids)}")
            elif (type(count) is int or isinstance(count, Decimal)) and (problem := number_problem(count)):
                self.issues.add(key_path, problem)
            elif isinstance(count, bool) or not isinstance(count, int) or count < 0:
                self.issues.add(key_path, f"expected a count of votes >= 0, got {type_name(count)}")
            elif count > most:
                self.issues.add(key_path, f"{count} yes-votes but only {most} {who}")
            else:
                counts[unit_id] = count
        return counts

    def discipline(self, path: str, items: Any, ids: set[str], year: int) -> tuple[DisciplineRecord, ...]:
        if not isinstance(items, list):
            self.issues.add(path, f"expected an array of tables, got {type_name(items)}")
            return ()
        records = []
        for i, item in enumerate(items):
            where = f"{path}[{i}]"
            values = take(self.issues, where, item, {
                "unit": ("str", True), "level": ("str", True), "from": ("int", True),
                "until": ("int", True), "note": ("str", False), "source": ("str", False)})
            if not values or {"unit", "level", "from", "until"} - set(values):
                continue
            where = f"{where}(unit={values['unit']})"
            if values["unit"] not in ids:
                self.issues.add(f"{where}.unit", self.unknown_unit(values["unit"], ids))
            elif values["from"] > values["until"]:
                self.issues.add(where, f"the period {values['from']}–{values['until']} ends before it starts")
            else:
                records.append(DisciplineRecord(unit=values["unit"], level=values["level"],
                                                start=values["from"], until=values["until"],
                                                note=values.get("note", "")))
        return tuple(sorted(records, key=lambda r: (r.unit, r.start, r.until, r.level)))

    def deferrals(self, path: str, items: Any, ids: set[str]) -> tuple[Deferral, ...]:
        if not isinstance(items, list):
            self.issues.add(path, f"expected an array of tables, got {type_name(items)}")
            return ()
        records: dict[str, Deferral] = {}
        for i, item in enumerate(items):
            where = f"{path}[{i}]"
            values = take(self.issues, where, item, {
                "unit": ("str", True), "reason": ("str", True), "titles": ("str_list", False),
                "note": ("str", False), "source": ("str", False)})
            if not values or {"unit", "reason"} - set(values):
                continue
            unit_id = values["unit"]
            where = f"{where}(unit={unit_id})"
            if unit_id not in ids:
                self.issues.add(f"{where}.unit", self.unknown_unit(unit_id, ids))
                continue
            if unit_id in records:
                self.issues.add(where, f"a second deferral of '{unit_id}'")
                continue
            for j, title_id in enumerate(values.get("titles", [])):
                if title_id not in self.title_ids:
                    self.issues.add(f"{where}.titles[{j}]",
                                    f"unknown title '{title_id}'{did_you_mean(title_id, self.title_ids)}")
            records[unit_id] = Deferral(unit=unit_id, reason=values["reason"],
                                        titles=tuple(sorted(values.get("titles", ()))))
        return tuple(records[u] for u in sorted(records))

    def history(self, path: str, items: Any, ids: set[str], year: int) -> tuple[HistoryRecord, ...]:
        if not isinstance(items, list):
            self.issues.add(path, f"expected an array of tables, got {type_name(items)}")
            return ()
        records: dict[tuple[str, int], HistoryRecord] = {}
        for i, item in enumerate(items):
            where = f"{path}[{i}]"
            values = take(self.issues, where, item, {
                "unit": ("str", True), "year": ("int", True), "band": ("str", False),
                "titles": ("str_list", False), "total": ("number", False), "rank": ("int", False),
                "note": ("str", False), "source": ("str", False)}, extra=self.inputs)
            if not values or {"unit", "year"} - set(values):
                continue
            unit_id, record_year = values["unit"], values["year"]
            where = f"{where}(unit={unit_id})"
            if unit_id not in ids:
                self.issues.add(f"{where}.unit", self.unknown_unit(unit_id, ids))
                continue
            if record_year >= year:
                self.issues.add(f"{where}.year", f"history is for earlier years, {record_year} is not before {year}")
                continue
            if (unit_id, record_year) in records:
                self.issues.add(where, f"a second record of '{unit_id}' for {record_year}")
                continue
            band = values.get("band")
            if band is not None and self.band_ids and band not in self.band_ids:
                self.issues.add(f"{where}.band", f"unknown band '{band}'{did_you_mean(band, self.band_ids)}")
            for j, title_id in enumerate(values.get("titles", [])):
                if title_id not in self.title_ids:
                    self.issues.add(f"{where}.titles[{j}]",
                                    f"unknown title '{title_id}'{did_you_mean(title_id, self.title_ids)}")
            extra_fields = {k: v for k, v in item.items() if k in self.inputs}
            fields, _ = self.fields(where, extra_fields, skip=set(), require=False)
            if "total" in values:
                fields["total"] = Decimal(values["total"])
            if "rank" in values:
                fields["rank"] = Decimal(values["rank"])
            # A history condition reading a value this year does not record would count as false
            # without a word: every record gives what the policy's history conditions read.
            for name, title_id in _history_reads(self.policy).items():
                if name not in item:
                    self.issues.add(where, f"missing '{name}', which title '{title_id}' reads in earlier years; "
                                    "give it in every history record")
            records[(unit_id, record_year)] = HistoryRecord(
                unit=unit_id, year=record_year, band=band, titles=tuple(sorted(values.get("titles", ()))),
                fields=frozen_mapping(fields),
            )
        return tuple(records[k] for k in sorted(records))


def _history_reads(policy: Policy) -> Mapping[str, str]:
    """Each value the conditions of the titles' history functions read in earlier years (besides
    ``titles`` and ``year``, which every record has), with the first title that reads it."""
    def build(p: Policy) -> Mapping[str, str]:
        from ..builtin.titles import WhenCheck

        reads: dict[str, str] = {}
        for title in p.titles:
            for check in title.checks:
                if isinstance(check.run, WhenCheck):
                    for name in check.run.history_reads:
                        if name not in ("titles", "year"):
                            reads.setdefault(name, title.id)
        return MappingProxyType(dict(sorted(reads.items())))

    return plan_for("history-reads", policy, build)


# ---------------------------------------------------------------- per-field converters and row readers


#: The keys of a unit's table besides its inputs (``LINE``: a row's line number).
_UNIT_KEYS = {"id", "name", LINE}


class _LoadPlan:
    """Per policy and kind of file: each input's converter (with its memory of good cell texts)
    and the reader of each row layout seen."""

    def __init__(self, text_values: bool | str) -> None:
        self.text_values = text_values
        #: each field's converter (an equal field, of the people's inputs say, shares it)
        self.converters: dict[InputField, FieldConverter] = {}
        self.readers: dict[Any, _Reader] = {}

    def converter_of(self, field: InputField) -> FieldConverter:
        """:func:`~.convert.field_converter` of ``field``, made once."""
        found = self.converters.get(field)
        if found is None:
            if len(self.converters) >= 4096:  # (fields made on the fly, not the policy's)
                self.converters.clear()
            found = self.converters[field] = field_converter(field, self.text_values)
        return found

    def reader(self, key: Any, make: Any) -> _Reader:
        reader = self.readers.get(key)
        if reader is None:
            if len(self.readers) >= 64:
                self.readers.clear()
            reader = self.readers[key] = make()
        return reader


class _Reader:
    """How the rows of one layout are read: the keys of a table, in order, or the columns of a
    CSV file (``cells``: each row a list of its cells, an empty cell giving no value).

    :meth:`read` converts the value of each input the layout holds, in sorted key order, in one
    generated dict display: a cell text converted before is its remembered value (the
    converter's ``known``), any other value goes through the converter, which notes a problem
    in :attr:`notes` as ``(position, key, message)`` (``""`` for an empty cell). The columns
    that are no plain input (one computed by a plugin, counted from members, or unknown) are
    :attr:`others`, and :attr:`absent` the inputs the layout lacks that need a word or a
    default: :meth:`DataChecker.word_fields` deals with both, and with the notes.
    """

    def __init__(self, plan: _LoadPlan, keys: tuple[Any, ...], inputs: Mapping[str, InputField],
                 skip: Iterable[Any], *, cells: bool) -> None:
        self.cells = cells
        self.inputs = inputs
        self.notes: list[tuple[int, str, str]] = []
        #: names an unknown key may have meant
        self.hints = [*inputs, *(k for k in skip if isinstance(k, str))]
        self.order = {f.id: i for i, f in enumerate(inputs.values())}
        skipped = {*skip, "cluster"} if cells else set(skip)  # (a CSV row's cluster is its group's)
        plain = []
        others = []
        for at, key in enumerate(keys):
            if key in skipped:
                continue
            field = inputs.get(key) if isinstance(key, str) else None
            if field is not None and not field.plugin and field.members is None:
                plain.append((key, at, field))
            else:
                others.append((at, key, field))
        self.others = tuple(others)
        given = set(keys) - ({"cluster"} if cells else set())
        self.absent = tuple(f for f in inputs.values()
                            if f.id not in given and not f.plugin and (f.default is not None or f.required))
        #: no column and no missing input to look at: only the notes can hold a problem
        self.plain = not self.others and not self.absent
        self.read = self._reader(plan, sorted(plain), keys)

    def _reader(self, plan: _LoadPlan, plain: list[tuple[str, int, InputField]], keys: tuple[Any, ...]) -> Any:
        """``read(row)``: only the number of inputs and whether rows are cells reach the
        generated source; keys, positions, memories and converters are bound under generated
        names (``K0``, ``A0``, ``C0``, ``G0``…)."""
        self._plan, self._plain = plan, plain
        parts = []
        for i in range(len(plain)):
            if self.cells:
                parts.append(f"K{i}: C{i}[v{i}] if (v{i} := row[A{i}]) in C{i} else G{i}(v{i})")
            else:
                parts.append(f"K{i}: G{i}(row[K{i}])")
        source = f"def read(row):\n    return {{{', '.join(parts)}}}\n"
        made = define(source, f"<row reader of {len(keys)} keys>", "read", self._names(self.notes))
        if made is None:
            raise MemoryError("the row reader of so many inputs cannot be compiled")
        return made

    def _names(self, notes: list[tuple[int, str, str]]) -> dict[str, Any]:
        """What the generated ``read`` refers to, its converters noting problems in ``notes``."""
        names: dict[str, Any] = {}
        for i, (key, at, field) in enumerate(self._plain):
            converter = self._plan.converter_of(field)
            names[f"K{i}"], names[f"G{i}"] = key, _noting(converter, key, at, notes, cells=self.cells)
            if self.cells:
                names[f"A{i}"], names[f"C{i}"] = at, converter.known
        return names

    def for_one_load(self) -> _Reader:
        """This reader with notes of its own, for one load: the policy's reader (its generated
        code, its converters and their memories) is shared by every load with the policy, in
        any thread, but the problems a load notes are that load's alone."""
        own = object.__new__(_Reader)
        own.__dict__.update(self.__dict__)
        own.notes = []
        namespace = {**self.read.__globals__, **self._names(own.notes)}
        own.read = FunctionType(self.read.__code__, namespace, "read")
        return own


def _noting(converter: FieldConverter, key: str, at: int, notes: list[tuple[int, str, str]], *,
            cells: bool) -> Any:
    """``converter`` giving just the value, and noting a problem (or, for a row of cells, an
    empty cell) in ``notes``; for a row of cells, of a text its ``known`` does not hold."""
    if cells:
        parse, known = converter.parse, converter.known

        def cell(raw: str) -> Value:
            if not raw:
                notes.append((at, key, ""))
                return ""
            value, problem = parse(raw)
            if problem:
                notes.append((at, key, problem))
            elif len(known) < KNOWN_MAX:  # (remember(), inline: a cell here is never empty)
                known[kept(raw)] = value
            return value

        return cell

    convert = converter.convert

    def value_of(raw: Any) -> Value:
        value, problem = convert(raw)
        if problem:
            notes.append((at, key, problem))
        return value

    return value_of


#: The plan of each kind of file (``text_values``): a decimal-comma file's cells are remembered
#: apart from a comma-separated file's (``1,5`` is 1.5 in one and no number in the other).
_PLAN_NAMES = {False: "data", True: "data-text", DECIMAL_COMMA: "data-text-comma"}


def _load_plan(policy: Policy, text_values: bool | str) -> _LoadPlan:
    return plan_for(_PLAN_NAMES[text_values], policy, lambda p: _LoadPlan(text_values))
