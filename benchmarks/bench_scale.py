"""Every phase timed separately, for the example policy and a large generated one, at 1k and 10k
units (100k with THIDUA_BENCH_LARGE=1): policy load, unit data load (CSV, JSON, TOML), scoring,
ranking and awards one by one and together, output writing (JSON, JSON lines) and the streamed
CSV → JSON-lines run.

Peak memory (tracemalloc, one extra untimed call) goes in each benchmark's ``extra_info`` when
the benchmarks are timed; ``--benchmark-disable`` (CI) runs each phase once and skips it.
The engine's evaluation is also reported as a ratio to the hand-written baseline, measured in
the same run (``extra_info["ratio_to_baseline"]``).
"""

from __future__ import annotations

import io
import json
import os
import time
import tracemalloc
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import generate
import large_policy
import pytest
import tomli_w
from baseline import baseline_totals

from thidua_rules import evaluate, load_policy, parse_data, parse_policy, render
from thidua_rules.awards import award_cluster
from thidua_rules.decimals import engine_context
from thidua_rules.engine import history_contexts
from thidua_rules.ranking import rank_cluster
from thidua_rules.scoring import score_units
from thidua_rules.stream import evaluate_stream

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "policies" / "cum8-2022.toml"
LARGE = os.environ.get("THIDUA_BENCH_LARGE") == "1"
SIZES = [1_000, 10_000] + ([100_000] if LARGE else [])
POLICIES = ["example", "large"]


def _policy_bytes(name: str) -> bytes:
    return EXAMPLE.read_bytes() if name == "example" else large_policy.make_policy().encode("utf-8")


def _rows(name: str, units: int) -> list[dict[str, object]]:
    return generate.make_rows(units) if name == "example" else large_policy.make_rows(units)


def _csv(name: str, units: int) -> bytes:
    return generate.make_csv(units) if name == "example" else large_policy.make_csv(units)


def _nested(rows: list[dict[str, object]]) -> dict[str, Any]:
    clusters: dict[str, list[dict[str, object]]] = {}
    for row in rows:
        unit = {k: v for k, v in row.items() if k != "cluster"}
        clusters.setdefault(str(row["cluster"]), []).append(unit)
    return {"clusters": [{"id": c, "units": units} for c, units in sorted(clusters.items())]}


class Case:
    """Inputs of one (policy, size) pair, built once and shared by its benchmarks."""

    def __init__(self, name: str, units: int) -> None:
        self.name, self.units = name, units
        self.policy_bytes = _policy_bytes(name)
        self.policy = parse_policy(self.policy_bytes, file=f"{name}.toml")
        self.rows = _rows(name, units)
        self.csv = _csv(name, units)
        self._result: Any = None

    def data(self, kind: str) -> bytes:
        if kind == "csv":
            return self.csv
        if kind == "json":
            return json.dumps(_nested(self.rows), ensure_ascii=False).encode("utf-8")
        return tomli_w.dumps(_nested(self.rows)).encode("utf-8")

    @property
    def dataset(self) -> Any:
        return parse_data(self.csv, self.policy, file="bench.csv", format="csv")

    @property
    def result(self) -> Any:
        if self._result is None:
            self._result = evaluate(self.policy, self.dataset)
        return self._result


_CASES: dict[tuple[str, int], Case] = {}


def case(name: str, units: int) -> Case:
    if (name, units) not in _CASES:
        _CASES.clear()  # one case in memory at a time
        _CASES[(name, units)] = Case(name, units)
    return _CASES[(name, units)]


def ci_size(benchmark: Any, units: int) -> None:
    """Untimed (CI, ``--benchmark-disable``): only 1k units, so the run stays short; the 10k
    figures come from timed runs (``pytest benchmarks``)."""
    if benchmark.disabled and units > 1_000:
        pytest.skip("10k+ units only in timed runs (pytest benchmarks)")


def run(benchmark: Any, fn: Callable[..., Any], *args: Any, units: int | None = None, **kwargs: Any) -> Any:
    """Time ``fn``; when timing, record peak traced memory and the time per unit.

    One untimed warm-up round first: a policy's expressions are compiled to Python at their
    first call and its plans made at first use (one-time costs of the policy, not of each
    unit), and the timed rounds then measure the steady state, as a process evaluating many
    batches sees it."""
    rounds = {"rounds": 3, "iterations": 1, "warmup_rounds": 1}
    value = benchmark.pedantic(fn, args=args, kwargs=kwargs, **rounds)
    if not benchmark.disabled:
        tracemalloc.start()
        fn(*args, **kwargs)
        benchmark.extra_info["peak_mib"] = round(tracemalloc.get_traced_memory()[1] / 2**20, 1)
        tracemalloc.stop()
        if units and benchmark.stats:
            benchmark.extra_info["us_per_unit"] = round(benchmark.stats.stats.median / units * 1e6, 1)
    return value


