"""Command line: `thidua evaluate | validate | test | explain | plugins`; exit 0 on success, 2 on any
user error, 130 on Ctrl-C and 143 on SIGTERM (one line each, no traceback, no partial file)."""

from __future__ import annotations

import argparse
import contextlib
import gc
import re
import signal
import sys
from collections.abc import Iterator, Mapping, Sequence

from .formatnames import DOCUMENT_FORMATS, FORMAT_ALIASES, LANGUAGES, OUTPUT_FORMATS

# Only argparse and constant tables at import: `thidua --help` and `--version` never load the
# engine; each command imports what it needs when it runs (tests/test_startup.py pins the list).
# Not typing either (milliseconds): type checkers read this constant as True.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import IO, Any

    from .model import Policy
    from .stream import StreamSummary

EXIT_OK = 0
EXIT_USER_ERROR = 2
#: 128 + the signal's number, as a shell reports a process stopped by it.
EXIT_INTERRUPTED = 128 + signal.SIGINT
EXIT_TERMINATED = 128 + signal.SIGTERM

DATA_FORMATS = ("csv", "json", "jsonl", "toml", "xlsx")


def _say(line: str) -> None:
    """One error line on stderr: control characters escaped, bounded (see errors.error_line)."""
    from .errors import error_line

    sys.stderr.write(error_line(line) + "\n")


# ---------------------------------------------------------------- arguments


class _Parser(argparse.ArgumentParser):
    """argparse with errors as one line in the product's style, with a short usage:
    ``thidua: evaluate: missing argument DATA (usage: thidua evaluate POLICY DATA [options])``."""

    commands: Mapping[str, argparse.ArgumentParser]

    def parse_args(self, args: Sequence[str] | None = None, namespace: Any = None) -> Any:  # type: ignore[override]
        parsed, extra = self.parse_known_args(args, namespace)
        if extra:  # an unknown option of a command: said by that command
            command = getattr(self, "commands", {}).get(getattr(parsed, "command", None) or "", self)
            command.error(f"unrecognized arguments: {' '.join(extra)}")
        return parsed

    def add_argument(self, *args: Any, **kwargs: Any) -> argparse.Action:
        # argparse checks each new argument's metavar with a help formatter, which asks the
        # terminal for its width (importing shutil, with bz2 and lzma): the check needs no width.
        self._checking = True
        try:
            return super().add_argument(*args, **kwargs)
        finally:
            self._checking = False

    #: Each command's parser built when used (see lazyparser); False builds them all at once.
    defer_commands = True

    def add_subparsers(self, **kwargs: Any) -> Any:
        if self.defer_commands:
            from .lazyparser import deferring

            kwargs["parser_class"] = deferring(kwargs.get("parser_class", type(self)))
        # Its formatter writes the commands' prog prefix from the positionals before it (none:
        # ``thidua``), one word whatever the width.
        self._checking = True
        try:
            return super().add_subparsers(**kwargs)
        finally:
            self._checking = False

    def _get_formatter(self) -> argparse.HelpFormatter:
        from .lazyparser import terminal_columns  # argparse's width, without importing shutil

        width = 80 if self.__dict__.get("_checking") else terminal_columns() - 2
        return self.formatter_class(prog=self.prog, width=width)  # type: ignore[call-arg]

    def error(self, message: str) -> None:  # type: ignore[override]
        where = ": ".join(self.prog.split())
        _say(f"{where}: {_argument_message(self, message)} (usage: {short_usage(self)})")
        raise SystemExit(EXIT_USER_ERROR)


def short_usage(parser: argparse.ArgumentParser) -> str:
    """``thidua evaluate POLICY DATA [options]``: the positionals, then whether options exist."""
    words = [parser.prog]
    options = False
    commands = ""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            words.append("COMMAND ...")
            commands = f"; commands: {', '.join(action.choices)}"
        elif action.option_strings:
            options = options or not isinstance(action, argparse._HelpAction)
        else:
            name = str(action.metavar or action.dest).upper()
            words.append({"?": f"[{name}]", "*": f"[{name} ...]", "+": f"{name} ..."}.get(str(action.nargs), name))
    return " ".join(words) + (" [options]" if options else "") + commands


def _option_names(parser: argparse.ArgumentParser) -> list[str]:
    return sorted(o for a in parser._actions for o in a.option_strings if o.startswith("--"))


