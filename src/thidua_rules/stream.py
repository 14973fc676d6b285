"""Streaming evaluation: CSV / JSON-lines units sorted by cluster → JSON lines, one cluster at a time.

Memory is bounded by the largest cluster (plus one id per unit, to catch an id used in two
clusters), whatever the size of the file. Clusters may be evaluated in parallel processes
(``jobs``); results are written in cluster order, so the output bytes do not depend on ``jobs``.
The output is byte for byte what ``--format jsonl`` gives for the same data loaded in memory,
and an error gives the same lines as the in-memory path.
"""

from __future__ import annotations

import contextlib
import csv
import gc
import hashlib
import io
import itertools
import multiprocessing
import os
import stat
import sys
import time
from collections import deque
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, Any, TypedDict

import attrs

from .decimals import engine_context
from .engine import Result, evaluate_cluster
from .errors import Issue, PolicyError, ThiduaError
from .loader import rows as rows_module
from .loader.common import UNIT_ID, Issues, binary_problem, item_path, not_utf8, open_stream
from .loader.data import FORMATS, DataChecker
from .loader.digest import canonical_cluster_text
from .loader.rows import (
    LINE,
    CsvRow,
    CsvRows,
    cap_repeats,
    csv_delimiter,
    csv_layout,
    cut_off,
    repeated_columns,
    text_values_of,
    unit_column,
    unit_header,
)
from .model import Policy
from .plugins import engine_version
from .report.jsonlines import HEADER, cluster_bytes, provenance_line, provenance_of

#: Formats that can be streamed (one unit per row or line).
STREAMABLE = ("csv", "jsonl")
#: Clusters are handed to a worker in batches of about this many units (fewer round trips).
BATCH_UNITS = 512

Row = dict[Any, Any]


class StreamError(ThiduaError):
    """A failure reported by a worker process, as the lines the CLI prints."""

    def __init__(self, lines: list[str]) -> None:
        self._lines = list(lines)
        super().__init__("\n".join(self._lines))

    def lines(self) -> list[str]:
        return list(self._lines)


@attrs.frozen(kw_only=True)
class StreamSummary:
    clusters: int
    units: int
    data_sha256: str


# ---------------------------------------------------------------- reading rows


def _syntax(file: str, message: str, line: int | None = None, column: int | None = None) -> PolicyError:
    return PolicyError([Issue(file=file, message=message, line=line, column=column)])


def _bad_line(handle: IO[bytes]) -> int | None:
    """The first line of ``handle``'s file that is not UTF-8: the line the in-memory loader
    names (a UTF-8 sequence never spans a line end), read again from the start (``None`` for a
    pipe, which cannot be)."""
    try:
        handle.seek(0)
    except OSError:
        return None
    for number, raw in enumerate(handle, start=1):
        try:
            raw.decode("utf-8")
        except UnicodeDecodeError:
            return number
    return 1  # pragma: no cover - the decoder failed on these bytes


@contextlib.contextmanager
def _csv_errors(file: str, rows: CsvRows, handle: IO[bytes]) -> Iterator[None]:
    """A CSV syntax or decoding error as the one line the loader gives, at ``rows``' line."""
    try:
        yield
    except csv.Error as exc:
        raise _syntax(file, f"CSV syntax: {exc}", rows.line_num) from None
    except UnicodeDecodeError:
        raise not_utf8(file, _bad_line(handle), "csv") from None


def _text(handle: IO[bytes]) -> io.TextIOWrapper:
    # ``newline=""`` splits lines exactly as the in-memory loader's ``io.StringIO(newline="")``.
    return io.TextIOWrapper(handle, encoding="utf-8-sig", newline="")


def _ends_a_line(handle: IO[bytes]) -> bool:
    """Whether the file's last byte ends a line (or the file is empty)."""
    try:
        if handle.seek(0, os.SEEK_END) == 0:  # (read to its end already: the position is free)
            return True
    except OSError:  # a pipe: its end cannot be looked at again
        return True
    handle.seek(-1, os.SEEK_END)
    return handle.read(1) in (b"\n", b"\r")


