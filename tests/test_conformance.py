"""Conformance: the production engine and the reference engine (``reference.py``) agree.

Every shipped policy with its examples, every case of every ``*.tests.toml`` (shipped and the
test suite's), the golden inputs, and generated data, evaluated by both engines, must render to
the same bytes in every output format, or fail with the same error.

Which parts the reference specifies itself (and so which parts this suite checks independently):
scoring, ranking, leadership, unit titles and the history they read, quotas across clusters and
the council's items, scoring layers, members' titles and the inputs counted from them.
"""

from __future__ import annotations

import json
import random
import sys
import tomllib
from decimal import Decimal
from fractions import Fraction
from pathlib import Path

import pytest
import tomli_w
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from thidua_rules import (
    FunctionSpec,
    TitleCheckSpec,
    evaluate,
    hookimpl,
    load_data,
    load_policy,
    parse_data,
    parse_policy,
    render,
)
from thidua_rules.decimals import engine_context
from thidua_rules.errors import ThiduaError
from thidua_rules.loader.data import FORMATS as DATA_FORMATS
from thidua_rules.loader.data import read_member_rows
from thidua_rules.messages import reason_code
from thidua_rules.reference import as_decimal, round_half_up

from .conftest import EXAMPLE_DATA, EXAMPLE_POLICY, ROOT
from .test_whatif import clusters

sys.path.insert(0, str(ROOT / "benchmarks"))
import generate
import large_policy
from generate import make_rows

#: Every output format a result is rendered in (all of them).
OUTPUTS = ("json", "jsonl", "markdown", "table", "toml", "html")


def decisions(result):
    """Everything ranking and titles decide, as the result records hold it: places and their
    neighbours, each title's status, quota and place, each check with its reason (text, code
    and parameters) and ``seen`` (its type and items in order), and the council's items."""
    out = []
    for cluster in result.clusters:
        out.append(("council", cluster.id, [(i.title, i.units, i.kind, str(i.reason), *reason_code(i.reason))
                                           for i in cluster.council]))
        for unit in cluster.units:
            p = unit.placed
            out.append((unit.id, unit.proposed, p.rank, p.tied, p.above, p.below, p.score.unit.id))
            for title in unit.titles:
                out.append((title.title, title.status, title.quota_limit, str(title.quota_raw), title.place,
                            title.runoff_yes))
                out.extend((c.check, c.plugin, c.passed, str(c.reason), *reason_code(c.reason), type(c.seen),
                            list(c.seen.items())) for c in title.checks)
    return out


def _outcome(policy, data, engine):
    """Every rendering of the result and its decisions, or the error's lines."""
    try:
        result = evaluate(policy, data, engine=engine)
    except ThiduaError as exc:
        return ("error", tuple(exc.lines()))
    return (*((fmt, render(result, fmt)) for fmt in OUTPUTS), ("decisions", decisions(result)))


def assert_conforms(policy, data):
    fast = _outcome(policy, data, "fast")
    reference = _outcome(policy, data, "reference")
    if fast[0] != "error" and reference[0] != "error":
        for (fmt, a), (_, b) in zip(fast, reference, strict=True):
            assert a == b, f"the engines differ in {fmt}"
    assert fast == reference
    return fast


# ---------------------------------------------------------------- shipped policies and examples

PAIRS = [
    ("cum8-2022", "cum8-2022/units.toml"),
    ("cum8-2022", "cum8-2022/variants/government-flag-vote-fails.toml"),
    ("bca-cum8", "cum8-2022/units.toml"),
    ("bca-cum8", "cum8-2022/variants/government-flag-vote-fails.toml"),
    ("cand-cum5-2023", "cand-cum5-2023/units.toml"),
    ("cantho-dan-van", "cantho-2025/units.toml"),
    ("research-khcn-2023", "research-khcn-2023/units.toml"),
]


@pytest.mark.parametrize(("policy_name", "data_name"), PAIRS)
def test_shipped_examples_conform(policy_name, data_name):
    policy = load_policy(ROOT / "policies" / f"{policy_name}.toml")
    outcome = assert_conforms(policy, load_data(ROOT / "examples" / data_name, policy))
    assert outcome[0] != "error"


#: Shipped policies whose examples come with a members file: (policy, units, members).
WITH_MEMBERS = [
    ("cum8-2022-members", "cum8-2022/units-members.toml", "cum8-2022/members.csv"),
    ("cum8-2022-councils", "cum8-2022-councils/units.toml", "cum8-2022-councils/members.csv"),
]


def test_every_shipped_policy_has_an_example_here():
    """A policy added to policies/ must be added to PAIRS (or WITH_MEMBERS)."""
    assert {p.stem for p in (ROOT / "policies").glob("*.toml") if not p.stem.endswith(".tests")} == \
        {name for name, _ in PAIRS} | {name for name, _, _ in WITH_MEMBERS}


@pytest.mark.parametrize(("policy_name", "data_name", "members_name"), WITH_MEMBERS)
def test_the_members_examples_with_their_members_files_conform(policy_name, data_name, members_name):
    policy = load_policy(ROOT / "policies" / f"{policy_name}.toml")
    data = load_data(ROOT / "examples" / data_name, policy, members=ROOT / "examples" / members_name)
    assert assert_conforms(policy, data)[0] != "error"