def _argument_message(parser: argparse.ArgumentParser, message: str) -> str:
    """argparse's message said in the product's words (argparse's own when not recognised)."""
    from .errors import did_you_mean

    if match := re.fullmatch(r"the following arguments are required: (.*)", message):
        names = match.group(1).split(", ")
        if names == ["command"]:
            return "missing command"
        return f"missing argument{'s' if len(names) > 1 else ''} {', '.join(n.upper() for n in names)}"
    if match := re.fullmatch(r"argument (\S+): invalid choice: '(.*)' \(choose from (.*)\)", message, re.DOTALL):
        flag, value, choices = match.group(1), match.group(2), re.findall(r"'([^']*)'", match.group(3))
        if flag == "command":
            return f"unknown command '{value}'{did_you_mean(value, choices)}"
        return (f"{_flag(flag)}: unknown value '{value}'{did_you_mean(value, choices)} "
                f"(choose from {', '.join(sorted(choices))})")
    if match := re.fullmatch(r"unrecognized arguments: (.*)", message, re.DOTALL):
        first = match.group(1).split(" ")[0]
        if first.startswith("-"):
            return f"unknown option '{first}'{did_you_mean(first.split('=')[0], _option_names(parser))}"
        return f"unexpected argument '{first}'"
    if match := re.fullmatch(r"argument (\S+): (.*)", message, re.DOTALL):
        flag, what = _flag(match.group(1)), match.group(2)
        return f"{flag}: {'expects a value' if what == 'expected one argument' else what}"
    return message


def _flag(names: str) -> str:
    """``--output`` for argparse's ``-o/--output``: the long name when there is one."""
    options = names.split("/")
    return next((o for o in options if o.startswith("--")), options[0])


def _lower(aliases: Mapping[str, str] | None = None) -> Any:
    """An argparse ``type`` that accepts a choice in any case (``--format JSON``) or an alias."""
    def convert(text: str) -> str:
        lowered = text.lower()
        return (aliases or {}).get(lowered, lowered)
    return convert


class _VersionAction(argparse._VersionAction):
    """``--version``, reading the installed version only when asked (not for every parse)."""

    def __call__(self, parser: argparse.ArgumentParser, namespace: Any, values: Any,
                 option_string: str | None = None) -> None:
        from .version import engine_version

        self.version = f"thidua_rules {engine_version()}"
        super().__call__(parser, namespace, values, option_string)


