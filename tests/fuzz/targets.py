"""What the fuzzer mutates (each shipped input file, in its format) and the commands it runs on it."""

from __future__ import annotations

import importlib.util
from collections.abc import Sequence
from pathlib import Path

import attrs

from .harness import Violation, run_cli, violations
from .mutate import Chooser, mutate

CUM8 = ("policies/cum8-2022.toml", "examples/cum8-2022/units.toml", "cuc-cntt")


@attrs.frozen
class Command:
    argv: tuple[str, ...]
    allowed: tuple[int, ...] = (0, 2)

    @property
    def output(self) -> str | None:
        return self.argv[self.argv.index("-o") + 1] if "-o" in self.argv else None


def _pair(policy: str, data: str, unit: str, tests: str | None = None, *extra: str) -> tuple[Command, ...]:
    commands = [
        Command(("validate", policy, data, *extra)),
        Command(("evaluate", policy, data, "-f", "json", *extra)),
        Command(("evaluate", policy, data, "-f", "markdown", "-o", "out/result.md", *extra)),
        Command(("explain", policy, data, unit, *extra)),
    ]
    if tests is not None:
        commands.append(Command(("test", tests), (0, 1, 2)))
    return tuple(commands)


def _stream(policy: str, data: str) -> tuple[Command, ...]:
    return (Command(("evaluate", policy, data, "-f", "jsonl")),
            Command(("evaluate", policy, data, "-f", "jsonl", "-o", "out/result.jsonl")),
            Command(("evaluate", policy, data, "-f", "json")),
            Command(("validate", policy, data)))


def _plugin(name: str) -> bool:
    return importlib.util.find_spec(name) is not None


@attrs.frozen
class Target:
    """One file to mutate, its format, and the commands that read it."""

    file: str
    format: str
    commands: tuple[Command, ...]

    @property
    def id(self) -> str:
        return self.file.removeprefix("examples/").removeprefix("policies/")


MEMBERS = ("--members", "examples/cum8-2022/members.csv")
_POLICIES = [
    Target("policies/cum8-2022.toml", "toml", _pair(*CUM8, "policies/cum8-2022.tests.toml")),
    Target("policies/bca-cum8.toml", "toml", _pair("policies/bca-cum8.toml", CUM8[1], "cuc-cntt",
                                                   "policies/bca-cum8.tests.toml")),
    Target("policies/catalogue/law2022.toml", "toml", _pair("policies/bca-cum8.toml", CUM8[1], "cuc-cntt")),
    Target("policies/catalogue/ratings.toml", "toml", _pair("policies/cantho-dan-van.toml",
                                                            "examples/cantho-2025/units.toml", "ninh-kieu")),
    Target("policies/cantho-dan-van.toml", "toml", _pair("policies/cantho-dan-van.toml",
                                                         "examples/cantho-2025/units.toml", "ninh-kieu",
                                                         "policies/cantho-dan-van.tests.toml")),
    Target("policies/cum8-2022-members.toml", "toml",
           _pair("policies/cum8-2022-members.toml", "examples/cum8-2022/units-members.toml", "cuc-cntt", None,
                 *MEMBERS)),
    Target("policies/catalogue/law2022-people.toml", "toml",
           _pair("policies/cum8-2022-members.toml", "examples/cum8-2022/units-members.toml", "cuc-cntt", None,
                 *MEMBERS)),
]
if _plugin("thidua_research"):
    _POLICIES.append(Target("policies/research-khcn-2023.toml", "toml", _pair(
        "policies/research-khcn-2023.toml", "examples/research-khcn-2023/units.toml", "vien-khcn",
        "policies/research-khcn-2023.tests.toml")))
if _plugin("thidua_cand"):
    _POLICIES.append(Target("policies/cand-cum5-2023.toml", "toml", _pair(
        "policies/cand-cum5-2023.toml", "examples/cand-cum5-2023/units.toml", "ca-thanh-hoa",
        "policies/cand-cum5-2023.tests.toml")))

