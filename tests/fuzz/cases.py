"""Regression case folders: files laid over a copy of the shipped inputs, one command, its exact result.

A case folder ``tests/fuzz/regressions/<name>/`` holds:

* ``args``: the command line after ``thidua`` (shell quoting), run at the root of the copy;
* ``expected.err``: the exact stderr; ``exit``: the exit status (default 2);
* optionally ``status``: ``known <finding>`` marks a case that still fails (``xfail(strict=True)``);
* every other file, at its path relative to the case folder, replaces or adds that file in the copy
  of ``policies/`` and ``examples/`` (e.g. ``policies/cum8-2022.toml``).
"""

from __future__ import annotations

import shlex
import shutil
from pathlib import Path

from .harness import Run, Violation, copy_tree, run_cli, violations
from .targets import Command, Target

META = {"args", "expected.err", "exit", "status", "note"}


def write_case(folder: Path, target: Target, mutated: bytes, command: Command, found: list[Violation]) -> None:
    """A failing fuzz example as a case folder (the mutated file, the command, what happened)."""
    (folder / target.file).parent.mkdir(parents=True, exist_ok=True)
    (folder / target.file).write_bytes(mutated)
    (folder / "args").write_text(shlex.join(command.argv) + "\n", encoding="utf-8")
    (folder / "note").write_text("\n\n".join(v.describe() for v in found) + "\n", encoding="utf-8")


def run_case(folder: Path, tree_root: Path) -> tuple[Run, list[Violation], int]:
    """Run the case in a fresh copy of the shipped inputs under ``tree_root``; returns the run,
    its contract violations and the expected exit status."""
    tree = copy_tree(tree_root)
    for file in sorted(folder.rglob("*")):
        relative = file.relative_to(folder)
        if file.is_file() and str(relative) not in META:
            (tree / relative).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(file, tree / relative)
    argv = shlex.split((folder / "args").read_text(encoding="utf-8"))
    command = Command(tuple(argv), (0, 1, 2))
    (tree / "out").mkdir(exist_ok=True)
    run = run_cli(argv, tree)
    output = tree / command.output if command.output else None
    exit_file = folder / "exit"
    expected_exit = int(exit_file.read_text(encoding="utf-8")) if exit_file.exists() else 2
    argv = command.argv
    streamed = "jsonl" in argv and len(argv) > 2 and argv[2].endswith((".csv", ".jsonl")) and output is None
    return run, violations(run, allowed=(expected_exit,), output=output, before=[], streamed=streamed), expected_exit
