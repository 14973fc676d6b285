"""Members files: individual titles, and unit inputs counted from members instead of typed."""

from __future__ import annotations

import json

import pytest
import tomli_w

from thidua_rules import PolicyError, evaluate, load_data, load_policy, parse_data, parse_policy, render

from .conftest import ROOT

POLICY = ROOT / "policies" / "cum8-2022-members.toml"
UNITS = ROOT / "examples" / "cum8-2022" / "units-members.toml"
MEMBERS = ROOT / "examples" / "cum8-2022" / "members.csv"


@pytest.fixture(scope="module")
def policy():
    return load_policy(POLICY, display="cum8-2022-members.toml")


@pytest.fixture(scope="module")
def policy_2024():
    """The members policy judged by the law in force from 2024 (the catalogue's Law2022 versions):
    for tests of members' mechanics, where the 2022 quota (at most 15 % of a unit's CSTT, ND91
    Art. 9 k3) would leave a unit of two or three members no CSTĐCS at all."""
    text = POLICY.read_text(encoding="utf-8").replace("year = 2022\n", "year = 2022\nevaluation_date = 2024-12-31\n", 1)
    return parse_policy(text.encode(), file="cum8-2022-members.toml", path=POLICY)


@pytest.fixture(scope="module")
def doc(policy):
    data = load_data(UNITS, policy, members=MEMBERS)
    return json.loads(render(evaluate(policy, data), "json"))


def outcome(d):
    return [(u["id"], u["rank"], u["total"], u["band"], u["proposed"]) for u in d["units"]]


def test_members_under_the_2022_law_change_two_units_titles(doc, example_result):
    """Under the law of 2022 (ND91 Art. 9 k3: a CSTĐCS needs an initiative), only 4 of the 650
    members are CSTĐCS, all in cuc-cntt and vien-khcn: cuc-khtc and cuc-tbkv have none, so
    neither is Đơn vị quyết thắng (Law2003 Art. 27: a member holding CSTĐCS) and cuc-khtc loses
    the ministry flag; ranks, totals, bands and the other titles are those of the typed example."""
    typed = dict((u[0], u) for u in outcome(json.loads(render(example_result, "json"))))
    typed["cuc-khtc"] = ("cuc-khtc", 2, "98.00", "xuat_sac", ["don_vi_tien_tien"])
    typed["cuc-tbkv"] = ("cuc-tbkv", 3, "98.00", "xuat_sac", ["don_vi_tien_tien", "bang_khen_bo_truong"])
    assert outcome(doc) == list(typed.values())
    fighters = {u["id"]: u["explanation"]["members"]["emulation_fighters"]["members"] for u in doc["units"]}
    assert {k: v for k, v in fighters.items() if v} == {
        "cuc-cntt": ["cuc-cntt-001", "cuc-cntt-002", "cuc-cntt-003"], "vien-khcn": ["vien-khcn-001"]}


def test_members_under_the_2024_law_give_the_typed_outcome(policy_2024, example_result):
    """The same members judged by the law in force from 2024 (evaluation_date picks the catalogue's
    Law2022 versions: "xuất sắc" alone makes a CSTĐCS, Art. 23) give the typed example's titles."""
    later = policy_2024
    assert {t.law.version for t in later.people.titles} == {"law2022"}
    out = json.loads(render(evaluate(later, load_data(UNITS, later, members=MEMBERS)), "json"))
    typed = json.loads(render(example_result, "json"))
    assert outcome(out) == outcome(typed)
    assert out["leadership"] == typed["leadership"]


def test_explanation_names_the_members_behind_each_share(doc):
    """vien-khcn: 79 of 80 completed their tasks; the one who did not, the one disciplined and the one
    CSTĐCS (the only member with an initiative, ND91 Art. 9 k3) are named."""
    unit = next(u for u in doc["units"] if u["id"] == "vien-khcn")
    counts = unit["explanation"]["members"]
    assert {k: v["value"] for k, v in counts.items()} == {
        "emulation_fighters": "1", "members": "80", "members_advanced": "74",
        "members_completed": "79", "members_disciplined": "1"}
    assert counts["members_disciplined"]["members"] == ["vien-khcn-075"]
    completed = set(counts["members_completed"]["members"])
    assert {f"vien-khcn-{n:03d}" for n in range(1, 81)} - completed == {"vien-khcn-080"}
    assert counts["emulation_fighters"]["members"] == ["vien-khcn-001"]


