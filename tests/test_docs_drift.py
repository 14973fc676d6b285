"""The documentation says what the code does: the policy id rule, the command tables (README and
docs/cli.md), the files the examples name, and law cited directly (not a notes file the repository
does not hold). Links, the index of docs/ and the README's shape: tests/test_docs_links.py; code
blocks run: tests/test_docs_examples.py."""

from __future__ import annotations

import re
import shlex

import pytest

from thidua_rules import PolicyError, load_policy, parse_policy
from thidua_rules.cli import build_parser
from thidua_rules.loader.common import UNIT_ID

from .conftest import ROOT

README = (ROOT / "README.md").read_text(encoding="utf-8")
#: The full command line reference: every command's every option (the README keeps one line each).
CLI_DOC = (ROOT / "docs" / "cli.md").read_text(encoding="utf-8")
POLICY_FORMAT = (ROOT / "docs" / "policy-format.md").read_text(encoding="utf-8")
#: Copied byte for byte from the users' contract (tests/test_example.py), so left as received.
CONTRACT = {ROOT / "policies" / "cum8-2022.toml"}


def test_the_policy_format_states_the_policy_id_rule_the_loader_applies():
    row = next(line for line in POLICY_FORMAT.splitlines() if line.startswith("| `id` | string, required |"))
    assert f"`{UNIT_ID.pattern}`" in row
    for path in sorted((ROOT / "policies").glob("*.toml")):
        if not path.name.endswith(".tests.toml"):
            assert UNIT_ID.fullmatch(load_policy(path).id), path.name


def test_a_policy_id_outside_the_rule_is_refused():
    with pytest.raises(PolicyError) as err:
        parse_policy(b'[policy]\nid = "Bca cum8"\nname = "x"\n', file="p.toml")
    assert "p.toml: policy.id: policy id 'Bca cum8' must be lower-case letters, digits, '-', '_' and '.'" \
        in err.value.lines()


def _commands() -> dict:
    parser = build_parser()
    return next(a for a in parser._actions if a.dest == "command").choices


def test_the_command_table_lists_every_option():
    """Each command's row in docs/cli.md names every option the parser accepts."""
    commands = _commands()
    rows: dict[str, str] = {}  # a command may have several rows (`test`, `test --update`…): all count
    for line in CLI_DOC.splitlines():
        if line.startswith("| `thidua "):
            name = line.split()[2].strip("`")
            rows[name] = rows.get(name, "") + line
    for name, sub in commands.items():
        options = [a.option_strings for a in sub._actions if a.option_strings and "--help" not in a.option_strings]
        missing = [o[-1] for o in options if not any(re.search(rf"{re.escape(s)}\b", rows[name]) for s in o)]
        assert not missing, f"docs/cli.md command table, thidua {name}: {missing} not listed"
    assert sorted(rows) == sorted(commands)


def test_the_readme_has_one_line_per_command_with_a_link():
    """The README's short table: one row per command the parser has, each linking to a docs page."""
    rows = [line for line in README.splitlines() if line.startswith("| `thidua ")]
    names = [line.split()[2].strip("`") for line in rows]
    assert sorted(names) == sorted(_commands()), "README command table: one row per command"
    for line in rows:
        links = re.findall(r"\]\((docs/[\w-]+\.md)(?:#[\w-]*)?\)", line)
        assert links, f"README command table: no docs/ link in {line}"
        assert all((ROOT / link).is_file() for link in links), line


def test_every_shell_command_in_the_docs_parses():
    """Each `thidua …` line of a shell block in README.md and docs/ is one the parser accepts."""
    parser = build_parser()
    checked = 0
    for path in [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]:
        text = path.read_text(encoding="utf-8")
        for block in re.findall(r"^```(?:sh|bash)\n(.*?)^```", text, flags=re.M | re.S):
            for line in block.replace("\\\n", " ").splitlines():  # a line continued with "\\"
                line = line.split(" #", 1)[0].strip()
                for part in line.split("&&"):
                    words = shlex.split(part)
                    words = words[: next((i for i, w in enumerate(words) if w in {">", ">>", "|", "<"}), len(words))]
                    if not words or not words[0].endswith("thidua") or "[" in part or "…" in part:
                        continue  # a synopsis with [optional] parts is checked by the tables above
                    try:
                        parser.parse_args(words[1:])
                    except SystemExit:
                        pytest.fail(f"{path.name}: the parser refuses: {part.strip()}")
                    checked += 1
    assert checked >= 15


def test_no_shipped_policy_cites_a_file_the_repository_lacks():
    shipped = [*sorted((ROOT / "policies").rglob("*.toml")), *sorted((ROOT / "src" / "thidua_rules" / "catalogue").glob("*.toml"))]
    citing = [p.relative_to(ROOT).as_posix() for p in shipped
              if p not in CONTRACT and "domain.md" in p.read_text(encoding="utf-8")]
    assert citing == []


@pytest.mark.parametrize("readme", sorted((ROOT / "examples").glob("*/README.md")), ids=lambda p: p.parent.name)
def test_the_files_an_example_names_exist(readme):
    named = re.findall(r"`([^`\s]+\.(?:toml|csv|json|jsonl))`", readme.read_text(encoding="utf-8"))
    assert named
    missing = [n for n in named if not (readme.parent / n).exists() and not (ROOT / n).exists()]
    assert missing == []


def test_the_policy_library_lists_every_shipped_policy():
    """docs/policies.md has a row naming each policy file of policies/ and policies/catalogue/."""
    table = "\n".join(line for line in (ROOT / "docs" / "policies.md").read_text(encoding="utf-8").splitlines()
                      if line.startswith("| `"))
    shipped = [p.relative_to(ROOT / "policies").as_posix() for p in sorted((ROOT / "policies").rglob("*.toml"))
               if not p.name.endswith(".tests.toml")]
    assert [name for name in shipped if f"`{name}`" not in table] == []
