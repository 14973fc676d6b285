"""The command line under stress: error lines that stay one printable line, output files that keep
their mode and never replace what they should not, signals, locales and noisy plugins."""

from __future__ import annotations

import pytest

from thidua_rules.errors import EvaluationError, ExpressionSyntaxError, Issue, caret_display, did_you_mean, folded


def test_issue_escapes_control_characters_and_keeps_vietnamese():
    """A newline, an ESC and a bidi override in user text become visible escapes; accents stay."""
    issue = Issue(file="dữ liệu\n.toml", path="units[0](id=a\x1b[31m)", message="tên 'Cục\r\u202e' sai\t")
    assert issue.format() == "dữ liệu\\n.toml: units[0](id=a\\x1b[31m): tên 'Cục\\r\\u202e' sai\\t"


def test_evaluation_error_lines_are_escaped_one_each():
    """An evaluation error's head and its caret lines are separate lines; a newline inside the
    message does not make another one."""
    error = EvaluationError("bad\nvalue", unit="a", where="p.toml: x", detail=("    | 1 / 0", "    |     ^"))
    assert error.lines() == ["p.toml: x: unit 'a': bad\\nvalue", "    | 1 / 0", "    |     ^"]


def test_long_lines_keep_their_start_and_end():
    """A line above 300 characters keeps its first 199 and last 100 around an ellipsis; the file
    and the key path are each kept to 80 characters."""
    issue = Issue(file="f" * 100, path="p" * 100, message="m" * 500 + " (did you mean 'x'?)")
    line = issue.format()
    where = "f" * 52 + "…" + "f" * 27
    assert line == where + ": " + "p" * 52 + "…" + "p" * 27 + ": " + "m" * 35 + "…" + "m" * 80 + " (did you mean 'x'?)"
    assert len(line) == 300


def test_caret_of_a_long_line_is_a_window_around_the_error():
    """A 10,000-character expression line is shown as 90 characters either side of the span."""
    source = "a + " * 2500 + ")" + " + b" * 2500
    lines = caret_display(source, 10000, 10001)
    assert lines == ("    | …" + ("a + " * 23)[-90:] + ")" + (" + b" * 23)[:90] + "…", "    | " + " " * 91 + "^")


def test_caret_in_a_multi_line_expression_names_the_line():
    """The caret is under the error on its own line, with the line's number."""
    error = ExpressionSyntaxError("unexpected ')'", "x +\n  y\t)\nz", 8, 9)
    assert error.caret_lines() == ("    line 2 of the expression:", "    |   y\\t)", "    |      ^")


def test_caret_at_the_end_of_the_expression():
    assert caret_display("5 * (a", 6, 7) == ("    | 5 * (a", "    |       ^")


@pytest.mark.parametrize(("word", "choices", "expected"), [
    ("Tốt", ["xuat_sac", "tot", "hoan_thanh"], " (did you mean 'tot'?)"),
    ("Xuất sắc", ["xuat_sac", "tot", "hoan_thanh"], " (did you mean 'xuat_sac'?)"),
    ("Hoàn  thành", ["xuat_sac", "tot", "hoan_thanh"], " (did you mean 'hoan_thanh'?)"),
    ("ĐẠT", ["dat", "khong_dat"], " (did you mean 'dat'?)"),
    ("xuat_sacc", ["xuat_sac", "tot"], " (did you mean 'xuat_sac'?)"),
    ("zzz", ["xuat_sac", "tot"], ""),
])
def test_did_you_mean_ignores_accents_case_and_spaces(word, choices, expected):
    assert did_you_mean(word, choices) == expected


def test_folded():
    assert folded("Cục Công nghệ  thông tin") == "cuc_cong_nghe_thong_tin"
    assert folded("Đơn vị") == "don_vi"