def test_individual_titles_follow_the_ladder_and_the_years(doc):
    """CSTT → CSTĐCS → CSTĐ toàn lực lượng (3 CSTĐCS in a row) → CSTĐ toàn quốc (2 at CAND level)."""
    people = {p["id"]: p for p in doc["people"]}
    assert len(people) == 650
    assert people["cuc-cntt-002"]["proposed"] == ["chien_si_thi_dua_toan_quoc", "bang_khen_bo_truong_ca_nhan"]
    assert people["cuc-cntt-001"]["proposed"] == ["chien_si_thi_dua_cand", "bang_khen_bo_truong_ca_nhan"]
    assert people["cuc-cntt-003"]["proposed"] == [
        "chien_si_thi_dua_co_so", "bang_khen_bo_truong_ca_nhan", "bang_khen_thu_tuong_ca_nhan"]
    khcn = {t["id"]: t for t in people["vien-khcn-001"]["titles"]}
    assert khcn["chien_si_thi_dua_cand"]["checks"][-1] == {
        "check": "when", "passed": False,
        "reason": "'consecutive_years('chien_si_thi_dua_co_so' in titles) >= 3' is false",
        "code": "condition_false",
        "params": {"condition": "consecutive_years('chien_si_thi_dua_co_so' in titles) >= 3"},
        "seen": {"titles": ["chien_si_tien_tien", "chien_si_thi_dua_co_so"],
                 "consecutive_years('chien_si_thi_dua_co_so' in titles)": "2"}}
    assert people["vien-khcn-075"]["proposed"] == []


def members_doc(rows, units=None):
    unit = {"id": "a", "name": "A", "targets_assigned": 10, "targets_done": 10, "ad_hoc_assigned": 1,
            "ad_hoc_done": 1, "advisory_adopted": 8, "joint_activities": 3, "party_rating": "tot",
            "ad_hoc_commendations": 0, "inspection_findings": 0}
    return {"cluster": {"id": "c", "name": "C", "year": 2022}, "units": units or [unit], "members": rows}


@pytest.mark.parametrize(("rows", "extra", "lines"), [
    ([{"unit": "a", "id": "p0", "rating": "tot"}, {"unit": "aa", "id": "p1", "rating": "tot"}], {},
     ["data.toml: members[1](id=p1).unit: unknown unit 'aa' (did you mean 'a'?)"]),
    ([{"unit": "a", "id": "p1", "rating": "tott"}], {},
     ["data.toml: members[0](id=p1).rating: 'tott' is not allowed (did you mean 'tot'?); "
      "expected one of xuat_sac, tot, hoan_thanh, khong_hoan_thanh"]),
    ([{"unit": "a", "id": "p1", "rating": "tot", "earlier": {"2023": ["chien_si_tien_tien"]}}], {},
     ["data.toml: members[0](id=p1).earlier.2023: expected an earlier year than 2022"]),
    ([{"unit": "a", "id": "p1", "rating": "tot", "earlier": {"2021": ["cstt"]}}], {},
     ["data.toml: members[0](id=p1).earlier.2021: unknown title 'cstt'"]),
    ([{"unit": "a", "id": "p1", "rating": "tot"}], {"members": 3},
     ["data.toml: units[0](id=a).members: 'members' is counted from the unit's members; "
      "remove it from the data or give no members for this unit"]),
])
def test_member_errors(policy, rows, extra, lines):
    """Bad member rows, and aggregates typed beside a members list, are one exact line each."""
    doc = members_doc(rows)
    doc["units"][0].update(extra)
    with pytest.raises(PolicyError) as err:
        parse_data(tomli_w.dumps(doc).encode(), policy, file="data.toml")
    assert err.value.lines() == lines


def test_members_in_the_data_file_work_like_a_members_file(policy_2024):
    """[[members]] inside the data file; a deferred member gets no title and is not counted as CSTT."""
    policy = policy_2024
    rows = [{"unit": "a", "id": "p1", "rating": "xuat_sac"}, {"unit": "a", "id": "p2", "rating": "tot"},
            {"unit": "a", "id": "p3", "rating": "tot", "deferred": "đang xác minh"}]
    dataset = parse_data(tomli_w.dumps(members_doc(rows)).encode(), policy, file="data.toml")
    out = json.loads(render(evaluate(policy, dataset), "json"))
    assert [(p["id"], p["proposed"]) for p in out["people"]] == [
        ("p1", ["chien_si_thi_dua_co_so"]), ("p2", ["chien_si_tien_tien"]), ("p3", [])]
    assert out["units"][0]["explanation"]["members"]["members_advanced"] == {
        "kind": "count", "value": "2", "members": ["p1", "p2"]}


