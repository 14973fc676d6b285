"""Whole-process start-up: `thidua --help` and the example's `thidua evaluate` against `python -c pass`.

Targets (issue #11): the example ≤ 6× `python -c pass`, `--help` ≤ 3×. The ratios of the min
times go to each benchmark's extra_info; nothing is asserted on time. Also a script, which
prints min and median of 20 runs of each:

    .venv/bin/python benchmarks/bench_startup.py

The commands run with this process's environment: under ``PYTHONDONTWRITEBYTECODE=1`` no
bytecode is cached and every run compiles each module it imports again, which an installed
package never does (``env -u PYTHONDONTWRITEBYTECODE PYTHONPYCACHEPREFIX=/tmp/pyc ...`` caches
it outside the tree).
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
ROUNDS = 20


def _thidua() -> list[str]:
    """The installed `thidua` command beside this Python, else `python -m thidua_rules`."""
    script = Path(sys.executable).parent / "thidua"
    return [str(script)] if script.exists() else [sys.executable, "-m", "thidua_rules"]


COMMANDS: dict[str, list[str]] = {
    "python -c pass": [sys.executable, "-c", "pass"],
    "thidua --help": [*_thidua(), "--help"],
    "thidua --version": [*_thidua(), "--version"],
    "thidua evaluate (example)": [*_thidua(), "evaluate", "policies/cum8-2022.toml",
                                  "examples/cum8-2022/units.toml"],
}


def run(command: list[str]) -> None:
    subprocess.run(command, cwd=ROOT, stdout=subprocess.DEVNULL, check=True)


def timings(command: list[str], rounds: int = ROUNDS) -> list[float]:
    """Wall-clock seconds of ``rounds`` runs of ``command`` (after one warm-up run)."""
    run(command)
    out = []
    for _ in range(rounds):
        start = time.perf_counter()
        run(command)
        out.append(time.perf_counter() - start)
    return out


@pytest.fixture(scope="module")
def python_min() -> float:
    return min(timings(COMMANDS["python -c pass"]))


@pytest.mark.parametrize("name", list(COMMANDS))
def test_bench_startup(benchmark, python_min, name):
    benchmark.pedantic(run, args=(COMMANDS[name],), rounds=ROUNDS, iterations=1, warmup_rounds=1)
    stats = getattr(benchmark, "stats", None)
    if stats is not None:  # None under --benchmark-disable
        benchmark.extra_info["python_c_pass_min_ms"] = round(python_min * 1000, 1)
        benchmark.extra_info["ratio_min"] = round(stats.stats.min / python_min, 2)
        benchmark.extra_info["ratio_median"] = round(stats.stats.median / python_min, 2)


def main() -> None:
    results = {name: timings(command) for name, command in COMMANDS.items()}
    base = min(results["python -c pass"])
    for name, times in results.items():
        best, median = min(times), statistics.median(times)
        print(f"{name:28} min {best * 1000:6.1f} ms  median {median * 1000:6.1f} ms  "
              f"{best / base:5.2f}× python -c pass (min)")


if __name__ == "__main__":
    main()