@pytest.mark.parametrize("name", POLICIES)
def test_policy_load(benchmark, name):
    """Parsing, checking and compiling the policy (target: under 50 ms for the large one)."""
    data = _policy_bytes(name)
    benchmark(parse_policy, data, file=f"{name}.toml")


def test_policy_load_from_file(benchmark):
    benchmark(load_policy, EXAMPLE)


@pytest.mark.parametrize("units", SIZES)
@pytest.mark.parametrize("name", POLICIES)
@pytest.mark.parametrize("kind", ["csv", "json", "toml"])
def test_load_data(benchmark, name, units, kind):
    """Reading and checking unit data in each format."""
    if kind != "csv" and units > 1_000 and not LARGE:
        pytest.skip("JSON and TOML loading is timed at 1k units unless THIDUA_BENCH_LARGE=1")
    ci_size(benchmark, units)
    c = case(name, units)
    data = c.data(kind)
    run(benchmark, parse_data, data, c.policy, file=f"bench.{kind}", format=kind, units=units)


@pytest.mark.parametrize("units", SIZES)
@pytest.mark.parametrize("name", POLICIES)
def test_evaluate(benchmark, name, units):
    """Scoring, ranking and awards (with explanations); the example also against the baseline."""
    ci_size(benchmark, units)
    c = case(name, units)
    dataset = c.dataset
    run(benchmark, evaluate, c.policy, dataset, units=units)
    if name == "example" and not benchmark.disabled and benchmark.stats:
        # The baseline timed as the engine is: one warm-up round, then the median of 3.
        _timed(baseline_totals, c.rows)
        base = sorted(_timed(baseline_totals, c.rows) for _ in range(3))[1]
        benchmark.extra_info["baseline_us_per_unit"] = round(base / units * 1e6, 1)
        benchmark.extra_info["ratio_to_baseline"] = round(benchmark.stats.stats.median / base, 2)


def _phases(policy: Any, dataset: Any) -> tuple[Any, Any, Any]:
    """``score()``, ``rank()`` and ``award()`` over every cluster, each on the previous one's
    output (worked out once here, as ``engine.evaluate_cluster`` chains them)."""
    clusters = dataset.clusters

    def score() -> Any:
        with engine_context():
            return [score_units(policy, c.units, c.year, c.plugin_data) for c in clusters]

    scores = score()

    def rank() -> Any:
        with engine_context():
            return [rank_cluster(s, policy.ranking) for s in scores]

    placed = rank()
    for places in placed:  # what evaluate_cluster adds before the awards
        for place in places:
            place.score.env.update(rank=Decimal(place.rank), cluster_size=Decimal(len(places)), tied=place.tied)
    contexts = [history_contexts(c) for c in clusters]

    def award() -> Any:
        return [award_cluster(policy, c, p, h) for c, p, h in zip(clusters, placed, contexts, strict=True)]

    return score, rank, award


@pytest.mark.parametrize("units", SIZES)
@pytest.mark.parametrize("name", POLICIES)
@pytest.mark.parametrize("phase", ["score", "rank", "award"])
def test_evaluate_phase(benchmark, phase, name, units):
    """Scoring, ranking and awards timed one by one (``test_evaluate`` times them together, with
    the result records and each cluster's own steps)."""
    ci_size(benchmark, units)
    c = case(name, units)
    score, rank, award = _phases(c.policy, c.dataset)
    run(benchmark, {"score": score, "rank": rank, "award": award}[phase], units=units)


@pytest.mark.parametrize("units", SIZES)
@pytest.mark.parametrize("name", POLICIES)
@pytest.mark.parametrize("fmt", ["json", "jsonl"])
def test_write(benchmark, name, units, fmt):
    """Rendering the result document (indented JSON, or JSON lines)."""
    if units > 1_000 and name == "large" and not LARGE:
        pytest.skip("output of the large policy is timed at 1k units unless THIDUA_BENCH_LARGE=1")
    ci_size(benchmark, units)
    c = case(name, units)
    run(benchmark, render, c.result, fmt, units=units)


@pytest.mark.parametrize("units", SIZES)
@pytest.mark.parametrize("name", POLICIES)
def test_stream_csv_to_jsonl(benchmark, name, units, tmp_path):
    """End to end in one process: CSV file → checked clusters → evaluated → JSON lines."""
    ci_size(benchmark, units)
    c = case(name, units)
    path = tmp_path / "units.csv"
    path.write_bytes(c.csv)

    def stream() -> None:
        evaluate_stream(c.policy, path, io.StringIO())

    run(benchmark, stream, units=units)


def test_baseline_example(benchmark):
    """The hand-written Decimal baseline alone, 10k units of the example policy."""
    rows = generate.make_rows(10_000)
    run(benchmark, baseline_totals, rows, units=10_000)


def _timed(fn: Callable[..., Any], *args: Any) -> float:
    start = time.perf_counter()
    fn(*args)
    return time.perf_counter() - start
