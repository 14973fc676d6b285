"""`thidua lint` (and `validate`): one exact warning line per rule that loads but may not do what
its author meant, exit 0 (1 with --strict), on stderr."""

from __future__ import annotations

import pytest

from thidua_rules import evaluate, load_data, load_policy
from thidua_rules.cli import main
from thidua_rules.lint import CODES

from .conftest import EXAMPLE_DATA, EXAMPLE_POLICY, ROOT

# A small policy with no warning; each case below changes one thing in it.
POLICY = """\
[policy]
id = "lint_case"
name = "Lint case"
year = 2024

[inputs]
done = { type = "integer", min = 0 }
rating = { type = "enum", values = ["tot", "kha"] }

[[groups]]
id = "main"
max = 20

[[criteria]]
id = "work"
group = "main"
points = 10
method = "bands"
value = "done"
bands = [{ at_least = 8, points = 10 }, { at_least = 5, points = 7 }]

[[criteria]]
id = "party"
group = "main"
points = 10
method = "lookup"
value = "rating"
table = { tot = 10, kha = 6 }

[scoring]
bonus_max = 2

[[bonuses]]
id = "extra"
formula = "done"
max = 2

[[bands]]
id = "good"
min = 15

[[bands]]
id = "rest"
min = 0

[[titles]]
id = "first"
when = "band == 'good'"

[[titles]]
id = "flag"
requires = ["first"]
quota = { count = 1 }
votes = { share = 0.8 }

[leadership]
method = "rotation"
rotation = ["a", "b"]
"""

DATA = """\
[cluster]
id = "c"
name = "C"
year = 2024
leader = "a"

[[units]]
id = "a"
name = "A"
done = 8
rating = "tot"

[[units]]
id = "b"
name = "B"
done = 5
rating = "kha"

[[votes]]
title = "flag"
voters = 5
yes = { a = 5 }
"""

W = "policy.toml: "


def run(tmp_path, monkeypatch, capsys, policy=POLICY, data=None, *extra):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "policy.toml").write_text(policy, encoding="utf-8")
    args = ["lint", "policy.toml", *extra]
    if data is not None:
        (tmp_path / "data.toml").write_text(data, encoding="utf-8")
        args.insert(2, "data.toml")
    code = main(args)
    captured = capsys.readouterr()
    assert captured.out == ""
    return code, captured.err


def change(old, new, text=POLICY):
    assert old in text
    return text.replace(old, new, 1)


def test_a_clean_policy_and_data_give_nothing(tmp_path, monkeypatch, capsys):
    """The base case has no warning, with or without data, and --strict still exits 0."""
    assert run(tmp_path, monkeypatch, capsys) == (0, "")
    assert run(tmp_path, monkeypatch, capsys, POLICY, DATA, "--strict") == (0, "")


