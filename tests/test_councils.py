"""Unit councils' ballots for person titles, transferred members, preference chains among persons."""

from __future__ import annotations

import json
import os
from decimal import Decimal

import pytest

from thidua_rules import evaluate, load_data, load_policy, render
from thidua_rules.councils import preference_groups
from thidua_rules.model import PreferenceStep

from .conftest import ROOT

POLICY = ROOT / "policies" / "cum8-2022-councils.toml"
UNITS = ROOT / "examples" / "cum8-2022-councils" / "units.toml"
MEMBERS = ROOT / "examples" / "cum8-2022-councils" / "members.csv"
GOLDEN = ROOT / "tests" / "golden" / "cum8-2022-councils"


@pytest.fixture(scope="module")
def result():
    policy = load_policy(POLICY, display="cum8-2022-councils.toml")
    return evaluate(policy, load_data(UNITS, policy, display="units.toml", members=MEMBERS))


def test_golden_json_and_markdown(result, golden):
    golden.check(GOLDEN / "expected.json", render(result, "json"))
    golden.check(GOLDEN / "expected.md", render(result, "markdown"))


def _titles(doc, person_id):
    person = next(p for p in doc["people"] if p["id"] == person_id)
    return {t["id"]: t for t in person["titles"]}, person


def test_each_unit_council_decides_its_members(result):
    """ND98 Art. 30 k7 over the unit council's members: 7 of 9 fails, 7 + 1 written of 9 passes;
    a unit whose council has not voted leaves its candidates awaiting the vote."""
    doc = json.loads(render(result, "json"))
    titles, _ = _titles(doc, "cuc-cntt-002")
    assert titles["chien_si_thi_dua_co_so"]["status"] == "failed"
    titles, _ = _titles(doc, "cuc-cntt-003")
    assert titles["chien_si_thi_dua_co_so"]["status"] == "proposed"
    titles, _ = _titles(doc, "cuc-qlxddt-001")
    assert titles["chien_si_thi_dua_co_so"]["status"] == "awaiting_vote"


def test_transfers(result):
    """TT 01/2024/TT-TANDTC Art. 29: 6+ months at the previous unit needs its written opinion."""
    doc = json.loads(render(result, "json"))
    titles, person = _titles(doc, "cuc-khtc-001")  # 7 months, no opinion yet
    assert titles["chien_si_tien_tien"]["status"] == "awaiting_opinion"
    assert person["transfer"] == {"from": "cuc-tbkv", "months_at_previous": 7, "previous_unit_opinion": None}
    titles, _ = _titles(doc, "cuc-khtc-002")  # 8 months, unfavourable opinion
    assert titles["chien_si_tien_tien"]["status"] == "failed"
    assert titles["chien_si_tien_tien"]["checks"][-1]["check"] == "transfer_opinion"
    _, person = _titles(doc, "cuc-khtc-003")  # 3 months: the new unit alone decides
    assert person["proposed"] == ["chien_si_thi_dua_co_so"]
    _, person = _titles(doc, "cuc-khtc-004")  # 9 months, favourable opinion
    assert person["proposed"] == ["chien_si_thi_dua_co_so"]
    council = doc["clusters"][0]["council"] if "council" in doc["clusters"][0] else doc["council"]
    waiting = [c for c in council if c["kind"] == "awaiting_opinion"]
    assert [(c["title"], c["units"]) for c in waiting] == [("chien_si_tien_tien", ["cuc-khtc-001"])]


def test_preference_groups_order_and_ties():
    """ND152 Art. 4 k6: women first; equal on every step share a place (the council decides);
    the input order never matters."""
    steps = (PreferenceStep(key="female"), PreferenceStep(key="years", descending=True))
    people = {"a": {"female": False, "years": Decimal(9)}, "b": {"female": True, "years": Decimal(2)},
              "c": {"female": True, "years": Decimal(5)}, "d": {"female": False, "years": Decimal(9)},
              "e": {"female": False}}
    for order in (sorted(people), sorted(people, reverse=True)):
        places = preference_groups(order, steps, people.__getitem__, str)
        assert [(p.place, p.items, p.separated_by) for p in places] == [
            (1, ("c",), None), (2, ("b",), "years"), (3, ("a", "d"), "female"), (5, ("e",), "years")]
    ascending = preference_groups(sorted(people), (PreferenceStep(key="years", descending=False),),
                                  people.__getitem__, str)
    assert [p.items for p in ascending] == [("b",), ("c",), ("a", "d"), ("e",)]


