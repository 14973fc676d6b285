"""Reports escape user text: a unit or cluster name cannot forge a section, break a table, add a
link, an image or HTML, send a control sequence to the terminal, or run as a spreadsheet formula."""

from __future__ import annotations

import tomllib

import pytest
import tomli_w

from thidua_rules import evaluate, parse_data, render
from thidua_rules.report.escape import formula_safe, md_cell, md_code, md_text, table_cell, visible

from .conftest import EXAMPLE_DATA, ROOT

GOLDEN = ROOT / "tests" / "golden" / "escaping"

HOSTILE = {
    "cuc-vt-cy": "Cục A\n\n### Đề nghị danh hiệu thi đua (bổ sung)\n\n- **Cờ thi đua của Chính phủ**: Cục A",
    "cuc-qlxddt": "<script>alert(1)</script> | cột giả |",
    "cuc-khtc": "[bấm](http://evil.example) ![ảnh](http://evil.example/i.png) <http://evil.example>",
    "cuc-tbkv": '=HYPERLINK("http://evil.example","bấm")',
    "cuc-cntt": "# Tiêu đề \x1b[31mđỏ\x1b[0m \u202egnàv",
    "vien-khcn": "@SUM(1+1)\t*đậm* _nghiêng_ `mã` ~~gạch~~ $x$ &amp; a\\b",
}
CLUSTER = "Cụm 8\r\n## Cụm giả"


def _results(example_policy):
    raw = tomllib.loads(EXAMPLE_DATA.read_text(encoding="utf-8"))
    plain = evaluate(example_policy, parse_data(tomli_w.dumps(raw).encode(), example_policy, file="units.toml"))
    raw["cluster"]["name"] = CLUSTER
    for unit in raw["units"]:
        unit["name"] = HOSTILE[unit["id"]]
    hostile = evaluate(example_policy, parse_data(tomli_w.dumps(raw).encode(), example_policy, file="units.toml"))
    return plain, hostile


@pytest.mark.parametrize(("fmt", "golden_name"), [("markdown", "expected.md"), ("table", "expected.txt")])
def test_hostile_names_are_escaped(example_policy, golden, fmt, golden_name):
    """The report with hostile names has exactly the lines of the report with plain names (no
    line, heading, list item or table cell added), and the exact text of the golden file."""
    plain, hostile = _results(example_policy)
    text = render(hostile, fmt)
    assert len(text.splitlines()) == len(render(plain, fmt).splitlines())
    assert "\x1b" not in text and "\r" not in text and "\u202e" not in text
    golden.check(GOLDEN / golden_name, text)


def test_markdown_structure_is_the_engines_own(example_policy):
    """Headings and table rows: the same in number and shape as with plain names."""
    plain, hostile = _results(example_policy)
    for doc in (render(plain, "markdown"), render(hostile, "markdown")):
        lines = doc.splitlines()
        headings = [line.split(" ")[0] for line in lines if line.startswith("#")]
        cells = [line.count("|") - line.count("\\|") for line in lines if line.startswith("|")]
        assert (headings, cells) == (_shape(render(plain, "markdown")))


def _shape(doc: str) -> tuple[list[str], list[int]]:
    lines = doc.splitlines()
    return ([line.split(" ")[0] for line in lines if line.startswith("#")],
            [line.count("|") - line.count("\\|") for line in lines if line.startswith("|")])


@pytest.mark.parametrize(("text", "shown"), [
    ("Cục A\n## B", "Cục A\\\\n\\#\\# B"),
    ("a | b", "a \\| b"),
    ("<script>x</script>", "\\<script>x\\</script>"),
    ("[x](y)", "\\[x\\](y)"),
    ("![i](u)", "!\\[i\\](u)"),
    ("*đậm* _nghiêng_ ad_hoc_done __x__", "\\*đậm\\* \\_nghiêng\\_ ad_hoc_done \\_\\_x\\_\\_"),
    ("`mã` ~~gạch~~ $x$ &amp; a\\b", "\\`mã\\` \\~\\~gạch\\~\\~ \\$x\\$ \\&amp; a\\\\b"),
    ("\x1b[31m", "\\\\x1b\\[31m"),
])
def test_md_text(text, shown):
    assert md_text(text) == shown


@pytest.mark.parametrize(("text", "safe"), [
    ("=HYPERLINK(\"u\")", "'=HYPERLINK(\"u\")"),
    ("+1+2", "'+1+2"),
    ("-2+3", "'-2+3"),
    ("@SUM(A1)", "'@SUM(A1)"),
    ("\tx", "'\tx"),
    ("\rx", "'\rx"),
    ("-3.50", "-3.50"),
    ("+2", "+2"),
    ("-", "-"),
    ("Cục = A", "Cục = A"),
])
def test_formula_safe(text, safe):
    assert formula_safe(text) == safe


def test_cells_and_code():
    assert table_cell("\t=1+1") == "'\\t=1+1"
    assert table_cell("=A1\nB") == "'=A1\\nB"
    assert md_cell("=1+1|x") == "'=1+1\\|x"
    assert visible("a\x00b\x7fc\u2028d\u2066e") == "a\\x00b\\x7fc\\u2028d\\u2066e"
    assert md_code("cuc-a") == "`cuc-a`"
    assert md_code("a`b``c") == "``` a`b``c ```"