def _lines(text: io.TextIOWrapper, file: str, handle: IO[bytes], known: Callable[[str], bool] | None,
           delimiter: str | None) -> tuple[Iterator[str], str]:
    """The lines of ``text`` and the file's delimiter (``delimiter``, or the loader's
    :func:`~thidua_rules.loader.rows.csv_delimiter` of the first line, read ahead: a pipe
    cannot be read twice)."""
    try:
        first = text.readline()
    except UnicodeDecodeError:
        raise not_utf8(file, _bad_line(handle), "csv") from None
    if delimiter is None:
        delimiter = csv_delimiter(first.rstrip("\r\n"), known)
    return (itertools.chain((first,), text) if first else iter(text)), delimiter


class CsvCells:
    """The data rows of a CSV file, as lists of cells, with their line numbers: the streaming
    driver only needs each row's cluster and unit id, and leaves the row's cells to the process
    that checks it. The rules are the in-memory loader's (``rows._csv_clusters``): the header
    names each column once (a repeated name is refused), blank rows and rows of empty cells are
    skipped, a row with more cells than the header is a syntax error, and a last row cut short
    without a line end says the file looks cut off."""

    def __init__(self, handle: IO[bytes], file: str,
                 fix_header: Callable[[list[str]], list[str]] | None = None,
                 known: Callable[[str], bool] | None = None) -> None:
        self.file = file
        self.handle = handle
        self.text = _text(handle)
        lines, self.delimiter = _lines(self.text, file, handle, known, None)
        self.rows = CsvRows(csv.reader(lines, delimiter=self.delimiter, strict=True), header=fix_header)
        with _csv_errors(file, self.rows, handle):
            header = self.rows.read_header()
        if header is not None and fix_header is None:
            repeated_columns(header, file)  # (the driver's ``fix_header`` refuses them itself)
        #: the columns; empty for an empty file
        self.header: tuple[str, ...] = () if header is None else tuple(header)

    def groups(self, row_issues: list[Issue],
               found: dict[str, Any] | None = None) -> Iterator[tuple[str, list[tuple[int, Any]]]]:
        """:func:`cluster_groups` of the rows, each row a list of cells."""
        return _grouped(self._keyed(), self.file, row_issues, found)

    def _keyed(self) -> Iterator[tuple[int, str, list[str]]]:
        """``(line, cluster id, cells)`` of each row (``""`` for a row without a cluster)."""
        rows = self.rows
        width = len(self.header)
        at = self.header.index("cluster") if "cluster" in self.header else width
        row: list[str] = []
        with _csv_errors(self.file, rows, self.handle):
            for row in rows.cells():
                if len(row) > width:
                    raise _syntax(self.file, "more cells than header columns", rows.line_num)
                cluster_id = row[at] if at < len(row) else ""
                if cluster_id or any(row):  # a row of empty cells (``,,,``) is a blank row
                    yield rows.line_num, cluster_id, row
        if row and len(row) < width and not _ends_a_line(self.handle):
            raise cut_off(self.file, rows.line_num, len(row), width)

    def close(self) -> None:
        self.text.close()


#: The loader's JSON-lines reader: one reader for both paths (the same rows, lines and errors).
jsonl_rows = rows_module.jsonl_rows


def cluster_groups(rows: Iterator[tuple[int, Row]], file: str, row_issues: list[Issue],
                   found: dict[str, Any] | None = None) -> Iterator[tuple[str, list[tuple[int, Row]]]]:
    """Consecutive rows of one cluster, cluster by cluster; the file must be sorted by cluster id.

    A row without a cluster is reported in ``row_issues`` (as the in-memory loader does) and
    skipped. A cluster id lower than the one before is an error: streaming cannot reorder.
    """
    return _grouped(((line, row.pop("cluster", None), row) for line, row in rows), file, row_issues, found)