PREFERENCE = ROOT / "tests" / "golden" / "person-preference"
MEMBERS_UNITS = ROOT / "examples" / "cum8-2022" / "units-members.toml"


def _cstdcs(doc, unit, upto):
    return {p["id"]: next(t for t in p["titles"] if t["id"] == "chien_si_thi_dua_co_so")
            for p in doc["people"] if p["unit"] == unit and int(p["id"][-3:]) <= upto}


def test_a_person_quota_without_order_is_filled_by_the_preference_steps(monkeypatch, golden):
    """ND91 Art. 9 k3 caps CSTĐCS at 15 % of a unit's CSTT; the quota has no `order`, so the
    declared steps place the candidates (ND152 Art. 4 k6: women first). In cuc-qlxddt (9 places,
    10 candidates) the man with the longest service is the one left out, by the step 'female';
    in cuc-khtc (12 places, 13 men) the last two have equal service: the council decides."""
    monkeypatch.setenv("THIDUA_POLICY_PATH", str(ROOT / "policies"))
    policy = load_policy(PREFERENCE / "policy.toml", display="policy.toml")
    result = evaluate(policy, load_data(MEMBERS_UNITS, policy, members=PREFERENCE / "members.csv"))
    doc = json.loads(render(result, "json"))
    qlxddt = _cstdcs(doc, "cuc-qlxddt", 10)
    assert {k: v["status"] for k, v in qlxddt.items()} == {
        **{f"cuc-qlxddt-{n:03d}": "proposed" for n in range(1, 10)}, "cuc-qlxddt-010": "over_quota"}
    left_out = qlxddt["cuc-qlxddt-010"]["checks"][-1]
    assert (left_out["check"], left_out["code"], left_out["params"]) == (
        "preference", "preference_beyond", {"place": 10, "candidates": 10, "limit": 9, "step": "female"})
    assert left_out["seen"] == {"place": 10, "candidates": 10, "limit": 9, "separated_by": "female",
                                "female": False, "ethnic_minority": False, "years_of_service": "30"}
    # two women with equal service share place 1, inside the quota: both win
    assert [qlxddt[f"cuc-qlxddt-00{n}"]["checks"][-1]["params"]["place"] for n in (1, 2, 3)] == [1, 1, 3]
    khtc = _cstdcs(doc, "cuc-khtc", 13)
    assert [khtc[f"cuc-khtc-{n:03d}"]["status"] for n in range(1, 14)] == ["proposed"] * 11 + ["undecided"] * 2
    assert khtc["cuc-khtc-012"]["checks"][-1]["code"] == "preference_tied"
    council = [c for c in doc["clusters"][0]["council"] if c["title"] == "chien_si_thi_dua_co_so"]
    assert [(c["kind"], c["units"], c["params"]) for c in council] == [
        ("quota_tie", ["cuc-khtc-012", "cuc-khtc-013"],
         {"members": 2, "unit": "cuc-khtc", "place": 12, "limit": 12, "left": 1})]
    golden.check(PREFERENCE / "expected.md", render(result, "markdown"))
    placed = [{"id": p["id"], "unit": p["unit"], "status": t["status"], "preference": t["checks"][-1]}
              for p in doc["people"] for t in p["titles"] if t["checks"] and t["checks"][-1]["check"] == "preference"]
    golden.check(PREFERENCE / "expected-preference.json",
                 json.dumps(placed, ensure_ascii=False, indent=2, sort_keys=True) + "\n")


