"""In-process re-evaluation after a data edit (issue #11 target: ≤ 1 ms on the shipped example).

An embedding application (a web form, a spreadsheet add-in) holds the loaded policy and data,
changes one unit's figure and evaluates again. Timed: making the edited data set (one value of
one unit, through ``attrs.evolve`` as :mod:`thidua_rules.whatif` does) and ``evaluate`` on the six
units of ``examples/cum8-2022/units.toml``; and, beside it, the same with the JSON document built
(``build_document``), which a form showing every point would also ask for. Each round edits a
different value, so no round repeats the previous one's inputs.

    .venv/bin/pytest benchmarks/bench_reevaluate.py --benchmark-columns=median,min,rounds
"""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any

import attrs
import pytest

from thidua_rules import build_document, evaluate, load_data, load_policy
from thidua_rules.model import frozen_mapping

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def loaded() -> tuple[Any, Any]:
    policy = load_policy(ROOT / "policies" / "cum8-2022.toml")
    return policy, load_data(ROOT / "examples" / "cum8-2022" / "units.toml", policy)


def edited(data: Any, joint_activities: int) -> Any:
    """``data`` with the first unit's ``joint_activities`` set to the given figure."""
    cluster = data.clusters[0]
    unit = cluster.units[0]
    values = dict(unit.values)
    values["joint_activities"] = joint_activities
    units = (attrs.evolve(unit, values=frozen_mapping(values)), *cluster.units[1:])
    return attrs.evolve(data, clusters=(attrs.evolve(cluster, units=units), *data.clusters[1:]))


def test_bench_reevaluate(benchmark: Any, loaded: tuple[Any, Any]) -> None:
    policy, data = loaded
    figures = itertools.cycle(range(6))

    def edit_and_evaluate() -> Any:
        return evaluate(policy, edited(data, next(figures)))

    result = benchmark(edit_and_evaluate)
    benchmark.extra_info["units"] = sum(len(c.units) for c in result.clusters)
    assert len(result.clusters[0].units) == 6


def test_bench_reevaluate_document(benchmark: Any, loaded: tuple[Any, Any]) -> None:
    policy, data = loaded
    figures = itertools.cycle(range(6))

    def edit_evaluate_document() -> Any:
        return build_document(evaluate(policy, edited(data, next(figures))))

    doc = benchmark(edit_evaluate_document)
    assert len(doc["units"]) == 6


def test_edit_changes_the_result(loaded: tuple[Any, Any]) -> None:
    """The edit reaches the evaluation: 0 joint activities score 0 points, 3 score 15 (5 × 3)."""
    policy, data = loaded
    first = data.clusters[0].units[0].id
    scores = []
    for figure in (0, 3):
        unit = evaluate(policy, edited(data, figure)).unit(first)
        scores.append(next(c.score for c in unit.score.criteria if c.id == "phoi_hop_cum"))
    assert [str(s) for s in scores] == ["0.00", "15.00"]