def build_parser() -> argparse.ArgumentParser:
    FORMATS = OUTPUT_FORMATS + DOCUMENT_FORMATS  # the names the writers render, and docx (see formatnames)
    parser = _Parser(prog="thidua", description="Score, rank and propose emulation titles from a TOML policy.")
    parser.add_argument("--version", action=_VersionAction)
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    parser.commands = commands.choices
    data_format: dict[str, Any] = {"choices": DATA_FORMATS, "type": _lower(), "metavar": "FORMAT",
                                   "help": "the data file's type, when its extension does not say (csv, json, jsonl, toml)"}

    ev = commands.add_parser("evaluate", help="evaluate a policy on unit data and write the result")
    ev.add_argument("policy", help="policy TOML file")
    ev.add_argument("data", help="unit data: .toml, .json, .csv or .jsonl")
    ev.add_argument("--format", "-f", choices=sorted(FORMATS), type=_lower(FORMAT_ALIASES),
                    metavar="FORMAT", help=f"output format: {', '.join(sorted(FORMATS))} (default: from the "
                    "extension of -o, else table)")
    ev.add_argument("-o", "--output", help="write to this file (atomically) instead of standard output")
    ev.add_argument("--data-format", **data_format)
    ev.add_argument("--lang", choices=LANGUAGES, default="vi", help="language of --format markdown, html and docx (default: vi)")
    ev.add_argument("--members", help="members file (.csv, .toml, .json, .jsonl): people's records, "
                    "from which the policy's [people] titles and member-derived unit inputs are decided")
    ev.add_argument("--jobs", "-j", type=_jobs, default=1, metavar="N",
                    help="with --format jsonl: evaluate clusters in N processes (0: one per core); "
                         "the output does not depend on N")
    ev.add_argument("--sign-key", metavar="PRIVATE.pem", help="with -o RESULT.json: also write its Ed25519 signature "
                    "(RESULT.json.sig, as thidua sign does)")
    ev.add_argument("--signature", metavar="FILE", help="with --sign-key: the signature file (default: RESULT.sig)")

    va = commands.add_parser("validate", help="check a policy (and optionally data) without evaluating")
    va.add_argument("policy")
    va.add_argument("data", nargs="?")
    va.add_argument("--data-format", **data_format)
    va.add_argument("--members", help="members file, checked with the data")

    li = commands.add_parser("lint", help="warn about rules that load but may not do what was meant")
    li.add_argument("policy")
    li.add_argument("data", nargs="?", help="unit data: adds the warnings that need it (rotation, ballots)")
    li.add_argument("--data-format", **data_format)
    li.add_argument("--members", help="members file, checked with the data")
    li.add_argument("--strict", action="store_true", help="exit 1 when there is a warning")
    li.add_argument("--allow", action="append", default=[], metavar="CODE",
                    help="leave out the warnings with this code (repeatable)")

    te = commands.add_parser("test", help="run the test cases kept beside policies (*.tests.toml)")
    te.add_argument("paths", nargs="*", default=["policies"],
                    help="test files, policies (their .tests.toml) or folders (default: policies)")
    te.add_argument("--update", action="store_true",
                    help="first write the current results as the cases' expectations (only the "
                         "values each case expects; the rest of the file is kept)")
    te.add_argument("--coverage", action="store_true",
                    help="count every branch (a criterion at 0 and at full points, a check passed and "
                         "failed, a title not won, a quota cut...) and list those no case exercises")

    ex = commands.add_parser("explain", help="explain every point and decision for one unit")
    ex.add_argument("policy")
    ex.add_argument("data")
    ex.add_argument("unit", help="the unit's id or name (or a member's id, with --members)")
    ex.add_argument("--data-format", **data_format)
    ex.add_argument("--members", help="members file (see evaluate --members)")
    ex.add_argument("--lang", choices=LANGUAGES, default="en", help="language of the explanation (default: en)")

    wi = commands.add_parser("whatif", help="the smallest single change that flips each decision a unit missed")
    wi.add_argument("policy")
    wi.add_argument("data")
    wi.add_argument("unit", help="the unit's id or name")
    wi.add_argument("--format", "-f", choices=("json", "markdown", "text"), default="text", type=_lower({"md": "markdown"}),
                    metavar="FORMAT", help="output format: json, markdown, text (default: text)")
    wi.add_argument("--max-evaluations", type=_evaluations, default=2000, metavar="N",  # whatif.DEFAULT_BUDGET
                    help="evaluate the cluster at most N times (default 2000); a cut search says so")
    wi.add_argument("--data-format", **data_format)
    wi.add_argument("--members", help="members file (see evaluate --members)")

    fm = commands.add_parser("fmt", help="write TOML files (policies, tests, data) in the canonical layout")
    fm.add_argument("paths", nargs="+", help="TOML files or folders (their *.toml files)")
    fm_mode = fm.add_mutually_exclusive_group()
    fm_mode.add_argument("--check", action="store_true", help="change nothing; list the files that would "
                         "change and exit 1 if there is one")
    fm_mode.add_argument("--diff", action="store_true", help="change nothing; print the changes as a "
                         "unified diff and exit 1 if there is one")

    sc = commands.add_parser("schema", help="print a JSON Schema of the policy format (for editors: taplo, "
                             "Even Better TOML), with the installed plugins' keys")
    sc.add_argument("-o", "--output", help="write to this file (atomically) instead of standard output")
    tp = commands.add_parser("template", help="write an empty data workbook (.xlsx) for a policy")
    tp.add_argument("policy")
    tp.add_argument("-o", "--output", required=True, help="the workbook to write (atomically), e.g. units.xlsx")

    do = commands.add_parser("documents", help="write the council's Word documents (.docx) for each cluster")
    do.add_argument("policy")
    do.add_argument("data")
    do.add_argument("-o", "--output", required=True, metavar="FOLDER", help="folder to write the documents in")
    do.add_argument("--templates", metavar="DIR", help="folder of the agency's own .docx templates (same names)")
    do.add_argument("--data-format", **data_format)
    do.add_argument("--members", help="members file (see evaluate --members)")
    do.add_argument("--lang", choices=LANGUAGES, default="vi",
                    help="language of the engine's phrases and numbers; for the agency's own templates in that "
                         "language (default: vi, as the shipped templates)")

    pl = commands.add_parser("plugins", help="list installed plugins with versions and hooks")
    pl.add_argument("--json", action="store_true", help="print sorted JSON instead of a table")
    _add_audit_commands(commands, data_format)
    return parser


