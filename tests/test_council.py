"""Council votes, deferrals, discipline and multi-year streaks (Law2022, ND98 Art. 30 k7, ND152 Art. 4)."""

from __future__ import annotations

import json

import pytest
import tomli_w

from thidua_rules import PolicyError, evaluate, parse_data, parse_policy, render

from .test_scenarios import FULL, POLICY_FILE, unit

# The small scenario policy, with a quorum on the flag vote and a Bằng khen whose streak restarts
# after it was awarded.
SOURCE = POLICY_FILE.read_text(encoding="utf-8").replace(
    'votes = { share = 0.8 }', 'votes = { share = 0.8, quorum = "2/3" }').replace(
    "when = \"consecutive_years(band == 'xuat_sac') >= 3\"",
    "when = \"consecutive_years_since(band == 'xuat_sac', 'bang_khen') >= 2\"")


@pytest.fixture(scope="module")
def policy():
    return parse_policy(SOURCE.encode(), file="council.toml")


def run(policy, units, **extra) -> dict:
    doc = {"cluster": {"id": "c", "name": "C", "year": 2024}, "units": units, **extra}
    dataset = parse_data(tomli_w.dumps(doc).encode(), policy, file="data.toml")
    return json.loads(render(evaluate(policy, dataset), "json"))


def title(doc: dict, unit_id: str, title_id: str) -> dict:
    u = next(x for x in doc["units"] if x["id"] == unit_id)
    return next(t for t in u["explanation"]["titles"] if t["id"] == title_id)


def ballot(**fields) -> list[dict]:
    return [{"title": "co", **fields}]


def test_absent_members_count_against_the_threshold(policy):
    """7 of 7 present say yes, but the threshold is 80 % of all 10 members: 8 are needed."""
    out = run(policy, [unit("a")], votes=ballot(members=10, present=7, yes={"a": 7}))
    co = title(out, "a", "co")
    assert co["status"] == "failed"
    assert co["checks"][-1] == {"check": "votes", "passed": False, "reason": "7 of 10 votes, below 0.8 × 10",
                                "code": "vote_below_threshold",
                                "params": {"yes": 7, "voters": 10, "share": "0.8", "needed": "8"},
                                "seen": {"yes": 7, "voters": 10, "share": "0.8", "needed": "8", "present": 7}}


def test_written_opinions_of_absent_members_count(policy):
    """One absent member's written yes brings 7 + 1 to the 8 needed."""
    out = run(policy, [unit("a"), unit("b", rating="tot")],
              votes=ballot(members=10, present=7, yes={"a": 7}, written={"a": 1}))
    assert title(out, "a", "co")["checks"][-1]["seen"] == {
        "yes": 8, "voters": 10, "share": "0.8", "needed": "8", "present": 7, "written": 1}
    assert out["units"][0]["proposed"] == ["co_cp"]


def test_no_quorum_fails_the_vote(policy):
    """5 of 9 members present is below the 2/3 quorum, whatever the votes."""
    out = run(policy, [unit("a")], votes=ballot(members=9, present=5, yes={"a": 5}, written={"a": 4}))
    assert title(out, "a", "co")["checks"][-1]["reason"] == "no quorum: 5 of 9 members present, 2/3 needed"


def test_round_two_splits_a_tie_at_the_quota_cut(policy):
    """b and c share rank 2 across a quota of 2; the round-2 ballot gives c more votes."""
    units = [unit("a", awards=1), unit("b"), unit("c"), unit("d", rating="tot")]
    votes = [{"title": "co", "members": 5, "present": 5, "yes": {u: 5 for u in "abcd"}},
             {"title": "co", "members": 5, "present": 5, "round": 2, "yes": {"b": 2, "c": 3}}]
    out = run(policy, units, votes=votes)
    assert [title(out, u, "co")["status"] for u in "abcd"] == ["held", "over_quota", "proposed", "over_quota"]
    # The true places (issue #10): the round-2 winner c is 2nd of 2, b 3rd.
    assert title(out, "c", "co")["quota"] == {"limit": 2, "raw": "2", "place": 2, "runoff_yes": 3}
    assert title(out, "b", "co")["quota"] == {"limit": 2, "raw": "2", "place": 3, "runoff_yes": 2}
    assert out["clusters"][0]["council"] == []


def test_a_tie_that_round_two_does_not_split_stays_undecided(policy):
    """Equal round-2 votes leave b and c to the council."""
    units = [unit("a", awards=1), unit("b"), unit("c"), unit("d", rating="tot")]
    votes = [{"title": "co", "members": 5, "present": 5, "yes": {u: 5 for u in "abcd"}},
             {"title": "co", "members": 5, "present": 5, "round": 2, "yes": {"b": 2, "c": 2}}]
    out = run(policy, units, votes=votes)
    assert [title(out, u, "co")["status"] for u in "bc"] == ["undecided", "undecided"]
    assert out["clusters"][0]["council"][0]["reason"] == (
        "2 units share rank 2 across the quota of 2; 1 place(s) left for them after the round-2 ballot")


def test_a_deferred_unit_is_ranked_but_not_proposed_and_frees_its_place(policy):
    """The deferred best unit keeps rank 1 but no title; the quota place goes to the next unit."""
    units = [unit("a", awards=1), unit("b"), unit("c", rating="tot")]
    votes = ballot(members=3, present=3, yes={u: 3 for u in "abc"})
    out = run(policy, units, votes=votes, deferrals=[{"unit": "a", "reason": "đang xác minh đơn khiếu nại"}])
    a = out["units"][0]
    assert (a["id"], a["rank"], a["proposed"]) == ("a", 1, [])
    assert {t["status"] for t in a["explanation"]["titles"]} == {"deferred"}
    assert title(out, "b", "co")["status"] == "held" and out["units"][1]["proposed"] == ["co_cp"]
    assert out["clusters"][0]["council"] == [{"title": "", "units": ["a"], "kind": "deferred",
                                              "reason": "deferred: đang xác minh đơn khiếu nại",
                                              "code": "council_deferred",
                                              "params": {"text": "đang xác minh đơn khiếu nại"}}]


