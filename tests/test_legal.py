"""The legal basis of a policy: which version of the law each rule applies, chosen by the date."""

from __future__ import annotations

import pytest

import thidua_rules
from thidua_rules import load_policy, parse_policy
from thidua_rules.legal import LegalBasis, basis

from .conftest import ROOT

BCA = ROOT / "policies" / "bca-cum8.toml"


def on(day: str):
    """bca-cum8 judged by the law in force on ``day``."""
    text = BCA.read_text(encoding="utf-8").replace("year = 2022\n", f"year = 2022\nevaluation_date = {day}\n", 1)
    return parse_policy(text.encode(), file="bca-cum8.toml", path=BCA)


def test_the_2022_review_applies_the_2003_law():
    """year = 2022 picks the law2003 versions (Law2003 + ND91, until 2023-12-31); the ministry's
    Bằng khen, which has only its Law2022 version, is pinned and says so."""
    rules = {b.rule: b for b in thidua_rules.legal.basis(load_policy(BCA))}
    assert rules["co_thi_dua_chinh_phu"] == LegalBasis(
        rule="co_thi_dua_chinh_phu", section="titles", title="Cờ thi đua của Chính phủ",
        instrument="Luật Thi đua, khen thưởng 2003 (sửa đổi 2005, 2013); Nghị định 91/2017/NĐ-CP",
        articles=("Luật Thi đua, khen thưởng 2003 Điều 25", "Nghị định 91/2017/NĐ-CP Điều 11 k1",
                  "Thông tư 12/2019/TT-BCA Điều 18 k1 a"),
        in_force_from=None, in_force_until="2023-12-31", version="law2003", pinned=False,
        chosen="in force on 2022-12-31 (policy.year = 2022)", catalogue="law2022 2026.12",
        source="Law2022 Art. 25 k1 [V]; ND98 Art. 30 k7 (votes) [V]")
    assert [(b.rule, b.version, b.pinned) for b in rules.values()] == [
        ("don_vi_tien_tien", "law2003", False), ("don_vi_quyet_thang", "law2003", False),
        ("co_thi_dua_bca", "law2003", False), ("co_thi_dua_chinh_phu", "law2003", False),
        ("bang_khen_bo_truong", "law2022", True)]
    assert rules["bang_khen_bo_truong"].chosen == "pinned in bca-cum8.toml"


@pytest.mark.parametrize(("day", "version"), [
    ("2023-12-31", "law2003"), ("2024-01-01", "law2022-nd98"), ("2025-06-30", "law2022-nd98"),
    ("2025-07-01", "law2022-nd152")])
def test_the_evaluation_date_picks_the_version_in_force(day, version):
    """Both ends of a period are in force: ND98 until 30/6/2025, ND152 from 1/7/2025 (ND152 Art. 59)."""
    policy = on(day)
    assert policy.evaluation_date == day
    assert {b.rule: b.version for b in basis(policy)}["co_thi_dua_bca"] == version


def test_a_rule_without_versions_cites_nothing(example_policy):
    """The users' self-contained policy writes its own rules: listed, with no version and no articles."""
    first = basis(example_policy)[0]
    assert (first.rule, first.version, first.articles, first.instrument) == ("don_vi_tien_tien", None, (), None)


def test_a_policy_without_a_date_refuses_data_of_a_year_its_rules_do_not_cover():
    """With no year or evaluation_date the latest versions are taken: data for 2022 is an error
    naming the first rule not in force then; data for 2025 loads."""
    import tomli_w

    from thidua_rules import PolicyError, parse_data

    policy = load_policy(ROOT / "policies" / "catalogue" / "law2022.toml", display="law2022.toml")
    assert policy.evaluation_date is None
    unit = {"id": "a", "name": "A", "members": 10, "members_completed": 10, "members_advanced": 8,
            "emulation_fighters": 1}

    def doc(year):
        return tomli_w.dumps({"cluster": {"id": "c", "name": "C", "year": year}, "units": [unit]}).encode()

    with pytest.raises(PolicyError) as err:
        parse_data(doc(2022), policy, file="data.toml")
    assert err.value.lines() == [
        "data.toml: cluster.year: the policy gives no year or evaluation_date, so it takes the latest "
        "version of each rule, but 'don_vi_tien_tien' (law2022) is not in force on 2022-12-31: give the "
        "policy year = 2022"]
    assert parse_data(doc(2025), policy, file="data.toml").clusters[0].year == 2025
