"""`thidua fmt` (issue #13): the canonical layout of a TOML file keeps every value and comment,
is idempotent, and the command changes files atomically, only when they change."""

from __future__ import annotations

import os
import tomllib
from pathlib import Path

import pytest
import tomli_w
from hypothesis import given, settings
from hypothesis import strategies as st

from thidua_rules.cli import main
from thidua_rules.tomllayout import LayoutError, formatted

from .conftest import ROOT

GOLDEN = ROOT / "tests" / "golden" / "fmt"


def _shipped_toml() -> list[Path]:
    """Every TOML file the project ships or tests with that tomllib reads (error cases that are
    not TOML, or nest past the loader's bound, are the loader's to refuse)."""
    found = []
    for folder in ("policies", "examples", "src", "tests", "plugins"):
        for path in sorted((ROOT / folder).rglob("*.toml")):
            if not path.is_file() or "deep" in str(path):
                continue
            try:
                tomllib.loads(path.read_text(encoding="utf-8"))
            except (tomllib.TOMLDecodeError, UnicodeDecodeError, ValueError):
                continue
            found.append(path)
    return found


def test_layout_golden(golden):
    text = (GOLDEN / "ugly.toml").read_text(encoding="utf-8")
    golden.check(GOLDEN / "ugly.expected.toml", formatted(text))


@pytest.mark.parametrize("path", _shipped_toml(), ids=lambda p: str(p.relative_to(ROOT)))
def test_every_shipped_file_keeps_its_meaning_and_is_idempotent(path):
    text = path.read_text(encoding="utf-8")
    once = formatted(text)
    assert tomllib.loads(once, parse_float=str) == tomllib.loads(text, parse_float=str)
    assert formatted(once) == once
    # every comment survives, in order
    comments = [line.split("#", 1)[1].rstrip() for line in text.splitlines() if line.lstrip().startswith("#")]
    kept = [line.split("#", 1)[1].rstrip() for line in once.splitlines() if line.lstrip().startswith("#")]
    assert kept == comments


def test_crlf_and_blank_lines():
    assert formatted("\r\n\r\na=1\r\n\r\n\r\n\r\nb=2\r\n[t]\r\nc=3") == "a = 1\n\nb = 2\n\n[t]\nc = 3\n"


def test_empty_file_stays_empty():
    assert formatted("") == ""
    assert formatted("\n\n  \n") == ""


def test_array_in_inline_table_goes_on_one_line_unless_it_holds_a_comment():
    assert formatted("a = { b = [1,\n 2,\n] }\n") == "a = { b = [1, 2] }\n"
    with pytest.raises(LayoutError, match="a comment inside an array inside an inline table"):
        formatted("a = { b = [1, # one\n 2] }\n")


def test_strings_are_copied_as_written():
    text = "a = 'lit  \\n'\nb = \"esc \\\" # no\"\nc = '''\nx  \n'''\nd = \"\"\"q\"\"\"\"\"\n"
    out = formatted(text)
    assert tomllib.loads(out) == tomllib.loads(text)
    assert "'lit  \\n'" in out and "x  \n'''" in out and '"""q"""""' in out


# Values tomli_w writes, with keys that need quoting too.
_keys = st.text(alphabet="abc_-. đ\"", min_size=1, max_size=6)
_scalars = st.one_of(st.integers(-10**6, 10**6), st.booleans(), st.text(max_size=8))
_values = st.recursive(_scalars, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(_keys, inner, max_size=3),
                       max_leaves=12)


@settings(max_examples=150, deadline=None)
@given(st.dictionaries(_keys, _values, max_size=5), st.booleans())
def test_generated_documents(doc, multiline):
    text = tomli_w.dumps(doc, multiline_strings=multiline)
    once = formatted(text)
    assert tomllib.loads(once) == doc
    assert formatted(once) == once


# ---------------------------------------------------------------- the command


def _write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8", newline="")
    return path


def test_command_rewrites_only_what_changes(tmp_path, capsys):
    ugly = _write(tmp_path / "a.toml", "x=1\n")
    (tmp_path / "sub").mkdir()
    tidy = _write(tmp_path / "sub" / "b.toml", "y = 2\n")
    os.utime(tidy, (1_000_000_000, 1_000_000_000))
    assert main(["fmt", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert out == (f"reformatted {ugly}\n"
                   "1 file(s) reformatted, 1 file(s) already in the canonical layout\n")
    assert ugly.read_text(encoding="utf-8") == "x = 1\n"
    assert tidy.stat().st_mtime == 1_000_000_000  # not written again


def test_check_and_diff_change_nothing(tmp_path, capsys):
    ugly = _write(tmp_path / "a.toml", "x=1\n")
    assert main(["fmt", "--check", str(ugly)]) == 1
    assert capsys.readouterr().out == (f"would reformat {ugly}\n"
                                       "1 file(s) would be reformatted, 0 file(s) already in the canonical layout\n")
    assert main(["fmt", "--diff", str(ugly)]) == 1
    assert capsys.readouterr().out == (f"--- {ugly}\n+++ {ugly}\n@@ -1 +1 @@\n-x=1\n+x = 1\n"
                                       "1 file(s) would be reformatted, 0 file(s) already in the canonical layout\n")
    assert ugly.read_text(encoding="utf-8") == "x=1\n"
    assert main(["fmt", "--check", str(_write(tmp_path / "b.toml", "y = 2\n"))]) == 0


def test_bad_files_are_one_line_each_and_the_others_are_done(tmp_path, capsys):
    broken = _write(tmp_path / "a.toml", "x = 1\ny = \n")
    missing = tmp_path / "none.toml"
    ugly = _write(tmp_path / "c.toml", "z=3\n")
    assert main(["fmt", str(broken), str(missing), str(ugly)]) == 2
    captured = capsys.readouterr()
    assert captured.err.splitlines() == [
        f"{broken}:2:5: TOML syntax: Invalid value",
        f"{missing}: file not found",
    ]
    assert ugly.read_text(encoding="utf-8") == "z = 3\n"
    assert broken.read_text(encoding="utf-8") == "x = 1\ny = \n"
