"""Quotas across clusters: the Government flag capped at a share of the cluster leaders."""

from __future__ import annotations

import io
import json

import pytest

from thidua_rules import PolicyError, evaluate, load_data, load_policy, parse_policy, render
from thidua_rules.stream import evaluate_stream

from .conftest import ROOT

CASE = ROOT / "tests" / "golden" / "across-clusters"


@pytest.fixture
def policy(monkeypatch):
    monkeypatch.setenv("THIDUA_POLICY_PATH", str(ROOT / "policies"))
    return load_policy(CASE / "policy.toml", display="policy.toml")


def test_the_government_flag_goes_to_at_most_a_fifth_of_the_cluster_leaders(policy, golden):
    """ND91 Art. 11 k1: 10 cluster leaders, at most 20 % (2) flags, placed by total: the leader at
    103 keeps it, the two at 102 share place 2 across the cut (undecided, for the council), the
    others are over the quota and are proposed for the ministry flag they hold; golden table."""
    result = evaluate(policy, load_data(CASE / "units.toml", policy))
    doc = json.loads(render(result, "json"))
    flag = {u["id"]: next(t for t in u["explanation"]["titles"] if t["id"] == "co_thi_dua_chinh_phu")
            for u in doc["units"] if u["id"].startswith("cuc-cntt")}
    assert {u: t["status"] for u, t in flag.items()} == {
        "cuc-cntt-01": "proposed", "cuc-cntt-02": "undecided", "cuc-cntt-03": "undecided",
        **{f"cuc-cntt-{k:02d}": "over_quota" for k in range(4, 11)}}
    assert flag["cuc-cntt-05"]["checks"][-1] == {
        "check": "across_clusters", "passed": False,
        "reason": "place 4 of 10 across 10 clusters, beyond the quota of 2",
        "code": "across_over_quota", "params": {"candidates": 10, "clusters": 10, "limit": 2, "place": 4},
        "seen": {"candidates": 10, "clusters": 10, "limit": 2, "place": 4, "quota": "0.2 × 10 clusters, floor",
                 "raw": "2"}}
    proposed = {u["id"]: u["proposed"] for u in doc["units"] if u["id"].startswith("cuc-cntt")}
    assert proposed["cuc-cntt-01"] == ["co_thi_dua_chinh_phu", "bang_khen_bo_truong"]
    assert proposed["cuc-cntt-02"] == proposed["cuc-cntt-07"] == ["co_thi_dua_bca", "bang_khen_bo_truong"]
    council = [item for c in doc["clusters"] for item in c["council"]]
    assert council == [
        {"title": "co_thi_dua_chinh_phu", "units": [f"cuc-cntt-0{k}"], "kind": "quota_tie",
         "reason": "2 units of 2 clusters share place 2 across the quota of 2 over 10 clusters; "
                   "1 place(s) left for them",
         "code": "across_quota_tie", "params": {"units": 2, "tied_clusters": 2, "place": 2, "limit": 2,
                                                "clusters": 10, "left": 1}} for k in (2, 3)]
    golden.check(CASE / "expected.txt", render(result, "table"))


def test_a_title_may_not_require_one_decided_across_clusters(policy):
    """Titles are decided per cluster before the stage across clusters, so none may require it."""
    text = (CASE / "policy.toml").read_text(encoding="utf-8") + (
        '\n[[titles]]\nid = "after"\nname = "After"\nrequires = ["co_thi_dua_chinh_phu"]\n')
    with pytest.raises(PolicyError) as err:
        parse_policy(text.encode(), file="policy.toml", path=CASE / "policy.toml")
    assert err.value.lines() == [
        "policy.toml: titles[5](id=after).requires: 'co_thi_dua_chinh_phu' is decided across clusters "
        "after every cluster's titles, so no title may require it"]


def test_a_quota_across_clusters_is_not_streamed(policy, tmp_path):
    """Streaming decides one cluster at a time, so it refuses such a policy with one line."""
    data = tmp_path / "units.csv"
    data.write_text("cluster,id,name\n", encoding="utf-8")
    with pytest.raises(PolicyError) as err:
        evaluate_stream(policy, data, io.StringIO())
    assert err.value.lines() == [
        "policy.toml: titles(id=co_thi_dua_chinh_phu).across_clusters: a quota across clusters needs every "
        "cluster at once, so it cannot be streamed: evaluate without --jobs / JSON lines output"]