# ---------------------------------------------------------------- the golden cases of the merged features

def test_the_layered_scores_example_conforms():
    """Claims, changes, reconciled scorers and a layer left to the council (tests/golden/layers)."""
    policy = load_policy(ROOT / "tests" / "golden" / "layers" / "policy.toml")
    for name in ("units-layers.toml", "units.toml"):
        data = load_data(ROOT / "examples" / "cum8-2022" / name, policy)
        assert assert_conforms(policy, data)[0] != "error"


_LAYER_POINTS = {"chi_tieu": 35, "dot_xuat": 15, "tham_muu": 10, "phoi_hop_cum": 15, "to_chuc_dang": 10,
                 "chat_luong_cbcs": 15}


def _layer_score(rng, points):
    """A score in [0, points] with 0 to 2 decimals (the policy's precision is 2), as TOML text."""
    return rng.choice([str(rng.randint(0, points)), f"{rng.randint(0, points * 10) / 10:.1f}",
                       f"{rng.randint(0, points * 100) / 100:.2f}", str(points), "0"])


def _layered_variant(seed):
    """The layers golden's policy with random reconciling rules, and its units with random
    claims and scorers (values with 0, 1 or 2 decimals, ties, the bounds), a reason on every
    change but, in every fourth variant, one left out (both engines must then fail alike)."""
    rng = random.Random(seed)
    policy_text = (ROOT / "tests" / "golden" / "layers" / "policy.toml").read_text(encoding="utf-8")
    needs_third = {}
    lines = {"kiem_tra_cheo": 'reconcile = { within = 2, use = "mean", otherwise = "third" }',
             "hoi_dong": 'reconcile = { within = 1, use = "max", otherwise = "council" }'}
    for layer, line in lines.items():  # each rule's line marked first: a new rule may read like the other's
        assert policy_text.count(line) == 1
        policy_text = policy_text.replace(line, f"@{layer}@")
    for layer in lines:
        use, within, otherwise = rng.choice(["mean", "min", "max"]), rng.choice(["0", "0.5", "1", "2.25", "5"]), \
            rng.choice(["third", "council"])
        needs_third[layer] = otherwise == "third"
        policy_text = policy_text.replace(f"@{layer}@", f'reconcile = {{ within = {within}, use = "{use}", '
                                                        f'otherwise = "{otherwise}" }}')
    doc = tomllib.loads((ROOT / "examples" / "cum8-2022" / "units-layers.toml").read_text(encoding="utf-8"))
    scores = []
    for unit in doc["units"]:
        for criterion, points in _LAYER_POINTS.items():
            if rng.random() < 0.4:
                continue
            if rng.random() < 0.5:
                scores.append({"layer": "tu_cham", "unit": unit["id"], "criterion": criterion,
                               "score": Decimal(_layer_score(rng, points))})
            for layer in ("kiem_tra_cheo", "hoi_dong"):
                if rng.random() < 0.3:
                    continue
                scorers = rng.randint(1, 3)
                for k in range(scorers):
                    scores.append({"layer": layer, "unit": unit["id"], "criterion": criterion, "scorer": f"s{k}",
                                   "score": Decimal(_layer_score(rng, points)), "reason": f"lý do {k}"})
                if scorers > 1 and needs_third[layer]:
                    scores.append({"layer": layer, "unit": unit["id"], "criterion": criterion, "scorer": "s9",
                                   "third": True, "score": Decimal(_layer_score(rng, points)), "reason": "bên thứ ba"})
    if seed % 4 == 3:  # one change without its reason: an error if it changes the score
        del rng.choice([e for e in scores if "reason" in e and not e.get("third")])["reason"]
    doc["scores"] = scores
    return policy_text, tomli_w.dumps(doc).encode("utf-8")


@pytest.mark.parametrize("seed", range(16))
def test_generated_layered_scores_conform(seed):
    """Scoring layers, which the reference writes out itself (``apply_layers``): random rules
    (mean, min, max; within 0 to 5; a third scorer or the council) and random scores."""
    folder = ROOT / "tests" / "golden" / "layers"
    policy_text, data = _layered_variant(seed)
    policy = parse_policy(policy_text.encode("utf-8"), file="policy.toml", path=folder / "policy.toml")
    assert_conforms(policy, parse_data(data, policy, file="data.toml"))


def test_a_layer_change_without_a_reason_fails_alike_in_both_engines():
    """Every missing reason of every cluster, at once, the same lines from both engines."""
    policy = load_policy(ROOT / "tests" / "golden" / "layers" / "policy.toml")
    text = (ROOT / "examples" / "cum8-2022" / "units-layers.toml").read_text(encoding="utf-8")
    doc = tomllib.loads(text)
    for entry in doc["scores"]:
        entry.pop("reason", None)
    outcome = assert_conforms(policy, parse_data(tomli_w.dumps(doc).encode("utf-8"), policy, file="data.toml"))
    assert outcome[0] == "error"


