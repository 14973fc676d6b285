"""The contract checker itself: each broken promise is seen (so a quiet fuzz run means something)."""

from __future__ import annotations

import time

import pytest

from . import harness
from .harness import Run, run_cli, violations


def kinds(run: Run, **kwargs) -> list[str]:
    return [v.kind for v in violations(run, **kwargs)]


@pytest.mark.parametrize(("run", "expected"), [
    (Run(("validate",), 0, "ok\n", ""), []),
    (Run(("validate",), 2, "", "p.toml: x: bad\n    | a + b\n    |     ^\n"), []),
    (Run(("validate",), None, "", "", "KeyError", ("KeyError",), "'x'"), ["exception"]),
    (Run(("validate",), 1, "", "p.toml: x: bad\n"), ["exit-code"]),
    (Run(("validate",), 2, "partial", "p.toml: x: bad\n"), ["stdout-on-error"]),
    (Run(("validate",), 2, "", ""), ["silent-error"]),
    (Run(("validate",), 2, "", "Traceback (most recent call last):\n"), ["traceback", "stray-line"]),
    (Run(("validate",), 2, "", "p.toml: " + "x" * 500 + "\n"), ["long-line"]),
    (Run(("validate",), 2, "", "p.toml: id '\x1b[2J'\n"), ["control-char"]),
    (Run(("validate",), 2, "", "p.toml: a\nb\n"), ["stray-line"]),
], ids=["ok", "error-with-caret", "exception", "exit-code", "stdout", "silent", "traceback", "long", "control",
        "split-line"])
def test_each_broken_promise_is_a_violation(run, expected):
    """A run is judged by exit status, stderr lines and stdout."""
    assert kinds(run) == expected


def test_an_output_file_left_on_error_is_a_violation(tmp_path):
    """Exit 2 with the -o file (or any other file) written breaks the contract; exit 0 without it too."""
    (tmp_path / "result.md").write_text("x", encoding="utf-8")
    failed = Run(("evaluate",), 2, "", "p.toml: x: bad\n")
    assert kinds(failed, output=tmp_path / "result.md", before=[]) == ["file-on-error", "file-on-error"]
    assert kinds(Run(("evaluate",), 0, "", ""), output=tmp_path / "missing.md") == ["file-missing"]


def test_a_command_that_never_answers_is_a_hang(monkeypatch, tmp_path):
    """A command still running at the time limit is stopped and reported as a hang."""
    import thidua_rules.cli

    monkeypatch.setattr(harness, "TIME_LIMIT", 0.5)
    monkeypatch.setattr(thidua_rules.cli, "main", lambda argv: time.sleep(60))
    started = time.monotonic()
    run = run_cli(["validate"], tmp_path)
    assert time.monotonic() - started < 10
    assert kinds(run) == ["hang"]