_DATA = [
    Target("examples/cum8-2022/units.toml", "toml", _pair(*CUM8, "policies/cum8-2022.tests.toml")),
    Target("examples/cum8-2022/units.json", "json", _pair(CUM8[0], "examples/cum8-2022/units.json", "cuc-cntt")),
    Target("examples/cum8-2022/units.csv", "csv", _stream(CUM8[0], "examples/cum8-2022/units.csv")),
    Target("examples/cum8-2022/units.jsonl", "jsonl", _stream(CUM8[0], "examples/cum8-2022/units.jsonl")),
    Target("examples/cum8-2022/variants/government-flag-vote-fails.toml", "toml",
           _pair(CUM8[0], "examples/cum8-2022/variants/government-flag-vote-fails.toml", "cuc-cntt")),
    Target("examples/cantho-2025/units.toml", "toml", _pair("policies/cantho-dan-van.toml",
                                                            "examples/cantho-2025/units.toml", "ninh-kieu")),
    Target("examples/cum8-2022/members.csv", "csv",
           _pair("policies/cum8-2022-members.toml", "examples/cum8-2022/units-members.toml", "cuc-cntt", None,
                 *MEMBERS)),
    Target("examples/cum8-2022/units-meeting.toml", "toml", (  # [meeting], and the Word score sheet
        Command(("validate", CUM8[0], "examples/cum8-2022/units-meeting.toml")),
        Command(("evaluate", CUM8[0], "examples/cum8-2022/units-meeting.toml", "-f", "docx", "-o", "out/sheet.docx")),
        Command(("explain", CUM8[0], "examples/cum8-2022/units-meeting.toml", "cuc-cntt")))),
    Target("examples/cum8-2022/units-members.toml", "toml",
           _pair("policies/cum8-2022-members.toml", "examples/cum8-2022/units-members.toml", "cuc-cntt", None,
                 *MEMBERS)),
]

# The example as CSV files named by a data TOML (docs/spreadsheets.md): each file mutated in turn;
# the result also written as a workbook.
_CSV_FILES = "examples/cum8-2022/csv/data.toml"
_CSV_COMMANDS = (*_pair(CUM8[0], _CSV_FILES, "cuc-cntt"),
                 Command(("evaluate", CUM8[0], _CSV_FILES, "-o", "out/result.xlsx")))
_DATA += [Target(f"examples/cum8-2022/csv/{name}", name.rsplit(".", 1)[1], _CSV_COMMANDS)
          for name in ("data.toml", "votes.csv", "history.csv")]  # (units.csv: the CSV reader, fuzzed above)

_TESTS = [Target(f"policies/{name}.tests.toml", "toml", (Command(("test", f"policies/{name}.tests.toml"), (0, 1, 2)),))
          for name in ("cum8-2022", "bca-cum8", "cantho-dan-van", "cum8-2022-members")]

TARGETS: dict[str, list[Target]] = {"policy": _POLICIES, "data": _DATA, "tests": _TESTS}
ALL = [t for group in TARGETS.values() for t in group]


def run_mutated(tree: Path, target: Target, chooser: Chooser, *, commands: int = 2) -> tuple[bytes, list[Violation]]:
    """Mutate ``target`` inside ``tree``, run ``commands`` of its commands, restore the file.

    Returns the mutated bytes and every contract violation.
    """
    path = tree / target.file
    original = path.read_bytes()
    mutated = mutate(original, target.format, chooser)
    chosen = _pick(target.commands, chooser, commands)
    found: list[Violation] = []
    try:
        path.write_bytes(mutated)
        for command in chosen:
            found += run_command(tree, command)
            if any(v.kind == "hang" for v in found):
                break  # the next command on this input would most likely hang too
    finally:
        path.write_bytes(original)
    return mutated, [attrs.evolve(v, input=mutated) for v in found]


def run_command(tree: Path, command: Command) -> list[Violation]:
    out_dir = tree / "out"
    out_dir.mkdir(exist_ok=True)
    for stale in out_dir.iterdir():
        stale.unlink()
    run = run_cli(command.argv, tree)
    output = tree / command.output if command.output else None
    return violations(run, allowed=command.allowed, output=output, before=[],
                      json_out="json" in command.argv and output is None,
                      streamed="jsonl" in command.argv and command.argv[2].endswith((".csv", ".jsonl")))


def _pick(commands: Sequence[Command], chooser: Chooser, count: int) -> list[Command]:
    pool = list(commands)
    chosen = []
    for _ in range(min(count, len(pool))):
        chosen.append(pool.pop(chooser.integer(0, len(pool) - 1, "command")))
    return chosen
