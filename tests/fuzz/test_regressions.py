"""Every failure the fuzzer found stays fixed: each folder in tests/fuzz/regressions/ (format in cases.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from .cases import run_case

CASES = Path(__file__).parent / "regressions"


def _params() -> list:
    params = []
    for folder in sorted(p for p in CASES.iterdir() if p.is_dir()):
        status = folder / "status"
        marks = []
        if status.exists():
            reason = status.read_text(encoding="utf-8").strip()
            assert reason.startswith("known"), f"{folder.name}/status: expected 'known <finding>', got {reason!r}"
            marks.append(pytest.mark.xfail(strict=True, reason=reason))
        params.append(pytest.param(folder, marks=marks, id=folder.name))
    return params


@pytest.mark.parametrize("folder", _params())
def test_regression_case(folder, tmp_path):
    """The case's command keeps the contract, exits with its status and prints exactly expected.err."""
    expected_err = folder / "expected.err"
    # A known case may lack expected.err (its fix decides the line): it then xpasses as soon as the
    # contract holds, which asks for the line to be written and the status removed.
    assert expected_err.exists() or (folder / "status").exists(), f"{folder.name}: write expected.err"
    run, violations, expected_exit = run_case(folder, tmp_path)
    assert not violations, "\n\n".join(v.describe() for v in violations)
    assert run.code == expected_exit
    if expected_err.exists():
        assert run.err == expected_err.read_text(encoding="utf-8")
