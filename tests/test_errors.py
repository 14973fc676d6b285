"""Bad input gives exact, one-line-per-problem messages, exit code 2, no traceback and no output file."""

from __future__ import annotations

import shlex
from pathlib import Path

import pytest

from thidua_rules.cli import main

CASES = Path(__file__).parent / "errors"


@pytest.mark.parametrize("case", sorted(p.name for p in CASES.iterdir() if p.is_dir()))
def test_bad_input_case(case, capsys, monkeypatch, golden):
    """The command in <case>/args fails with exit 2 and exactly the lines in <case>/expected.err."""
    folder = CASES / case
    monkeypatch.chdir(folder)
    args = shlex.split((folder / "args").read_text(encoding="utf-8"))
    before = sorted(p.name for p in folder.iterdir())
    code = main(args)
    captured = capsys.readouterr()
    assert code == 2
    assert captured.out == ""
    assert "Traceback" not in captured.err
    assert sorted(p.name for p in folder.iterdir()) == before, "no file may be written"
    golden.check(folder / "expected.err", captured.err)