# ---------------------------------------------------------------- running


class Interrupted(KeyboardInterrupt):
    """Ctrl-C or SIGTERM: unwinds the run (temporary files are removed on the way) to :func:`main`,
    which prints one line and exits 128 + the signal's number. A KeyboardInterrupt, so that code
    which lets interrupts through (the plugin boundary, ``except Exception``) lets it through."""

    def __init__(self, signum: int) -> None:
        self.signum = signum
        super().__init__(signum)


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
    out = _utf8(sys.stdout)
    _utf8(sys.stderr)
    with _signals():
        try:
            return _main(argv, out)
        except KeyboardInterrupt as exc:  # Interrupted included
            # Further signals are ignored until the handlers are restored (see _signals), so
            # that nothing interrupts the clean-up.
            from .report.writers import remove_partial_files

            remove_partial_files()
            if isinstance(exc, Interrupted) and exc.signum == signal.SIGTERM:
                _say("thidua: terminated")
                return EXIT_TERMINATED
            _say("thidua: interrupted")
            return EXIT_INTERRUPTED


def _main(argv: Sequence[str] | None, out: IO[str]) -> int:
    try:
        args = build_parser().parse_args(argv)
    except SystemExit as exc:  # --help, --version, or an argument error already said
        return exc.code if isinstance(exc.code, int) else EXIT_USER_ERROR
    from .errors import ThiduaError, error_line

    try:
        # Whatever a plugin prints goes to stderr: stdout carries the result alone.
        with contextlib.redirect_stdout(sys.stderr):
            return _run(args, out)
    except ThiduaError as exc:
        for entry in exc.lines():  # an issue's entry holds its caret lines after newlines
            for line in entry.split("\n"):
                sys.stderr.write(error_line(line) + "\n")
        return EXIT_USER_ERROR
    except BrokenPipeError:  # e.g. piped into `head`
        return EXIT_OK
    except OSError as exc:
        # A file that cannot be written or read (no such folder, no permission, disk full):
        # the user's to fix, so one line and exit 2; atomic writes left nothing half-written.
        where = exc.filename if exc.filename is not None else "thidua"
        _say(f"{where}: {exc.strerror or exc}")
        return EXIT_USER_ERROR


def _utf8(stream: Any) -> Any:
    """``stream`` writing UTF-8 whatever the locale (``LC_ALL=C``), escaping what cannot be
    encoded (a lone surrogate from a file name) instead of failing."""
    import codecs

    with contextlib.suppress(AttributeError, LookupError, TypeError, ValueError):
        if codecs.lookup(stream.encoding).name != "utf-8":
            stream.reconfigure(encoding="utf-8", errors="backslashreplace")
        elif stream.errors == "strict":
            stream.reconfigure(errors="backslashreplace")
    return stream


@contextlib.contextmanager
def _signals() -> Iterator[None]:
    """SIGINT and SIGTERM raise :class:`Interrupted` (once: a second signal while the run unwinds
    and removes its temporary files is ignored); the previous handlers come back at the end."""
    caught = (signal.SIGINT, signal.SIGTERM)

    def stop(signum: int, frame: Any) -> None:
        for each in caught:
            signal.signal(each, signal.SIG_IGN)
        raise Interrupted(signum)

    try:
        previous = {each: signal.signal(each, stop) for each in caught}
    except ValueError:  # not the main thread (asked so, not with threading: an import less)
        previous = None
    if previous is None:  # another thread's run: signals are the main thread's
        yield
        return
    try:
        yield
    finally:
        for each, handler in previous.items():
            signal.signal(each, handler)


