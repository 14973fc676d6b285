"""A whole run, CSV in and JSON lines out, gives the same bytes streamed in one and two
processes and in memory, on generated data of the example and of the large policy."""

from __future__ import annotations

import io
import sys
from pathlib import Path

import pytest

from thidua_rules import evaluate, parse_data, parse_policy, render
from thidua_rules.stream import evaluate_stream

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))
import generate  # noqa: E402
import large_policy  # noqa: E402

CASES = {
    "example": (lambda: (ROOT / "policies" / "cum8-2022.toml").read_bytes(), generate.make_csv, 1_500),
    "large": (lambda: large_policy.make_policy().encode("utf-8"), large_policy.make_csv, 400),
}


def run(policy_bytes: bytes, path: Path, jobs: int = 1) -> str:
    policy = parse_policy(policy_bytes, file="policy.toml")
    out = io.StringIO()
    evaluate_stream(policy, path, out, display="units.csv", jobs=jobs, policy_bytes=policy_bytes)
    return out.getvalue()


@pytest.mark.parametrize("name", sorted(CASES))
def test_streamed_and_in_memory_runs_give_the_same_bytes(name, tmp_path):
    make_policy, make_csv, units = CASES[name]
    policy_bytes = make_policy()
    path = tmp_path / "units.csv"
    path.write_bytes(make_csv(units))
    streamed = run(policy_bytes, path)
    assert streamed.count("\n") == units + 2 + streamed.count('"record":"cluster"')
    policy = parse_policy(policy_bytes, file="policy.toml")
    memory = render(evaluate(policy, parse_data(path.read_bytes(), policy, file="units.csv", format="csv")), "jsonl")
    assert memory == streamed
    if name == "example":
        assert run(policy_bytes, path, jobs=2) == streamed


@pytest.mark.parametrize("jobs", [1, 2])
def test_a_binary_output_takes_the_same_bytes(tmp_path, jobs):
    """A binary ``out`` gets the workers' UTF-8 bytes as they are; a text one the same text."""
    policy_bytes = (ROOT / "policies" / "cum8-2022.toml").read_bytes()
    path = tmp_path / "units.csv"
    path.write_bytes(generate.make_csv(300).replace(b"\xc4\x90\xc6\xa1n v\xe1\xbb\x8b", "Đơn vị \"ẩ\"".encode()))
    policy = parse_policy(policy_bytes, file="policy.toml")
    binary = io.BytesIO()
    evaluate_stream(policy, path, binary, display="units.csv", jobs=jobs, policy_bytes=policy_bytes)
    assert "ẩ" in run(policy_bytes, path)
    assert binary.getvalue() == run(policy_bytes, path).encode("utf-8")
