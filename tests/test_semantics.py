"""Silent changes of outcome (issue #10): each pinned by its exact output.

Round-2 ballots under the quorum, the true quota places after them, ``awaiting_vote`` before
the council votes, units' streaks over this year's and implied titles, history records that
lack a value a streak reads, and the leadership rotation.
"""

from __future__ import annotations

import json

import pytest
import tomli_w

from thidua_rules import PolicyError, evaluate, load_data, load_policy, parse_data, parse_policy, render
from thidua_rules.report.explain import explain_unit

from .conftest import EXAMPLE_DATA, EXAMPLE_POLICY
from .test_council import SOURCE as COUNCIL
from .test_scenarios import POLICY_FILE, unit


def run_result(policy, units, **extra):
    doc = {"cluster": {"id": "c", "name": "C", "year": 2024, **extra.pop("cluster", {})}, "units": units, **extra}
    return evaluate(policy, parse_data(tomli_w.dumps(doc).encode(), policy, file="data.toml"))


def run(policy, units, **extra) -> dict:
    return json.loads(render(run_result(policy, units, **extra), "json"))


def title(doc: dict, unit_id: str, title_id: str) -> dict:
    u = next(x for x in doc["units"] if x["id"] == unit_id)
    return next(t for t in u["explanation"]["titles"] if t["id"] == title_id)


@pytest.fixture(scope="module")
def council():
    """The scenario policy with votes = { share = 0.8, quorum = "2/3" } on 'co'."""
    return parse_policy(COUNCIL.encode(), file="council.toml")


# b and c share rank 2 across the quota of 2 (a is first); every round-1 vote passes.
TIED = [unit("a", awards=1), unit("b"), unit("c"), unit("d", rating="tot")]
ROUND_1 = {"title": "co", "members": 9, "present": 9, "yes": {u: 9 for u in "abcd"}}


# ---------------------------------------------------------------- round 2 obeys the quorum


@pytest.mark.parametrize(("round_2", "why", "code", "params"), [
    ({"present": 5}, "no quorum: 5 of 9 members present, 2/3 needed", "quota_tie_runoff_no_quorum",
     {"present": 5, "voters": 9, "quorum": "2/3"}),
    ({}, "the ballot does not say how many members were present (the quorum needs it)",
     "quota_tie_runoff_no_present", {}),
])
def test_a_round_two_ballot_without_quorum_leaves_the_tie_to_the_council(council, round_2, why, code, params):
    """5 of 9 present (or no number present) is below the 2/3 quorum: round 2 does not count."""
    votes = [ROUND_1, {"title": "co", "members": 9, "round": 2, "yes": {"b": 2, "c": 5}, **round_2}]
    out = run(council, TIED, votes=votes)
    assert [title(out, u, "co")["status"] for u in "bc"] == ["undecided", "undecided"]
    assert "runoff_yes" not in title(out, "c", "co")["quota"]
    assert out["clusters"][0]["council"] == [{
        "title": "co", "units": ["b", "c"], "kind": "quota_tie",
        "reason": f"2 units share rank 2 across the quota of 2; 1 place(s) left for them; "
                  f"the round-2 ballot does not count: {why}",
        "code": code, "params": {"units": 2, "rank": 2, "limit": 2, "left": 1, **params}}]


def test_a_round_two_ballot_with_quorum_splits_the_tie(council):
    """6 of 9 present meets 2/3: c's 5 votes beat b's 2."""
    votes = [ROUND_1, {"title": "co", "members": 9, "present": 6, "round": 2, "yes": {"b": 2, "c": 5}}]
    out = run(council, TIED, votes=votes)
    assert [title(out, u, "co")["status"] for u in "bc"] == ["over_quota", "proposed"]


def test_round_two_needs_the_same_council(council):
    with pytest.raises(PolicyError) as err:
        run(council, TIED, votes=[ROUND_1, {"title": "co", "members": 7, "present": 7, "round": 2, "yes": {}}])
    assert err.value.lines() == [("data.toml: votes[1](title=co).members: 7 members in round 2, 9 in round 1: "
                                  "the same council votes in both rounds")]