def test_quotas_across_clusters_conform(monkeypatch):
    """The Government flag capped at a share of the cluster leaders (tests/golden/across-clusters)."""
    monkeypatch.setenv("THIDUA_POLICY_PATH", str(ROOT / "policies"))
    case = ROOT / "tests" / "golden" / "across-clusters"
    policy = load_policy(case / "policy.toml")
    assert assert_conforms(policy, load_data(case / "units.toml", policy))[0] != "error"


@pytest.mark.parametrize("quota", [
    '{ share = 0.2, rounding = "ceil", order = ["total"] }',
    '{ share = "1/3", rounding = "half_up", order = ["total"] }',
    '{ share = "1/7", rounding = "floor", order = ["total"] }',
    '{ count = 3, order = [{ key = "total", direction = "asc" }] }',
    '{ count = 0 }',
    '{ count = 20 }',
])
def test_quotas_across_clusters_conform_for_every_kind_of_quota(monkeypatch, quota):
    """The stage across clusters, which the reference writes out itself (``apply_across_clusters``):
    shares rounded each way and given as fractions, counts, an ascending key, no place and more
    places than candidates, on the golden's ten cluster leaders (two of them tied)."""
    monkeypatch.setenv("THIDUA_POLICY_PATH", str(ROOT / "policies"))
    case = ROOT / "tests" / "golden" / "across-clusters"
    text = (case / "policy.toml").read_text(encoding="utf-8")
    line = 'across_clusters = { share = 0.2, rounding = "floor", order = ["total"] }'
    assert line in text
    policy = parse_policy(text.replace(line, f"across_clusters = {quota}").encode("utf-8"), file="policy.toml",
                          path=case / "policy.toml")
    assert assert_conforms(policy, load_data(case / "units.toml", policy))[0] != "error"


_PERSON_TITLES = ["chien_si_tien_tien", "chien_si_thi_dua_co_so", "chien_si_thi_dua_cand"]


def _members_csv(rng, units, transfers):
    """A members file for ``units``: random ratings, initiatives, discipline, earlier titles
    (streaks included), deferrals, preference fields and, with ``transfers``, transferred
    members with or without their previous unit's opinion."""
    columns = ["unit", "id", "name", "rating", "initiative", "discipline", "earlier", "deferred", "female",
               "ethnic_minority", "years_of_service"] + (["transferred_from", "months_at_previous",
                                                         "previous_unit_opinion"] if transfers else [])
    lines = [",".join(columns)]
    for unit in units:
        for k in range(1, rng.randint(11, 30)):  # the ballots name members 001 to 010
            earlier = ";".join(f"{year}:" + ",".join(_PERSON_TITLES[:rng.randint(1, 3)])
                               for year in range(2022 - rng.randint(0, 4), 2022) if rng.random() < 0.8)
            row = [unit, f"{unit}-{k:03d}", f"Cán bộ {k:03d}",
                   rng.choice(["xuat_sac", "xuat_sac", "tot", "tot", "hoan_thanh", "khong_hoan_thanh"]),
                   rng.choice(["none", "none", "co_so", "co_so", "bo", "toan_quoc"]),
                   rng.choice(["none"] * 12 + ["khien_trach", "canh_cao"]), f'"{earlier}"',
                   "hoãn xét" if rng.random() < 0.03 else "", rng.choice(["true", "false"]),
                   rng.choice(["true", "false", "false"]), str(rng.choice([0, 3, 5, 5, 10, 20]))]
            if transfers:
                moved = rng.random() < 0.15
                row += [rng.choice([u for u in units if u != unit]) if moved else "",
                        str(rng.randint(1, 11)) if moved else "",
                        rng.choice(["", "true", "false"]) if moved else ""]
            lines.append(",".join(row))
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("case", ["councils", "preference"])
def test_generated_members_conform(monkeypatch, tmp_path, case, seed):
    """Members' titles and the unit inputs counted from them, which the reference writes out
    itself (``decide_people``, ``fill_person_quota``, ``preference_places``, ``derive_units``):
    random members under the councils policy (councils per unit, transfers) and under the
    person-preference policy (a quota filled by preference steps)."""
    monkeypatch.setenv("THIDUA_POLICY_PATH", str(ROOT / "policies"))
    rng = random.Random(seed)
    if case == "councils":
        policy = load_policy(ROOT / "policies" / "cum8-2022-councils.toml")
        units_file = ROOT / "examples" / "cum8-2022-councils" / "units.toml"
    else:
        policy = load_policy(ROOT / "tests" / "golden" / "person-preference" / "policy.toml")
        units_file = ROOT / "examples" / "cum8-2022" / "units-members.toml"
    units = [u["id"] for u in tomllib.loads(units_file.read_text(encoding="utf-8"))["units"]]
    members = tmp_path / "members.csv"
    members.write_text(_members_csv(rng, units, transfers=case == "councils"), encoding="utf-8")
    assert assert_conforms(policy, load_data(units_file, policy, members=members))[0] != "error"


def test_person_title_quotas_conform(monkeypatch):
    """A person title's quota with a tie at the cut (tests/golden/person-quota)."""
    monkeypatch.setenv("THIDUA_POLICY_PATH", str(ROOT / "policies"))
    case = ROOT / "tests" / "golden" / "person-quota"
    policy = load_policy(case / "policy.toml")
    data = load_data(ROOT / "examples" / "cum8-2022" / "units-members.toml", policy, members=case / "members.csv")
    assert assert_conforms(policy, data)[0] != "error"


