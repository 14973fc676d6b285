"""Start-up: a command imports what it needs only (issue #11, item 5).

``thidua --help`` and ``--version`` load argparse and the CLI's own small modules, never the
engine; the built-ins' provenance does not scan every installed distribution.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from thidua_rules import formatnames, version
from thidua_rules.report import writers

from .conftest import EXAMPLE_DATA, EXAMPLE_POLICY, ROOT

#: The package's modules a command loads when it only parses its arguments (``__main__`` is run
#: by ``-m``, not imported, so importtime does not list it).
PARSER_ONLY = ["thidua_rules", "thidua_rules._console", "thidua_rules.cli", "thidua_rules.formatnames",
               "thidua_rules.lazyparser"]


def imported(*args: str) -> tuple[list[str], str]:
    """The thidua_rules modules ``python -X importtime -m thidua_rules ARGS`` imports, sorted,
    and what it printed."""
    done = subprocess.run([sys.executable, "-X", "importtime", "-m", "thidua_rules", *args],
                          capture_output=True, text=True, cwd=ROOT, check=False)
    names = set()
    for line in done.stderr.splitlines():
        if line.startswith("import time:") and "|" in line:
            name = line.rsplit("|", 1)[1].strip()
            if name.split(".")[0] == "thidua_rules":
                names.add(name)
    return sorted(names), done.stdout


@pytest.mark.parametrize("args", [["--help"], ["evaluate", "--help"], ["test", "--help"]])
def test_help_imports_no_engine_module(args: list[str]) -> None:
    names, out = imported(*args)
    assert out.startswith("usage: thidua")
    assert names == PARSER_ONLY


def test_version_imports_the_version_module_only() -> None:
    names, out = imported("--version")
    assert out == "thidua_rules 0.1.0\n"
    assert names == sorted([*PARSER_ONLY, "thidua_rules.version"])


def test_argument_error_imports_errors_only() -> None:
    names, _ = imported("evaluate")
    assert names == sorted([*PARSER_ONLY, "thidua_rules.errors"])


def test_cli_main_help_in_process() -> None:
    """``cli.main(["--help"])`` from Python: the same, nothing else loaded by ``import thidua_rules``."""
    script = ("import contextlib, io, sys\nfrom thidua_rules import cli\n"
              "with contextlib.redirect_stdout(io.StringIO()):\n    cli.main(['--help'])\n"
              "print(' '.join(sorted(m for m in sys.modules if m.split('.')[0] == 'thidua_rules')))")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    assert done.stdout == "thidua_rules thidua_rules.cli thidua_rules.formatnames thidua_rules.lazyparser\n"


def test_format_names_match_the_writers() -> None:
    every = {*writers.FORMATS, *writers.BINARY_FORMATS}
    assert formatnames.OUTPUT_FORMATS == tuple(sorted(every))
    # docx is written as bytes by thidua_rules.documents, not by the writers
    assert set(formatnames.EXTENSIONS.values()) <= every | set(formatnames.DOCUMENT_FORMATS)
    assert not set(formatnames.DOCUMENT_FORMATS) & every
    assert set(formatnames.FORMAT_ALIASES.values()) <= every


def test_evaluate_without_plugins_scans_no_distribution() -> None:
    """The example names no plugin: its run never lists every installed distribution (the
    built-ins' provenance is the engine's own distribution), and its output is unchanged."""
    script = ("import importlib.metadata as m, sys\n"
              "def refuse(*a, **k):\n    raise AssertionError('scanned every distribution')\n"
              "m.packages_distributions = refuse\nm.distributions = refuse\n"
              "from thidua_rules import cli\n"
              f"sys.exit(cli.main(['evaluate', {str(EXAMPLE_POLICY)!r}, {str(EXAMPLE_DATA)!r}, '-f', 'json']))")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=False)
    assert (done.returncode, done.stderr) == (0, "")
    expected = (ROOT / "tests" / "golden" / "cum8-2022" / "expected.json").read_text(encoding="utf-8")
    assert done.stdout == expected


def test_evaluate_without_plugins_does_not_import_importlib_metadata() -> None:
    """The engine's version is read from its METADATA directly (importlib.metadata, with email
    and zipfile, costs more than a small run)."""
    script = ("import contextlib, io, sys\nfrom thidua_rules import cli\n"
              "with contextlib.redirect_stdout(io.StringIO()):\n"
              f"    cli.main(['evaluate', {str(EXAMPLE_POLICY)!r}, {str(EXAMPLE_DATA)!r}])\n"
              "print(sorted(m for m in ('email', 'importlib.metadata', 'zipfile') if m in sys.modules))")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    assert done.stdout == "[]\n"


def test_version_read_directly_is_importlib_metadata_s() -> None:
    import importlib.metadata

    dist = importlib.metadata.distribution("thidua_rules")
    assert version._plain_lookup() == (dist.name, dist.version)
    assert version.engine_version() == importlib.metadata.version("thidua_rules")


def _dist_info(folder: Path, name: str, text: str) -> None:
    (folder / name).mkdir(parents=True)
    (folder / name / "METADATA").write_text(text, encoding="utf-8")


def test_plain_lookup_first_on_the_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _dist_info(tmp_path / "a", "Thidua.Rules-9.1.dist-info",
               "Metadata-Version: 2.4\nLicense: one\n  folded\nName: Thidua.Rules\nVersion: 9.1\n\nVersion: 0\n")
    _dist_info(tmp_path / "b", "thidua_rules-0.1.0.dist-info", "Name: thidua_rules\nVersion: 0.1.0\n")
    monkeypatch.setattr(sys, "path", [str(tmp_path / "missing"), str(tmp_path / "a"), str(tmp_path / "b")])
    assert version._plain_lookup() == ("Thidua.Rules", "9.1")


@pytest.mark.parametrize("layout", ["egg-info", "two", "folded", "no-version", "zip"])
def test_plain_lookup_leaves_the_unusual_to_importlib_metadata(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                               layout: str) -> None:
    entry = tmp_path / "site"
    entry.mkdir()
    if layout == "egg-info":
        _dist_info(entry, "thidua_rules.egg-info", "Name: thidua_rules\nVersion: 1\n")
    elif layout == "two":
        _dist_info(entry, "thidua_rules-1.dist-info", "Name: thidua_rules\nVersion: 1\n")
        _dist_info(entry, "Thidua_Rules-2.dist-info", "Name: Thidua_Rules\nVersion: 2\n")
    elif layout == "folded":
        _dist_info(entry, "thidua_rules-1.dist-info", "Name: thidua_rules\nVersion:\n  1\n")
    elif layout == "no-version":
        _dist_info(entry, "thidua_rules-1.dist-info", "Name: thidua_rules\n")
    else:
        entry = tmp_path / "site.zip"
        entry.write_bytes(b"PK")
    monkeypatch.setattr(sys, "path", [str(entry)])
    with pytest.raises(version._Unusual):
        version._plain_lookup()


def test_plain_lookup_not_installed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "path", [str(tmp_path)])
    monkeypatch.setattr(sys, "meta_path", [m for m in sys.meta_path if not hasattr(m, "find_distributions")
                                           or m.__name__ == "PathFinder"])
    assert version._plain_lookup() is None


def _helps(parser) -> dict[str, str]:
    commands = next(a for a in parser._actions if a.dest == "command").choices
    return {"": parser.format_help(), **{name: sub.format_help() for name, sub in commands.items()}}


def test_commands_built_when_used_give_the_same_parsers(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each command's parser, built on first use (lazyparser), is the one built at once: same
    help, same options, same defaults."""
    from thidua_rules import cli

    deferred = cli.build_parser()
    commands = next(a for a in deferred._actions if a.dest == "command").choices
    assert all(getattr(sub, "_parser", "eager") is None for sub in commands.values())  # none built yet
    lazily = _helps(deferred)
    monkeypatch.setattr(cli._Parser, "defer_commands", False)
    assert lazily == _helps(cli.build_parser())
    argv = ["fmt", "--check", "policies"]
    assert vars(cli.build_parser().parse_args(argv)) == {"command": "fmt", "paths": ["policies"], "check": True,
                                                         "diff": False}
    monkeypatch.setattr(cli._Parser, "defer_commands", True)
    parser = cli.build_parser()
    assert vars(parser.parse_args(argv)) == {"command": "fmt", "paths": ["policies"], "check": True, "diff": False}
    built = [name for name, sub in next(a for a in parser._actions if a.dest == "command").choices.items()
             if sub._parser is not None]
    assert built == ["fmt"]