def _run(args: argparse.Namespace, out: IO[str]) -> int:
    """Run one command. Its result goes to ``out``, the real stdout: while a command runs,
    ``sys.stdout`` is stderr, so that what a plugin prints never mixes with the result. A new
    command writes its output to ``out`` too."""
    from .engine import evaluate
    from .errors import Issue, PolicyError
    from .report import render

    if args.command == "test":
        from .policytest import run as run_tests

        return run_tests(args.paths, out, update=args.update, branches=args.coverage)
    if args.command == "fmt":
        from .tomllayout import fmt_command

        return fmt_command(args.paths, out, check=args.check, diff=args.diff)
    if args.command == "schema":
        from .schema import installed_schema, schema_text

        text = schema_text(installed_schema())
        return _write(args, out, text)
    if args.command == "plugins":
        out.write(_plugins_text(as_json=args.json))
        return EXIT_OK
    if args.command in AUDIT_COMMANDS:
        return _run_audit(args, out)
    fmt = _output_format(args) if args.command == "evaluate" else None
    signer = _evaluate_signer(args, fmt)
    policy = _load_policy(args)
    if args.command == "template":
        from .template import write_template

        write_template(policy, args.output)
        return EXIT_OK
    if args.command == "lint":
        from .lint import lint_command

        data = _load_data(args, policy) if args.data else None
        return lint_command(args.policy, policy, data, sys.stderr, strict=args.strict, allow=args.allow)
    if args.command == "validate":
        counts = f"{len(policy.criteria)} criteria, {len(policy.titles)} titles"
        if args.data:
            data = _load_data(args, policy)
            units = sum(len(c.units) for c in data.clusters)
            counts += f"; data: {len(data.clusters)} cluster(s), {units} unit(s)"
            if any(c.scores for c in data.clusters):  # a missing reason needs the scores (docs/layers.md)
                evaluate(policy, data)
        from .lint import lint_command  # the warnings on stderr: stdout keeps its one ok line

        lint_command(args.policy, policy, data if args.data else None, sys.stderr)
        out.write(f"ok: {policy.id} ({counts})\n")
        return EXIT_OK
    if args.command == "evaluate" and fmt == "jsonl" and args.members is None:
        return _evaluate_stream(args, policy, out)
    if args.command == "evaluate" and args.jobs != 1:
        raise PolicyError([Issue(file=args.data, message="--jobs needs --format jsonl (the streamed output)")])
    data = _load_data(args, policy)
    result = evaluate(policy, data)
    if args.command == "explain":
        out.write(_explain(args, result))
        return EXIT_OK
    if args.command == "whatif":
        from .report.whatif import whatif_command

        out.write(whatif_command(policy, data, result, args.unit, fmt=args.format, budget=args.max_evaluations,
                                 file=args.data))
        return EXIT_OK
    if fmt == "xlsx":
        from .report.workbook import write_result_workbook

        write_result_workbook(result, args.output, out)
        return EXIT_OK
    if args.command == "documents" or fmt == "docx":
        from .documents.command import run_documents

        return run_documents(args, policy, data, result, out)
    if fmt == "json" and signer is None and args.output:  # bytes to the file: no str of it made
        from .report.writers import to_json_bytes, write_bytes_atomic

        write_bytes_atomic(args.output, to_json_bytes(result))
        return EXIT_OK
    text = render(result, fmt or "table", args.lang)
    if signer is not None:  # evaluate --sign-key (docs/audit.md)
        from .signing import write_signed

        out.write(f"signed: {write_signed(args.output, text, signer, args.signature)}\n")
        return EXIT_OK
    return _write(args, out, text)


def _evaluate_signer(args: argparse.Namespace, fmt: str | None) -> Any:
    """The private key of ``evaluate --sign-key``, loaded before any work (None: not signing)."""
    if args.command != "evaluate" or (args.sign_key is None and args.signature is None):
        return None  # (signing's module, and hashing's, are imported when asked for)
    from .signing import evaluate_signer

    return evaluate_signer(args.sign_key, fmt, args.output, args.signature)


def _write(args: argparse.Namespace, out: IO[str], text: str) -> int:
    """A command's text output: atomically to ``-o`` when given, else to ``out``."""
    from .report import write_atomic

    if args.output:
        write_atomic(args.output, text)
    else:
        out.write(text)
    return EXIT_OK


def _explain(args: argparse.Namespace, result: Any) -> str:
    """`thidua explain`: the unit named by id or name, else the member with that id."""
    from .errors import Issue, PolicyError
    from .report.explain import explain_person, explain_unit, find_unit

    unit_id, problem = find_unit(result, args.unit)
    if unit_id is not None:
        return explain_unit(result, unit_id, args.lang)
    person_text = explain_person(result, args.unit, args.lang)
    if person_text is not None:
        return person_text
    raise PolicyError([Issue(file=args.data, message=problem)])