def test_a_quota_order_wins_over_the_preference_steps(monkeypatch, tmp_path):
    """With `order` on the quota, the preference steps do not place its candidates: the
    person-quota example gives the same outcomes with a preference chain declared."""
    quota = ROOT / "tests" / "golden" / "person-quota"
    monkeypatch.setenv("THIDUA_POLICY_PATH", os.pathsep.join([str(ROOT / "policies"), str(quota)]))
    policy_file = tmp_path / "chain.toml"
    policy_file.write_text(
        '[policy]\nid = "order-wins"\nname = "order wins"\nyear = 2022\n'
        f'extends = ["{(quota / "policy.toml").as_posix()}"]\n'
        '[people.inputs]\nyears_of_service = { type = "integer", min = 0, default = 0 }\n'
        '[people.ranking]\norder = ["years_of_service"]\n', encoding="utf-8")

    def outcomes(path):
        policy = load_policy(path)
        doc = json.loads(render(evaluate(policy, load_data(MEMBERS_UNITS, policy, members=quota / "members.csv")),
                                "json"))
        return {k: (v["status"], [c["check"] for c in v["checks"]]) for k, v in _cstdcs(doc, "cuc-qlxddt", 12).items()}

    with_chain = outcomes(policy_file)
    assert with_chain == outcomes(quota / "policy.toml")
    assert sorted({status for status, _ in with_chain.values()}) == ["over_quota", "proposed", "undecided"]
    assert all("preference" not in checks for _, checks in with_chain.values())


def _whatif(capsys, person, fmt="text"):
    from thidua_rules.cli import main

    code = main(["whatif", str(POLICY), str(UNITS), person, "--members", str(MEMBERS), "--format", fmt])
    captured = capsys.readouterr()
    assert (code, captured.err) == (0, "")
    return captured.out


def test_whatif_for_a_member_names_the_votes_of_its_units_council(capsys, golden):
    """ND98 Art. 30 k7 over the unit council's 9 members: cuc-cntt-002 has 7, needs ceil(0.8 × 9)
    = 8 of the council of cuc-cntt; the answer is verified by re-evaluating the cluster."""
    text = _whatif(capsys, "cuc-cntt-002")
    golden.check(GOLDEN / "whatif-cuc-cntt-002.txt", text)
    golden.check(GOLDEN / "whatif-cuc-cntt-002.md", _whatif(capsys, "cuc-cntt-002", "markdown"))
    doc = json.loads(_whatif(capsys, "cuc-cntt-002", "json"))
    assert doc["format"] == "thidua-whatif-person/1"
    target = doc["targets"][0]
    assert (target["id"], target["now"]) == ("chien_si_thi_dua_co_so", "failed")
    assert target["votes"] == "8 yes-votes needed from the council of cuc-cntt (yes >= 0.8 × 9 = 7.2); has 7: 1 more"
    assert [(c["kind"], c["before"], c["after"]) for c in target["changes"]] == [("votes", "7", "8")]


def test_whatif_for_a_member_whose_council_has_not_voted(capsys):
    """cuc-qlxddt's council has no ballot: no vote count is an answer, and none is evaluated."""
    text = _whatif(capsys, "cuc-qlxddt-001")
    assert "search: 0 evaluations" in text
    assert ("  votes: no ballot recorded: the council of cuc-qlxddt has not voted on this title\n"
            "  not reachable by votes: the council has not voted yet (no ballot recorded)\n") in text


def test_the_votes_whatif_names_flip_the_decision(capsys):
    """Applied to the data (the unit council's ballot with 8 yes-votes for cuc-cntt-002), the
    answer flips the title it names."""
    import attrs

    from thidua_rules.model import frozen_mapping

    policy = load_policy(POLICY)
    data = load_data(UNITS, policy, members=MEMBERS)
    doc = json.loads(_whatif(capsys, "cuc-cntt-002", "json"))
    change = doc["targets"][0]["changes"][0]
    cluster = data.clusters[0]
    ballots = tuple(attrs.evolve(b, yes=frozen_mapping({**b.yes, "cuc-cntt-002": int(change["after"])}))
                    if (b.title, b.unit) == (change["name"], "cuc-cntt") else b for b in cluster.ballots)
    changed = attrs.evolve(data, clusters=(attrs.evolve(cluster, ballots=ballots),))
    after = json.loads(render(evaluate(policy, changed), "json"))
    titles, _ = _titles(after, "cuc-cntt-002")
    assert titles["chien_si_thi_dua_co_so"]["status"] in ("proposed", "held")
    before, _ = _titles(json.loads(render(evaluate(policy, data), "json")), "cuc-cntt-002")
    assert before["chien_si_thi_dua_co_so"]["status"] == "failed"
