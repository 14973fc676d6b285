"""Every target of the performance issue (#11), measured in one run, printed as the table of
docs/performance.md:

    .venv/bin/python benchmarks/targets.py            # about 3 minutes on 2 cores
    .venv/bin/python benchmarks/targets.py --large    # and the 1M-unit CSV → JSON lines run (+3 min)

Each row is a ratio (or a figure) measured in this run, the two sides timed in turns so that a
shared machine slows them alike: medians of a few rounds after a warm-up round, wall time. The
pieces are the benchmarks' own (``bench_peers``, ``bench_json``, ``bench_startup``,
``bench_reevaluate``, ``bench_cells``, ``memory_probe``, ``bench_gc``, ``run_large``): the
pytest-benchmark runs give the same figures with their statistics. Nothing is asserted; the
last column says whether the target is met by the figure measured.
"""

from __future__ import annotations

import argparse
import gc
import itertools
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import bench_cells  # noqa: E402
import bench_json  # noqa: E402
import bench_peers  # noqa: E402
import bench_reevaluate  # noqa: E402
import bench_startup  # noqa: E402
import generate  # noqa: E402

from thidua_rules import evaluate, load_data, load_policy, parse_data, parse_policy  # noqa: E402

ROOT = HERE.parent
Row = tuple[str, str, str, bool | None]  # what, target, measured, met (None: not measured)


def _median_in_turns(fns: list[Callable[[], Any]], rounds: int) -> list[float]:
    """The median wall time of each function, run in turns, after one warm-up run of each."""
    for fn in fns:
        fn()
    times: list[list[float]] = [[] for _ in fns]
    for _ in range(rounds):
        for i, fn in enumerate(fns):
            start = time.perf_counter()
            fn()
            times[i].append(time.perf_counter() - start)
    return [statistics.median(t) for t in times]


def evaluate_example(units: int) -> Row:
    case = bench_peers.case("example", units)
    engine, lean = _median_in_turns([bench_peers._runner("thidua evaluate", "example", case),
                                     bench_peers._runner("decimal", "example", case)], 3)
    ratio = engine / lean
    return ("evaluate (score + rank + award, explanation facts kept), example policy",
            "≤ 1.0× the lean hand-written Decimal function (totals only); stretch 0.5×",
            f"{ratio:.2f}× ({engine / units * 1e6:.1f} against {lean / units * 1e6:.1f} µs/unit, {units:,} units)",
            ratio <= 1.0)


def evaluate_twelve(units: int) -> Row:
    what, target = "evaluate, 12-criterion policy", "≤ 0.5× zen-engine per unit"
    try:
        import zen
    except ImportError:
        return what, target, "not measured: zen-engine is not installed (pip install -e '.[bench]')", None
    case = bench_peers.case("twelve", units)
    decision = zen.ZenEngine().create_decision(bench_peers.JDM["twelve"])
    engine, peer = _median_in_turns([bench_peers._runner("thidua evaluate", "twelve", case),
                                     lambda: bench_peers._zen_totals(decision, case.figures)], 3)
    ratio = engine / peer
    return (what, target, f"{ratio:.2f}× ({engine / units * 1e6:.1f} against {peer / units * 1e6:.1f} µs/unit, "
            f"{units:,} units)", ratio <= 0.5)


def json_whole_process(folder: Path) -> Row:
    units = bench_json.UNITS
    data, out, naive_out = folder / "json.csv", folder / "json.json", folder / "naive.json"
    data.write_bytes(bench_json.one_cluster_csv(units))
    engine, naive = [], []
    for _ in range(2):
        engine.append(bench_json._run(bench_json._command(data, out))[0])
        naive.append(bench_json._run(bench_json._naive(data, naive_out))[0])
    ratio = min(engine) / min(naive)
    return (f"`thidua evaluate --format json`, one cluster of {units:,} units, whole process",
            "≤ 0.5× a naive per-unit `eval` of the same policy (benchmarks/naive_eval.py)",
            f"{ratio:.2f}× ({min(engine):.2f} s against {min(naive):.2f} s, min of 2; "
            f"{out.stat().st_size / 2**20:.0f} MiB of JSON)", ratio <= 0.5)


def start_up() -> list[Row]:
    times = bench_startup.measure(15)
    base = min(w for w, _ in times["python -c pass"])
    example = min(w for w, _ in times["thidua evaluate (example)"]) / base
    helped = min(w for w, _ in times["thidua --help"]) / base
    floor = min(w for w, _ in times["dependencies only"]) / base
    return [("CLI on the six-unit example, whole process", "≤ 6× `python -c pass`",
             f"{example:.2f}× ({base * 1000:.1f} ms for `python -c pass`; importing the dependencies "
             f"alone: {floor:.2f}×)", example <= 6),
            ("`thidua --help`", "≤ 3× `python -c pass`", f"{helped:.2f}×", helped <= 3)]


