"""Core semantics on a small policy: ties, quotas, votes, caps, gates, bands, history, leadership, formats."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest
import tomli_w

from thidua_rules import PolicyError, evaluate, load_policy, parse_data, render

POLICY_FILE = Path(__file__).parent / "scenarios" / "mini.toml"

# done/assigned, has_plan, rating, awards, faults, members, advanced
FULL = {"done": 10, "assigned": 10, "has_plan": True, "rating": "xuat_sac", "awards": 0, "faults": 0,
        "members": 10, "advanced": 8}


@pytest.fixture(scope="module")
def policy():
    return load_policy(POLICY_FILE, display="mini.toml")


def unit(uid: str, **changes) -> dict:
    return {"id": uid, "name": f"Đơn vị {uid}", **FULL, **changes}


def data(units, *, votes=None, history=(), cluster="c1", leader=None, **meta) -> dict:
    head = {"id": cluster, "name": "Cụm", "year": 2024, **meta}
    if leader:
        head["leader"] = leader
    doc = {"cluster": head, "units": list(units), "history": list(history)}
    if votes is not None:
        doc["votes"] = [{"title": "co", "voters": 5, "yes": votes}]
    return doc


def run(policy, doc: dict) -> dict:
    dataset = parse_data(tomli_w.dumps(doc).encode(), policy, file="data.toml")
    return json.loads(render(evaluate(policy, dataset), "json"))


def rows(doc: dict) -> list[tuple]:
    return [(u["rank"], u["id"], u["total"], u["band"], u["proposed"], u["tied"]) for u in doc["units"]]


def titles(doc: dict, uid: str) -> dict[str, str]:
    u = next(x for x in doc["units"] if x["id"] == uid)
    return {t["id"]: t["status"] for t in u["explanation"]["titles"]}


def test_full_marks_then_caps(policy):
    """Group main is capped at 60 (50 + 20), other is 30 + 10, bonus capped at 4, deduction at 3."""
    out = run(policy, data([unit("a", awards=3, faults=3)]))
    ex = out["units"][0]["explanation"]
    assert [(g["id"], g["sum"], g["score"], g["capped"]) for g in ex["groups"]] == [
        ("main", "70.00", "60.00", True), ("other", "40.00", "40.00", False)]
    assert ex["bonuses"][0]["score"] == "5.00" and ex["bonuses"][0]["capped"] is True
    assert ex["bonus"] == {"sum": "5.00", "max": "4.00", "applied": "4.00"}
    assert ex["deduction"] == {"sum": "4.50", "max": "3.00", "applied": "3.00"}
    assert out["units"][0]["total"] == "101.00"


def test_gate_zeroes_a_criterion_and_the_band_condition_sees_it(policy):
    """Without a plan, 'plan' and the gated 'share' score 0, so 'xuat_sac' (no criterion at 0) is skipped."""
    out = run(policy, data([unit("a", has_plan=False, done=10, awards=2)]))
    u = out["units"][0]
    crit = {c["id"]: (c["score"], c["gated"]) for c in u["explanation"]["criteria"]}
    assert crit == {"targets": ("50.00", False), "plan": ("0.00", False), "rating": ("30.00", False),
                    "share": ("0.00", True)}
    assert (u["total"], u["band"]) == ("84.00", "hoan_thanh")


def test_band_when_blocks_xuat_sac(policy):
    """A total of 95+ with a criterion at 0 is not xuat_sac: the explanation names the failed condition."""
    out = run(policy, data([unit("a", rating="hoan_thanh", awards=2)]))
    u = out["units"][0]
    assert (u["total"], u["band"]) == ("74.00", "hoan_thanh")
    out = run(policy, data([unit("a", advanced=5, awards=2)]))  # share band: 0.5 is not above 0.5 → 0
    u = out["units"][0]
    assert (u["total"], u["band"]) == ("94.00", "tot")
    out = run(policy, data([unit("a", advanced=5, awards=2, rating="xuat_sac", done=10)]))
    assert out["units"][0]["explanation"]["band"]["skipped"] == []


def test_shared_ranks_are_1_2_2_4(policy):
    """Units equal on every ranking key share a rank and are flagged; the next rank skips."""
    out = run(policy, data([
        unit("a", awards=1), unit("b"), unit("c"), unit("d", rating="tot"),
    ]))
    assert [(r[0], r[1], r[5]) for r in rows(out)] == [
        (1, "a", False), (2, "b", True), (2, "c", True), (4, "d", False)]
    b = next(u for u in out["units"] if u["id"] == "b")
    assert b["explanation"]["ranking"]["below"] == {"unit": "c", "key": None, "this": None, "other": None}


def test_tie_across_the_quota_cut_is_left_to_the_council(policy):
    """Quota 0.5 × 4 = 2: 'a' wins, 'b' and 'c' share rank 2 across the cut and are both undecided."""
    out = run(policy, data([unit("a", awards=1), unit("b"), unit("c"), unit("d", rating="tot")],
                           votes={"a": 5, "b": 5, "c": 5, "d": 5}))
    assert {u: titles(out, u)["co"] for u in "abcd"} == {
        "a": "held", "b": "undecided", "c": "undecided", "d": "over_quota"}
    assert out["clusters"][0]["council"] == [{
        "title": "co", "units": ["b", "c"], "kind": "quota_tie",
        "reason": "2 units share rank 2 across the quota of 2; 1 place(s) left for them",
        "code": "quota_tie", "params": {"units": 2, "rank": 2, "limit": 2, "left": 1}}]
    b = next(u for u in out["units"] if u["id"] == "b")
    assert b["proposed"] == ["tien_tien"]
    # 'a' also takes the Government flag (quota 1); nobody else can, as they hold no 'co'.
    assert rows(out)[0][4] == ["co_cp"]
    co_cp = next(t for t in b["explanation"]["titles"] if t["id"] == "co_cp")
    assert co_cp["checks"][0]["reason"] == "'co' awaits a council decision"


def test_votes_threshold_is_exact_and_inclusive(policy):
    """0.8 × 5 = 4 exactly: 4 yes-votes pass, 3 do not; a unit with no vote recorded has 0."""
    out = run(policy, data([unit("a", awards=2), unit("b", awards=1), unit("c")], votes={"a": 4, "b": 3}))
    # a: 0.5 × 3 floors to a quota of 1 and a climbs on to co_cp, so co is held below it.
    assert [titles(out, u)["co"] for u in "abc"] == ["held", "failed", "failed"]
    b = next(u for u in out["units"] if u["id"] == "b")
    vote = next(t for t in b["explanation"]["titles"] if t["id"] == "co")["checks"][-1]
    assert vote["seen"] == {"needed": "4", "share": "0.8", "voters": 5, "yes": 3}


def test_missing_ballot_awaits_the_vote_with_a_reason(policy):
    """A title that needs votes awaits the council's vote, with a reason, when the cluster recorded
    no ballot for it: not failed (issue #10)."""
    out = run(policy, data([unit("a")]))
    a = out["units"][0]
    co = next(t for t in a["explanation"]["titles"] if t["id"] == "co")
    assert (co["status"], co["checks"][-1]["reason"]) == ("awaiting_vote", "no ballot recorded for this title")


@pytest.mark.parametrize(("rounding", "size", "limit"), [
    ("floor", 5, 2), ("ceil", 5, 3), ("half_up", 5, 3), ("half_up", 3, 2), ("floor", 1, 0),
])
def test_quota_share_rounding(rounding, size, limit):
    """share × size is rounded as the policy says: 0.5 × 5 = 2.5 → 2, 3, 3; 0.5 × 3 = 1.5 → 2."""
    from decimal import Decimal

    from thidua_rules.awards import quota_limit
    from thidua_rules.model import Quota

    assert quota_limit(Quota(share=Decimal("0.5"), rounding=rounding), size)[0] == limit


def test_consecutive_years_counts_back_through_history(policy):
    """Three xuat_sac years in a row earn the Bằng khen; a missing year breaks the streak."""
    history = [{"unit": "a", "year": 2023, "band": "xuat_sac", "titles": []},
               {"unit": "a", "year": 2022, "band": "xuat_sac", "titles": []},
               {"unit": "b", "year": 2023, "band": "xuat_sac", "titles": []},
               {"unit": "b", "year": 2021, "band": "xuat_sac", "titles": []}]
    out = run(policy, data([unit("a"), unit("b")], history=history))
    assert titles(out, "a")["bang_khen"] == "proposed"
    assert titles(out, "b")["bang_khen"] == "failed"


def test_leadership_by_rank_leaves_a_tie_to_the_conference(policy):
    """With method 'rank' the best unit leads; two units sharing rank 1 are left to the conference."""
    out = run(policy, data([unit("a", awards=1), unit("b"), unit("c", rating="tot")]))
    assert out["leadership"][0]["leader"] == "a" and out["leadership"][0]["deputy"] == "b"
    out = run(policy, data([unit("a"), unit("b")]))
    assert out["leadership"][0] == {"cluster": "c1", "year": 2025, "leader": None, "deputy": None,
                                    "method": "rank",
                                    "reason": "2 units share rank 1: the conference elects the leader",
                                    "code": "leader_tie", "params": {"units": 2},
                                    "previous_leader": None}


def test_many_clusters_rank_and_award_separately_and_ignore_order(policy):
    """Two clusters in one file are ranked apart; shuffling clusters and units changes no byte."""
    clusters = [
        {"id": "k1", "name": "Khối 1", "year": 2024, "units": [unit("a"), unit("b", rating="tot")]},
        {"id": "k2", "name": "Khối 2", "year": 2024, "units": [unit("c", rating="hoan_thanh"), unit("d", awards=1)]},
    ]
    first = run(policy, {"clusters": clusters})
    assert [(u["cluster"], u["rank"], u["id"]) for u in first["units"]] == [
        ("k1", 1, "a"), ("k1", 2, "b"), ("k2", 1, "d"), ("k2", 2, "c")]
    rng = random.Random(7)
    for _ in range(3):
        shuffled = [dict(c, units=rng.sample(c["units"], len(c["units"]))) for c in clusters]
        rng.shuffle(shuffled)
        assert run(policy, {"clusters": shuffled}) == first


def test_csv_and_jsonl_give_the_same_result_as_toml(policy):
    """The same units as CSV or JSON lines evaluate to the same document as TOML."""
    units = [unit("a", awards=1), unit("b", has_plan=False)]
    via_toml = run(policy, {"clusters": [{"id": "c1", "name": "c1", "units": units}]})
    header = ["cluster", "id", "name", *FULL]
    csv_text = ",".join(header) + "\n" + "\n".join(
        ",".join(["c1", u["id"], u["name"]] + [str(u[k]).lower() if isinstance(u[k], bool) else str(u[k])
                                              for k in FULL]) for u in units) + "\n"
    jsonl = "\n".join(json.dumps({"cluster": "c1", **u}, ensure_ascii=False) for u in units) + "\n"
    for text, fmt in ((csv_text, "csv"), (jsonl, "jsonl")):
        dataset = parse_data(text.encode(), policy, file=f"units.{fmt}", format=fmt)
        assert json.loads(render(evaluate(policy, dataset), "json")) == via_toml


def test_csv_errors_name_the_row_and_field(policy):
    """A bad CSV cell is reported with the unit's position and the field, all rows at once."""
    text = "cluster,id,name," + ",".join(FULL) + "\n" \
        "c1,a,A,10,10,maybe,xuat_sac,0,0,10,8\n" \
        "c1,b,B,10,0,true,tot,0,0,10,12\n"
    with pytest.raises(PolicyError) as err:
        parse_data(text.encode(), policy, file="units.csv", format="csv")
    assert err.value.lines() == [
        "units.csv:2: units(id=a).has_plan: expected true or false, got a string \"maybe\"",
        "units.csv:3: units(id=b).assigned: expected a number >= 1, got 0",
        "units.csv:3: units(id=b): check 'advanced_le_members' failed: "
        "more advanced members than members (advanced = 12, members = 10)",
    ]


def test_reverse_plugin_registration_changes_nothing(policy):
    """Hook implementations are called in plugin-name order, never registration order."""
    import importlib

    import pluggy

    from thidua_rules import hookspecs
    from thidua_rules.plugins import DEFAULT_PLUGINS, collect

    def manager(order):
        pm = pluggy.PluginManager("thidua_rules")
        pm.add_hookspecs(hookspecs)
        for name in order:
            pm.register(importlib.import_module(name), name=name)
        return pm

    forward = manager(DEFAULT_PLUGINS)
    backward = manager(tuple(reversed(DEFAULT_PLUGINS)))
    for hook in ("register_functions", "register_criterion_methods", "register_title_checks"):
        assert list(collect(forward, hook, "x")) == list(collect(backward, hook, "x"))


def test_a_ranking_vote_ends_the_tie_break_chain(policy):
    """`vote` in the chain reads the cluster's ranking ballot: c's 5 votes put it above b's 3."""
    doc = data([unit("a", awards=1), unit("b"), unit("c"), unit("d", rating="tot")])
    doc["votes"] = [{"title": "ranking", "voters": 9, "yes": {"b": 3, "c": 5}}]
    out = run(policy, doc)
    assert [(r[0], r[1], r[5]) for r in rows(out)] == [(1, "a", False), (2, "c", False), (3, "b", False),
                                                        (4, "d", False)]
    c = next(u for u in out["units"] if u["id"] == "c")
    assert c["explanation"]["ranking"]["below"] == {"unit": "b", "key": "vote", "this": "5.00", "other": "3.00"}


def test_a_bonus_can_use_a_criterion_method(policy):
    """A banded bonus (method "bands") gives the points of the band reached, capped by its max."""
    from thidua_rules import parse_policy

    source = POLICY_FILE.read_text(encoding="utf-8").replace('''[[deductions]]''', '''[[bonuses]]
id = "share_bonus"
name = "Thưởng theo tỷ lệ"
method = "bands"
value = "advanced / members"
bands = [{ at_least = 0.9, points = 2 }, { at_least = 0.8, points = 1 }]
max = 1.5

[[deductions]]''')
    banded = parse_policy(source.encode(), file="mini.toml")
    out = run(banded, data([unit("a", advanced=9), unit("b", advanced=8), unit("c", advanced=7)]))
    bonus = {u["id"]: next(b for b in u["explanation"]["bonuses"] if b["id"] == "share_bonus")
             for u in out["units"]}
    assert {k: (v["raw"], v["score"], v["capped"], v["inputs"]) for k, v in bonus.items()} == {
        "a": ("2", "1.50", True, {"advanced": "9", "members": "10"}),
        "b": ("1", "1.00", False, {"advanced": "8", "members": "10"}),
        "c": ("0", "0.00", False, {"advanced": "7", "members": "10"}),
    }


def test_an_unknown_bonus_method_is_reported():
    """A misspelt method on a bonus is one line with a hint."""
    from thidua_rules import parse_policy

    source = POLICY_FILE.read_text(encoding="utf-8").replace(
        'formula = "2 * awards"', 'method = "bandz"\nvalue = "awards"')
    with pytest.raises(PolicyError) as err:
        parse_policy(source.encode(), file="mini.toml")
    assert err.value.lines() == [
        "mini.toml: bonuses[0](id=awards).method: unknown method 'bandz' (did you mean 'bands'?); "
        "expected one of bands, formula, full_if, lookup, per_item, proportional"]
