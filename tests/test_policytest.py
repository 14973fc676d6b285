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