# ---------------------------------------------------------------- true places, both rounds shown


def test_explain_shows_the_true_places_and_the_round_two_votes(council):
    """After round 2, the winner c holds place 2 of 2 and b place 3; both rounds are shown."""
    votes = [ROUND_1, {"title": "co", "members": 9, "present": 9, "round": 2, "yes": {"b": 2, "c": 5}}]
    result = run_result(council, TIED, votes=votes)
    lines = explain_unit(result, "c").splitlines()
    start = lines.index("  co (Cờ thi đua): proposed")
    assert lines[start:start + 5] == [
        "  co (Cờ thi đua): proposed",
        "    requires ok [requires = [tien_tien]]",
        "    votes ok [yes = 9, voters = 9, share = 0.8, needed = 7.2, present = 9]",
        "    quota: place 2 of limit 2 (raw 2)",
        "    round 2: 5 yes-votes (the ballot between the units tied at the quota cut)",
    ]
    b = explain_unit(result, "b").splitlines()
    assert "    quota: place 3 of limit 2 (raw 2)" in b
    assert "    round 2: 2 yes-votes (the ballot between the units tied at the quota cut)" in b


def test_explain_names_the_council_decision_of_a_tie(council):
    result = run_result(council, TIED, votes=[ROUND_1])
    lines = explain_unit(result, "b").splitlines()
    start = lines.index("  co (Cờ thi đua): undecided")
    assert lines[start + 3:start + 5] == [
        "    quota: place 2 of limit 2 (raw 2)",
        "    council: 2 units share rank 2 across the quota of 2; 1 place(s) left for them"]


# ---------------------------------------------------------------- awaiting the vote


@pytest.fixture(scope="module")
def mini():
    return load_policy(POLICY_FILE, display="mini.toml")


def test_a_title_without_a_ballot_awaits_the_vote(mini):
    """Before the council votes, 'co' is neither won nor failed: it awaits the vote, is listed for
    the council, and 'co_cp', which requires it, waits on it."""
    result = run_result(mini, [unit("a", awards=1), unit("b"), unit("c", rating="hoan_thanh")])
    out = json.loads(render(result, "json"))
    assert [title(out, u, "co")["status"] for u in "abc"] == ["awaiting_vote", "awaiting_vote", "failed"]
    assert title(out, "a", "co")["checks"][-1] == {
        "check": "votes", "passed": False, "reason": "no ballot recorded for this title",
        "code": "vote_no_ballot", "params": {}, "seen": {"share": "0.8"}}
    assert title(out, "a", "co_cp")["checks"][0]["reason"] == "'co' awaits a council decision"
    assert out["clusters"][0]["council"] == [{
        "title": "co", "units": ["a", "b"], "kind": "awaiting_vote",
        "reason": "awaiting the council's vote: no ballot recorded", "code": "council_awaiting_vote", "params": {}}]
    assert render(result, "table").splitlines()[-1] == (
        "council: co: a, b (awaiting the council's vote: no ballot recorded)")
    md = render(result, "markdown").splitlines()
    assert ("- **Cờ thi đua**: Đơn vị a (`a`), Đơn vị b (`b`) — chờ Hội đồng bỏ phiếu: chưa có kết quả bỏ phiếu"
            in md)
    assert ("- Cờ thi đua: đủ điều kiện xét, chờ Hội đồng bỏ phiếu — chưa có kết quả bỏ phiếu của Hội đồng "
            "cho danh hiệu này") in md
    ex = explain_unit(result, "a").splitlines()
    assert "  co (Cờ thi đua): awaiting_vote" in ex
    assert "    council: awaiting the council's vote: no ballot recorded" in ex


def test_the_shipped_example_has_ballots_so_nothing_awaits(example_result):
    doc = json.loads(render(example_result, "json"))
    statuses = {t["status"] for u in doc["units"] for t in u["explanation"]["titles"]}
    assert "awaiting_vote" not in statuses


