"""Parallel evaluation (`--jobs N`): the output bytes and the errors do not depend on N."""

from __future__ import annotations

import io
import sys
from pathlib import Path

import pytest

from thidua_rules.cli import main
from thidua_rules.errors import PolicyError
from thidua_rules.stream import evaluate_stream

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))
from generate import make_csv

ROOT = Path(__file__).resolve().parent.parent
POLICY = ROOT / "policies" / "cum8-2022.toml"


def run(policy, data: Path, jobs: int) -> str:
    out = io.StringIO()
    evaluate_stream(policy, data, out, display="units.csv", jobs=jobs, policy_bytes=POLICY.read_bytes())
    return out.getvalue()


def test_jobs_1_and_2_give_the_same_bytes(example_policy, tmp_path):
    """Clusters evaluated in two processes are written in cluster order: identical output."""
    data = tmp_path / "units.csv"
    data.write_bytes(make_csv(3000, seed=21))
    one = run(example_policy, data, 1)
    assert run(example_policy, data, 2) == one
    assert one.count("\n") == 1 + 3000 + one.count('"record":"cluster"') + 1


def test_cli_jobs_file_matches(tmp_path):
    """`--jobs 2 -o FILE` and `--jobs 1 -o FILE` write the same file."""
    data = tmp_path / "units.csv"
    data.write_bytes(make_csv(400, seed=4))
    outs = []
    for jobs in ("1", "2"):
        out = tmp_path / f"out{jobs}.jsonl"
        assert main(["evaluate", str(POLICY), str(data), "-f", "jsonl", "-o", str(out), "--jobs", jobs]) == 0
        outs.append(out.read_bytes())
    assert outs[0] == outs[1]


def test_errors_do_not_depend_on_jobs(example_policy, tmp_path):
    """Bad rows spread over many clusters give the same error lines with 1 or 2 processes."""
    lines = make_csv(1200, seed=8).decode("utf-8").splitlines()
    col = lines[0].split(",").index("targets_assigned")
    for i in (10, 600, 1150):
        cells = lines[i].split(",")
        cells[col] = "0"
        lines[i] = ",".join(cells)
    data = tmp_path / "bad.csv"
    data.write_text("\n".join(lines) + "\n", encoding="utf-8")
    errors = []
    for jobs in (1, 2):
        with pytest.raises(PolicyError) as exc:
            run(example_policy, data, jobs)
        errors.append(exc.value.lines())
    assert errors[0] == errors[1]
    assert len(errors[0]) == 3