def test_the_golden_example_is_what_the_reference_gives(example_policy):
    """The reference alone reproduces the hand-checked golden files of the example."""
    data = load_data(EXAMPLE_DATA, example_policy, display="examples/cum8-2022/units.toml")
    result = evaluate(example_policy, data, engine="reference")
    folder = ROOT / "tests" / "golden" / "cum8-2022"
    for fmt, name in (("json", "expected.json"), ("markdown", "expected.md"), ("toml", "expected.toml"),
                      ("table", "expected.txt")):
        assert render(result, fmt) == (folder / name).read_text(encoding="utf-8"), fmt


# ---------------------------------------------------------------- every policy test case

def _cases():
    files = sorted((ROOT / "policies").glob("*.tests.toml")) + sorted((ROOT / "tests").rglob("*.tests.toml"))
    for path in files:
        doc = tomllib.loads(path.read_text(encoding="utf-8"))
        if not isinstance(doc.get("policy"), str) or not (path.parent / doc["policy"]).is_file():
            continue  # an error fixture: its policy is missing
        for index, case in enumerate(doc.get("cases", [])):
            if not isinstance(case, dict) or not (isinstance(case.get("data"), str)
                                                  or isinstance(case.get("inline"), dict)):
                continue  # an error fixture: a malformed case
            yield pytest.param(path, doc["policy"], index, case, id=f"{path.relative_to(ROOT)}#{index}")


def _case_data(path: Path, policy, case):
    if "data" in case:
        data_path = path.parent / case["data"]
        members = read_member_rows(path.parent / case["members"]) if "members" in case else None
        return parse_data(data_path.read_bytes(), policy, file=str(data_path),
                          format=DATA_FORMATS[data_path.suffix.lower()], members=members)
    return parse_data(tomli_w.dumps(case["inline"]).encode("utf-8"), policy, file=f"{path}: inline")


@pytest.mark.parametrize(("path", "policy_file", "index", "case"), list(_cases()))
def test_policy_test_cases_conform(path, policy_file, index, case):
    try:
        policy = load_policy(path.parent / policy_file)
        data = _case_data(path, policy, case)
    except (ThiduaError, OSError):
        pytest.skip("the case's policy or data does not load (an error fixture)")
    assert_conforms(policy, data)


# ---------------------------------------------------------------- generated data

def test_generated_units_of_the_example_conform():
    policy = load_policy(EXAMPLE_POLICY)
    for seed in (3, 11):
        assert_conforms(policy, parse_data(generate.make_csv(120, seed=seed), policy, file="g.csv", format="csv"))


def test_the_large_policy_conforms():
    """Every built-in method, gates, bonuses with conditions, deductions, four bands."""
    policy = parse_policy(large_policy.make_policy().encode(), file="large.toml")
    assert_conforms(policy, parse_data(large_policy.make_csv(150), policy, file="large.csv", format="csv"))