def _grouped(keyed: Iterator[tuple[int, Any, Any]], file: str, row_issues: list[Issue],
             found: dict[str, Any] | None = None) -> Iterator[tuple[str, list[tuple[int, Any]]]]:
    """:func:`cluster_groups` of ``(line, cluster id, row)`` triples; ``found``: the header's
    ``quiet`` columns (a missing ``cluster`` column is said once, on the header)."""
    current: str | None = None
    group: list[tuple[int, Any]] = []
    for line, cluster_id, row in keyed:
        if not isinstance(cluster_id, str) or not cluster_id:
            if found is not None and "cluster" in found["quiet"]:
                continue
            row_issues.append(Issue(file=file, line=line,
                                    message="missing 'cluster' (the id of the unit's cluster)"))
            continue
        if cluster_id == current:
            group.append((line, row))
            continue
        if current is not None:
            if cluster_id < current:
                raise _syntax(file, f"cluster '{cluster_id}' comes after cluster '{current}': streaming "
                              "needs the rows sorted by cluster id (sort the file by its 'cluster' "
                              "column, or write --format json)", line)
            yield current, group
        current, group = cluster_id, [(line, row)]
    if current is not None:
        yield current, group


# ---------------------------------------------------------------- evaluating one batch


@attrs.frozen
class _Task:
    index: int                      # of the first cluster, in file (= id) order
    # id, (line, row) pairs, ids used by earlier clusters; the line is put under the loader's
    # LINE key only in the process that checks the rows (the key is an object, not picklable).
    clusters: tuple[tuple[str, tuple[tuple[int, Any], ...], frozenset[str]], ...]
    evaluate: bool
    header: tuple[str, ...] | None = None   # rows are CSV cells under this header (CsvCells)
    quiet: frozenset[str] = frozenset()     # CSV columns whose problem the header gives


@attrs.frozen
class _Done:
    issues: tuple[Issue, ...]
    failure: tuple[str, ...]        # lines of the first run-time error, if any
    # UTF-8 bytes: made once in the worker, then passed, hashed and written as they are
    text: bytes                     # cluster and unit records
    digests: tuple[bytes, ...]      # canonical text of each cluster, for the data digest
    units: int


def run_task(policy: Policy, file: str, text_values: bool | str, task: _Task) -> _Done:
    """Check and evaluate the clusters of one task; never raises a ThiduaError. In the engine's
    decimal context, whatever the caller's thread has (``--jobs 1`` runs in the caller's)."""
    with engine_context():
        return _run_task(policy, file, text_values, task)


def _run_task(policy: Policy, file: str, text_values: bool | str, task: _Task) -> _Done:
    issues = Issues(file)
    out: list[bytes] = []
    digests: list[bytes] = []
    units = 0
    failure: tuple[str, ...] = ()
    for offset, (cluster_id, rows, taken) in enumerate(task.clusters):
        checker = DataChecker(policy, issues, text_values=text_values)
        checker.unit_ids = set(taken)
        checker.quiet = task.quiet
        header = task.header
        unit_rows: list[Any]
        if header is None:
            unit_rows = []
            for line, row in rows:
                unit = dict(row)
                unit[LINE] = line
                unit_rows.append(unit)
        else:  # cells under a header naming each column once: the rows' dicts are made if needed
            checker.layout = csv_layout(policy, header)
            unit_rows = [CsvRow(line, row) for line, row in rows]
        meta = {"id": cluster_id, "units": unit_rows}
        before = len(issues.items)
        cluster = checker.cluster(item_path("clusters", task.index + offset, meta), meta, meta, nested=True)
        if cluster is None or len(issues.items) != before:
            continue
        digests.append(canonical_cluster_text(cluster).encode("utf-8"))
        units += len(cluster.units)
        if not task.evaluate or failure or issues:
            continue
        try:
            result = evaluate_cluster(policy, cluster)
            out.append(cluster_bytes(policy, result))
        except ThiduaError as exc:
            failure = tuple(exc.lines())
    return _Done(issues=tuple(issues.items), failure=failure, text=b"".join(out),
                 digests=tuple(digests), units=units)


