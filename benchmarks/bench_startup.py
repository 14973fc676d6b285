"""Whole-process start-up: `thidua --help` and the example's `thidua evaluate` against `python -c pass`.

Targets (issue #11): the example ≤ 6× `python -c pass`, `--help` ≤ 3×. Each ratio is measured
in the same run as its `python -c pass`; nothing is asserted on time. Two ways to run it:

    .venv/bin/python benchmarks/bench_startup.py [ROUNDS]      # the table in docs/performance.md
    .venv/bin/pytest benchmarks/bench_startup.py --benchmark-columns=min,median,rounds

The script runs the commands in turns (one run of each per round, ROUNDS rounds, default 30),
so that a machine shared with other work slows them alike, and prints for each the min and
median wall time, its ratio to `python -c pass` (min against min) and the ratio of the CPU
time the process used (min against min: what a shared machine disturbs least). It also times
a process that imports only the libraries the example's run needs (attrs, pluggy, tomllib...):
the part of the ratio that is not this package's own code. Under pytest each command is a
benchmark whose `extra_info` holds both ratios against `python -c pass` timed just before it.

The commands run with this process's environment: under ``PYTHONDONTWRITEBYTECODE=1`` no
bytecode is cached and every run compiles each module it imports again, which an installed
package never does; the script then caches it in a temporary folder (``PYTHONPYCACHEPREFIX``).
"""

from __future__ import annotations

import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
ROUNDS = 30

#: The libraries (and the standard library's larger modules) the example's `thidua evaluate`
#: imports: a process importing only them is the floor this package's own code adds to.
DEPENDENCIES = "import argparse, attrs, csv, decimal, fractions, hashlib, json, pathlib, pluggy, tomllib"


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
    "dependencies only": [sys.executable, "-c", DEPENDENCIES],
}


def _environment() -> dict[str, str]:
    env = dict(os.environ)
    if env.pop("PYTHONDONTWRITEBYTECODE", None) and "PYTHONPYCACHEPREFIX" not in env:
        env["PYTHONPYCACHEPREFIX"] = str(Path(tempfile.gettempdir()) / "thidua-bench-pycache")
    return env


ENV = _environment()


def run(command: list[str]) -> None:
    subprocess.run(command, cwd=ROOT, stdout=subprocess.DEVNULL, env=ENV, check=True)


def timed(command: list[str]) -> tuple[float, float]:
    """Wall-clock and CPU seconds (user + system) of one run of ``command``."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    run(command)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def measure(rounds: int = ROUNDS) -> dict[str, list[tuple[float, float]]]:
    """Each command run once per round, in turns, after one warm-up run of each."""
    for command in COMMANDS.values():
        run(command)
    times: dict[str, list[tuple[float, float]]] = {name: [] for name in COMMANDS}
    for _ in range(rounds):
        for name, command in COMMANDS.items():
            times[name].append(timed(command))
    return times


@pytest.fixture(scope="module")
def python_min() -> tuple[float, float]:
    runs = [timed(COMMANDS["python -c pass"]) for _ in range(ROUNDS)]
    return min(w for w, _ in runs), min(c for _, c in runs)


@pytest.mark.parametrize("name", list(COMMANDS))
def test_bench_startup(benchmark, python_min, name):
    cpu: list[float] = []
    benchmark.pedantic(lambda: cpu.append(timed(COMMANDS[name])[1]), rounds=ROUNDS, iterations=1,
                       warmup_rounds=1)
    stats = getattr(benchmark, "stats", None)
    if stats is not None:  # None under --benchmark-disable
        wall_base, cpu_base = python_min
        benchmark.extra_info["python_c_pass_min_ms"] = round(wall_base * 1000, 1)
        benchmark.extra_info["ratio_min"] = round(stats.stats.min / wall_base, 2)
        benchmark.extra_info["ratio_median"] = round(stats.stats.median / wall_base, 2)
        benchmark.extra_info["cpu_ratio_min"] = round(min(cpu) / cpu_base, 2)


def main() -> None:
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else ROUNDS
    results = measure(rounds)
    wall_base = min(w for w, _ in results["python -c pass"])
    cpu_base = min(c for _, c in results["python -c pass"])
    print(f"{rounds} rounds; load average {os.getloadavg()[0]:.1f} at the end")
    print(f"{'command':28} {'min ms':>7} {'median':>7} {'× pass':>7} {'cpu ms':>7} {'cpu ×':>6}")
    for name, runs in results.items():
        walls, cpus = [w for w, _ in runs], [c for _, c in runs]
        print(f"{name:28} {min(walls) * 1000:7.1f} {statistics.median(walls) * 1000:7.1f} "
              f"{min(walls) / wall_base:6.2f}× {min(cpus) * 1000:7.1f} {min(cpus) / cpu_base:5.2f}×")


if __name__ == "__main__":
    main()
