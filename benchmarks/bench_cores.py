"""Evaluation throughput with every core: units per second of score + rank + award when the
clusters are shared out among one process per core, and of the hand-written baseline alike.

Each worker process loads the policy and the whole data set once (untimed), cuts the clusters
into shares and evaluates one share per task; a warm-up round runs every share once first. The
timed call hands out every share (``Pool.map``, one share a task, more shares than processes so
that no core waits for a slow one) and waits for all: wall time from the first task out to the
last count back. Only the unit count crosses between processes, so this measures evaluation,
not pickling; loading and writing are timed in ``bench_scale.py``.
"""

from __future__ import annotations

import multiprocessing
import os
from pathlib import Path
from typing import Any

import attrs
import generate
import pytest
from baseline import baseline_totals

from thidua_rules import evaluate, load_policy, parse_data

EXAMPLE = Path(__file__).resolve().parent.parent / "policies" / "cum8-2022.toml"
LARGE = os.environ.get("THIDUA_BENCH_LARGE") == "1"
SHARES = 16
_WORKER: dict[str, Any] = {}


def _load(units: int) -> None:
    """Pool initializer: the policy, the data set's shares and the baseline's rows' shares, in
    this worker's memory."""
    policy = load_policy(EXAMPLE)
    data = parse_data(generate.make_csv(units), policy, file="bench.csv", format="csv")
    clusters = data.clusters
    rows = generate.make_rows(units)
    _WORKER["policy"] = policy
    _WORKER["shares"] = [attrs.evolve(data, clusters=clusters[i::SHARES]) for i in range(SHARES)]
    _WORKER["rows"] = [rows[i::SHARES] for i in range(SHARES)]


def _evaluate_share(index: int) -> int:
    share = _WORKER["shares"][index]
    result = evaluate(_WORKER["policy"], share)
    return sum(len(c.units) for c in result.clusters)


def _baseline_share(index: int) -> int:
    return len(baseline_totals(_WORKER["rows"][index]))


def _cores() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


@pytest.mark.parametrize("units", [10_000] + ([100_000] if LARGE else []))
@pytest.mark.parametrize("what", ["evaluate", "baseline"])
def test_all_cores(benchmark, what, units):
    """Units per second with one process per core (``extra_info["units_per_s"]``): the engine's
    evaluation, and the hand-written baseline's totals for comparison; untimed (CI) on 1k units."""
    size = units if not benchmark.disabled else 1_000
    jobs = _cores()
    task = _evaluate_share if what == "evaluate" else _baseline_share
    context = multiprocessing.get_context("spawn")
    with context.Pool(jobs, initializer=_load, initargs=(size,)) as pool:
        pool.map(task, range(SHARES), chunksize=1)  # warm-up: every worker's plans

        def run() -> int:
            return sum(pool.map(task, range(SHARES), chunksize=1))

        evaluated = benchmark.pedantic(run, rounds=3, iterations=1, warmup_rounds=0)
    assert evaluated == size
    if not benchmark.disabled and benchmark.stats:
        median = benchmark.stats.stats.median
        benchmark.extra_info["processes"] = jobs
        benchmark.extra_info["units_per_s"] = round(size / median)
        benchmark.extra_info["us_per_unit_per_core"] = round(median * jobs / size * 1e6, 1)
