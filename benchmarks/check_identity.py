"""A large run gives identical output bytes streamed in one process, in several, and in memory.

    .venv/bin/python benchmarks/check_identity.py --units 100000 [--policy example|large] [--jobs 2]

Writes seeded CSV data (clusters of 6 to 15 units) under --dir, then evaluates it to JSON lines
three ways: streamed in one process, streamed in --jobs processes, and loaded and evaluated in
memory (``render(evaluate(...), "jsonl")``). Prints the SHA-256 and time of each and exits 1 if
any two differ. The engine has one code for each step (no fast path with a slower twin to
compare with); the reference engine is compared with it by ``tests/test_conformance.py``. CI
runs the same comparison on small data (``tests/test_identity.py``); this is the 100k-unit run.
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

from thidua_rules import evaluate, parse_data, parse_policy, render  # noqa: E402
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
    policy = parse_policy(policy_bytes, file="policy.toml")
    sink = _Hashing()
    evaluate_stream(policy, data, sink, display=data.name, jobs=jobs,  # type: ignore[arg-type]
                    policy_bytes=policy_bytes)
    return sink.hash.hexdigest(), sink.size, time.perf_counter() - start


def in_memory(policy_bytes: bytes, data: Path) -> tuple[str, int, float]:
    start = time.perf_counter()
    policy = parse_policy(policy_bytes, file="policy.toml")
    text = render(evaluate(policy, parse_data(data.read_bytes(), policy, file=data.name, format="csv")), "jsonl")
    encoded = text.encode("utf-8")
    return hashlib.sha256(encoded).hexdigest(), len(encoded), time.perf_counter() - start


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
    runs = {"streamed, 1 process": run(policy_bytes, data, 1),
            f"streamed, {args.jobs} processes": run(policy_bytes, data, args.jobs),
            "in memory": in_memory(policy_bytes, data)}
    for name, (digest, size, seconds) in runs.items():
        print(f"{name:28s} sha256={digest} bytes={size:,} {seconds:.1f}s")
    same = len({digest for digest, _, _ in runs.values()}) == 1
    print(f"{args.units:,} units of the {args.policy} policy: " + ("identical" if same else "DIFFERENT"))
    return 0 if same else 1


if __name__ == "__main__":
    raise SystemExit(main())
