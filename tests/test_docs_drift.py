"""The documentation says what the code does: the policy id rule, the command table, the files
the examples name, and law cited directly (not a notes file the repository does not hold)."""

from __future__ import annotations

import re

import pytest

from thidua_rules import PolicyError, load_policy, parse_policy
from thidua_rules.cli import build_parser
from thidua_rules.loader.common import UNIT_ID

from .conftest import ROOT

README = (ROOT / "README.md").read_text(encoding="utf-8")
#: Copied byte for byte from the users' contract (tests/test_example.py), so left as received.
CONTRACT = {ROOT / "policies" / "cum8-2022.toml"}


def test_the_readme_states_the_policy_id_rule_the_loader_applies():
    row = next(line for line in README.splitlines() if line.startswith("| `id` | string, required |"))
    assert f"`{UNIT_ID.pattern}`" in row
    for path in sorted((ROOT / "policies").glob("*.toml")):
        if not path.name.endswith(".tests.toml"):
            assert UNIT_ID.fullmatch(load_policy(path).id), path.name


def test_a_policy_id_outside_the_rule_is_refused():
    with pytest.raises(PolicyError) as err:
        parse_policy(b'[policy]\nid = "Bca cum8"\nname = "x"\n', file="p.toml")
    assert "p.toml: policy.id: policy id 'Bca cum8' must be lower-case letters, digits, '-', '_' and '.'" \
        in err.value.lines()


def test_the_command_table_lists_every_option():
    """Each command's rows in the README (or in a command table of a docs/ page, where the README
    is being split to) name every option the parser accepts."""
    parser = build_parser()
    commands = next(a for a in parser._actions if a.dest == "command").choices
    rows: dict[str, str] = {}  # a command may have several rows (`test`, `test --update`…): all count
    pages = [README, *(p.read_text(encoding="utf-8") for p in sorted((ROOT / "docs").glob("*.md")))]
    for line in "\n".join(pages).splitlines():
        if line.startswith("| `thidua "):
            name = line.split()[2].strip("`")
            rows[name] = rows.get(name, "") + line
    for name, sub in commands.items():
        options = [a.option_strings for a in sub._actions if a.option_strings and "--help" not in a.option_strings]
        missing = [o[-1] for o in options if not any(re.search(rf"{re.escape(s)}\b", rows[name]) for s in o)]
        assert not missing, f"README command table, thidua {name}: {missing} not listed"


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