@settings(max_examples=40, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(doc=clusters())
def test_generated_clusters_conform(example_policy, doc):
    """Random clusters (units, ballots, history) of the example policy: ties, votes, bands."""
    assert_conforms(example_policy, parse_data(tomli_w.dumps(doc).encode("utf-8"), example_policy,
                                               file="units.toml"))


# ---------------------------------------------------------------- the reference's own arithmetic

def test_exact_arithmetic_and_half_up_rounding():
    assert Fraction(1, 3) * 3 == 1
    assert round_half_up(Fraction(1, 8), 2) == Fraction(13, 100)    # 0.125 → 0.13, a tie goes up
    assert round_half_up(Fraction(1, 3), 2) == Fraction(33, 100)
    assert round_half_up(Fraction(2, 3), 0) == 1
    assert str(as_decimal(Fraction(13, 100), 2)) == "0.13"
    assert str(as_decimal(Fraction(5), 2)) == "5.00"
    assert str(as_decimal(Fraction(12345, 1000), 2)) == "12.345"   # a cap with more decimals, exactly
    with engine_context():  # a quotient that never ends: the engine's 50 digits
        assert as_decimal(Fraction(1, 3), 2) == Decimal(1) / Decimal(3)


def test_an_unknown_engine_names_the_choices():
    policy = load_policy(EXAMPLE_POLICY)
    data = load_data(ROOT / "examples" / "cum8-2022" / "units.toml", policy)
    with pytest.raises(ValueError, match="unknown engine 'slow': choose one of fast, reference"):
        evaluate(policy, data, engine="slow")


# ---------------------------------------------------------------- drift found between the engines

NEGATIVE_ZERO_POLICY = '''
[policy]
id = "z"
name = "Z"
year = 2024
precision = 2

[inputs]
x = { type = "integer", min = 0 }

[[criteria]]
id = "c"
name = "C"
points = 10
method = "formula"
formula = "x * -1"

[[bonuses]]
id = "b"
name = "B"
formula = "x * -1"
max = 5

[[deductions]]
id = "d"
name = "D"
formula = "x * -2"

[[bands]]
id = "ok"
name = "OK"
min = 0
'''


def test_a_formula_giving_minus_zero_scores_zero():
    """``0 * -1`` is the Decimal -0: clamped to [0, points] it is 0, and scores print ``0.00``
    (the fast engine printed ``-0.00``; the reference always gave 0). The raw figure is the
    expression's own value, -0."""
    from thidua_rules.scoring import score_unit

    policy = parse_policy(NEGATIVE_ZERO_POLICY.encode(), file="p.toml")
    doc = {"cluster": {"id": "c", "name": "C", "year": 2024}, "units": [{"id": "a", "name": "A", "x": 0}]}
    data = parse_data(tomli_w.dumps(doc).encode(), policy, file="d.toml")
    outcome = dict(assert_conforms(policy, data)[:-1])
    explanation = json.loads(outcome["json"])["units"][0]["explanation"]
    assert [(c["raw"], c["score"], c["capped"]) for c in explanation["criteria"]] == [("-0", "0.00", False)]
    assert [(b["raw"], b["score"], b["capped"]) for b in explanation["bonuses"]] == [("-0", "0.00", False)]
    assert [(b["raw"], b["score"], b["capped"]) for b in explanation["deductions"]] == [("-0", "0.00", False)]
    assert "-0.00" not in "".join(text for _, text in outcome.items())
    with engine_context():  # the scoring rows themselves, as scored
        scored = score_unit(policy, data.clusters[0].units[0], 2024)
    assert [(str(row[2]), row[4]) for row in scored.criterion_rows] == [("0.00", False)]
    assert [(str(row[3]), row[4]) for row in (*scored.bonus_rows, *scored.deduction_rows)] == \
        [("0.00", False), ("0.00", False)]


# ---------------------------------------------------------------- titles: councils, quotas, holds

#: The scenario policy with a quorum on the flag vote (as tests/test_council.py has it), and its
#: quota rounded three ways (a fraction share too): every path of the title rules.
COUNCIL_SOURCES = [
    (ROOT / "tests" / "scenarios" / "mini.toml").read_text(encoding="utf-8").replace(
        "votes = { share = 0.8 }", 'votes = { share = 0.8, quorum = "2/3" }').replace(
        'quota = { share = 0.5, rounding = "floor" }', quota)
    for quota in ('quota = { share = 0.5, rounding = "floor" }', 'quota = { share = "1/3", rounding = "ceil" }',
                  'quota = { share = 0.5, rounding = "half_up" }')
]


@st.composite
def council_clusters(draw):
    """A cluster of the scenario policy with few distinct scores (so ties, shared ranks and ties
    at the quota cut are common), round-1 and round-2 ballots (quorum met or not, written votes,
    or no ballot yet), discipline periods running or finished, deferrals and earlier years."""
    size = draw(st.integers(3, 7))
    ids = [f"u{k}" for k in range(size)]
    units = [{"id": i, "name": f"Đơn vị {draw(st.sampled_from('ABC'))}",
              "done": draw(st.sampled_from([10, 8, 10, 10])), "assigned": 10,
              "has_plan": draw(st.sampled_from([True, True, True, False])),
              "rating": draw(st.sampled_from(["xuat_sac", "xuat_sac", "xuat_sac", "tot", "hoan_thanh"])),
              "awards": draw(st.sampled_from([0, 0, 1, 3])), "faults": draw(st.sampled_from([0, 0, 1])),
              "members": 10, "advanced": draw(st.sampled_from([5, 8]))} for i in ids]
    doc = {"cluster": {"id": "c", "name": "C", "year": 2024}, "units": units}
    votes = []
    for round_ in (1, 2):
        if round_ == 1 and not draw(st.sampled_from([True, True, True, False])):
            break  # no ballot yet: the flag awaits the vote
        if round_ == 1 or draw(st.sampled_from([True, False])):
            present = draw(st.sampled_from([9, 9, 9, 8, 6, 5, None]))
            room = 9 if present is None else present
            ballot = {"title": "co", "members": 9,
                      "yes": {i: min(room, draw(st.sampled_from([9, 8, 9, 7, 3]))) for i in ids
                              if draw(st.sampled_from([True, True, True, False]))}}
            if round_ == 2:
                ballot["round"] = 2
            if present is not None:
                ballot["present"] = present
                written = {i: draw(st.integers(0, 9 - present)) for i in ids if draw(st.booleans())}
                if written and present < 9:
                    ballot["written"] = written
            votes.append(ballot)
    if draw(st.booleans()):
        votes.append({"title": "ranking", "members": 9, "yes": {i: draw(st.integers(0, 9)) for i in ids}})
    if votes:
        doc["votes"] = votes
    history = [{"unit": i, "year": year, "band": draw(st.sampled_from(["xuat_sac", "tot"])),
                "titles": draw(st.sampled_from([[], ["bang_khen"], ["co"]]))}
               for i in ids for year in (2022, 2023) if draw(st.booleans())]
    if history:
        doc["history"] = history
    if draw(st.booleans()):
        start = draw(st.sampled_from([2021, 2023, 2024]))
        doc["discipline"] = [{"unit": draw(st.sampled_from(ids)), "level": "khien_trach", "from": start,
                              "until": start + draw(st.sampled_from([0, 1]))}]
    if draw(st.booleans()):
        doc["deferrals"] = [{"unit": draw(st.sampled_from(ids)), "reason": "đang xác minh đơn thư",
                             "titles": draw(st.sampled_from([[], ["co"], ["bang_khen"]]))}]
    return doc


@settings(max_examples=120, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(source=st.sampled_from(COUNCIL_SOURCES), doc=council_clusters())
def test_generated_council_clusters_conform(source, doc):
    """Quotas with ties at the cut and round-2 ballots under a quorum, votes awaited, ladders,
    exclusions and deferrals, leadership by rank with shared ranks."""
    policy = parse_policy(source.encode("utf-8"), file="council.toml")
    try:
        data = parse_data(tomli_w.dumps(doc).encode("utf-8"), policy, file="data.toml")
    except ThiduaError:
        assume(False)  # data the loader refuses (more votes than members…)
    assert_conforms(policy, data)


# ---------------------------------------------------------------- rich generated clusters
# (once tests/test_awards_speed.py, which compared two award codes of the production engine;
# the reference decides titles and ranks itself, so both engines are compared here instead)

BANDS = ["xuat_sac", "tot", "hoan_thanh", "khong_hoan_thanh"]


def rich_data(rows: list[dict[str, object]], seed: int, titles: list[str], vote_titles: list[str],
              year: int) -> bytes:
    """Nested JSON clusters with ballots (some with a round 2), history, running and finished
    discipline periods, deferrals (of all titles or some) and units copying another's figures."""
    rng = random.Random(seed)
    clusters: dict[str, list[dict[str, object]]] = {}
    for row in rows:
        clusters.setdefault(str(row["cluster"]), []).append({k: v for k, v in row.items() if k != "cluster"})
    out = []
    for cluster_id, units in sorted(clusters.items()):
        if rng.random() < 0.6:
            lead = rng.choice(units)
            for unit in rng.sample(units, min(len(units), rng.randint(1, 4))):
                unit.update({k: v for k, v in lead.items() if k not in ("id", "name")})
        ids = [str(u["id"]) for u in units]
        cluster: dict[str, object] = {"id": cluster_id, "name": cluster_id, "year": year, "units": units}
        votes = []
        for title in vote_titles:
            if rng.random() < 0.7:
                members = rng.randint(5, 15)
                present = rng.choice([None, members, members - 1, rng.randint(0, members)])
                in_room = members if present is None else present
                ballot: dict[str, object] = {"title": title, "members": members, "yes": {
                    u: rng.randint(max(0, in_room - 3), in_room) for u in ids if rng.random() < 0.9}}
                if present is not None:
                    ballot["present"] = present
                    if members > present and rng.random() < 0.5:
                        ballot["written"] = {u: rng.randint(0, members - present) for u in ids if rng.random() < 0.5}
                votes.append(ballot)
                if rng.random() < 0.5:
                    votes.append({"title": title, "members": members, "round": 2,
                                  "yes": {u: rng.randint(0, members) for u in ids if rng.random() < 0.7}})
        history = [{"unit": u, "year": y, "band": rng.choice(BANDS[:3]),
                    "titles": sorted(rng.sample(titles, rng.randint(0, 2)))}
                   for u in ids if rng.random() < 0.5 for y in range(year - rng.randint(1, 4), year)]
        discipline = []
        deferrals = []
        for u in ids:
            r = rng.random()
            if r < 0.05:
                discipline.append({"unit": u, "level": "canh_cao", "from": year - 1, "until": year})
            elif r < 0.12:
                discipline.append({"unit": u, "level": "khien_trach", "from": year - 4, "until": year - 2})
            elif r < 0.15:
                deferrals.append({"unit": u, "reason": "đang xác minh"})
            elif r < 0.18:
                deferrals.append({"unit": u, "reason": "thanh tra", "titles": [rng.choice(titles)]})
        cluster.update(votes=votes, history=history, discipline=discipline, deferrals=deferrals)
        out.append(cluster)
    return json.dumps({"clusters": out}, ensure_ascii=False).encode()


def mini_rows(units: int, seed: int) -> list[dict[str, object]]:
    """Units for tests/scenarios/mini.toml: small clusters, few distinct figures (many ties)."""
    rng = random.Random(seed)
    rows: list[dict[str, object]] = []
    cluster = 0
    while len(rows) < units:
        cluster += 1
        for k in range(rng.randint(2, 9)):
            assigned, members = rng.randint(8, 10), rng.randint(5, 12)
            rows.append({"cluster": f"m{cluster:04d}", "id": f"m{cluster:04d}-{k}", "name": f"Đơn vị {cluster}-{k}",
                         "done": rng.randint(assigned - 2, assigned), "assigned": assigned,
                         "has_plan": rng.random() < 0.8,
                         "rating": rng.choice(["xuat_sac", "xuat_sac", "tot", "hoan_thanh"]),
                         "awards": rng.randint(0, 2), "faults": rng.randint(0, 1), "members": members,
                         "advanced": rng.randint(0, members)})
    return rows


COUNCIL = (ROOT / "tests" / "scenarios" / "mini.toml").read_text(encoding="utf-8").replace(
    'votes = { share = 0.8 }', 'votes = { share = 0.8, quorum = "2/3" }').replace(
    "when = \"consecutive_years(band == 'xuat_sac') >= 3\"",
    "when = \"consecutive_years_since(band == 'xuat_sac', 'bang_khen') >= 2\"")


def conform_json(policy, data: bytes):
    """:func:`assert_conforms` on nested JSON data; the fast engine's result."""
    outcome = assert_conforms(policy, parse_data(data, policy, file="gen.json", format="json"))
    assert outcome[0] != "error"
    return evaluate(policy, parse_data(data, policy, file="gen.json", format="json"))


def _checks(result):
    return [c for cluster in result.clusters for u in cluster.units for t in u.titles for c in t.checks]


def shared(checks) -> int:
    """How many check outcomes are one object for several units (the fast engine shares the
    outcomes of units in the same state: a speed property, kept from test_awards_speed)."""
    return len(checks) - len({id(c) for c in checks})


def test_rich_clusters_of_the_example_policy_conform(example_policy):
    """Ballots in both rounds (quorum, written votes), history, discipline running and finished,
    deferrals of all titles or some, units copying another's figures (ties)."""
    titles = [t.id for t in example_policy.titles]
    data = rich_data(make_rows(1500, seed=5), 11, titles, ["co_thi_dua_bca", "co_thi_dua_chinh_phu"], 2022)
    result = conform_json(example_policy, data)
    statuses = {t.status for c in result.clusters for u in c.units for t in u.titles}
    assert {"proposed", "held", "failed", "excluded", "deferred"} <= statuses
    checks = _checks(result)
    assert shared(checks) > len(checks) // 3, "the fast engine should share outcomes"


@pytest.mark.parametrize("seed", [0, 1])
def test_rich_clusters_of_the_council_policy_conform(seed):
    """The scenario policy with a quorum: many ties at the quota cut, round-2 ballots."""
    policy = parse_policy(COUNCIL.encode(), file="council.toml")
    data = rich_data(mini_rows(1200, seed), seed, [t.id for t in policy.titles], ["co"], 2024)
    result = conform_json(policy, data)
    assert shared(_checks(result)) > 0
    statuses = {t.status for c in result.clusters for u in c.units for t in u.titles}
    assert {"awaiting_vote", "undecided", "over_quota", "proposed"} <= statuses
    assert any(reason_code(i.reason)[0].startswith("quota_tie") for c in result.clusters for i in c.council)


def test_clusters_without_history_or_ballots_conform(example_policy):
    """Units with no history share one context per cluster: a streak's outcome is shared too."""
    rows = make_rows(1500, seed=8)
    clusters: dict[str, list[dict[str, object]]] = {}
    for row in rows:
        clusters.setdefault(str(row["cluster"]), []).append({k: v for k, v in row.items() if k != "cluster"})
    data = json.dumps({"clusters": [{"id": c, "units": u} for c, u in sorted(clusters.items())]},
                      ensure_ascii=False).encode()
    result = conform_json(example_policy, data)
    streaks = [c for c in _checks(result) if any(k.startswith("consecutive_years") for k in c.seen)]
    assert streaks and shared(streaks) > len(streaks) // 2


class Extras:
    """A plugin function (so call values are never shared), a title check and a veto."""

    @hookimpl
    def register_functions(self, register):
        register(FunctionSpec(name="plus", impl=lambda x: x + Decimal(1), params=("number",), returns="number"))
        # A condition on the history, used as a part of its own (a part that is itself a call).
        register(FunctionSpec(name="ever", impl=lambda env, ctx, cond: any(cond(e) for e in ctx.history.values()),
                              params=("bool",), returns="bool", history="including_current"))

    @hookimpl
    def register_title_checks(self, register):
        def compile_min_total(table, ctx):
            if "min_total" not in table:
                return None
            floor = table["min_total"]
            return lambda view: (view.env["total"] >= floor, f"total below {floor}",
                                 {"total": view.env["total"], "won": sorted(view.won)})

        register(TitleCheckSpec(name="min_total", stage=25, keys={"min_total": "integer"},
                                compile=compile_min_total))

    @hookimpl
    def veto_title(self, unit, title, env, config):
        return f"vetoed {unit.id}" if env["rank"] == 2 and title == "don_vi_tien_tien" else None


def test_plugin_functions_checks_and_vetoes_conform():
    """A plugin's function, title check and veto: run through their contracts by both engines."""
    source = (ROOT / "policies" / "cum8-2022.toml").read_text(encoding="utf-8")
    source = source.replace("[policy]\n", '[policy]\nplugins = ["extras"]\n', 1).replace(
        'id = "don_vi_tien_tien"\n', 'id = "don_vi_tien_tien"\nmin_total = 90\n').replace(
        "when = \"consecutive_years(band == 'xuat_sac') >= 2\"",
        "when = \"consecutive_years(band == 'xuat_sac') >= plus(1) and band != 'tot'\"").replace(
        "when = \"band in ['xuat_sac', 'tot'] and members_advanced / members > 0.5\"",
        "when = \"band in ['xuat_sac', 'tot'] and ever(band == 'xuat_sac') and members_advanced / members > 0.5\"")
    # A condition that is itself a call: its outcome depends on the history, not only on ``band``.
    source = source.replace("[leadership]", '[[titles]]\nid = "ky_niem"\nwhen = "ever(band == \'xuat_sac\')"\n\n'
                            "[leadership]")
    policy = parse_policy(source.encode(), file="extras.toml", extra_plugins=(("extras", Extras()),))
    titles = [t.id for t in policy.titles]
    data = rich_data(make_rows(1000, seed=9), 3, titles, ["co_thi_dua_bca", "co_thi_dua_chinh_phu"], 2022)
    checks = _checks(conform_json(policy, data))
    streaks = [c for c in checks if any(k.startswith("consecutive_years") for k in c.seen)]
    assert streaks and shared(streaks) == 0, "a plugin function's value is never shared"
    assert any(c.reason == "'ever(band == 'xuat_sac')' is false" for c in checks)
    assert any(c.check == "veto" and not c.passed for c in checks)
    assert any(c.check == "min_total" for c in checks)


def test_a_title_rule_failing_at_run_time_is_the_same_error():
    """A division by zero in a ``when``: the same error lines, for the same unit, from both."""
    source = (ROOT / "policies" / "cum8-2022.toml").read_text(encoding="utf-8").replace(
        "emulation_fighters >= 1", "emulation_fighters / (members - members_completed) >= 1")
    policy = parse_policy(source.encode(), file="zero.toml")
    data = rich_data(make_rows(600, seed=4), 4, [t.id for t in policy.titles], [], 2022)
    outcome = assert_conforms(policy, parse_data(data, policy, file="gen.json", format="json"))
    assert outcome[0] == "error" and "division by zero" in "\n".join(outcome[1]).lower()


@pytest.mark.parametrize(("round_2", "council"), [
    ({"present": 5, "yes": {"b": 2, "c": 5}}, ["quota_tie_runoff_no_quorum"]),  # the round does not count
    ({"yes": {"b": 2, "c": 5}}, ["quota_tie_runoff_no_present"]),                # no number present
    ({"present": 9, "yes": {"b": 2, "c": 5}}, []),                               # it separates b and c
    ({"present": 9, "yes": {"b": 4, "c": 4}}, ["quota_tie_after_runoff"]),       # still equal at the cut
    ({"present": 7, "yes": {"b": 3}, "written": {"c": 2}}, []),                  # written votes count
])
def test_round_two_ballots_at_a_quota_cut_conform(round_2, council):
    """a is first; b and c share rank 2 across the quota of 2 (TT 01/2024/TT-TANDTC Art. 29)."""
    from .test_scenarios import unit

    policy = parse_policy(COUNCIL.encode(), file="council.toml")
    units = [unit("a", awards=1), unit("b"), unit("c"), unit("d", rating="tot")]
    votes = [{"title": "co", "members": 9, "present": 9, "yes": {u: 9 for u in "abcd"}},
             {"title": "co", "members": 9, "round": 2, **round_2}]
    doc = {"cluster": {"id": "c", "name": "C", "year": 2024}, "units": units, "votes": votes}
    outcome = assert_conforms(policy, parse_data(tomli_w.dumps(doc).encode("utf-8"), policy, file="data.toml"))
    items = json.loads(dict(outcome[:-1])["json"])["clusters"][0]["council"]
    assert [i["code"] for i in items] == council


class Failing:
    """A plugin function that fails for one member (its fault names no unit: the engine adds it)."""

    @hookimpl
    def register_functions(self, register):
        def boom(x):
            if x > 3:
                raise RuntimeError("out of order")
            return x

        register(FunctionSpec(name="boom", impl=boom, params=("number",), returns="number"))


def test_a_plugin_function_failing_in_a_member_title_is_the_same_error(monkeypatch, tmp_path):
    """A member title's condition calling a plugin function that fails: both engines give the same
    lines, naming the member."""
    monkeypatch.setenv("THIDUA_POLICY_PATH", str(ROOT / "policies"))
    path = ROOT / "policies" / "cum8-2022-members.toml"
    source = path.read_text(encoding="utf-8").replace("[policy]\n", '[policy]\nplugins = ["failing"]\n', 1)
    source += '\n[[people.titles]]\nid = "thu_nghiem"\nname = "Thử nghiệm"\nwhen = "boom(years) >= 0"\n'
    source += '\n[people.inputs]\nyears = { type = "integer", default = 0 }\n'  # (the rest from the catalogue)
    policy = parse_policy(source.encode("utf-8"), file="failing.toml", path=path,
                          extra_plugins=(("failing", Failing()),))
    members = (ROOT / "examples" / "cum8-2022" / "members.csv").read_text(encoding="utf-8").splitlines()
    rows = [members[0] + ",years"] + [line + (",5" if i == 7 else ",1") for i, line in enumerate(members[1:])]
    members_file = tmp_path / "members.csv"
    members_file.write_text("\n".join(rows) + "\n", encoding="utf-8")
    data = load_data(ROOT / "examples" / "cum8-2022" / "units-members.toml", policy, members=members_file)
    outcome = assert_conforms(policy, data)
    assert outcome[0] == "error"
    assert outcome[1] == ("failing.toml: plugin 'failing' function 'boom': unit 'cuc-vt-cy-008': raised "
                          "RuntimeError: out of order",)
