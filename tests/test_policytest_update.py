"""`thidua test --update` (issue #13): the current results written as the cases' expectations, each
value where it is written (comments and layout kept), idempotent, and `thidua test` passes after it."""

from __future__ import annotations

import shutil

from thidua_rules.cli import main

from .conftest import ROOT

UNIT_A = """\
[[cases.inline.units]]
id = "a"
name = "A"
done = 10
assigned = 10
has_plan = true
rating = "tot"
awards = 0
faults = 0
members = 10
advanced = 8
"""

UNIT_B = """\
[[cases.inline.units]]
id = "b"
name = "B"
done = 5
assigned = 10
has_plan = false
rating = "hoan_thanh"
awards = 0
faults = 0
members = 10
advanced = 8
"""

BEFORE = f"""\
# Cases for the mini policy.
[[cases]]
name = "one unit"   # a comment on the name
[cases.inline.cluster]
id = "c"
name = "C"
{UNIT_A}[cases.expect.units.a]
total = "100.00"   # was 100 before the 2024 table
titles = {{ tien_tien = "failed", co = "x" }}
rank = 3
tied = false

[[cases]]
name = "no expectations yet"
[cases.inline.cluster]
id = "c"
name = "C"
{UNIT_A}{UNIT_B}
# an expected error stays as it is
[[cases]]
name = "an expected error"
error = "expected a number >= 1"
expect = {{ council = [] }}
[cases.inline.cluster]
id = "c"
name = "C"
{UNIT_A.replace("assigned = 10", "assigned = 0")}"""

AFTER = f"""\
# Cases for the mini policy.
[[cases]]
name = "one unit"   # a comment on the name
[cases.inline.cluster]
id = "c"
name = "C"
{UNIT_A}[cases.expect.units.a]
total = "90.00"   # was 100 before the 2024 table
titles = {{ tien_tien = "proposed", co = "awaiting_vote" }}
rank = 1
tied = false

[[cases]]
name = "no expectations yet"
[cases.inline.cluster]
id = "c"
name = "C"
{UNIT_A}{UNIT_B}
[cases.expect]
council = [{{ title = "co", units = ["a"] }}]

[cases.expect.units.a]
total = "90.00"
rank = 1
band = "tot"
proposed = ["tien_tien"]

[cases.expect.units.b]
total = "25.00"
rank = 2
band = "hoan_thanh"
proposed = []

# an expected error stays as it is
[[cases]]
name = "an expected error"
error = "expected a number >= 1"
expect = {{ council = [] }}
[cases.inline.cluster]
id = "c"
name = "C"
{UNIT_A.replace("assigned = 10", "assigned = 0")}"""

RUN = (
    "PASS mini.tests.toml: one unit\n"
    "PASS mini.tests.toml: no expectations yet\n"
    "PASS mini.tests.toml: an expected error\n"
    "coverage mini.tests.toml: 75.0% of 16 items; not exercised: band xuat_sac, title co, title co_cp, "
    "title bang_khen\n"
    "policy tests: 3 passed, 0 failed\n"
)


def setup(tmp_path, monkeypatch, text=BEFORE):
    monkeypatch.chdir(tmp_path)
    shutil.copy(ROOT / "tests" / "policytest" / "mini.toml", tmp_path / "mini.toml")
    (tmp_path / "mini.tests.toml").write_bytes(text.encode("utf-8"))


def test_update_writes_the_results_where_the_values_are(tmp_path, monkeypatch, capsys):
    """Changed values are replaced in place (their comments kept); a case without `expect` gets the
    default keys at its end; an expected error is left; then the cases pass."""
    setup(tmp_path, monkeypatch)
    assert main(["test", "--update", "mini.tests.toml"]) == 0
    assert capsys.readouterr().out == "updated mini.tests.toml: 13 expectations changed\n" + RUN
    assert (tmp_path / "mini.tests.toml").read_bytes().decode("utf-8") == AFTER
    assert main(["test", "mini.tests.toml"]) == 0
    assert capsys.readouterr().out == RUN


