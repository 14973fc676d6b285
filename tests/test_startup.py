"""Start-up: a command imports what it needs only (issue #11, item 5).

``thidua --help`` and ``--version`` load argparse and the CLI's own small modules, never the
engine; the built-ins' provenance does not scan every installed distribution.
"""

from __future__ import annotations

import subprocess
import sys

import pytest

from thidua_rules import formatnames
from thidua_rules.report import writers

from .conftest import EXAMPLE_DATA, EXAMPLE_POLICY, ROOT

#: The package's modules a command loads when it only parses its arguments (``__main__`` is run
#: by ``-m``, not imported, so importtime does not list it).
PARSER_ONLY = ["thidua_rules", "thidua_rules._console", "thidua_rules.cli", "thidua_rules.formatnames"]


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
    assert done.stdout == "thidua_rules thidua_rules.cli thidua_rules.formatnames\n"


def test_format_names_match_the_writers() -> None:
    assert formatnames.OUTPUT_FORMATS == tuple(sorted(writers.FORMATS))
    assert set(formatnames.EXTENSIONS.values()) <= set(writers.FORMATS)
    assert set(formatnames.FORMAT_ALIASES.values()) <= set(writers.FORMATS)


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