_WORKER: dict[str, Any] = {}


def _init_worker(policy_bytes: bytes, policy_file: str, data_file: str, text_values: bool | str) -> None:
    import signal

    from .loader import parse_policy

    # Ctrl-C reaches every process of the terminal's group: the parent alone reports it and stops
    # the workers. A plugin printing to stdout must not mix its text into the parent's output.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    sys.stdout = sys.stderr
    # A worker is a process of the engine's own (spawned, not the caller's): its collector is
    # off, as the command's is (cli.console), since checking and evaluating make no cycles.
    gc.disable()
    # The policy's own path, so that its relative `extends` resolve as in the parent.
    _WORKER.update(policy=parse_policy(policy_bytes, file=policy_file, path=policy_file), file=data_file,
                   text_values=text_values)


def _work(task: _Task) -> _Done:
    return run_task(_WORKER["policy"], _WORKER["file"], _WORKER["text_values"], task)


# ---------------------------------------------------------------- driving the run


class Progress:
    """A one-line progress display on stderr, redrawn at most 5 times a second."""

    def __init__(self, stream: IO[str], total_bytes: int) -> None:
        self.stream = stream
        self.total = total_bytes
        self.start = self.last = time.monotonic()
        self.shown = False

    def update(self, units: int, clusters: int, position: int) -> None:
        now = time.monotonic()
        if now - self.last < 0.2:
            return
        self.last = now
        share = f"{100 * position / self.total:5.1f}% " if self.total else ""
        rate = units / max(now - self.start, 1e-9)
        self.stream.write(f"\r{share}{units:,} units, {clusters:,} clusters, {rate:,.0f} units/s ")
        self.stream.flush()
        self.shown = True

    def close(self) -> None:
        if self.shown:
            self.stream.write("\r\033[K")
            self.stream.flush()


def evaluate_stream(
    policy: Policy,
    data_path: str | Path,
    out: IO[str] | IO[bytes],
    *,
    display: str | None = None,
    format: str | None = None,
    jobs: int = 1,
    policy_bytes: bytes | None = None,
    progress: Progress | Callable[[int], Progress] | None = None,
) -> StreamSummary:
    """Evaluate a CSV or JSON-lines unit file sorted by cluster and write JSON lines to ``out``,
    a text file or a binary one (which takes UTF-8 bytes: faster, the same bytes).

    :param jobs: worker processes (``1``: in this process); needs ``policy_bytes`` above 1, the
        policy file's bytes, which each worker compiles again.
    :raises PolicyError: every data problem of the file (after reading all of it), or a syntax
        error or unsorted clusters (at once).
    :raises ThiduaError: the first run-time failure in cluster order, if the data is clean.
    """
    shown = display or str(data_path)
    across = [t.id for t in policy.titles if t.across is not None]
    if across:
        raise PolicyError([Issue(file=policy.file, path=f"titles(id={across[0]}).across_clusters",
                                 message="a quota across clusters needs every cluster at once, "
                                 "so it cannot be streamed: evaluate without --jobs / JSON lines output")])
    kind = format or FORMATS.get(Path(data_path).suffix.lower())
    if kind not in STREAMABLE:
        raise PolicyError([Issue(file=shown, message="only .csv and .jsonl unit files can be streamed")])
    handle = open_stream(data_path, shown)  # closed below
    with handle:
        start = os.fstat(handle.fileno())
        size = start.st_size
        try:
            head = os.pread(handle.fileno(), 8, 0)
        except OSError:  # a pipe: not looked at ahead
            head = b""
        problem = binary_problem(head, kind)
        if problem is not None:
            raise PolicyError([Issue(file=shown, message=problem)])
        bar = progress(size) if callable(progress) else progress
        watch = os.dup(handle.fileno())  # the file read, looked at after the rows (which close it)

        def unchanged() -> None:
            _unchanged(data_path, watch, start, shown)
        # The header's problems, said once for the file (as the loader does), when it is read.
        found: dict[str, Any] = {"issues": [], "quiet": frozenset()}

        def header(cells: list[str]) -> list[str]:
            fixed = unit_header(policy, cells, shown)
            layout = csv_layout(policy, tuple(fixed))
            found["issues"][:] = layout.issues(shown)
            found["quiet"] = layout.quiet
            return fixed

        try:
            rows: Any = None
            text_values: bool | str = False
            if kind == "csv":
                rows = CsvCells(handle, shown, header, unit_column(policy))
                text_values = text_values_of(rows.delimiter)
            if rows is None:
                rows = jsonl_rows(handle, shown)
            try:
                return _run(policy, rows, handle, shown, text_values, out, jobs, policy_bytes, bar, found,
                            unchanged)
            finally:
                rows.close()
        except ThiduaError:
            unchanged()  # a file that changed while it was read: that, not what it made the rows say
            raise
        finally:
            os.close(watch)
            if bar is not None:
                bar.close()


