"""Whole process: ``thidua evaluate POLICY units.csv --format json -o out.json`` on one cluster of
20,000 units of the example policy, against a naive evaluator of the same policy run the same way
(``naive_eval.py``: ``eval`` of the policy's texts per unit, floats, totals and titles only; issue
#11's target is the engine at ≤ 0.5× of it). Also a script, which runs the two in turns and
prints min and median wall and CPU time of each, the ratio of the minima, and the output's
SHA-256 (the same before and after a change to the writer):

    .venv/bin/python benchmarks/bench_json.py [--units N] [--rounds R]

Under ``--benchmark-disable`` (CI) the run is once, at 1,000 units.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import io
import json
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from generate import FIELDS, make_rows

ROOT = Path(__file__).resolve().parent.parent
POLICY = ROOT / "policies" / "cum8-2022.toml"
UNITS = 20_000


def one_cluster_csv(units: int) -> bytes:
    """``units`` seeded units of the example policy, all in one cluster."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=FIELDS, lineterminator="\n")
    writer.writeheader()
    for row in make_rows(units):
        writer.writerow({**row, "cluster": "cum000001"})
    return out.getvalue().encode("utf-8")


def _command(data: Path, out: Path) -> list[str]:
    return [sys.executable, "-m", "thidua_rules", "evaluate", str(POLICY), str(data), "--format", "json",
            "-o", str(out)]


def _naive(data: Path, out: Path) -> list[str]:
    return [sys.executable, str(Path(__file__).with_name("naive_eval.py")), str(POLICY), str(data), str(out)]


def _run(command: list[str]) -> tuple[float, float]:
    """Wall time and CPU time (user + system) of one run of ``command``."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run(command, check=True)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime


@pytest.fixture(scope="module")
def files(tmp_path_factory: Any, request: Any) -> tuple[Path, Path]:
    units = 1_000 if request.config.getoption("benchmark_disable") else UNITS
    folder = tmp_path_factory.mktemp("json")
    data = folder / "units.csv"
    data.write_bytes(one_cluster_csv(units))
    return data, folder / "out.json"


def test_bench_json_whole_process(benchmark: Any, files: tuple[Path, Path]) -> None:
    """The whole command; the output is a JSON document of every unit."""
    data, out = files
    benchmark.pedantic(subprocess.run, args=(_command(data, out),), kwargs={"check": True}, rounds=3,
                       warmup_rounds=0)
    assert out.read_bytes().startswith(b'{\n  "clusters": [\n')


def test_bench_json_naive_peer(benchmark: Any, files: tuple[Path, Path]) -> None:
    """The naive evaluator's whole process on the same file (the target's yardstick)."""
    data, out = files
    benchmark.pedantic(subprocess.run, args=(_naive(data, out),), kwargs={"check": True}, rounds=3,
                       warmup_rounds=0)
    assert json.loads(out.read_bytes())["units"][0]["rank"] == 1


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--units", type=int, default=UNITS)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--folder", default="/tmp")
    args = parser.parse_args()
    folder = Path(args.folder)
    data, out = folder / f"thidua-json-{args.units}.csv", folder / f"thidua-json-{args.units}.json"
    data.write_bytes(one_cluster_csv(args.units))
    naive_out = folder / f"thidua-json-{args.units}-naive.json"
    runs, naive = [], []
    for _ in range(args.rounds):  # in turns: a shared machine slows both alike
        runs.append(_run(_command(data, out)))
        naive.append(_run(_naive(data, naive_out)))
    digest = hashlib.sha256(out.read_bytes()).hexdigest()
    for name, times in (("thidua evaluate --format json", runs), ("naive eval (naive_eval.py)", naive)):
        wall, cpu = [w for w, _ in times], [c for _, c in times]
        print(f"{name}: {args.units} units, one cluster, {args.rounds} runs: wall min {min(wall):.2f} s, "
              f"median {statistics.median(wall):.2f} s; CPU min {min(cpu):.2f} s, median {statistics.median(cpu):.2f} s")
    print(f"ratio engine / naive (min wall): {min(w for w, _ in runs) / min(w for w, _ in naive):.2f}×; "
          f"engine output {out.stat().st_size} bytes, sha256 {digest}")


if __name__ == "__main__":
    main()
