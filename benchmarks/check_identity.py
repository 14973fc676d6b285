"""The fast paths and the straightforward paths give identical output bytes on large data.

    .venv/bin/python benchmarks/check_identity.py --units 100000 [--policy example|large] [--jobs 2]

Writes seeded CSV data (clusters of 6 to 15 units) under --dir, then evaluates it to JSON lines
three ways: streamed on the fast paths in one process and in --jobs processes, and streamed in
one process with every fast path switched to its straightforward counterpart
(``tests/straightforward.py``: scoring loops, closure-tree expressions,
unit records as encoded documents; titles and ranking are compared
with the reference engine by ``tests/test_conformance.py``). Prints the SHA-256 and time of each and exits 1 if any two differ. CI runs
the same comparison on small data (``tests/test_identity.py``); this is the 100k-unit run.
"""

from __future__ import annotations

import argparse
import hashlib
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(Path(__file__).parent))
sys.path.insert(0, str(ROOT))

import generate  # noqa: E402
import large_policy  # noqa: E402
from tests.straightforward import straightforward_paths  # noqa: E402

from thidua_rules import parse_policy  # noqa: E402
from thidua_rules.stream import evaluate_stream  # noqa: E402


class _Hashing:
    """A text sink that keeps only the SHA-256 of what is written and its size."""

    def __init__(self) -> None:
        self.hash = hashlib.sha256()
        self.size = 0

    def write(self, text: str) -> int:
        data = text.encode("utf-8")
        self.hash.update(data)
        self.size += len(data)
        return len(text)


def run(policy_bytes: bytes, data: Path, jobs: int) -> tuple[str, int, float]:
    start = time.perf_counter()
    policy = parse_policy(policy_bytes, file="policy.toml")  # loaded here: inside the switches too
    sink = _Hashing()
    evaluate_stream(policy, data, sink, display=data.name, jobs=jobs,  # type: ignore[arg-type]
                    policy_bytes=policy_bytes)
    return sink.hash.hexdigest(), sink.size, time.perf_counter() - start


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--units", type=int, default=100_000)
    parser.add_argument("--policy", choices=["example", "large"], default="example")
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--dir", default="/tmp/thidua-bench")
    args = parser.parse_args()
    folder = Path(args.dir)
    folder.mkdir(parents=True, exist_ok=True)
    data = folder / f"identity-{args.policy}-{args.units}.csv"
    if args.policy == "example":
        policy_bytes = (ROOT / "policies" / "cum8-2022.toml").read_bytes()
        make_csv = generate.make_csv
    else:
        policy_bytes = large_policy.make_policy().encode("utf-8")
        make_csv = large_policy.make_csv
    if not data.exists():
        data.write_bytes(make_csv(args.units))
    runs = {"fast, 1 process": run(policy_bytes, data, 1),
            f"fast, {args.jobs} processes": run(policy_bytes, data, args.jobs)}
    with straightforward_paths():
        runs["straightforward, 1 process"] = run(policy_bytes, data, 1)
    for name, (digest, size, seconds) in runs.items():
        print(f"{name:28s} sha256={digest} bytes={size:,} {seconds:.1f}s")
    same = len({digest for digest, _, _ in runs.values()}) == 1
    print(f"{args.units:,} units of the {args.policy} policy: " + ("identical" if same else "DIFFERENT"))
    return 0 if same else 1


if __name__ == "__main__":
    raise SystemExit(main())