def _unchanged(path: str | Path, fd: int, start: os.stat_result, file: str) -> None:
    """Fail when the file was cut, grown, rewritten or replaced while it was read: the rows read
    would be a complete-looking part of it."""
    now = os.fstat(fd)
    if not stat.S_ISREG(start.st_mode):  # a pipe or a device: no size or identity to compare
        return
    try:
        named = os.stat(path)
    except OSError:
        named = None
    if named is None or (named.st_dev, named.st_ino) != (start.st_dev, start.st_ino):
        message = "the file was replaced or removed while it was read; run again on the finished file"
    elif now.st_size != start.st_size or now.st_mtime_ns != start.st_mtime_ns:
        message = (f"the file changed while it was read ({start.st_size:,} bytes at the start, "
                   f"{now.st_size:,} at the end); run again on the finished file")
    else:
        return
    raise PolicyError([Issue(file=file, message=message)])


class _RunState(TypedDict):
    """What :func:`_run` gathers from the finished tasks, in submission order."""

    issues: list[Issue]
    failure: tuple[str, ...]  # the first task failure's lines
    clusters: int
    units: int
    first: bool  # no cluster hashed yet


def _run(policy: Policy, rows: Iterator[tuple[int, Row]] | CsvCells, handle: IO[bytes], file: str,
         text_values: bool | str, out: IO[str] | IO[bytes], jobs: int, policy_bytes: bytes | None,
         bar: Progress | None, found: dict[str, Any], unchanged: Callable[[], None]) -> StreamSummary:
    row_issues: list[Issue] = found["issues"]  # the header's problems first, as the loader gives them
    header = None
    groups: Iterator[tuple[str, list[tuple[int, Any]]]]
    if isinstance(rows, CsvCells):
        groups, header = rows.groups(row_issues, found), rows.header
        at = header.index("id") if "id" in header else len(header)
    else:
        groups = cluster_groups(rows, file, row_issues, found)
    digest = hashlib.sha256(b"[")
    state: _RunState = {"issues": [], "failure": (), "clusters": 0, "units": 0, "first": True}
    seen_ids: set[str] = set()
    write_text, write_utf8 = _writers(out)
    write_text(HEADER)

    def tasks() -> Iterator[_Task]:
        index = 0
        batch: list[tuple[str, tuple[tuple[int, Row], ...], frozenset[str]]] = []
        size = 0
        for cluster_id, group in groups:
            if header is None:
                ids = [r["id"] for _, r in group if isinstance(r.get("id"), str) and UNIT_ID.fullmatch(r["id"])]
            else:  # cells: an empty id cell is no id (the loader leaves empty cells out)
                ids = [r[at] for _, r in group if at < len(r) and UNIT_ID.fullmatch(r[at])]
            taken = frozenset(i for i in ids if i in seen_ids)
            seen_ids.update(ids)
            batch.append((cluster_id, tuple(group), taken))
            size += len(group)
            if size >= BATCH_UNITS:
                yield _Task(index, tuple(batch), not (row_issues or state["issues"] or state["failure"]),
                            header, found["quiet"])
                index += len(batch)
                batch, size = [], 0
        if batch:
            yield _Task(index, tuple(batch), not (row_issues or state["issues"] or state["failure"]), header,
                        found["quiet"])

    def take(done: _Done) -> None:
        state["issues"].extend(done.issues)
        if done.failure and not state["failure"]:
            state["failure"] = done.failure
        if not (row_issues or state["issues"] or state["failure"]):
            write_utf8(done.text)
        for text in done.digests:
            if not state["first"]:
                digest.update(b",")
            digest.update(text)
            state["first"] = False
        state["clusters"] += len(done.digests)
        state["units"] += done.units
        if bar is not None:
            bar.update(state["units"], state["clusters"], handle.tell())

    if jobs <= 1:
        for task in tasks():
            take(run_task(policy, file, text_values, task))
    else:
        if policy_bytes is None:
            raise ValueError("jobs > 1 needs the policy file's bytes")
        context = multiprocessing.get_context("spawn")
        with _workers_ignore_sigint():
            pool = context.Pool(jobs, initializer=_init_worker, initargs=(policy_bytes, policy.file, file, text_values))
        with pool:
            # A bounded window of tasks in flight keeps memory bounded; results are taken in
            # submission order, so the output does not depend on which worker finishes first.
            window: deque[Any] = deque()
            for task in tasks():
                window.append(pool.apply_async(_work, (task,)))
                if len(window) >= 2 * jobs + 2:
                    take(window.popleft().get())
            while window:
                take(window.popleft().get())
    unchanged()  # before any error from the rows: they may be a part of the file
    if row_issues or state["issues"]:
        raise PolicyError(cap_repeats([*row_issues, *state["issues"]]))
    if state["failure"]:
        raise StreamError(list(state["failure"]))
    digest.update(b"]")
    sha = digest.hexdigest()
    result = Result(engine_version=engine_version(), policy=policy, data_file=file, data_sha256=sha,
                    plugins=policy.plugin_info, clusters=())
    write_text(provenance_line(provenance_of(result), state["clusters"], state["units"]))
    return StreamSummary(clusters=state["clusters"], units=state["units"], data_sha256=sha)