def re_evaluation() -> Row:
    policy = load_policy(ROOT / "policies" / "cum8-2022.toml")
    data = load_data(ROOT / "examples" / "cum8-2022" / "units.toml", policy)
    figures = itertools.cycle(range(6))
    times = []
    for _ in range(300):
        start = time.perf_counter()
        evaluate(policy, bench_reevaluate.edited(data, next(figures)))
        times.append(time.perf_counter() - start)
    median = statistics.median(times[20:])
    return ("in-process re-evaluation of the example after a data edit", "≤ 1 ms",
            f"{median * 1000:.2f} ms (median of 280)", median <= 0.001)


def loading_cells() -> Row:
    text = bench_cells.POLICIES["example"][0].read_bytes()
    units = bench_cells.UNITS
    distinct, repeated = (bench_cells.data("example", kind, units) for kind in ("distinct", "repeated"))

    def load(csv_bytes: bytes) -> Callable[[], Any]:
        return lambda: parse_data(csv_bytes, parse_policy(text, file="p.toml"), file="u.csv", format="csv")

    d, r = _median_in_turns([load(distinct), load(repeated)], 3)
    ratio = d / r
    return ("loading CSV with distinct values in every cell", "≤ 1.3× the time with repeated values",
            f"{ratio:.2f}× ({d / units * 1e6:.1f} against {r / units * 1e6:.1f} µs/unit, {units:,} units)",
            ratio <= 1.3)


def memory(folder: Path, units: int) -> Row:
    data = folder / f"memory-{units}.csv"
    data.write_bytes(generate.make_csv(units))
    out = subprocess.run([sys.executable, str(HERE / "memory_probe.py"), str(data)], check=True,
                         capture_output=True, text=True).stdout
    probe = json.loads(out)
    peak = probe["peak_rss_mib"]
    return (f"{units:,} units evaluated in memory", "peak ≤ 300 MiB",
            f"{peak:.0f} MiB peak resident (the data set loaded: {probe['data_rss_mib']:.0f} MiB)", peak <= 300)


def host_freeze(units: int) -> Row:
    policy = load_policy(ROOT / "policies" / "cum8-2022.toml")
    data = parse_data(generate.make_csv(units), policy, file="bench.csv", format="csv")
    evaluate(policy, data)
    host_state = [[i] for i in range(1_000_000)]  # a host's long-lived objects
    frozen, plain = [], []
    try:
        for _ in range(3):
            gc.freeze()
            start = time.perf_counter()
            evaluate(policy, data)
            frozen.append(time.perf_counter() - start)
            gc.unfreeze()
            start = time.perf_counter()
            evaluate(policy, data)
            plain.append(time.perf_counter() - start)
    finally:
        gc.unfreeze()
        del host_state
    ratio = statistics.median(frozen) / statistics.median(plain)
    return ("host has called `gc.freeze()`", "evaluate ≤ 1.1× the time without",
            f"{ratio:.2f}× ({units:,} units, a million host objects)", ratio <= 1.1)


def large_run(folder: Path) -> Row:
    what, target = "1M units, 100k clusters, CSV → JSON lines, `--jobs 2`", "≤ 30 s, peak < 1 GiB"
    env = {**os.environ, "THIDUA_BENCH_LARGE": "1"}
    out = subprocess.run([sys.executable, str(HERE / "run_large.py"), "--units", "1000000", "--jobs", "2",
                          "--dir", str(folder)], check=True, capture_output=True, text=True, env=env).stdout
    fields = dict(item.split("=", 1) for item in out.split())
    wall, peak = float(fields["wall"].rstrip("s")), float(fields["peak_rss_largest_process"].rstrip("MiB"))
    return what, target, f"{wall:.1f} s, peak {peak:.0f} MiB in the largest process", wall <= 30 and peak < 1024


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--units", type=int, default=10_000, help="units of the evaluate rows (default 10,000)")
    parser.add_argument("--large", action="store_true", help="also the 1M-unit run (minutes)")
    args = parser.parse_args()
    rows: list[Row] = []
    with tempfile.TemporaryDirectory(prefix="thidua-targets-") as tmp:
        folder = Path(tmp)
        steps: list[Callable[[], Row | list[Row]]] = [
            lambda: evaluate_example(args.units), lambda: evaluate_twelve(args.units),
            lambda: json_whole_process(folder), start_up, re_evaluation, loading_cells,
            lambda: memory(folder, 100_000), lambda: host_freeze(args.units)]
        if args.large:
            steps.append(lambda: large_run(Path(tempfile.gettempdir()) / "thidua-bench"))
        for step in steps:
            got = step()
            rows.extend(got if isinstance(got, list) else [got])
            print(f"measured: {rows[-1][0]}", file=sys.stderr)
    print(f"load average {os.getloadavg()[0]:.1f}, {os.cpu_count()} cores, Python {sys.version.split()[0]}\n")
    print("| what | target | measured | met |\n|---|---|---|---|")
    for what, target, measured, met in rows:
        print(f"| {what} | {target} | {measured} | {'—' if met is None else 'yes' if met else '**no**'} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