# ---------------------------------------------------------------- unit streaks over titles


STREAK = POLICY_FILE.read_text(encoding="utf-8").replace(
    "when = \"consecutive_years(band == 'xuat_sac') >= 3\"",
    "when = \"consecutive_years('tien_tien' in titles) >= 2\"")


def test_a_unit_streak_counts_this_years_and_implied_titles():
    """a won tien_tien this year and recorded only 'co' (above it on the ladder) in 2023: 2 years.
    b recorded nothing in 2023: 1 year (before issue #10 both were 0)."""
    policy = parse_policy(STREAK.encode(), file="streak.toml")
    history = [{"unit": "a", "year": 2023, "band": "xuat_sac", "titles": ["co"]},
               {"unit": "b", "year": 2023, "band": "xuat_sac", "titles": []}]
    out = run(policy, [unit("a"), unit("b")], history=history, votes=[{"title": "co", "voters": 5, "yes": {}}])
    assert title(out, "a", "bang_khen")["checks"][-1] == {
        "check": "when", "passed": True, "reason": "",
        "code": "condition_true", "params": {"condition": "consecutive_years('tien_tien' in titles) >= 2"},
        "seen": {"consecutive_years('tien_tien' in titles)": "2", "titles": ["tien_tien"]}}
    assert title(out, "b", "bang_khen")["checks"][-1]["seen"] == {
        "consecutive_years('tien_tien' in titles)": "1", "titles": ["tien_tien"]}


def test_a_unit_condition_reads_this_years_titles():
    """``titles`` is a name of unit conditions, as of person conditions."""
    policy = parse_policy(STREAK.replace(
        "when = \"consecutive_years('tien_tien' in titles) >= 2\"", "when = \"'co' in titles\"").encode(),
        file="streak.toml")
    out = run(policy, [unit("a"), unit("b")], votes=[{"title": "co", "voters": 5, "yes": {"a": 5}}])
    assert [title(out, u, "bang_khen")["status"] for u in "ab"] == ["proposed", "failed"]


def test_implied_titles_follow_requires_on_the_ladder():
    from thidua_rules.builtin.titles import implied_titles

    policy = parse_policy(STREAK.encode(), file="streak.toml")
    assert implied_titles(policy.titles) == {
        "tien_tien": (), "co": ("tien_tien",), "co_cp": ("co", "tien_tien"), "bang_khen": ()}


def test_a_person_record_of_a_ladder_title_implies_the_ones_below():
    """A person whose 2021 records only CSTĐCS counts as CSTT in 2021 too."""
    from thidua_rules.people import with_implied

    implied = {"cstt": (), "cstdcs": ("cstt",)}
    assert with_implied(("cstdcs",), implied) == ("cstdcs", "cstt")
    assert with_implied(("bang_khen",), implied) == ("bang_khen",)


# ---------------------------------------------------------------- history records


def test_a_history_record_without_the_value_a_streak_reads_is_an_error(mini):
    """bang_khen reads the band of earlier years: a record without one would count as not xuat_sac."""
    with pytest.raises(PolicyError) as err:
        run(mini, [unit("a")], history=[{"unit": "a", "year": 2023, "titles": []}])
    assert err.value.lines() == [("data.toml: history[0](unit=a): missing 'band', which title 'bang_khen' reads "
                                  "in earlier years; give it in every history record")]


# ---------------------------------------------------------------- leadership rotation


ROTATION = POLICY_FILE.read_text(encoding="utf-8").replace(
    '[leadership]\nmethod = "rank"', '[leadership]\nmethod = "rotation"\nrotation = ["a", "b", "c"]')


@pytest.fixture(scope="module")
def rotation():
    return parse_policy(ROTATION.encode(), file="rotation.toml")


