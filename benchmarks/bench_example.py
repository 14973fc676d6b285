"""Engine against the hand-written baseline on the example policy, at 1k units (seeded data)."""

from __future__ import annotations

from pathlib import Path

import pytest
from baseline import baseline_totals
from generate import make_csv, make_rows

from thidua_rules import evaluate, load_policy, parse_data, render

POLICY = Path(__file__).resolve().parent.parent / "policies" / "cum8-2022.toml"
UNITS = 1000


@pytest.fixture(scope="module")
def policy():
    return load_policy(POLICY)


@pytest.fixture(scope="module")
def rows():
    return make_rows(UNITS)


@pytest.fixture(scope="module")
def dataset(policy):
    return parse_data(make_csv(UNITS), policy, file="bench.csv", format="csv")


def test_baseline_matches_engine(policy, dataset, rows):
    """The baseline is only a yardstick if it computes the same totals as the engine."""
    result = evaluate(policy, dataset)
    engine = {u.id: u.total for c in result.clusters for u in c.units}
    base = dict(zip((r["id"] for r in rows), baseline_totals(rows), strict=True))
    assert engine == base


def test_bench_policy_load(benchmark):
    benchmark(load_policy, POLICY)


def test_bench_load_csv(benchmark, policy):
    data = make_csv(UNITS)
    benchmark(parse_data, data, policy, file="bench.csv", format="csv")


def test_bench_baseline(benchmark, rows):
    benchmark(baseline_totals, rows)


def test_bench_evaluate(benchmark, policy, dataset):
    benchmark(evaluate, policy, dataset)


def test_bench_render_json(benchmark, policy, dataset):
    result = evaluate(policy, dataset)
    benchmark(render, result, "json")