def test_kept_calls_are_made_in_order() -> None:
    from thidua_rules.lazyparser import DeferredParser

    made: list[tuple[str, object]] = []

    class Group:
        def add_argument(self, *args: object, **kwargs: object) -> None:
            made.append(("group", args))

    class Parser:
        def __init__(self, **kwargs: object) -> None:
            made.append(("init", kwargs))

        def add_argument(self, *args: object, **kwargs: object) -> None:
            made.append(("argument", args))

        def add_mutually_exclusive_group(self) -> Group:
            return Group()

        def set_defaults(self, **kwargs: object) -> None:
            made.append(("defaults", kwargs))

    deferred = DeferredParser(Parser, {"prog": "x"})
    deferred.add_argument("a")
    group = deferred.add_mutually_exclusive_group()
    group.add_argument("--b")
    deferred.set_defaults(c=1)
    assert made == []
    deferred.prog_name = "y"  # anything else builds it
    assert made == [("init", {"prog": "x"}), ("argument", ("a",)), ("group", ("--b",)), ("defaults", {"c": 1})]
    assert deferred.built().prog_name == "y"


@pytest.mark.parametrize("columns", [None, "", "abc", "0", "-3", "17", "200"])
def test_terminal_columns_is_shutils(monkeypatch: pytest.MonkeyPatch, columns: str | None) -> None:
    import shutil

    from thidua_rules.lazyparser import terminal_columns

    if columns is None:
        monkeypatch.delenv("COLUMNS", raising=False)
    else:
        monkeypatch.setenv("COLUMNS", columns)
    monkeypatch.setenv("LINES", "24")
    assert terminal_columns() == shutil.get_terminal_size().columns
    monkeypatch.delenv("LINES")
    assert terminal_columns() == shutil.get_terminal_size().columns


def test_help_imports_no_shutil() -> None:
    """argparse's width is read without shutil (and bz2, lzma, zlib with it)."""
    done = subprocess.run([sys.executable, "-X", "importtime", "-m", "thidua_rules", "--help"],
                          capture_output=True, text=True, cwd=ROOT, check=True)
    names = {line.rsplit("|", 1)[1].strip() for line in done.stderr.splitlines() if "|" in line}
    assert not names & {"shutil", "bz2", "lzma"}