CASES = {
    "bands-order": (
        change("bands = [{ at_least = 8, points = 10 }, { at_least = 5, points = 7 }]",
               "bands = [{ at_least = 5, points = 7 }, { at_least = 8, points = 10 }]"),
        W + "criteria[0](id=work).bands[1]: warning: band { at_least = 8, points = 10 } can never be reached: "
        "bands[0] (at_least = 5) comes first and takes every value it would; list the bands from the "
        "highest bound down [bands-order]\n"),
    "bands-order-same-bound": (
        change("bands = [{ at_least = 8, points = 10 }, { at_least = 5, points = 7 }]",
               "bands = [{ at_least = 5, points = 10 }, { above = 5, points = 7 }]"),
        W + "criteria[0](id=work).bands[1]: warning: band { above = 5, points = 7 } can never be reached: "
        "bands[0] (at_least = 5) comes first and takes every value it would; list the bands from the "
        "highest bound down [bands-order]\n"),
    "band-points": (
        change("{ at_least = 8, points = 10 }", "{ at_least = 8, points = 12 }"),
        W + "criteria[0](id=work).bands[0].points: warning: 12 points is above the criterion's points (10): "
        "the score is capped at 10 [band-points]\n"),
    "group-max-over": (
        change("max = 20", "max = 15"),
        W + "groups[0](id=main).max: warning: its criteria give up to 20 points (work 10 + party 10), above "
        "the group's max 15: a unit loses 5 of the points it earned; make the points add up to the max "
        "[group-max]\n"),
    "group-max-under": (
        change("max = 20", "max = 25"),
        W + "groups[0](id=main).max: warning: max 25 can never be reached: its criteria give only 20 points "
        "(work 10 + party 10); make the points add up to the max [group-max]\n"),
    "lookup-missing": (
        change("table = { tot = 10, kha = 6 }", "table = { tot = 10 }"),
        W + "criteria[1](id=party).table: warning: no points for 'kha' of 'rating': it scores the default 0; "
        "list it (kha = 0) or set 'default' [lookup-missing]\n"),
    "lookup-points": (
        change("table = { tot = 10, kha = 6 }", "table = { tot = 11, kha = 6 }"),
        W + "criteria[1](id=party).table.tot: warning: 11 points is above the criterion's points (10): the "
        "score is capped at 10 [lookup-points]\n"),
    "total-max-unreachable": (
        change("bonus_max = 2", "bonus_max = 2\ntotal_max = 30"),
        W + "scoring.total_max: warning: total_max 30 can never be reached: the criteria give up to 20 points "
        "(after group caps) and the bonuses up to 2; make them add up [total-max]\n"),
    "total-max-cuts": (
        change("bonus_max = 2", "bonus_max = 2\ntotal_max = 18"),
        W + "scoring.total_max: warning: the criteria alone give up to 20 points (after group caps), above "
        "total_max 18: a unit loses points it earned; make them add up [total-max]\n"),
    "item-max": (
        change('formula = "done"\nmax = 2', 'formula = "done"\nmax = 3'),
        W + "bonuses[0](id=extra).max: warning: max 3 is above [scoring] bonus_max 2: the item can never give "
        "more than 2 [item-max]\n"),
    "band-unreachable-same-min": (
        change('[[bands]]\nid = "rest"', '[[bands]]\nid = "also_good"\nmin = 15\n\n[[bands]]\nid = "rest"'),
        W + "bands[1](id=also_good).min: warning: band 'also_good' can never be given: 'good' comes first with "
        "the same minimum 15 and no 'when'; raise its min or give it a 'when' [band-unreachable]\n"),
    "title-unreachable-count": (
        change("quota = { count = 1 }", "quota = { count = 0 }"),
        W + "titles[1](id=flag).quota: warning: title 'flag' can never be won: its quota count is 0 "
        "[title-unreachable]\n"),
    "title-unreachable-share-and-requires": (
        change('when = "band == \'good\'"', 'when = "band == \'good\'"\nquota = { share = 0.005 }'),
        W + "titles[0](id=first).quota: warning: title 'first' can never be won: its quota (share 0.005, "
        "rounding floor) admits no unit in any cluster of up to 100 units [title-unreachable]\n"
        + W + "titles[1](id=flag).requires[0]: warning: title 'flag' can never be won: it requires 'first', "
        "which can never be won [title-unreachable]\n"),
    "title-unreachable-band": (
        change("min = 15", "min = 23"),
        W + "bands[0](id=good).min: warning: band 'good' can never be given: its min 23 is above the highest "
        "total the table allows (22) [band-unreachable]\n"
        + W + "titles[0](id=first).when: warning: title 'first' can never be won: its 'when' needs band 'good', "
        "which can never be given [title-unreachable]\n"
        + W + "titles[1](id=flag).requires[0]: warning: title 'flag' can never be won: it requires 'first', "
        "which can never be won [title-unreachable]\n"),
    "title-unreachable-bands-exclude": (
        change('when = "band == \'good\'"', 'when = "band == \'good\' and done > 1 and band in [\'rest\']"'),
        W + "titles[0](id=first).when: warning: title 'first' can never be won: its 'when' asks for bands that "
        "exclude each other [title-unreachable]\n"
        + W + "titles[1](id=flag).requires[0]: warning: title 'flag' can never be won: it requires 'first', "
        "which can never be won [title-unreachable]\n"),
    "input-unused": (
        change('rating = { type = "enum"', 'spare = { type = "integer", label = "Spare" }\nrating = { type = "enum"'),
        W + "inputs.spare: warning: no criterion, check, bonus, deduction, band, title, ranking key or plugin "
        "section reads 'spare': every unit must supply it for nothing; remove it or use it [input-unused]\n"),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_policy_warning(case, tmp_path, monkeypatch, capsys):
    """Each policy defect gives exactly its line, exit 0, and exit 1 with --strict."""
    policy, expected = CASES[case]
    data = DATA.replace('rating = "', 'spare = 1\nrating = "') if case == "input-unused" else DATA
    assert run(tmp_path, monkeypatch, capsys, policy) == (0, expected)
    # With data, a quota is checked against the data's cluster sizes instead of 1 to 100.
    with_data = expected.replace("in any cluster of up to 100 units", "in the data's clusters (2 units)")
    assert run(tmp_path, monkeypatch, capsys, policy, data, "--strict") == (1, with_data)


def test_lookup_missing_names_every_value_left_out(tmp_path, monkeypatch, capsys):
    """Each value the table leaves out is named, once, in the enum's order."""
    policy = change('values = ["tot", "kha"]', 'values = ["tot", "kha", "tb", "yeu"]')
    assert run(tmp_path, monkeypatch, capsys, policy) == (0, (
        W + "criteria[1](id=party).table: warning: no points for 'tb' and 'yeu' of 'rating': they score the "
        "default 0; list them (tb = 0, yeu = 0) or set 'default' [lookup-missing]\n"))


def test_lookup_with_a_default_says_what_unlisted_values_get(tmp_path, monkeypatch, capsys):
    """A lookup that names its default has said what the missing values score: no warning."""
    policy = change("table = { tot = 10, kha = 6 }", "table = { tot = 10 }\ndefault = 0")
    assert run(tmp_path, monkeypatch, capsys, policy) == (0, "")


def test_above_after_at_least_of_the_same_bound_is_reachable(tmp_path, monkeypatch, capsys):
    """`above = 5` first leaves the value 5 itself to a later `at_least = 5`: no warning."""
    policy = change("bands = [{ at_least = 8, points = 10 }, { at_least = 5, points = 7 }]",
                    "bands = [{ above = 5, points = 10 }, { at_least = 5, points = 7 }]")
    assert run(tmp_path, monkeypatch, capsys, policy) == (0, "")


def test_quota_share_is_checked_against_the_data_cluster_sizes(tmp_path, monkeypatch, capsys):
    """share 0.4 (floor) admits a unit from 3 units up: fine without data, never in a 2-unit cluster."""
    policy = change("quota = { count = 1 }", "quota = { share = 0.4 }")
    assert run(tmp_path, monkeypatch, capsys, policy) == (0, "")
    assert run(tmp_path, monkeypatch, capsys, policy, DATA) == (0, (
        W + "titles[1](id=flag).quota: warning: title 'flag' can never be won: its quota (share 0.4, rounding "
        "floor) admits no unit in the data's clusters (2 units) [title-unreachable]\n"))


def test_unit_outside_the_rotation_needs_the_data(tmp_path, monkeypatch, capsys):
    """A unit of the data missing from the rotation can never lead: a warning on the data file."""
    policy = change('rotation = ["a", "b"]', 'rotation = ["a"]')
    assert run(tmp_path, monkeypatch, capsys, policy) == (0, "")
    assert run(tmp_path, monkeypatch, capsys, policy, DATA) == (0, (
        "data.toml: units(id=b): warning: unit 'b' is not in [leadership] rotation: it can never lead the "
        "cluster; add it where its turn comes [rotation-missing]\n"))


def test_cluster_rotation_is_the_one_checked(tmp_path, monkeypatch, capsys):
    """A cluster's own rotation replaces the policy's, so it is the one a unit must be in."""
    data = change('leader = "a"', 'leader = "a"\nrotation = ["a"]', DATA)
    assert run(tmp_path, monkeypatch, capsys, POLICY, data) == (0, (
        "data.toml: units(id=b): warning: unit 'b' is not in the cluster's rotation: it can never lead the "
        "cluster; add it where its turn comes [rotation-missing]\n"))


def test_cluster_with_no_unit_in_the_rotation_is_one_line(tmp_path, monkeypatch, capsys):
    """When none of a cluster's units is in the rotation, one line names the cluster, not each unit."""
    policy = change('rotation = ["a", "b"]', 'rotation = ["x"]')
    assert run(tmp_path, monkeypatch, capsys, policy, DATA) == (0, (
        "data.toml: cluster: warning: no unit of cluster 'c' is in [leadership] rotation: none can lead it; "
        "give the cluster its own rotation [rotation-missing]\n"))


def test_inputs_are_not_checked_when_a_plugin_may_read_them(tmp_path):
    """A plugin's code may read an input by name, so a policy with plugins gets no input-unused."""
    from thidua_rules import hookimpl
    from thidua_rules.lint import lint_file

    class Fake:
        @hookimpl
        def register_functions(self, register):
            pass

    policy, _ = CASES["input-unused"]
    path = tmp_path / "policy.toml"
    path.write_text(change('year = 2024', 'year = 2024\nplugins = ["lintfake"]', policy), encoding="utf-8")
    assert lint_file(path, load_policy(path, extra_plugins=(("lintfake", Fake()),))) == []
    path.write_text(policy, encoding="utf-8")
    assert [w.code for w in lint_file(path, load_policy(path))] == ["input-unused"]


def test_vote_title_without_a_ballot(tmp_path, monkeypatch, capsys):
    """A title that needs the council's vote, with no ballot in the data, is named once per cluster."""
    data = DATA[:DATA.index("[[votes]]")]
    assert run(tmp_path, monkeypatch, capsys, POLICY, data) == (0, (
        "data.toml: votes: warning: no ballot for title 'flag', which needs the council's vote: no unit can "
        "be proposed for it until a [[votes]] ballot is recorded [vote-missing]\n"))


def test_many_clusters_name_the_cluster(tmp_path, monkeypatch, capsys):
    """With several clusters, data warnings start with the cluster; clusters and units by id."""
    data = """\
[[clusters]]
id = "z"
name = "Z"
leader = "a"
rotation = ["a"]
units = [{ id = "a", name = "A", done = 8, rating = "tot" }, { id = "c", name = "C", done = 1, rating = "kha" }]
votes = [{ title = "flag", voters = 5, yes = { a = 5 } }]

[[clusters]]
id = "y"
name = "Y"
leader = "b"
rotation = ["b"]
units = [{ id = "b", name = "B", done = 8, rating = "tot" }]
"""
    assert run(tmp_path, monkeypatch, capsys, POLICY, data) == (0, (
        "data.toml: clusters(id=y).votes: warning: no ballot for title 'flag', which needs the council's vote: "
        "no unit can be proposed for it until a [[votes]] ballot is recorded [vote-missing]\n"
        "data.toml: clusters(id=z).units(id=c): warning: unit 'c' is not in the cluster's rotation: it can "
        "never lead the cluster; add it where its turn comes [rotation-missing]\n"))


def test_many_data_warnings_of_one_code_are_counted(tmp_path, monkeypatch, capsys):
    """Past ten lines of one code, the data's warnings end with one line counting the rest."""
    policy = change('method = "rotation"\nrotation = ["a", "b"]', 'method = "rank"')
    clusters = "".join(f'[[clusters]]\nid = "k{i:02}"\nname = "K"\n'
                       f'units = [{{ id = "a{i}", name = "A", done = 8, rating = "tot" }}]\n\n' for i in range(12))
    code, err = run(tmp_path, monkeypatch, capsys, policy, clusters)
    lines = err.splitlines()
    assert code == 0
    assert len(lines) == 11
    assert lines[9].startswith("data.toml: clusters(id=k09).votes: warning: no ballot for title 'flag'")
    assert lines[10] == "data.toml: warning: … and 2 more like the ones above [vote-missing]"


def test_warnings_follow_the_policy_key_order_then_the_data(tmp_path, monkeypatch, capsys):
    """Several warnings come in the order of the policy's keys, then the data's."""
    policy = change("max = 20", "max = 25", change('rotation = ["a", "b"]', 'rotation = ["a"]',
                                                   change("table = { tot = 10, kha = 6 }", "table = { tot = 10 }")))
    code, err = run(tmp_path, monkeypatch, capsys, policy, DATA)
    assert code == 0
    assert [line.rsplit(" ", 1)[1] for line in err.splitlines()] == [
        "[group-max]", "[lookup-missing]", "[rotation-missing]"]


def test_an_entry_from_a_base_names_its_file(tmp_path, monkeypatch, capsys):
    """A warning on an entry a base defines says so, as the loader's errors do."""
    (tmp_path / "base.toml").write_text(change(
        "bands = [{ at_least = 8, points = 10 }, { at_least = 5, points = 7 }]",
        "bands = [{ at_least = 5, points = 7 }, { at_least = 8, points = 10 }]"), encoding="utf-8")
    child = '[policy]\nid = "child"\nname = "Child"\nextends = ["base.toml"]\n'
    assert run(tmp_path, monkeypatch, capsys, child) == (0, (
        W + "criteria[0](id=work).bands[1]: warning: band { at_least = 8, points = 10 } can never be reached: "
        "bands[0] (at_least = 5) comes first and takes every value it would; list the bands from the "
        "highest bound down (defined in base.toml) [bands-order]\n"))


def test_allow_leaves_out_a_code_and_refuses_an_unknown_one(tmp_path, monkeypatch, capsys):
    """--allow CODE drops that code's warnings (so --strict passes); a misspelt code exits 2."""
    policy = change("table = { tot = 10, kha = 6 }", "table = { tot = 10 }")
    assert run(tmp_path, monkeypatch, capsys, policy, None, "--strict", "--allow", "lookup-missing") == (0, "")
    assert run(tmp_path, monkeypatch, capsys, policy, None, "--allow", "lookup-mising") == (
        2, "--allow: unknown warning code 'lookup-mising' (did you mean 'lookup-missing'?)\n")


def test_a_policy_error_is_still_an_error(tmp_path, monkeypatch, capsys):
    """lint loads the policy first: a real error is reported as ever, exit 2."""
    policy = change('method = "lookup"', 'method = "lokup"')
    code, err = run(tmp_path, monkeypatch, capsys, policy)
    assert code == 2
    assert err.startswith("policy.toml: criteria[1](id=party).method: unknown method 'lokup'")


def test_validate_prints_the_warnings_on_stderr_and_its_ok_line(tmp_path, monkeypatch, capsys):
    """validate keeps its one stdout line and exit 0; the warnings go to stderr."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "policy.toml").write_text(change("max = 20", "max = 25"), encoding="utf-8")
    (tmp_path / "data.toml").write_text(DATA, encoding="utf-8")
    assert main(["validate", "policy.toml", "data.toml"]) == 0
    captured = capsys.readouterr()
    assert captured.out == "ok: lint_case (2 criteria, 2 titles; data: 1 cluster(s), 2 unit(s))\n"
    assert captured.err == CASES["group-max-under"][1]


def test_reordered_bands_cost_the_example_points_and_are_flagged(tmp_path, monkeypatch, capsys):
    """The example's tham_muu bands reordered cost cuc-cntt 3 points, silently; lint names the band."""
    text = EXAMPLE_POLICY.read_text(encoding="utf-8")
    reordered = change("""  { at_least = 8, points = 10 },
  { at_least = 5, points = 7 },""", """  { at_least = 5, points = 7 },
  { at_least = 8, points = 10 },""", text)
    monkeypatch.chdir(tmp_path)
    (tmp_path / "policy.toml").write_text(reordered, encoding="utf-8")

    def total(policy_path):
        policy = load_policy(policy_path)
        result = evaluate(policy, load_data(EXAMPLE_DATA, policy))
        return next(u for c in result.clusters for u in c.units if u.id == "cuc-cntt").total

    assert total(EXAMPLE_POLICY) - total(tmp_path / "policy.toml") == 3
    assert main(["lint", "policy.toml"]) == 0
    assert capsys.readouterr().err.splitlines()[0] == (
        "policy.toml: criteria[2](id=tham_muu).bands[1]: warning: band { at_least = 8, points = 10 } can "
        "never be reached: bands[0] (at_least = 5) comes first and takes every value it would; list the "
        "bands from the highest bound down [bands-order]")


# Every shipped policy, with its example data where there is one. The warnings that remain are
# intended and said so in a comment: cum8-2022.toml is the users' contract file, kept unchanged, and
# its lookup leaves "khong_hoan_thanh" out on purpose ("a value not listed scores 0"), which
# cum8-2022-members.toml inherits; cantho-dan-van.toml keeps KH 157's +4 step above QĐ 2579's cap.
SHIPPED = [
    ("policies/bca-cum8.toml", "examples/cum8-2022/units.toml", None, ""),
    ("policies/cand-cum5-2023.toml", "examples/cand-cum5-2023/units.toml", None, ""),
    ("policies/cantho-dan-van.toml", "examples/cantho-2025/units.toml", None,
     ("policies/cantho-dan-van.toml: bonuses[1](id=chi_tra_cao).max: warning: max 4 is above [scoring] "
     "bonus_max 3: the item can never give more than 3 [item-max]\n")),
    ("policies/catalogue/law2022.toml", None, None, ""),
    ("policies/catalogue/law2022-people.toml", None, None, ""),
    ("policies/catalogue/ratings.toml", None, None, ""),
    ("policies/cum8-2022.toml", "examples/cum8-2022/units.toml", None,
     ("policies/cum8-2022.toml: criteria[4](id=to_chuc_dang).table: warning: no points for 'khong_hoan_thanh' "
     "of 'party_rating': it scores the default 0; list it (khong_hoan_thanh = 0) or set 'default'"
     " [lookup-missing]\n")),
    ("policies/cum8-2022-members.toml", "examples/cum8-2022/units-members.toml", "examples/cum8-2022/members.csv",
     ("policies/cum8-2022-members.toml: criteria[4](id=to_chuc_dang).table: warning: no points for "
     "'khong_hoan_thanh' of 'party_rating': it scores the default 0; list it (khong_hoan_thanh = 0) or "
     "set 'default' (defined in policies/cum8-2022.toml) [lookup-missing]\n")),
    ("policies/cum8-2022-councils.toml", "examples/cum8-2022-councils/units.toml",
     "examples/cum8-2022-councils/members.csv",
     ("policies/cum8-2022-councils.toml: criteria[4](id=to_chuc_dang).table: warning: no points for "
     "'khong_hoan_thanh' of 'party_rating': it scores the default 0; list it (khong_hoan_thanh = 0) or "
     "set 'default' (defined in policies/cum8-2022.toml) [lookup-missing]\n")),
    ("policies/research-khcn-2023.toml", "examples/research-khcn-2023/units.toml", None, ""),
]


def test_every_shipped_policy_is_listed():
    """The list below covers every policy file shipped, so a new one gets linted too."""
    shipped = sorted(str(p.relative_to(ROOT)) for p in (ROOT / "policies").rglob("*.toml")
                     if not p.name.endswith(".tests.toml"))
    assert sorted(s[0] for s in SHIPPED) == shipped


@pytest.mark.parametrize(("policy", "data", "members", "expected"), SHIPPED, ids=[s[0] for s in SHIPPED])
def test_shipped_policy_warnings(policy, data, members, expected, monkeypatch, capsys):
    """Each shipped policy gives exactly the warnings it justifies in a comment, and no other."""
    # The core suite runs without the plugins installed; their policies need them.
    plugin = {"policies/cand-cum5-2023.toml": "thidua_cand",
              "policies/research-khcn-2023.toml": "thidua_research"}.get(policy)
    if plugin is not None:
        pytest.importorskip(plugin)
    monkeypatch.chdir(ROOT)
    args = ["lint", policy] + ([data] if data else []) + (["--members", members] if members else [])
    assert main(args) == 0
    captured = capsys.readouterr()
    assert (captured.out, captured.err) == ("", expected)


def test_every_code_is_documented():
    """The table of warnings (docs/lint.md) and the CHANGELOG list each code."""
    table = (ROOT / "docs" / "lint.md").read_text(encoding="utf-8")
    changelog = (ROOT / "CHANGELOG.md").read_text(encoding="utf-8")
    for code in CODES:
        assert f"| `{code}` |" in table, code
        assert f"`{code}`" in changelog, code


def test_a_policy_changed_between_the_two_reads_is_refused(tmp_path):
    """lint reads the file again for its TOML: if the bytes changed since loading, it says so."""
    from thidua_rules.errors import PolicyError
    from thidua_rules.lint import lint_file

    path = tmp_path / "policy.toml"
    path.write_text(POLICY, encoding="utf-8")
    policy = load_policy(path, display="policy.toml")
    path.write_text(POLICY + "# changed\n", encoding="utf-8")
    with pytest.raises(PolicyError) as caught:
        lint_file(path, policy)
    assert caught.value.lines() == ["policy.toml: the file changed while it was read; run again"]
