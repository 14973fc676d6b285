"""Command line: `thidua evaluate | validate | explain`; exit 0 on success, 2 on any user error."""

from __future__ import annotations

import argparse
import gc
import sys
from collections.abc import Sequence
from typing import IO, TYPE_CHECKING

from .errors import ThiduaError
from .plugins import engine_version

if TYPE_CHECKING:
    from .model import Policy
    from .stream import StreamSummary

EXIT_OK = 0
EXIT_USER_ERROR = 2


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        self.print_usage(sys.stderr)
        sys.stderr.write(f"{self.prog}: error: {message}\n")
        raise SystemExit(EXIT_USER_ERROR)


def build_parser() -> argparse.ArgumentParser:
    from .report import FORMATS

    parser = _Parser(prog="thidua", description="Score, rank and propose emulation titles from a TOML policy.")
    parser.add_argument("--version", action="version", version=f"thidua_rules {engine_version()}")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    ev = commands.add_parser("evaluate", help="evaluate a policy on unit data and write the result")
    ev.add_argument("policy", help="policy TOML file")
    ev.add_argument("data", help="unit data: .toml, .json, .csv or .jsonl")
    ev.add_argument("--format", "-f", choices=sorted(FORMATS), default="table", help="output format (default: table)")
    ev.add_argument("-o", "--output", help="write to this file (atomically) instead of standard output")
    ev.add_argument("--data-format", choices=["toml", "json", "csv", "jsonl"], help="override the data file type")
    ev.add_argument("--members", help="members file (.csv, .toml, .json, .jsonl): people's records, "
                    "from which the policy's [people] titles and member-derived unit inputs are decided")
    ev.add_argument("--jobs", "-j", type=_jobs, default=1, metavar="N",
                    help="with --format jsonl: evaluate clusters in N processes (0: one per core); "
                         "the output does not depend on N")

    va = commands.add_parser("validate", help="check a policy (and optionally data) without evaluating")
    va.add_argument("policy")
    va.add_argument("data", nargs="?")
    va.add_argument("--data-format", choices=["toml", "json", "csv", "jsonl"])
    va.add_argument("--members", help="members file, checked with the data")

    te = commands.add_parser("test", help="run the test cases kept beside policies (*.tests.toml)")
    te.add_argument("paths", nargs="*", default=["policies"],
                    help="test files, policies (their .tests.toml) or folders (default: policies)")

    ex = commands.add_parser("explain", help="explain every point and decision for one unit")
    ex.add_argument("policy")
    ex.add_argument("data")
    ex.add_argument("unit", help="the unit id (or a member's id, with --members)")
    ex.add_argument("--data-format", choices=["toml", "json", "csv", "jsonl"])
    ex.add_argument("--members", help="members file (see evaluate --members)")

    pl = commands.add_parser("plugins", help="list installed plugins with versions and hooks")
    pl.add_argument("--json", action="store_true", help="print sorted JSON instead of a table")
    return parser


def console() -> int:
    """The ``thidua`` command and ``python -m thidua_rules``: :func:`main` in a process of its own.

    The cyclic garbage collector is off for the command: this process is the engine's own and
    ends with the command, its phases create no reference cycles, and tracing the growing heap
    would be half the time of an evaluation. The library itself (``main()`` called from Python,
    ``evaluate()``, ``render()``, ``load_*``) never changes the collector.
    """
    gc.disable()
    return main()


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return _run(args)
    except ThiduaError as exc:
        for line in exc.lines():
            sys.stderr.write(line + "\n")
        return EXIT_USER_ERROR
    except BrokenPipeError:  # e.g. piped into `head`
        return EXIT_OK
    except OSError as exc:
        # A file that cannot be written or read (no such folder, no permission, disk full):
        # the user's to fix, so one line and exit 2; atomic writes left nothing half-written.
        where = exc.filename if exc.filename is not None else "thidua"
        sys.stderr.write(f"{where}: {exc.strerror or exc}\n")
        return EXIT_USER_ERROR


