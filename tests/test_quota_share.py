"""Quota shares written as exact fractions (issue #13): ``quota = { share = "1/3", rounding = ... }``
is rounded exactly, and its raw figure is shown as a decimal when it ends, else as the fraction."""

from __future__ import annotations

import json
from fractions import Fraction

import pytest

from thidua_rules.awards import quota_limit
from thidua_rules.cli import main
from thidua_rules.model import Quota

from . import test_lint

POLICY = """\
[policy]
id = "quota_share"
name = "Quota share"
year = 2024

[inputs]
x = { type = "integer", min = 0 }

[[criteria]]
id = "x"
name = "X"
points = 100
method = "formula"
formula = "x"

[[bands]]
id = "ok"
name = "OK"
min = 0

[[titles]]
id = "co"
name = "Cờ"
quota = QUOTA
"""


def data(size: int) -> str:
    units = "".join(f'[[units]]\nid = "u{i}"\nname = "U{i}"\nx = {100 - i}\n\n' for i in range(1, size + 1))
    return f'[cluster]\nid = "c"\nname = "C"\nyear = 2024\n\n{units}'


def write(tmp_path, monkeypatch, quota: str, size: int) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "policy.toml").write_text(POLICY.replace("QUOTA", quota), encoding="utf-8")
    (tmp_path / "data.toml").write_text(data(size), encoding="utf-8")


def evaluate_json(tmp_path, monkeypatch, capsys, quota: str, size: int) -> list[tuple[str, str, dict]]:
    write(tmp_path, monkeypatch, quota, size)
    assert main(["evaluate", "policy.toml", "data.toml", "--format", "json"]) == 0
    out = json.loads(capsys.readouterr().out)
    return [(u["id"], t["status"], t["quota"]) for u in out["units"] for t in u["explanation"]["titles"]]


# (units, rounding) -> (limit, raw): 1/3 of 3 is 1 and of 6 is 2 exactly; 1/3 of 7 is 7/3 = 2.33...
CASES = {
    (3, "floor"): (1, "1"), (3, "ceil"): (1, "1"), (3, "half_up"): (1, "1"),
    (6, "floor"): (2, "2"), (6, "ceil"): (2, "2"), (6, "half_up"): (2, "2"),
    (7, "floor"): (2, "7/3"), (7, "ceil"): (3, "7/3"), (7, "half_up"): (2, "7/3"),
}


@pytest.mark.parametrize(("size", "rounding"), sorted(CASES))
def test_one_third_under_each_rounding(size, rounding, tmp_path, monkeypatch, capsys):
    """The first ``limit`` units in rank order are proposed, the rest over the quota; every outcome
    shows the same limit and raw figure."""
    limit, raw = CASES[size, rounding]
    got = evaluate_json(tmp_path, monkeypatch, capsys, f'{{ share = "1/3", rounding = "{rounding}" }}', size)
    assert got == [(f"u{i}", "proposed" if i <= limit else "over_quota", {"limit": limit, "place": i, "raw": raw})
                   for i in range(1, size + 1)]


def test_explain_shows_the_exact_fraction(tmp_path, monkeypatch, capsys):
    write(tmp_path, monkeypatch, '{ share = "1/3", rounding = "ceil" }', 7)
    assert main(["explain", "policy.toml", "data.toml", "u4"]) == 0
    out = capsys.readouterr().out
    assert out.endswith("titles:\n  co (Cờ): over_quota\n    quota: place 4 of limit 3 (raw 7/3)\n")


def test_jsonl_lines_show_the_same_raw_figure(tmp_path, monkeypatch, capsys):
    """The per-unit line writer (a twin of the document builder) gives the same quota entry."""
    write(tmp_path, monkeypatch, '{ share = "1/3" }', 7)
    assert main(["evaluate", "policy.toml", "data.toml", "--format", "jsonl"]) == 0
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    quotas = [t["quota"] for line in lines if "explanation" in line for t in line["explanation"]["titles"]]
    assert quotas == [{"limit": 2, "place": i, "raw": "7/3"} for i in range(1, 8)]


@pytest.mark.parametrize(("share", "size", "rounding", "expected"), [
    ("1/2", 7, "half_up", (4, "3.5")),    # a half goes up, shown as the decimal it is
    ("1/2", 7, "floor", (3, "3.5")),
    ("1/6", 3, "half_up", (1, "0.5")),
    ("2/3", 7, "half_up", (5, "14/3")),   # 4.67 rounds to 5
    ("0/1", 7, "ceil", (0, "0")),
    ("1/1", 7, "floor", (7, "7")),
])
def test_fraction_rounding_is_exact(share, size, rounding, expected, tmp_path, monkeypatch, capsys):
    got = evaluate_json(tmp_path, monkeypatch, capsys, f'{{ share = "{share}", rounding = "{rounding}" }}', size)
    assert {q["limit"] for _, _, q in got} == {expected[0]}
    assert {q["raw"] for _, _, q in got} == {expected[1]}


def test_a_fraction_is_not_rounded_through_a_decimal():
    """1/3 × 3 is exactly 1 (a decimal 0.333... × 3 would give 0.999... and a ceil of 1, a floor of 0)."""
    assert quota_limit(Quota(share=Fraction(1, 3), rounding="floor"), 3) == (1, 1)
    assert quota_limit(Quota(share=Fraction(1, 3), rounding="floor"), 7) == (2, Fraction(7, 3))


def test_lint_checks_a_fraction_share(tmp_path, monkeypatch, capsys):
    """``title-unreachable``: "1/3" (floor) admits no unit in the data's 2-unit cluster; "1/200"
    admits none in any cluster of up to 100 units; "1/2" admits one in 2 units."""
    policy = test_lint.change("quota = { count = 1 }", 'quota = { share = "1/3" }')
    assert test_lint.run(tmp_path, monkeypatch, capsys, policy) == (0, "")
    assert test_lint.run(tmp_path, monkeypatch, capsys, policy, test_lint.DATA) == (0, (
        test_lint.W + "titles[1](id=flag).quota: warning: title 'flag' can never be won: its quota (share "
        "1/3, rounding floor) admits no unit in the data's clusters (2 units) [title-unreachable]\n"))
    policy = test_lint.change("quota = { count = 1 }", 'quota = { share = "1/200" }')
    assert test_lint.run(tmp_path, monkeypatch, capsys, policy) == (0, (
        test_lint.W + "titles[1](id=flag).quota: warning: title 'flag' can never be won: its quota (share "
        "1/200, rounding floor) admits no unit in any cluster of up to 100 units [title-unreachable]\n"))
    policy = test_lint.change("quota = { count = 1 }", 'quota = { share = "1/2" }')
    assert test_lint.run(tmp_path, monkeypatch, capsys, policy, test_lint.DATA) == (0, "")
