"""evaluate() with and without a host ``gc.freeze()`` of many objects, as a pre-forking server
(gunicorn's preload, uWSGI) does before it forks: the engine leaves the collector alone, so the
host's frozen objects are never traced (target ratio ≤ 1.1×, shown in the output and in
``extra_info``, not asserted).

``extra_info["ratio_frozen_to_plain"]`` is the median with the host's objects frozen over the
median with the same objects alive and not frozen, measured in the same test, the two
alternating. 10k units when timed (``pytest benchmarks``), 1k units untimed (CI)."""

from __future__ import annotations

import gc
import statistics
import time
from pathlib import Path

import pytest
from generate import make_csv

from thidua_rules import evaluate, load_policy, parse_data

POLICY = Path(__file__).resolve().parent.parent / "policies" / "cum8-2022.toml"
#: The host's long-lived objects: a million small containers (an application's loaded state).
HOST_OBJECTS = 1_000_000


def _median(fn, rounds: int) -> float:
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


@pytest.mark.parametrize("host", ["plain", "frozen"])
def test_evaluate_with_a_host_freeze(benchmark, host):
    """The same evaluation, the host's objects frozen or not; the collector as the host left it."""
    units = 1_000 if benchmark.disabled else 10_000
    policy = load_policy(POLICY)
    data = parse_data(make_csv(units), policy, file="bench.csv", format="csv")
    evaluate(policy, data)   # expressions compiled, plans made: the steady state is timed
    host_state = [[i] for i in range(HOST_OBJECTS)]
    enabled, frozen_before = gc.isenabled(), gc.get_freeze_count()
    try:
        if host == "frozen":
            gc.freeze()
        benchmark.pedantic(evaluate, args=(policy, data), rounds=3, iterations=1, warmup_rounds=1)
        assert gc.isenabled() == enabled
        if not benchmark.disabled and benchmark.stats:
            benchmark.extra_info["us_per_unit"] = round(benchmark.stats.stats.median / units * 1e6, 1)
            if host == "frozen":
                # The same objects, not frozen, timed against the frozen ones, alternating.
                frozen, plain = [], []
                for _ in range(3):
                    frozen.append(_median(lambda: evaluate(policy, data), 1))
                    gc.unfreeze()
                    plain.append(_median(lambda: evaluate(policy, data), 1))
                    gc.freeze()
                ratio = statistics.median(frozen) / statistics.median(plain)
                benchmark.extra_info["ratio_frozen_to_plain"] = round(ratio, 2)
                # Shown, not asserted: the target is ≤ 1.1×, but what the collector does after a
                # freeze is CPython's (its full-collection rule counts only unfrozen survivors),
                # and a timed run on a busy machine varies more than that.
                print(f"\nevaluate, host objects frozen / not frozen: {ratio:.2f}×")
    finally:
        gc.unfreeze()
        assert gc.get_freeze_count() == frozen_before == 0
        del host_state
