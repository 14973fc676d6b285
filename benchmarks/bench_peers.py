"""The engine against its peers in the same run, per unit, on the same data (issue #11).

Two policies: the example (``policies/cum8-2022.toml``: 6 criteria, 3 groups, 1 bonus,
2 deductions) and ``benchmarks/peer_twelve.toml`` (12 criteria of four methods in 3 groups, one
capped). Peers (:mod:`peers`): the same rules as a zen-engine JDM decision (``pip install -e
'.[bench]'``; skipped with the reason if zen-engine is not installed), a lean hand-written
Decimal function and a hand-written integer (hundredths) function. The engine is timed twice:
``evaluate`` (scoring, ranking and awards, with every explanation record) and its scoring alone
(``score_units``: the totals and the score records). Data: seeded units with wide, mostly
distinct figures (``peers.example_rows``, ``peers.twelve_rows``), at 1k and 10k units; 100k with
``THIDUA_BENCH_LARGE=1``. The data is loaded once (not timed); every peer gets the loaded
figures as plain values (ints and texts), which is what they take.

    .venv/bin/pytest benchmarks/bench_peers.py --benchmark-columns=median,min,rounds \
        --benchmark-group-by=param:policy,param:units

µs per unit is in each benchmark's ``extra_info``. ``test_peers_agree`` checks that every peer
gives the engine's totals on the data.
"""

from __future__ import annotations

import csv
import io
import os
from decimal import Decimal
from pathlib import Path
from typing import Any

import peers
import pytest

from thidua_rules import evaluate, load_policy, parse_data
from thidua_rules.decimals import engine_context
from thidua_rules.scoring import score_units

ROOT = Path(__file__).resolve().parent.parent
POLICIES = {"example": ROOT / "policies" / "cum8-2022.toml", "twelve": Path(__file__).parent / "peer_twelve.toml"}
ROWS = {"example": peers.example_rows, "twelve": peers.twelve_rows}
JDM = {"example": peers.EXAMPLE_JDM, "twelve": peers.TWELVE_JDM}
DECIMAL = {"example": peers.example_decimal, "twelve": peers.twelve_decimal}
INTEGER = {"example": peers.example_integer, "twelve": peers.twelve_integer}
SIZES = [1_000, 10_000] + ([100_000] if os.environ.get("THIDUA_BENCH_LARGE") == "1" else [])
PEERS = ["thidua evaluate", "thidua scoring", "zen-engine", "decimal", "integer"]


def _csv(rows: list[dict[str, Any]]) -> bytes:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(rows[0]), lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue().encode("utf-8")


class Case:
    """One policy at one size: the policy, the loaded dataset and each unit's figures."""

    def __init__(self, name: str, units: int) -> None:
        self.policy = load_policy(POLICIES[name])
        self.dataset = parse_data(_csv(ROWS[name](units)), self.policy, file="peers.csv", format="csv")
        self.units = units
        # What the peers take: each unit's inputs as plain values, from the loaded data.
        self.figures = [{k: int(v) if type(v) is Decimal else v for k, v in unit.values.items()}
                        for cluster in self.dataset.clusters for unit in cluster.units]

    def engine_totals(self) -> list[Decimal]:
        result = evaluate(self.policy, self.dataset)
        by_id = {u.id: u.total for c in result.clusters for u in c.units}
        return [by_id[u.id] for c in self.dataset.clusters for u in c.units]


_CASES: dict[tuple[str, int], Case] = {}


def case(name: str, units: int) -> Case:
    if (name, units) not in _CASES:
        _CASES.clear()  # one case in memory at a time
        _CASES[(name, units)] = Case(name, units)
    return _CASES[(name, units)]


def _zen(name: str) -> Any:
    zen = pytest.importorskip("zen", reason="zen-engine is not installed: pip install -e '.[bench]'")
    return zen.ZenEngine().create_decision(JDM[name])


def _zen_totals(decision: Any, figures: list[dict[str, Any]]) -> list[Any]:
    evaluate_one = decision.evaluate
    return [evaluate_one(f)["result"]["total"] for f in figures]


def _scoring(c: Case) -> list[Any]:
    policy = c.policy
    with engine_context():
        return [score_units(policy, cl.units, cl.year, cl.plugin_data) for cl in c.dataset.clusters]


def _runner(peer: str, name: str, c: Case) -> Any:
    if peer == "thidua evaluate":
        return lambda: evaluate(c.policy, c.dataset)
    if peer == "thidua scoring":
        return lambda: _scoring(c)
    if peer == "zen-engine":
        decision = _zen(name)
        return lambda: _zen_totals(decision, c.figures)
    if peer == "decimal":
        return lambda: peers.decimal_totals(DECIMAL[name], c.figures)
    return lambda: peers.integer_totals(INTEGER[name], c.figures)


@pytest.mark.parametrize("policy", sorted(POLICIES))
def test_peers_agree(policy: str) -> None:
    """Every peer gives the engine's totals (2 places) on the benchmark's data, at 1k units."""
    c = case(policy, 1_000)
    engine = c.engine_totals()
    assert len(set(engine)) > 300  # distinct figures give many distinct totals
    assert peers.decimal_totals(DECIMAL[policy], c.figures) == engine
    assert [Decimal(t).scaleb(-2) for t in peers.integer_totals(INTEGER[policy], c.figures)] == engine
    zen = pytest.importorskip("zen", reason="zen-engine is not installed: pip install -e '.[bench]'")
    decision = zen.ZenEngine().create_decision(JDM[policy])
    # zen-engine computes in decimals too, and gives its result to Python as floats.
    got = [Decimal(repr(t)).quantize(Decimal("0.01")) for t in _zen_totals(decision, c.figures)]
    assert got == engine


@pytest.mark.parametrize("units", SIZES)
@pytest.mark.parametrize("peer", PEERS)
@pytest.mark.parametrize("policy", sorted(POLICIES))
def test_bench_peer(benchmark: Any, policy: str, peer: str, units: int) -> None:
    """One peer over every unit; one untimed warm-up round, then 3 timed rounds."""
    if benchmark.disabled and units > 1_000:
        pytest.skip("10k+ units only in timed runs (pytest benchmarks)")
    c = case(policy, units)
    fn = _runner(peer, policy, c)
    benchmark.pedantic(fn, rounds=3, iterations=1, warmup_rounds=1)
    if not benchmark.disabled and benchmark.stats:
        benchmark.extra_info["us_per_unit"] = round(benchmark.stats.stats.median / units * 1e6, 1)
