"""`thidua test`: policy authors' cases pass or fail with a readable diff, exit codes and coverage."""

from __future__ import annotations

from thidua_rules.cli import main

from .conftest import ROOT


def test_every_shipped_policy_passes_its_cases(capsys, monkeypatch):
    """`thidua test` over policies/ passes every case with full coverage of every shipped policy."""
    monkeypatch.chdir(ROOT)
    assert main(["test", "policies"]) == 0
    out = capsys.readouterr().out
    assert "FAIL" not in out
    assert "coverage policies/cum8-2022.tests.toml: 100.0% of 24 items\n" in out
    assert "coverage policies/bca-cum8.tests.toml: 100.0% of 24 items\n" in out
    assert "coverage policies/cantho-dan-van.tests.toml: 100.0% of 15 items\n" in out
    # Catalogue files are building blocks, not policies with cases: only *.tests.toml files run.
    assert "policies/catalogue" not in out


def test_failures_are_reported_with_a_diff_and_exit_1(capsys, monkeypatch):
    """Wrong expectations give one line per difference, the coverage, and exit status 1."""
    monkeypatch.chdir(ROOT / "tests" / "policytest")
    assert main(["test", "mini.tests.toml"]) == 1
    assert capsys.readouterr().out == (
        "FAIL mini.tests.toml: wrong total and title\n"
        '    units.a.titles.tien_tien: expected "failed", got "proposed"\n'
        '    units.a.total: expected "100.00", got "90.00"\n'
        "    units.zz: no such unit in the result\n"
        "PASS mini.tests.toml: an expected error\n"
        "coverage mini.tests.toml: 56.2% of 16 items; not exercised: band xuat_sac, band hoan_thanh, "
        "title co, title co_cp, title bang_khen, title tien_tien check when, title co check requires\n"
        "policy tests: 1 passed, 1 failed\n"
    )


def test_a_missing_test_file_is_a_user_error(capsys, tmp_path):
    """Naming a test file that does not exist exits 2 with one line."""
    assert main(["test", str(tmp_path / "none.tests.toml")]) == 2
    assert capsys.readouterr().err == f"{tmp_path / 'none.tests.toml'}: file not found\n"


def test_unknown_ids_in_expectations_get_a_suggestion(capsys, monkeypatch):
    """An expectation for a unit, title or cluster the result lacks names the closest id."""
    monkeypatch.chdir(ROOT / "tests" / "policytest")
    assert main(["test", "suggest.tests.toml"]) == 1
    assert capsys.readouterr().out.splitlines()[:6] == [
        "FAIL suggest.tests.toml: misspelt ids",
        "    units.cuc-cnt: no such unit in the result (did you mean 'cuc-cntt'?)",
        "    units.cuc-khtc.titles.co_thi_dua_bcaa: no such title (did you mean 'co_thi_dua_bca'?)",
        "    units.nothing-like-it: no such unit in the result",
        "    people.cuc-cntt-001: no such person in the result",
        "    leadership.cum9: no such cluster with a leadership in the result (did you mean 'cum8'?)",
    ]


def test_a_long_case_name_is_shortened_in_the_key_path(capsys, tmp_path):
    """A case name over 40 characters shows as its first 39 and an ellipsis (the key path then fits an error line); the index stays the address."""
    (tmp_path / "mini.toml").write_bytes((ROOT / "tests" / "policytest" / "mini.toml").read_bytes())
    (tmp_path / "mini.tests.toml").write_text(
        f'[[cases]]\nname = "{"n" * 70}"\ninline = {{}}\nexpect = {{ units = {{ a = {{ rank = "1" }} }} }}\n',
        encoding="utf-8")
    assert main(["test", str(tmp_path / "mini.tests.toml")]) == 2
    assert capsys.readouterr().err == (
        f'{tmp_path / "mini.tests.toml"}: cases[0](name="{"n" * 39}…").expect.units.a.rank: '
        'expected an integer, got a string "1"\n')


def test_coverage_lists_every_branch_no_case_exercises(capsys, monkeypatch):
    """`--coverage` counts both sides of each decision and lists, in the policy's order, the ones
    no case reached; the cases' results are reported as without it."""
    monkeypatch.chdir(ROOT / "tests" / "policytest")
    assert main(["test", "--coverage", "mini.tests.toml"]) == 1
    out = capsys.readouterr().out
    assert out.split("PASS mini.tests.toml: an expected error\n")[1] == (
        "coverage mini.tests.toml: 45.2% of 42 branches; not exercised (23):\n"
        "    criterion targets scores 0\n"
        "    criterion targets part of the points\n"
        "    criterion plan scores 0\n"
        "    criterion rating scores 0\n"
        "    criterion rating full points\n"
        "    criterion share scores 0\n"
        "    criterion share gate closed\n"
        "    bonus awards applies\n"
        "    deduction faults applies\n"
        "    band xuat_sac\n"
        "    band xuat_sac minimum reached, when false\n"
        "    band hoan_thanh\n"
        "    title tien_tien not won\n"
        "    title tien_tien check when\n"
        "    title co\n"
        "    title co check requires\n"
        "    title co check votes passes\n"
        "    title co over quota or tied at the cut\n"
        "    title co_cp\n"
        "    title co_cp check requires passes\n"
        "    title co_cp over quota or tied at the cut\n"
        "    title bang_khen\n"
        "    title bang_khen check when passes\n"
        "policy tests: 1 passed, 1 failed\n"
    )


def test_coverage_of_a_shipped_policy(capsys, monkeypatch):
    """The shipped cases reach every title and band of cum8-2022; the branches left say which
    cases an author could add (a unit at 0 on a criterion, a quota cut)."""
    monkeypatch.chdir(ROOT)
    assert main(["test", "--coverage", "policies/cum8-2022.tests.toml"]) == 0
    lines = capsys.readouterr().out.splitlines()
    start = lines.index(next(line for line in lines if line.startswith("coverage ")))
    assert lines[start:] == [
        "coverage policies/cum8-2022.tests.toml: 90.6% of 64 branches; not exercised (6):",
        "    criterion chi_tieu scores 0",
        "    criterion dot_xuat scores 0",
        "    criterion phoi_hop_cum capped",
        "    criterion chat_luong_cbcs scores 0",
        "    title co_thi_dua_bca over quota or tied at the cut",
        "    title co_thi_dua_chinh_phu over quota or tied at the cut",
        "policy tests: 3 passed, 0 failed",
    ]
