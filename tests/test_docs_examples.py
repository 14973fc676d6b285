"""Every Python example of the README and docs/ runs as written, from the repository's root, and
a line that shows its value in a comment (`format_number(…)  # '1.234,50'`) gives that value."""

from __future__ import annotations

import ast
import re
import subprocess
import sys

import pytest

from .conftest import EXAMPLE_DATA, EXAMPLE_POLICY, ROOT

BLOCK = re.compile(r"^```python\n(.*?)^```", re.M | re.S)
#: Blocks that are not a program to run, each with where it is tested instead.
NOT_RUN = {
    "docs/messages.md:1": "the signatures of render and format_number; block 2 calls them",
    "docs/plugins.md": "a plugin's modules and hooks, run by tests/test_plugins_docs.py and tests/test_hookspecs.py",
}


def _blocks() -> list[tuple[str, str]]:
    found = []
    for path in [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]:
        name = path.relative_to(ROOT).as_posix()
        for n, code in enumerate(BLOCK.findall(path.read_text(encoding="utf-8")), 1):
            if name not in NOT_RUN and f"{name}:{n}" not in NOT_RUN:
                found.append((f"{name}:{n}", code))
    return found


BLOCKS = _blocks()


def _checked(code: str) -> str:
    """The block with each `expression  # 'shown'` line turned into an assertion of that value."""
    lines = []
    for line in code.splitlines():
        if m := re.fullmatch(r"(?P<expr>[^#]+?)\s+#\s*(?P<shown>'[^']*'|\"[^\"]*\")\s*", line):
            ast.parse(m["expr"], mode="eval")  # an expression, not a statement
            line = f"assert ({m['expr']}) == {m['shown']}, {m['expr']!r}"
        lines.append(line)
    return "\n".join(lines) + "\n"


def test_the_examples_are_found():
    names = [name for name, _ in BLOCKS]
    for expected in ("docs/api.md:1", "docs/messages.md:2", "docs/reference.md:1", "docs/whatif.md:1",
                     "docs/catalogue.md:1", "docs/verify.md:1"):
        assert expected in names


@pytest.mark.parametrize(("name", "code"), BLOCKS, ids=[name for name, _ in BLOCKS])
def test_the_example_runs(name, code, tmp_path):
    """Run in a fresh interpreter; docs/verify.md's reads a result.json, made here first."""
    cwd = ROOT
    if "result.json" in code:
        made = subprocess.run([sys.executable, "-m", "thidua_rules", "evaluate", str(EXAMPLE_POLICY),
                               str(EXAMPLE_DATA), "-o", str(tmp_path / "result.json")], capture_output=True, text=True)
        assert made.returncode == 0, made.stderr
        cwd = tmp_path
    done = subprocess.run([sys.executable, "-c", _checked(code)], cwd=cwd, capture_output=True, text=True)
    assert done.returncode == 0, f"{name}:\n{done.stderr}"


def test_a_shown_value_that_differs_fails():
    code = _checked("x = 1 + 1\nstr(x)  # '3'\n")
    assert "assert (str(x)) == '3'" in code
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 1 and "AssertionError" in done.stderr
