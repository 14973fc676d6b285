"""The documented large runs: N units (default 1,000,000, in clusters of 6 to 15) from a CSV
file to a JSON-lines result file through the command line, with wall time and peak memory.

    THIDUA_BENCH_LARGE=1 .venv/bin/python benchmarks/run_large.py --units 1000000 --jobs 2

Writes the CSV (kept for reuse) and the result under --dir (default /tmp/thidua-bench). Not run
by pytest: it takes minutes. Peak memory is the largest resident set of the main process and of
any one worker (workers run side by side, so the total is at most the sum of the two times N).
"""

from __future__ import annotations

import argparse
import csv
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

import generate

ROOT = Path(__file__).resolve().parent.parent


def write_csv(path: Path, units: int) -> None:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=generate.FIELDS, lineterminator="\n")
        writer.writeheader()
        step = 50_000  # generated in slices so that this script stays small in memory too
        done = 0
        while done < units:
            rows = generate.make_rows(min(step, units - done), seed=done + 1)
            for row in rows:  # distinct cluster and unit ids per slice, still sorted
                row["cluster"] = f"s{done // step:04d}-{row['cluster']}"
                row["id"] = f"s{done // step:04d}-{row['id']}"
            writer.writerows(rows)
            done += len(rows)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--units", type=int, default=1_000_000)
    parser.add_argument("--jobs", type=int, default=0)
    parser.add_argument("--dir", default="/tmp/thidua-bench")
    args = parser.parse_args()
    if os.environ.get("THIDUA_BENCH_LARGE") != "1":
        sys.stderr.write("set THIDUA_BENCH_LARGE=1 to run the large benchmark\n")
        return 2
    folder = Path(args.dir)
    folder.mkdir(parents=True, exist_ok=True)
    data = folder / f"units-{args.units}.csv"
    if not data.exists():
        write_csv(data, args.units)
    out = folder / f"result-{args.units}.jsonl"
    cmd = [sys.executable, "-m", "thidua_rules", "evaluate", str(ROOT / "policies" / "cum8-2022.toml"),
           str(data), "--format", "jsonl", "-o", str(out), "--jobs", str(args.jobs)]
    start = time.perf_counter()
    subprocess.run(cmd, check=True)
    wall = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(f"units={args.units} jobs={args.jobs or os.cpu_count()} wall={wall:.1f}s "
          f"units_per_s={args.units / wall:,.0f} peak_rss_largest_process={peak:.0f}MiB "
          f"output={out.stat().st_size / 2**20:.0f}MiB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
