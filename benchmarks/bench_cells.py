"""Loading CSV whose every cell is new (distinct figures) against the same rows with figures
repeated from 40 units (issue #11: target ≤ 1.3×). Each round loads with a freshly compiled
policy, whose plans (and remembered cells) start empty; ``extra_info`` has µs per unit and, on
the ``distinct`` benchmark, its ratio to ``repeated`` (once both have run in this session).

    .venv/bin/pytest benchmarks/bench_cells.py --benchmark-columns=median,min,rounds
"""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

import peers
import pytest

from thidua_rules import parse_data, parse_policy

ROOT = Path(__file__).resolve().parent.parent
POLICIES = {"example": (ROOT / "policies" / "cum8-2022.toml", peers.example_rows),
            "twelve": (Path(__file__).parent / "peer_twelve.toml", peers.twelve_rows)}
UNITS = 20_000
_MEDIANS: dict[tuple[str, str], float] = {}


def _csv(rows: list[dict[str, Any]]) -> bytes:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(rows[0]), lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue().encode("utf-8")


def data(policy: str, kind: str, units: int) -> bytes:
    rows = POLICIES[policy][1](units)
    if kind == "repeated":
        figures = [{k: v for k, v in r.items() if k not in ("cluster", "id", "name")} for r in rows[:40]]
        rows = [{**r, **figures[i % 40]} for i, r in enumerate(rows)]
    return _csv(rows)


@pytest.mark.parametrize("kind", ["repeated", "distinct"])
@pytest.mark.parametrize("policy", sorted(POLICIES))
def test_bench_load_cells(benchmark: Any, policy: str, kind: str) -> None:
    units = 1_000 if benchmark.disabled else UNITS
    text = POLICIES[policy][0].read_bytes()
    csv_bytes = data(policy, kind, units)

    def load() -> Any:
        return parse_data(csv_bytes, parse_policy(text, file="p.toml"), file="u.csv", format="csv")

    benchmark.pedantic(load, rounds=3, iterations=1, warmup_rounds=0)
    if not benchmark.disabled and benchmark.stats:
        median = benchmark.stats.stats.median
        _MEDIANS[(policy, kind)] = median
        benchmark.extra_info["us_per_unit"] = round(median / units * 1e6, 1)
        if kind == "distinct" and (policy, "repeated") in _MEDIANS:
            benchmark.extra_info["ratio_to_repeated"] = round(median / _MEDIANS[(policy, "repeated")], 2)