def test_update_twice_changes_nothing(tmp_path, monkeypatch, capsys):
    """The second run finds every value up to date and does not write the file."""
    setup(tmp_path, monkeypatch, AFTER)
    before = (tmp_path / "mini.tests.toml").stat().st_mtime_ns
    assert main(["test", "--update", "mini.tests.toml"]) == 0
    assert capsys.readouterr().out == "up to date mini.tests.toml\n" + RUN
    assert (tmp_path / "mini.tests.toml").read_bytes().decode("utf-8") == AFTER
    assert (tmp_path / "mini.tests.toml").stat().st_mtime_ns == before


def test_a_value_the_result_lacks_is_left_for_the_run_to_report(tmp_path, monkeypatch, capsys):
    """An expected unit that is not in the result is kept (a key is never removed): the run fails on it."""
    setup(tmp_path, monkeypatch, AFTER.replace("tied = false\n", 'tied = false\n[cases.expect.units.zz]\nrank = 1\n'))
    assert main(["test", "--update", "mini.tests.toml"]) == 1
    assert capsys.readouterr().out.splitlines()[:3] == [
        "up to date mini.tests.toml", "FAIL mini.tests.toml: one unit", "    units.zz: no such unit in the result"]


def test_a_case_inside_an_array_without_expect_is_refused(tmp_path, monkeypatch, capsys):
    """`cases = [{ … }]` cannot take `[cases.expect]` tables: one line, exit 2, the file untouched."""
    unit = ('{ id = "a", name = "A", done = 10, assigned = 10, has_plan = true, rating = "tot", awards = 0, '
            "faults = 0, members = 10, advanced = 8 }")
    text = f'cases = [{{ name = "inline", inline = {{ cluster = {{ id = "c", name = "C" }}, units = [{unit}] }} }}]\n'
    setup(tmp_path, monkeypatch, text)
    assert main(["test", "--update", "mini.tests.toml"]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err == ('mini.tests.toml: cases[0](name="inline"): written inside an array; write it as a '
                            "[[cases]] table for --update to add its expectations\n")
    assert (tmp_path / "mini.tests.toml").read_bytes().decode("utf-8") == text


def test_update_restores_every_kind_of_expectation_in_the_shipped_files(tmp_path, monkeypatch, capsys):
    """Units, titles, leadership, people and the council: each value changed by hand in a copy of
    the shipped test files is written back as it was, the rest of each file byte for byte."""
    shutil.copytree(ROOT / "policies", tmp_path / "policies")
    shutil.copytree(ROOT / "examples", tmp_path / "examples")
    monkeypatch.chdir(tmp_path)
    broken = {
        "bca-cum8.tests.toml": ('leader = "vien-khcn"', 'leader = "nobody"'),
        "cum8-2022-members.tests.toml": ('proposed = ["chien_si_thi_dua_toan_quoc", "bang_khen_bo_truong_ca_nhan"]',
                                         "proposed = []"),
        "cantho-dan-van.tests.toml": ('council = [{ title = "bang_khen_ubnd", units = ["t2", "t1"] }]',
                                      "council = []"),
    }
    originals = {}
    for name, (old, new) in broken.items():
        path = tmp_path / "policies" / name
        originals[name] = text = path.read_text(encoding="utf-8")
        assert text.count(old) == 1
        path.write_text(text.replace(old, new), encoding="utf-8")
    assert main(["test", "--update", "policies"]) == 0
    out = capsys.readouterr().out
    assert [line for line in out.splitlines() if line.startswith(("updated", "up to date"))] == [
        "updated policies/bca-cum8.tests.toml: 1 expectation changed",
        "up to date policies/cand-cum5-2023.tests.toml",
        "updated policies/cantho-dan-van.tests.toml: 1 expectation changed",
        "updated policies/cum8-2022-members.tests.toml: 1 expectation changed",
        "up to date policies/cum8-2022.tests.toml",
        "up to date policies/research-khcn-2023.tests.toml",
    ]
    for name, text in originals.items():
        assert (tmp_path / "policies" / name).read_text(encoding="utf-8") == text
