"""Command line: `thidua evaluate | validate | explain`; exit 0 on success, 2 on any user error."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from .errors import ThiduaError
from .plugins import engine_version

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

    va = commands.add_parser("validate", help="check a policy (and optionally data) without evaluating")
    va.add_argument("policy")
    va.add_argument("data", nargs="?")
    va.add_argument("--data-format", choices=["toml", "json", "csv", "jsonl"])

    te = commands.add_parser("test", help="run the test cases kept beside policies (*.tests.toml)")
    te.add_argument("paths", nargs="*", default=["policies"],
                    help="test files, policies (their .tests.toml) or folders (default: policies)")

    ex = commands.add_parser("explain", help="explain every point and decision for one unit")
    ex.add_argument("policy")
    ex.add_argument("data")
    ex.add_argument("unit", help="the unit id")
    ex.add_argument("--data-format", choices=["toml", "json", "csv", "jsonl"])
    return parser


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


def _run(args: argparse.Namespace) -> int:
    from .engine import evaluate
    from .errors import Issue, PolicyError
    from .loader import load_data, load_policy
    from .report import render, write_atomic
    from .report.explain import explain_unit

    if args.command == "test":
        from .policytest import run as run_tests

        return run_tests(args.paths, sys.stdout)
    policy = load_policy(args.policy)
    if args.command == "validate":
        counts = f"{len(policy.criteria)} criteria, {len(policy.titles)} titles"
        if args.data:
            data = load_data(args.data, policy, format=args.data_format)
            units = sum(len(c.units) for c in data.clusters)
            counts += f"; data: {len(data.clusters)} cluster(s), {units} unit(s)"
        sys.stdout.write(f"ok: {policy.id} ({counts})\n")
        return EXIT_OK
    data = load_data(args.data, policy, format=args.data_format)
    result = evaluate(policy, data)
    if args.command == "explain":
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