def test_a_running_discipline_period_excludes_the_unit(policy):
    """A unit disciplined 2023–2024 is not considered for any title in 2024."""
    out = run(policy, [unit("a")], discipline=[{"unit": "a", "level": "canh_cao", "from": 2023, "until": 2024}])
    checks = {t["id"]: (t["status"], t["checks"][0]["reason"]) for t in out["units"][0]["explanation"]["titles"]}
    assert set(checks.values()) == {("excluded", "discipline (canh_cao) runs 2023–2024")}


XS = {"band": "xuat_sac", "titles": []}


def test_streak_counts_only_after_a_finished_discipline_period(policy):
    """xuat_sac 2021–2024 but disciplined until 2022: only 2023 and 2024 count, so 2 years."""
    history = [{"unit": u, "year": y, **XS} for u in "ab" for y in (2021, 2022, 2023)]
    out = run(policy, [unit("a"), unit("b")], history=history,
              discipline=[{"unit": "a", "level": "khien_trach", "from": 2021, "until": 2022}])
    seen = title(out, "a", "bang_khen")["checks"][-1]["seen"]
    assert seen["consecutive_years_since(band == 'xuat_sac', 'bang_khen')"] == "2"
    b = title(out, "b", "bang_khen")["checks"][-1]["seen"]
    assert b["consecutive_years_since(band == 'xuat_sac', 'bang_khen')"] == "4"


def test_streak_restarts_after_the_award_that_used_it(policy):
    """Bằng khen awarded in 2023 used 2022–2023; in 2024 only 2024 counts, so not again yet."""
    history = [{"unit": "a", "year": 2022, **XS}, {"unit": "a", "year": 2023, "band": "xuat_sac",
                                                   "titles": ["bang_khen"]}]
    out = run(policy, [unit("a")], history=history)
    bk = title(out, "a", "bang_khen")
    assert bk["status"] == "failed"
    assert bk["checks"][-1]["seen"]["consecutive_years_since(band == 'xuat_sac', 'bang_khen')"] == "1"


@pytest.mark.parametrize(("extra", "line"), [
    ({"votes": [{"title": "co", "voters": 5, "members": 5, "yes": {}}]},
     "data.toml: votes[0](title=co): give exactly one of 'voters' or 'members' (everyone entitled to vote)"),
    ({"votes": [{"title": "co", "members": 9, "present": 5, "yes": {"a": 6}}]},
     "data.toml: votes[0](title=co).yes.a: 6 yes-votes but only 5 members present"),
    ({"votes": [{"title": "co", "members": 9, "present": 5, "yes": {}, "written": {"a": 5}}]},
     "data.toml: votes[0](title=co).written.a: 5 yes-votes but only 4 absent members"),
    ({"votes": [{"title": "co", "members": 9, "round": 3, "yes": {}}]},
     "data.toml: votes[0](title=co).round: a title has at most two ballot rounds, got 3"),
    ({"votes": [{"title": "co", "members": 9, "round": 2, "yes": {}}]},
     "data.toml: votes: a round-2 ballot for 'co' without a round-1 ballot"),
    ({"discipline": [{"unit": "x", "level": "canh_cao", "from": 2020, "until": 2021}]},
     "data.toml: discipline[0](unit=x).unit: unknown unit 'x'"),
    ({"discipline": [{"unit": "a", "level": "canh_cao", "from": 2022, "until": 2021}]},
     "data.toml: discipline[0](unit=a): the period 2022–2021 ends before it starts"),
    ({"deferrals": [{"unit": "a", "reason": "r", "titles": ["coo"]}]},
     "data.toml: deferrals[0](unit=a).titles[0]: unknown title 'coo' (did you mean 'co'?)"),
])
def test_council_data_errors(policy, extra, line):
    """Bad ballots, discipline periods and deferrals are one exact line each."""
    doc = {"cluster": {"id": "c", "name": "C", "year": 2024}, "units": [unit("a")], **extra}
    with pytest.raises(PolicyError) as err:
        parse_data(tomli_w.dumps(doc).encode(), policy, file="data.toml")
    assert err.value.lines() == [line]


def test_quorum_needs_the_number_present(policy):
    """A ballot without 'present' cannot show a quorum, so the title fails with that reason."""
    out = run(policy, [unit("a")], votes=ballot(members=5, yes={"a": 5}))
    assert title(out, "a", "co")["checks"][-1]["reason"] == (
        "the ballot does not say how many members were present (the quorum needs it)")


def test_fractions_are_exact():
    """A share of "2/3" of 9 members needs exactly 6 yes-votes; 0.6667 would have needed 7."""
    source = SOURCE.replace('votes = { share = 0.8, quorum = "2/3" }', 'votes = { share = "2/3" }')
    policy = parse_policy(source.encode(), file="council.toml")
    out = run(policy, [unit("a")], votes=ballot(members=9, yes={"a": 6}))
    assert title(out, "a", "co")["checks"][-1] == {
        "check": "votes", "passed": True, "reason": "", "code": "vote_passed",
        "params": {"yes": 6, "voters": 9, "share": "2/3", "needed": "6"},
        "seen": {"yes": 6, "voters": 9, "share": "2/3", "needed": "6"}}
    assert FULL["members"] == 10  # the shared fixture is unchanged