def test_a_policy_without_people_rejects_members(example_policy):
    """Members given to a policy with no [people] section are an error."""
    doc = members_doc([{"unit": "a", "id": "p1"}])
    with pytest.raises(PolicyError) as err:
        parse_data(tomli_w.dumps(doc).encode(), example_policy, file="data.toml")
    assert "data.toml: members: the policy has no [people] section, so it cannot use members" in err.value.lines()


def test_a_persons_discipline_period_excludes_then_restarts_the_streak(policy_2024):
    """Disciplined until 2022: no title in 2022; disciplined until 2021: only 2022 counts."""
    history = {"2020": ["chien_si_tien_tien", "chien_si_thi_dua_co_so"],
               "2021": ["chien_si_tien_tien", "chien_si_thi_dua_co_so"]}
    policy = policy_2024
    rows = [{"unit": "a", "id": "p1", "rating": "xuat_sac", "earlier": history, "discipline_until": 2022},
            {"unit": "a", "id": "p2", "rating": "xuat_sac", "earlier": history, "discipline_until": 2021},
            {"unit": "a", "id": "p3", "rating": "xuat_sac", "earlier": history}]
    dataset = parse_data(tomli_w.dumps(members_doc(rows)).encode(), policy, file="data.toml")
    out = json.loads(render(evaluate(policy, dataset), "json"))
    people = {p["id"]: p for p in out["people"]}
    assert {t["status"] for t in people["p1"]["titles"]} == {"excluded"}
    assert people["p2"]["proposed"] == ["chien_si_thi_dua_co_so"]
    assert people["p3"]["proposed"] == ["chien_si_thi_dua_co_so", "bang_khen_bo_truong_ca_nhan"]


def test_markdown_report_with_members(policy, golden):
    """The Vietnamese report of the members example (people's titles per unit) is the golden file."""
    data = load_data(UNITS, policy, members=MEMBERS)
    golden.check(ROOT / "tests" / "golden" / "cum8-2022-members" / "expected.md", render(evaluate(policy, data), "markdown"))


def test_json_lines_carry_the_member_counts_and_the_people(policy):
    """With members, unit records keep `explanation.members` and person records follow the units."""
    data = load_data(UNITS, policy, members=MEMBERS)
    result = evaluate(policy, data)
    doc = json.loads(render(result, "json"))
    records = [json.loads(line) for line in render(result, "jsonl").splitlines()]
    units = [r for r in records if r["record"] == "unit"]
    people = [r for r in records if r["record"] == "person"]
    assert [{k: v for k, v in u.items() if k != "record"} for u in units] == doc["units"]
    assert [{k: v for k, v in p.items() if k != "record"} for p in people] == doc["people"]
    assert [r["record"] for r in records][-1] == "provenance"


def test_a_person_title_can_need_the_councils_vote(tmp_path, monkeypatch):
    """CSTĐCS with `votes` (ND98 Art. 30 k7): 8 of 10 pass, 7 do not; a ballot naming nobody known fails."""
    monkeypatch.setenv("THIDUA_POLICY_PATH", str(POLICY.parent))   # the base is outside tmp_path
    child = tmp_path / "voted.toml"
    child.write_text(f'''[policy]
id = "voted"
name = "Voted"
evaluation_date = 2024-12-31   # the Law2022 rule ("xuất sắc" is enough), the vote as ND98 words it
extends = ["{POLICY.as_posix()}"]

[[people.titles]]
id = "chien_si_thi_dua_co_so"
votes = {{ share = 0.8 }}
''', encoding="utf-8")
    voted = load_policy(child, display="voted.toml")
    rows = [{"unit": "a", "id": "p1", "rating": "xuat_sac"}, {"unit": "a", "id": "p2", "rating": "xuat_sac"}]
    doc = members_doc(rows)
    doc["votes"] = [{"title": "chien_si_thi_dua_co_so", "members": 10, "yes": {"p1": 8, "p2": 7}}]
    out = json.loads(render(evaluate(voted, parse_data(tomli_w.dumps(doc).encode(), voted, file="d.toml")), "json"))
    people = {p["id"]: p for p in out["people"]}
    assert people["p1"]["proposed"] == ["chien_si_thi_dua_co_so"]
    assert people["p2"]["proposed"] == ["chien_si_tien_tien"]
    vote = next(t for t in people["p2"]["titles"] if t["id"] == "chien_si_thi_dua_co_so")["checks"][-1]
    assert (vote["check"], vote["reason"]) == ("votes", "7 of 10 votes, below 0.8 × 10")
    doc["votes"][0]["yes"] = {"p3": 8}
    with pytest.raises(PolicyError) as err:
        parse_data(tomli_w.dumps(doc).encode(), voted, file="d.toml")
    assert err.value.lines() == [
        "d.toml: votes[0](title=chien_si_thi_dua_co_so).yes.p3: unknown member 'p3'"]