def _run(args: argparse.Namespace) -> int:
    from .engine import evaluate
    from .errors import Issue, PolicyError
    from .loader import load_data, load_policy
    from .report import render, write_atomic
    from .report.explain import explain_unit

    if args.command == "test":
        from .policytest import run as run_tests

        return run_tests(args.paths, sys.stdout)
    if args.command == "plugins":
        sys.stdout.write(_plugins_text(as_json=args.json))
        return EXIT_OK
    policy = load_policy(args.policy)
    if args.command == "validate":
        counts = f"{len(policy.criteria)} criteria, {len(policy.titles)} titles"
        if args.data:
            data = load_data(args.data, policy, format=args.data_format, members=args.members)
            units = sum(len(c.units) for c in data.clusters)
            counts += f"; data: {len(data.clusters)} cluster(s), {units} unit(s)"
        sys.stdout.write(f"ok: {policy.id} ({counts})\n")
        return EXIT_OK
    if args.command == "evaluate" and args.format == "jsonl" and args.members is None:
        return _evaluate_stream(args, policy)
    if args.command == "evaluate" and args.jobs != 1:
        raise PolicyError([Issue(file=args.data, message="--jobs needs --format jsonl (the streamed output)")])
    data = load_data(args.data, policy, format=args.data_format, members=args.members)
    result = evaluate(policy, data)
    if args.command == "explain":
        from .report.explain import explain_person

        person_text = explain_person(result, args.unit) if result.unit(args.unit) is None else None
        if person_text is not None:
            sys.stdout.write(person_text)
            return EXIT_OK
        if result.unit(args.unit) is None:
            from .errors import did_you_mean

            ids = [u.id for c in result.clusters for u in c.units]
            raise PolicyError([Issue(file=args.data, message=f"unknown unit '{args.unit}'{did_you_mean(args.unit, ids)}")])
        sys.stdout.write(explain_unit(result, args.unit))
        return EXIT_OK
    text = render(result, args.format)
    if args.output:
        write_atomic(args.output, text)
    else:
        sys.stdout.write(text)
    return EXIT_OK


def _jobs(text: str) -> int:
    try:
        jobs = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number of processes, got '{text}'") from None
    if jobs < 0:
        raise argparse.ArgumentTypeError(f"expected a number of processes >= 0, got {jobs}")
    return jobs


def _evaluate_stream(args: argparse.Namespace, policy: Policy) -> int:
    """``--format jsonl``: CSV / JSON-lines data streamed cluster by cluster (optionally in
    parallel); TOML / JSON data loaded in memory and written as the same records."""
    import os
    from pathlib import Path

    from .loader.common import read_bytes
    from .loader.data import FORMATS as DATA_FORMATS
    from .stream import STREAMABLE, evaluate_stream, progress_for, write_stream_atomic

    kind = args.data_format or DATA_FORMATS.get(Path(args.data).suffix.lower())
    jobs = args.jobs or os.cpu_count() or 1
    if kind not in STREAMABLE:
        from .engine import evaluate
        from .loader import load_data
        from .report import render, write_atomic

        text = render(evaluate(policy, load_data(args.data, policy, format=args.data_format)), "jsonl")
        if args.output:
            write_atomic(args.output, text)
        else:
            sys.stdout.write(text)
        return EXIT_OK
    policy_bytes = read_bytes(args.policy, args.policy) if jobs > 1 else None
    if policy_bytes is not None:
        from .errors import Issue, PolicyError
        from .loader.extends import resolve

        # The digest over the file and every base it extends, as the policy's own hash is.
        if resolve(policy_bytes, file=args.policy, path=args.policy)[1] != policy.sha256:
            raise PolicyError([Issue(file=args.policy, message="the file changed while it was read; run again")])

    def run(out: IO[str] | IO[bytes]) -> StreamSummary:
        return evaluate_stream(policy, args.data, out, format=kind, jobs=jobs,
                               policy_bytes=policy_bytes, progress=progress_for(sys.stderr))

    if args.output:
        write_stream_atomic(args.output, run)
    else:
        run(sys.stdout)
    return EXIT_OK


def _plugins_text(*, as_json: bool) -> str:
    """Installed plugins (entry points in group ``thidua_rules``) and the built-ins, sorted."""
    import json

    from .plugins import installed_plugins

    infos = installed_plugins()
    if as_json:
        rows = [{"name": p.name, "distribution": p.distribution, "version": p.version,
                 "hooks": list(p.hooks)} for p in infos]
        return json.dumps(rows, ensure_ascii=False, indent=2, sort_keys=True) + "\n"
    table = [("name", "distribution", "version", "hooks")]
    table += [(p.name, p.distribution, p.version, ", ".join(p.hooks)) for p in infos]
    widths = [max(len(row[i]) for row in table) for i in range(3)]
    lines = []
    for i, row in enumerate(table):
        lines.append("  ".join(cell.ljust(w) for cell, w in zip(row[:3], widths, strict=True)) + "  " + row[3])
        if i == 0:
            lines.append("  ".join("-" * w for w in widths) + "  " + "-" * len(row[3]))
    return "\n".join(line.rstrip() for line in lines) + "\n"
