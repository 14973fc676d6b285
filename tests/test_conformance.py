"""Conformance: the production engine and the reference engine (``reference.py``) agree.

Every shipped policy with its examples, every case of every ``*.tests.toml`` (shipped and the
test suite's), the golden inputs, and generated data, evaluated by both engines, must render to
the same bytes in every output format, or fail with the same error.

Which parts the reference specifies itself (and so which parts this suite checks independently):
scoring, ranking and leadership. Titles (awards), members (people), the history contexts,
scoring layers and quotas across clusters are delegated by the reference to the production code, so for them this suite checks only that the
reference feeds them the same inputs.
"""

from __future__ import annotations

import json
import sys
import tomllib
from decimal import Decimal
from fractions import Fraction
from pathlib import Path

import pytest
import tomli_w
from hypothesis import HealthCheck, given, settings

from thidua_rules import evaluate, load_data, load_policy, parse_data, parse_policy, render
from thidua_rules.decimals import engine_context
from thidua_rules.errors import ThiduaError
from thidua_rules.loader.data import FORMATS as DATA_FORMATS
from thidua_rules.loader.data import read_member_rows
from thidua_rules.reference import as_decimal, round_half_up

from .conftest import EXAMPLE_DATA, EXAMPLE_POLICY, ROOT
from .test_whatif import clusters

sys.path.insert(0, str(ROOT / "benchmarks"))
import generate
import large_policy

#: Every output format a result is rendered in (all of them).
OUTPUTS = ("json", "jsonl", "markdown", "table", "toml", "html")


def _outcome(policy, data, engine):
    """Every rendering of the result, or the error's lines."""
    try:
        result = evaluate(policy, data, engine=engine)
    except ThiduaError as exc:
        return ("error", tuple(exc.lines()))
    return tuple((fmt, render(result, fmt)) for fmt in OUTPUTS)


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
    from thidua_rules.scoring import score_unit_loops

    policy = parse_policy(NEGATIVE_ZERO_POLICY.encode(), file="p.toml")
    doc = {"cluster": {"id": "c", "name": "C", "year": 2024}, "units": [{"id": "a", "name": "A", "x": 0}]}
    data = parse_data(tomli_w.dumps(doc).encode(), policy, file="d.toml")
    outcome = dict(assert_conforms(policy, data))
    explanation = json.loads(outcome["json"])["units"][0]["explanation"]
    assert [(c["raw"], c["score"], c["capped"]) for c in explanation["criteria"]] == [("-0", "0.00", False)]
    assert [(b["raw"], b["score"], b["capped"]) for b in explanation["bonuses"]] == [("-0", "0.00", False)]
    assert [(b["raw"], b["score"], b["capped"]) for b in explanation["deductions"]] == [("-0", "0.00", False)]
    assert "-0.00" not in "".join(text for _, text in outcome.items())
    with engine_context():  # the loops (the path of policies without a kernel) too
        loops = score_unit_loops(policy, data.clusters[0].units[0], 2024)
    assert [(str(row[2]), row[4]) for row in loops.criterion_rows] == [("0.00", False)]
    assert [(str(row[3]), row[4]) for row in (*loops.bonus_rows, *loops.deduction_rows)] == \
        [("0.00", False), ("0.00", False)]
