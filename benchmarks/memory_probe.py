"""Peak memory of one in-memory evaluation, measured in a fresh process.

``python benchmarks/memory_probe.py UNITS.csv [--policy P] [--trace]`` loads the policy and the
CSV data, evaluates every unit in memory (the result kept), and prints one JSON object:

- ``peak_rss_mib``: the process's peak resident memory (``VmHWM``; ``ru_maxrss`` off Linux), everything
  included: the interpreter, the package, the data set and the result;
- ``base_rss_mib``: resident memory after importing and loading the policy; ``data_rss_mib``:
  after loading the data (the figures before ``evaluate``);
- ``evaluate_mib``: ``peak_rss_mib - data_rss_mib``, what evaluation added at its peak (after a
  first cluster evaluated alone: the policy's one-time compiling is not in it);
- ``seconds``: the ``evaluate`` call's wall time;
- with ``--trace``: ``traced_retained_bytes_per_unit`` and ``traced_peak_mib`` (tracemalloc
  around ``evaluate``, with the data set already loaded: what the result holds, per unit, and
  the peak of the evaluation's own allocations; tracing makes the run several times slower).

A fresh process, because a process's peak cannot be reset: measured in the benchmark's own
process, the figure would include whatever ran before.
"""

from __future__ import annotations

import argparse
import gc
import json
import resource
import sys
import time
import tracemalloc
from pathlib import Path

EXAMPLE = Path(__file__).resolve().parent.parent / "policies" / "cum8-2022.toml"


def _status_mib(field: str) -> float | None:
    """A ``/proc/self/status`` figure (Linux), in MiB; None elsewhere."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return None


def _rss_mib() -> float:
    """The current resident size (the peak so far where ``/proc`` is missing)."""
    current = _status_mib("VmRSS")
    return _peak_mib() if current is None else current


def _peak_mib() -> float:
    """The peak resident size of this process. On Linux ``VmHWM``: ``getrusage``'s ``ru_maxrss``
    is carried over from the parent through ``fork`` and ``exec``, so a probe started by a
    large process (pytest, after evaluating 100k units itself) would report the parent's peak."""
    peak = _status_mib("VmHWM")
    if peak is not None:
        return peak
    maxrss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return maxrss / 2**20 if sys.platform == "darwin" else maxrss / 1024  # bytes on macOS, KiB elsewhere


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data", type=Path)
    parser.add_argument("--policy", type=Path, default=EXAMPLE)
    parser.add_argument("--trace", action="store_true")
    args = parser.parse_args(argv)

    import attrs

    from thidua_rules import evaluate, load_policy, parse_data

    policy = load_policy(args.policy)
    base = _rss_mib()
    raw = args.data.read_bytes()
    data = parse_data(raw, policy, file=args.data.name, format="csv")
    del raw
    # One cluster first: the policy's expressions compiled and its plans made (a policy's
    # one-time costs; they stay in the peak figure, not in ``evaluate_mib``).
    evaluate(policy, attrs.evolve(data, clusters=data.clusters[:1]))
    gc.collect()
    units = sum(len(c.units) for c in data.clusters)
    before = _rss_mib()
    if args.trace:
        tracemalloc.start()
        start_traced = tracemalloc.get_traced_memory()[0]
    start = time.perf_counter()
    result = evaluate(policy, data)
    seconds = time.perf_counter() - start
    out = {"units": units, "seconds": round(seconds, 2)}
    if args.trace:
        current, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        out["traced_retained_bytes_per_unit"] = round((current - start_traced) / units)
        out["traced_peak_mib"] = round((peak - start_traced) / 2**20, 1)
    peak = _peak_mib()
    out.update(peak_rss_mib=round(peak, 1), base_rss_mib=round(base, 1), data_rss_mib=round(before, 1),
               evaluate_mib=round(peak - before, 1))
    assert len(result.clusters) == len(data.clusters)
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