def test_the_data_digest_covers_the_members(policy, tmp_path):
    """Changing one member's rating changes the data SHA-256 in the provenance."""
    changed = tmp_path / "members.csv"
    changed.write_text(MEMBERS.read_text(encoding="utf-8").replace(
        "cuc-vt-cy,cuc-vt-cy-010,Cán bộ 010 cuc-vt-cy,tot,", "cuc-vt-cy,cuc-vt-cy-010,Cán bộ 010 cuc-vt-cy,hoan_thanh,"),
        encoding="utf-8")
    assert changed.read_text(encoding="utf-8") != MEMBERS.read_text(encoding="utf-8")
    first = load_data(UNITS, policy, members=MEMBERS).sha256
    assert load_data(UNITS, policy, members=MEMBERS).sha256 == first
    assert load_data(UNITS, policy, members=changed).sha256 != first


QUOTA = ROOT / "tests" / "golden" / "person-quota"


def test_a_person_title_quota_leaves_the_tie_at_the_cut_to_the_council(monkeypatch, golden):
    """ND91 Art. 9 k3: at most 15 % of a unit's 60 CSTT (9) are CSTĐCS; ordered by initiative reach,
    the 2 nationwide ones win, the 8 ministry-wide ones share place 3 across the cut (undecided,
    for the council) and the 2 grassroots ones are over the quota; the report is the golden file."""
    monkeypatch.setenv("THIDUA_POLICY_PATH", str(ROOT / "policies"))
    policy = load_policy(QUOTA / "policy.toml", display="policy.toml")
    result = evaluate(policy, load_data(UNITS, policy, members=QUOTA / "members.csv"))
    doc = json.loads(render(result, "json"))
    status = {p["id"]: {t["id"]: t["status"] for t in p["titles"]}["chien_si_thi_dua_co_so"]
              for p in doc["people"] if p["unit"] == "cuc-qlxddt" and int(p["id"][-3:]) <= 12}
    assert status == {
        **{f"cuc-qlxddt-{n:03d}": "proposed" for n in (1, 2)},
        **{f"cuc-qlxddt-{n:03d}": "undecided" for n in range(3, 11)},
        **{f"cuc-qlxddt-{n:03d}": "over_quota" for n in (11, 12)}}
    council = [c for c in doc["clusters"][0]["council"] if c["title"] == "chien_si_thi_dua_co_so"]
    assert council == [{
        "title": "chien_si_thi_dua_co_so", "kind": "quota_tie",
        "units": [f"cuc-qlxddt-{n:03d}" for n in range(3, 11)],
        "reason": "8 members of cuc-qlxddt share place 3 across the quota of 9; 7 place(s) left for them",
        "code": "person_quota_tie", "params": {"members": 8, "unit": "cuc-qlxddt", "place": 3, "limit": 9,
                                               "left": 7}}]
    golden.check(QUOTA / "expected.md", render(result, "markdown"))


def test_a_person_quota_without_order_leaves_every_candidate_to_the_council(policy):
    """No order among the candidates (the law gives none): more CSTĐCS candidates than 15 % of the
    CSTT admits are all undecided; with a limit of 0 they are all over the quota."""
    rows = [{"unit": "a", "id": f"p{n:02d}", "rating": "tot", "initiative": "co_so" if n < 3 else "none"}
            for n in range(14)]
    out = json.loads(render(evaluate(policy, parse_data(tomli_w.dumps(members_doc(rows)).encode(), policy,
                                                        file="data.toml")), "json"))
    cstdcs = {p["id"]: next(t for t in p["titles"] if t["id"] == "chien_si_thi_dua_co_so") for p in out["people"]}
    # 14 CSTT: 15 % is 2.1, so 2 places for 3 candidates sharing one place
    assert [cstdcs[f"p{n:02d}"]["status"] for n in range(3)] == ["undecided"] * 3
    few = json.loads(render(evaluate(policy, parse_data(tomli_w.dumps(members_doc(rows[:6])).encode(), policy,
                                                        file="data.toml")), "json"))
    # 6 CSTT: 15 % is 0.9, rounded down to 0
    assert [p["titles"][1]["status"] for p in few["people"][:3]] == ["over_quota"] * 3
