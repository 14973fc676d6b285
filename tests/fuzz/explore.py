"""Long fuzz hunts outside pytest: ``python -m tests.fuzz.explore [N] [SEED]``.

Runs N random mutations of every target (seeded, so a hunt can be repeated), groups the contract
violations by signature and writes one reproduction per signature (the mutated file, the command,
what happened) under ``$THIDUA_FUZZ_FINDINGS`` (default ``fuzz-findings/``).
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

from .harness import Violation, copy_tree
from .mutate import RandomChooser
from .targets import ALL, run_mutated


def signature(violation: Violation) -> str:
    """Kind plus, for exceptions, the type and the innermost engine frame."""
    run = violation.run
    if run.exception is None or violation.kind == "hang":
        return f"{violation.kind} {run.argv[0]}"
    frames = [f for f in run.frames if "thidua_rules" in f]
    where = Path(frames[-1]).name if frames else "?"
    return f"{violation.kind} {run.exception} {where}"


def main() -> None:
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 100
    seed = int(sys.argv[2]) if len(sys.argv) > 2 else 0
    out = Path(os.environ.get("THIDUA_FUZZ_FINDINGS", "fuzz-findings"))
    seen: dict[str, int] = {}
    with tempfile.TemporaryDirectory() as folder:
        tree = copy_tree(Path(folder))
        for target in ALL:
            for n in range(count):
                chooser = RandomChooser(seed * 1_000_003 + n * 7919 + sum(map(ord, target.file)))
                mutated, found = run_mutated(tree, target, chooser)
                for violation in found:
                    sig = signature(violation)
                    seen[sig] = seen.get(sig, 0) + 1
                    if seen[sig] > 1:
                        continue
                    case = out / f"{len(seen):03d}"
                    case.mkdir(parents=True, exist_ok=True)
                    (case / Path(target.file).name).write_bytes(mutated)
                    (case / "target").write_text(target.file + "\n", encoding="utf-8")
                    (case / "what.txt").write_text(sig + "\n" + violation.describe() + "\n", encoding="utf-8")
                    print(f"{case}: {sig}", flush=True)
    for sig, n in sorted(seen.items(), key=lambda x: -x[1]):
        print(f"{n:6d}  {sig}")


if __name__ == "__main__":
    main()
