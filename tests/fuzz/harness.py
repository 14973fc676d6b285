"""Runs ``thidua_rules.cli.main`` in-process on a copy of the shipped inputs and checks the CLI contract.

The contract (docs/cli.md, the error lines): exit 0 or 2 (1 for failing ``thidua test`` cases); no exception and
no traceback; every stderr line is one bounded line (an error line, or a ``    | `` caret line under
an expression error) with no control characters; nothing on stdout and no output file on exit 2;
valid JSON on stdout for ``-f json``; and an answer within :data:`TIME_LIMIT` seconds.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import pickle
import re
import select
import shutil
import signal
import time
import traceback
import warnings
from collections.abc import Sequence
from pathlib import Path

import attrs

ROOT = Path(__file__).resolve().parent.parent.parent
#: Seconds one command may take before the example counts as a hang.
TIME_LIMIT = float(os.environ.get("THIDUA_FUZZ_TIME_LIMIT", "5"))
#: Longest stderr line accepted (issue #10: error lines are bounded, e.g. 300 characters).
LINE_LIMIT = 400
CONTROL = {chr(c) for c in range(32) if c != 9} | {"\x7f"}


class Hang(BaseException):
    """Raised by the alarm: a BaseException so that no ``except Exception`` in the engine hides it."""


@attrs.frozen
class Run:
    """What one command did. An escaping exception is kept by name, message and frames (the run
    happens in a forked child, so the exception object itself stays there)."""

    argv: tuple[str, ...]
    code: int | None
    out: str
    err: str
    exception: str | None = None  # "hang", or the exception's class name
    exception_bases: tuple[str, ...] = ()  # names of its classes, most derived first
    message: str = ""
    frames: tuple[str, ...] = ()  # "file:function" from the outermost frame in
    trace: str = ""


@attrs.frozen
class Violation:
    """One broken promise of the contract."""

    kind: str  # exception, hang, exit-code, traceback, long-line, control-char, stray-line,
    #            stdout-on-error, silent-error, file-on-error, file-missing, bad-json
    detail: str
    run: Run
    input: bytes = b""  # the mutated file, when a fuzz example found it

    def describe(self) -> str:
        text = f"{self.kind}: {self.detail}\n  argv: {' '.join(self.run.argv)}\n  exit: {self.run.code}"
        if self.run.trace:
            text += "\n" + "\n".join(self.run.trace.rstrip().splitlines()[-12:])
        return text + f"\n  stderr: {self.run.err[:1500]!r}"


def _on_alarm(signum: int, frame: object) -> None:
    raise Hang(f"no answer within {TIME_LIMIT:g} s")


def _in_child(argv: Sequence[str], cwd: Path) -> dict[str, object]:
    from thidua_rules.cli import main

    out_bytes, err_bytes = io.BytesIO(), io.BytesIO()
    out = io.TextIOWrapper(out_bytes, encoding="utf-8", newline="\n", write_through=True)
    err = io.TextIOWrapper(err_bytes, encoding="utf-8", newline="\n", write_through=True)
    result: dict[str, object] = {"code": None}
    os.chdir(cwd)
    signal.signal(signal.SIGALRM, _on_alarm)
    signal.setitimer(signal.ITIMER_REAL, TIME_LIMIT)
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            result["code"] = main(list(argv))
    except SystemExit as exc:  # argparse's own errors: `thidua` exits with this code too
        result["code"] = exc.code if isinstance(exc.code, int) else 1
    except BaseException as exc:  # noqa: BLE001 - every escaping exception breaks the contract
        result["exception"] = "hang" if isinstance(exc, Hang) else type(exc).__name__
        result["exception_bases"] = tuple(c.__name__ for c in type(exc).__mro__)
        result["message"] = str(exc)[:2000]
        result["frames"] = tuple(f"{f.filename}:{f.name}" for f in traceback.extract_tb(exc.__traceback__))
        result["trace"] = "".join(traceback.format_exception(exc))[-6000:]
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
    result["out"] = out_bytes.getvalue().decode("utf-8", "replace")
    result["err"] = err_bytes.getvalue().decode("utf-8", "replace")
    return result


def run_cli(argv: Sequence[str], cwd: Path) -> Run:
    """``main(argv)`` in ``cwd``, in a forked child (the engine as imported here, no new interpreter),
    with stdout and stderr captured as UTF-8 text.

    The child's own alarm turns a slow Python loop into a ``Hang`` with its traceback; the parent
    kills a child stuck in one long C call (a 10**999999 in Decimal) 2 s after the time limit.
    """
    read_end, write_end = os.pipe()
    with warnings.catch_warnings():
        # Python 3.12+ warns about fork() when threads exist (a thread pool left by another test);
        # the child only runs the engine and leaves with os._exit, so no lock is needed there.
        warnings.simplefilter("ignore", DeprecationWarning)
        pid = os.fork()
    if pid == 0:  # the child: run, send the result, leave without running the parent's cleanup
        status = 0
        try:
            os.close(read_end)
            payload = pickle.dumps(_in_child(argv, cwd))
            with os.fdopen(write_end, "wb") as pipe:
                pipe.write(payload)
        except BaseException:  # noqa: BLE001
            status = 70
        finally:
            os._exit(status)
    os.close(write_end)
    chunks: list[bytes] = []
    deadline = time.monotonic() + TIME_LIMIT + 2
    with os.fdopen(read_end, "rb", buffering=0) as pipe:
        while True:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([pipe], [], [], left)[0]:
                os.kill(pid, signal.SIGKILL)
                os.waitpid(pid, 0)
                return Run(tuple(argv), None, "", "", "hang", ("hang",), f"killed after {TIME_LIMIT + 2:g} s")
            chunk = pipe.read(1 << 16)
            if not chunk:
                break
            chunks.append(chunk)
    os.waitpid(pid, 0)
    result = pickle.loads(b"".join(chunks))
    return Run(tuple(argv), result["code"], result["out"], result["err"], result.get("exception"),
               result.get("exception_bases", ()), result.get("message", ""), result.get("frames", ()),
               result.get("trace", ""))


#: The head of a multi-line expression's caret display (errors.caret_display).
CARET_HEAD = re.compile(r"    line \d+ of the expression:")


def violations(run: Run, *, allowed: Sequence[int] = (0, 2), output: Path | None = None,
               json_out: bool = False, before: Sequence[str] | None = None,
               streamed: bool = False) -> list[Violation]:
    """Every way ``run`` broke the contract (empty if it kept it)."""
    found: list[Violation] = []

    def add(kind: str, detail: str) -> None:
        found.append(Violation(kind, detail, run))

    if run.exception == "hang":
        add("hang", run.message)
        return found
    if run.exception is not None:
        add("exception", f"{run.exception}: {run.message[:200]}")
        return found
    if run.code not in allowed:
        add("exit-code", f"exit {run.code}, expected one of {list(allowed)}")
    if "Traceback (most recent call last)" in run.err:
        add("traceback", "a traceback on stderr")
    lines = run.err.split("\n")
    if lines[-1] == "":
        lines.pop()
    for line in lines:
        if len(line) > LINE_LIMIT:
            add("long-line", f"a stderr line of {len(line)} characters")
            break
        if CONTROL & set(line):
            add("control-char", f"control character in {line[:120]!r}")
            break
        if not (line.startswith("    | ") or CARET_HEAD.fullmatch(line) or ": " in line):
            add("stray-line", f"not an error line: {line[:120]!r}")
            break
    if run.code == 2:
        # A stream to stdout (``-f jsonl`` on CSV / JSON lines) is written as it goes, so a bad row
        # found later leaves the records before it; it then has no closing provenance record, which is how a
        # reader tells. With ``-o`` nothing may be left (checked below).
        if run.out and not streamed:
            add("stdout-on-error", f"stdout on exit 2: {run.out[:120]!r}")
        if not run.err.strip():
            add("silent-error", "exit 2 with nothing on stderr")
    if output is not None:
        listing = sorted(p.name for p in output.parent.iterdir())
        if run.code == 2 and output.exists():
            add("file-on-error", f"{output.name} written although the run failed")
        if before is not None and run.code == 2 and listing != sorted(before):
            add("file-on-error", f"files left beside the output: {sorted(set(listing) - set(before))}")
        if run.code == 0 and not output.exists():
            add("file-missing", f"exit 0 but {output.name} not written")
    if json_out and run.code == 0 and output is None:
        try:
            json.loads(run.out)
        except ValueError as exc:
            add("bad-json", f"stdout is not JSON: {exc}")
    return found


def copy_tree(target: Path) -> Path:
    """The shipped policies/ and examples/ under ``target``, plus the example data in every format."""
    import csv
    import tomllib

    for folder in ("policies", "examples"):
        shutil.copytree(ROOT / folder, target / folder)
    data = tomllib.loads((ROOT / "examples" / "cum8-2022" / "units.toml").read_text(encoding="utf-8"))
    folder = target / "examples" / "cum8-2022"
    plain = {"cluster": data["cluster"], "units": data["units"]}
    (folder / "units.json").write_text(json.dumps(plain, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    rows = [{"cluster": data["cluster"]["id"], **unit} for unit in data["units"]]
    with (folder / "units.jsonl").open("w", encoding="utf-8") as handle:
        handle.writelines(json.dumps(row, ensure_ascii=False) + "\n" for row in rows)
    with (folder / "units.csv").open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]), lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    return target