def _output_format(args: argparse.Namespace) -> str:
    """The output format: ``--format``, else the one the extension of ``-o`` names (a mismatch
    between the two is refused), else ``table``; the output file is checked before any work."""
    from pathlib import Path

    from .errors import Issue, PolicyError
    from .formatnames import DOCUMENT_FORMATS, EXTENSIONS, OUTPUT_FORMATS
    from .report.writers import output_target

    FORMATS = OUTPUT_FORMATS + DOCUMENT_FORMATS

    given: str | None = args.format
    if args.output is None:
        if given in DOCUMENT_FORMATS:
            raise PolicyError([Issue(file="thidua", message=f"--format {given} writes a file: give -o FILE.{given}")])
        return given or "table"
    output_target(args.output)  # a folder or a device: refused now, not after the evaluation
    extension = Path(args.output).suffix.lower()
    implied = EXTENSIONS.get(extension)
    if given is None and implied is None:
        what = f"the extension '{extension}'" if extension else "a file name without an extension"
        names = ", ".join(sorted(FORMATS))
        raise PolicyError([Issue(file=args.output, message=f"cannot tell the output format from {what}; "
                                 f"give --format ({names})")])
    if given is not None and implied is not None and given != implied:
        wanted = min(e for e, f in EXTENSIONS.items() if f == given)
        raise PolicyError([Issue(file=args.output, message=f"--format {given} does not match the extension "
                                 f"'{extension}' ({implied}); give --format {implied} or a name ending in {wanted}")])
    return given or implied or "table"


# ---------------------------------------------------------------- POLICY and DATA in the wrong order


def _load_policy(args: argparse.Namespace) -> Policy:
    from .errors import PolicyError
    from .loader import load_policy

    try:
        return load_policy(args.policy)
    except PolicyError:
        _check_order(args, policy_failed=True)
        raise


def _load_data(args: argparse.Namespace, policy: Policy) -> Any:
    from .errors import PolicyError
    from .loader import load_data

    try:
        return load_data(args.data, policy, format=args.data_format, members=args.members)
    except PolicyError:
        _check_order(args, policy_failed=False)
        raise


def _kind_of(path: str | None) -> str | None:
    """``"policy"`` for a TOML / JSON file with a ``[policy]`` table, ``"data"`` for one with
    ``[cluster]`` or ``[[units]]`` and no ``[policy]``, else None (not read, not parsed, other)."""
    import json
    import tomllib
    from pathlib import Path

    from .loader.common import Unreadable, read_regular

    if path is None or Path(path).suffix.lower() not in (".toml", ".json"):
        return None
    try:
        text = read_regular(path, 64 << 20).decode("utf-8-sig")  # the loader's own regular-file read
        raw = json.loads(text) if path.lower().endswith(".json") else tomllib.loads(text)
    except (Unreadable, ValueError, RecursionError):
        return None
    if not isinstance(raw, dict):
        return None
    if "policy" in raw:
        return "policy"
    return "data" if "cluster" in raw or "units" in raw else None


def _check_order(args: argparse.Namespace, *, policy_failed: bool) -> None:
    """When a file fails to load, say in one line if POLICY and DATA were given the wrong way round."""
    from .errors import Issue, PolicyError

    usage = f"thidua {args.command} POLICY {'[DATA]' if args.command == 'validate' else 'DATA'}"
    data = getattr(args, "data", None)
    if policy_failed:
        given, other = _kind_of(args.policy), _kind_of(data)
        if given != "policy" and other == "policy":
            what = "unit data" if given == "data" else "not a policy"
            message = f"this is {what} and {data} is the policy: swap them ({usage})"
        elif given == "data":
            message = ("this is unit data, not a policy (it has [cluster] or [[units]] and no [policy]); "
                       f"the policy comes first: {usage}")
        else:
            return
        raise PolicyError([Issue(file=args.policy, message=message)]) from None
    if data is not None and _kind_of(data) == "policy":
        message = f"this is a policy, not unit data (it has [policy]); the unit data comes second: {usage}"
        raise PolicyError([Issue(file=data, message=message)]) from None


