"""Peak memory of evaluating the example policy in memory, beside the time (issue #11 item 6:
"100k units evaluated in memory: peak ≤ 300 MiB").

Each case is timed in this process (``evaluate`` on the loaded data, the result kept until the
next round) and measured once in a fresh process (``memory_probe.py``: the process's peak
resident memory, the data set's share, what evaluation added, and, at 10k units, tracemalloc's
bytes per unit the result retains); the figures go in ``extra_info`` and are printed, never
asserted. Two data sets: ``generated`` (``generate.make_csv``, figures from small ranges, as a
real cluster's are) and ``distinct`` (``peers.example_rows``, wide figures, nearly every cell
distinct: the case where nothing can be shared between units).

``pytest benchmarks/bench_memory.py`` runs 10k units; ``THIDUA_BENCH_LARGE=1`` adds 100k;
``--benchmark-disable`` (CI) runs 1k units once, unmeasured.
"""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import generate
import peers
import pytest

from thidua_rules import evaluate, load_policy, parse_data

HERE = Path(__file__).resolve().parent
POLICY = HERE.parent / "policies" / "cum8-2022.toml"
LARGE = os.environ.get("THIDUA_BENCH_LARGE") == "1"
SIZES = [10_000] + ([100_000] if LARGE else [])


def _csv(kind: str, units: int) -> bytes:
    if kind == "generated":
        return generate.make_csv(units)
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=generate.FIELDS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(peers.example_rows(units))
    return out.getvalue().encode("utf-8")


def probe(path: Path, *, trace: bool) -> dict[str, float]:
    """``memory_probe.py`` on ``path`` in a fresh process: its JSON figures."""
    command = [sys.executable, str(HERE / "memory_probe.py"), str(path), "--policy", str(POLICY)]
    done = subprocess.run(command + (["--trace"] if trace else []), capture_output=True, text=True,
                          check=True)
    figures: dict[str, float] = json.loads(done.stdout)
    return figures


@pytest.mark.parametrize("units", SIZES)
@pytest.mark.parametrize("kind", ["generated", "distinct"])
def test_evaluate_memory(benchmark, kind, units, tmp_path):
    if benchmark.disabled:
        units = 1_000
    path = tmp_path / "units.csv"
    path.write_bytes(_csv(kind, units))
    policy = load_policy(POLICY)
    data = parse_data(path.read_bytes(), policy, file="units.csv", format="csv")
    rounds = 1 if units > 10_000 else 3
    result = benchmark.pedantic(evaluate, args=(policy, data), rounds=rounds, iterations=1, warmup_rounds=1)
    assert sum(len(c.units) for c in result.clusters) == units
    if benchmark.disabled:
        return
    del result
    benchmark.extra_info["us_per_unit"] = round(benchmark.stats.stats.median / units * 1e6, 1)
    figures = probe(path, trace=False)
    benchmark.extra_info.update({k: v for k, v in figures.items() if k != "seconds"})
    if units <= 10_000:  # tracing is several times slower: the per-unit figure at 10k only
        traced = probe(path, trace=True)
        benchmark.extra_info["traced_retained_bytes_per_unit"] = traced["traced_retained_bytes_per_unit"]
        benchmark.extra_info["traced_peak_mib"] = traced["traced_peak_mib"]
    print(f"\n{kind}, {units} units: {json.dumps(benchmark.extra_info)}")