@contextlib.contextmanager
def _workers_ignore_sigint() -> Iterator[None]:
    """Start the workers with SIGINT ignored (an ignored signal stays ignored in a spawned
    process), so that a Ctrl-C while one is still starting gives no traceback from it."""
    import signal
    import threading

    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def _writers(out: IO[str] | IO[bytes]) -> tuple[Callable[[str], Any], Callable[[bytes], Any]]:
    """``(write_text, write_utf8)`` for ``out``: a binary file takes the workers' UTF-8 bytes as
    they are; a text file takes text (the bytes decoded)."""
    if isinstance(out, io.BufferedIOBase | io.RawIOBase):
        binary: Any = out
        return (lambda text: binary.write(text.encode("utf-8"))), binary.write
    text_out: Any = out
    return text_out.write, (lambda data: text_out.write(data.decode("utf-8")))


def write_stream_atomic(path: str | Path, run: Callable[[IO[bytes]], StreamSummary]) -> StreamSummary:
    """Run ``run(handle)`` writing to a temporary file beside ``path``; rename it over ``path``
    on success, delete it on any failure."""
    from .report.writers import atomic_output

    with atomic_output(path, buffering=1 << 20, binary=True) as handle:
        return run(handle)


def progress_for(stream: IO[str] = sys.stderr) -> Callable[[int], Progress] | None:
    """A progress display factory when ``stream`` is a terminal, else ``None``."""
    try:
        interactive = stream.isatty()
    except (AttributeError, ValueError):
        interactive = False
    return (lambda total: Progress(stream, total)) if interactive else None