def test_a_typo_in_the_policy_rotation_is_an_error(rotation):
    policy = parse_policy(ROTATION.replace('rotation = ["a", "b", "c"]', 'rotation = ["a", "bb", "c"]').encode(),
                          file="rotation.toml")
    with pytest.raises(PolicyError) as err:
        run(policy, [unit("a"), unit("b"), unit("c")])
    assert err.value.lines() == [("rotation.toml: leadership.rotation[1]: unit 'bb' is not in cluster 'c' "
                                  "(did you mean 'b'?); a cluster of other units gives its own rotation")]


def test_a_cluster_of_other_units_is_not_governed_by_the_policy_rotation(rotation):
    out = run(rotation, [unit("x"), unit("y")])
    assert out["leadership"][0]["reason"] == "no unit of this cluster is in the rotation"


def test_a_leader_outside_the_rotation_is_reported_and_the_rotation_restarts(rotation):
    """d led this year but is not in the rotation: it is the previous leader, a leads next."""
    result = run_result(rotation, [unit("a"), unit("b"), unit("c"), unit("d")], cluster={"leader": "d"})
    assert ("- Căn cứ: cụm trưởng năm nay (Đơn vị d) không có trong thứ tự luân phiên: bắt đầu lại từ đơn vị "
            "đầu tiên") in render(result, "markdown").splitlines()
    out = json.loads(render(result, "json"))
    assert out["leadership"] == [{
        "cluster": "c", "year": 2025, "leader": "a", "deputy": "b", "method": "rotation",
        "previous_leader": "d",
        "reason": "this year's leader 'd' is not in the rotation: it starts again at its first unit",
        "code": "rotation_leader_missing", "params": {"leader": "d"}}]


def test_the_shipped_example_validates_with_its_rotation():
    policy = load_policy(EXAMPLE_POLICY)
    assert load_data(EXAMPLE_DATA, policy).clusters[0].id == "cum8"


def test_shipped_examples_are_unchanged_by_implied_titles(example_result):
    """The example's ballots, history and rotation are complete: outcome as before."""
    assert next(u.proposed for c in example_result.clusters for u in c.units) == (
        "co_thi_dua_chinh_phu", "bang_khen_bo_truong")



# ---------------------------------------------------------------- the two engines


def test_the_engines_agree_on_the_new_outcomes():
    """Generated clusters (some ballots missing, some round-2 ballots without 'present', streaks
    over this year's and implied titles): the fast and the reference engine give the same
    outcomes, and they include awaiting_vote, round-2 ballots that do not count and streaks
    seeing titles."""
    from .test_conformance import conform_json, mini_rows, rich_data

    source = COUNCIL.replace("when = \"consecutive_years_since(band == 'xuat_sac', 'bang_khen') >= 2\"",
                             "when = \"consecutive_years('tien_tien' in titles) >= 2\"")
    policy = parse_policy(source.encode(), file="council.toml")
    data = rich_data(mini_rows(1200, 3), 3, [t.id for t in policy.titles], ["co"], 2024)
    doc = json.loads(render(conform_json(policy, data), "json"))
    statuses = {t["status"] for u in doc["units"] for t in u["explanation"]["titles"]}
    assert {"awaiting_vote", "undecided", "proposed", "failed"} <= statuses
    reasons = [i["reason"] for c in doc["clusters"] for i in c["council"]]
    assert any("the round-2 ballot does not count" in r for r in reasons)
    streaks = {t["checks"][-1]["seen"].get("consecutive_years('tien_tien' in titles)")
               for u in doc["units"] for t in u["explanation"]["titles"] if t["id"] == "bang_khen"}
    assert {"1", "2"} <= streaks


def test_a_streak_over_a_record_without_the_value_is_an_error_not_false():
    """What the loader does not check (a plugin's own expression) still never counts as false."""
    from decimal import Decimal

    from thidua_rules.builtin.functions import _consecutive_years
    from thidua_rules.expressions import EvalContext

    ctx = EvalContext(year=2024, history={2023: {"year": Decimal(2023), "titles": ()}})
    with pytest.raises(ValueError) as err:
        _consecutive_years({"band": "tot", "year": Decimal(2024)}, ctx, lambda env: env["band"] == "tot")
    assert str(err.value) == "the history record of 2023 does not give 'band'"
