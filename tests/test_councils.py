"""Unit councils' ballots for person titles, transferred members, preference chains among persons."""

from __future__ import annotations

import json
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