def _jobs(text: str) -> int:
    try:
        jobs = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number of processes, got '{text}'") from None
    if jobs < 0:
        raise argparse.ArgumentTypeError(f"expected a number of processes >= 0, got {jobs}")
    return jobs


def _evaluations(text: str) -> int:
    """``whatif --max-evaluations``: a whole number of evaluations, at least 1."""
    try:
        count = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number of evaluations, got '{text}'") from None
    if count < 1:
        raise argparse.ArgumentTypeError(f"expected a number of evaluations >= 1, got {count}")
    return count


def _evaluate_stream(args: argparse.Namespace, policy: Policy, out: IO[str]) -> int:
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
        from .report import render

        text = render(evaluate(policy, _load_data(args, policy)), "jsonl")
        return _write(args, out, text)
    policy_bytes = read_bytes(args.policy, args.policy) if jobs > 1 else None
    if policy_bytes is not None:
        from .errors import Issue, PolicyError
        from .loader.extends import resolve

        # The digest over the file and every base it extends, as the policy's own hash is.
        if resolve(policy_bytes, file=args.policy, path=args.policy)[1] != policy.sha256:
            raise PolicyError([Issue(file=args.policy, message="the file changed while it was read; run again")])

    def run(handle: IO[str] | IO[bytes]) -> StreamSummary:
        return evaluate_stream(policy, args.data, handle, format=kind, jobs=jobs,
                               policy_bytes=policy_bytes, progress=progress_for(sys.stderr))

    if args.output:
        write_stream_atomic(args.output, run)
    else:
        run(out)
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


# ---------------------------------------------------------------- audit: diff, verify, sign, keygen

AUDIT_COMMANDS = ("diff", "verify", "sign", "keygen")


def _add_audit_commands(commands: Any, data_format: dict[str, Any]) -> None:
    """The auditor's commands (docs/audit.md); their code is in policydiff, verify and signing."""
    di = commands.add_parser("diff", help="what a new policy changes on the same data: rules and units")
    di.add_argument("old_policy")
    di.add_argument("new_policy")
    di.add_argument("data")
    di.add_argument("--format", "-f", choices=("json", "markdown", "text"), type=_lower({"md": "markdown"}),
                    metavar="FORMAT", help="json, markdown or text (default: from the extension of -o, else text)")
    di.add_argument("-o", "--output", help="write to this file (atomically) instead of standard output")
    di.add_argument("--data-format", **data_format)
    di.add_argument("--members", help="members file (see evaluate --members)")

    ve = commands.add_parser("verify", help="re-evaluate and check a JSON result, its hashes and signature")
    ve.add_argument("result", help="the JSON result (thidua evaluate --format json)")
    ve.add_argument("policy")
    ve.add_argument("data")
    ve.add_argument("--data-format", **data_format)
    ve.add_argument("--members", help="members file the result was evaluated with")
    ve.add_argument("--key", metavar="PUBLIC.pem", help="check the signature with this Ed25519 public key")
    ve.add_argument("--signature", metavar="FILE", help="the signature file (default: RESULT.sig)")

    si = commands.add_parser("sign", help="sign a JSON result with an Ed25519 private key")
    si.add_argument("result")
    si.add_argument("--key", required=True, metavar="PRIVATE.pem", help="the Ed25519 private key (PEM)")
    si.add_argument("-o", "--output", help="the signature file (default: RESULT.sig)")

    kg = commands.add_parser("keygen", help="make an Ed25519 key pair for thidua sign")
    kg.add_argument("private", help="private key file to create (mode 0600; never overwritten)")
    kg.add_argument("public", help="public key file to create")


def _run_audit(args: argparse.Namespace, out: IO[str]) -> int:
    if args.command == "diff":
        from .policydiff import diff_command

        text = diff_command(args.old_policy, args.new_policy, args.data, fmt=args.format, output=args.output,
                            data_format=args.data_format, members=args.members)
        if not args.output:
            out.write(text)
        return EXIT_OK
    if args.command == "verify":
        from .verify import verify_command

        return verify_command(args, out)
    from .signing import keygen_command, sign_command

    if args.command == "sign":
        out.write(f"signed: {sign_command(args.result, args.key, args.output)}\n")
    else:
        keygen_command(args.private, args.public)
        out.write(f"wrote {args.private} (private, keep it secret) and {args.public} (public)\n")
    return EXIT_OK
