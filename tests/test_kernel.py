"""The generated scoring kernel, the one code that scores units: its outcomes are the reference
engine's (``reference.score_unit``) value for value, its digits are the ones written out here,
and each rule's failure is the error naming the rule and the unit."""

from __future__ import annotations

import decimal
import sys
from decimal import Decimal
from pathlib import Path

import pytest

from thidua_rules import hookimpl, load_data, load_policy, parse_data, parse_policy, reference
from thidua_rules.decimals import engine_context
from thidua_rules.errors import EvaluationError
from thidua_rules.layers import by_unit
from thidua_rules.scoring import LayeredUnitScore, _plan, score_unit, score_units

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))
import generate  # noqa: E402 - from benchmarks/, on the path set just above
import large_policy  # noqa: E402


def _value(value):
    """A value compared by what it is worth: Decimal('1.0') and Decimal('1.00') are one number,
    a read-only mapping and a dict with the same items are one mapping."""
    if isinstance(value, dict | tuple | list) or hasattr(value, "items"):
        items = value.items() if hasattr(value, "items") else enumerate(value)
        return ("mapping" if hasattr(value, "items") else "sequence", tuple((k, _value(v)) for k, v in items))
    return value


def _fields(score):
    return {name: _value(getattr(score, name, None)) for name in (
        "criterion_rows", "group_rows", "bonus_rows", "deduction_rows", "score", "bonus_sum", "bonus",
        "deduction_sum", "deduction", "total_raw", "total", "band", "band_skipped", "env", "derived",
        "band_caps", "layers")} | {"unit": score.unit.id, "env order": tuple(score.env), "type": type(score)}


def _compare(policy, dataset):
    """Every unit of ``dataset`` scored by the kernel and by the reference engine: the same."""
    count = 0
    with engine_context():
        for cluster in dataset.clusters:
            layers = by_unit(cluster.scores) if cluster.scores else {}
            scored = score_units(policy, cluster.units, cluster.year, cluster.plugin_data, layers or None)
            for unit, score in zip(cluster.units, scored, strict=True):
                expected = reference.score_unit(policy, unit, cluster.year, cluster.plugin_data or {},
                                                layers.get(unit.id, ()))[0]
                assert _fields(score) == _fields(expected), unit.id
                count += 1
    assert count
    return count


def test_kernel_matches_the_reference_on_generated_units(example_policy):
    _compare(example_policy, parse_data(generate.make_csv(1500, seed=3), example_policy, file="g.csv",
                                        format="csv"))


def test_kernel_matches_the_reference_on_the_large_policy():
    """Every built-in method, gates, bonuses with conditions, deductions, four bands."""
    policy = parse_policy(large_policy.make_policy().encode(), file="large.toml")
    _compare(policy, parse_data(large_policy.make_csv(800), policy, file="large.csv", format="csv"))


@pytest.mark.parametrize(("policy_path", "data_name"), [
    ("policies/cum8-2022.toml", "cum8-2022/units.toml"),
    ("policies/bca-cum8.toml", "cum8-2022/units.toml"),
    ("policies/cantho-dan-van.toml", "cantho-2025/units.toml"),          # band conditions that skip bands
    ("policies/research-khcn-2023.toml", "research-khcn-2023/units.toml"),  # a plugin's criterion method
    ("policies/cand-cum5-2023.toml", "cand-cum5-2023/units.toml"),  # plugins derive inputs and cap bands
    ("tests/golden/layers/policy.toml", "cum8-2022/units-layers.toml"),  # scoring layers
])
def test_kernel_matches_the_reference_on_shipped_examples(policy_path, data_name):
    policy = load_policy(ROOT / policy_path)
    _compare(policy, load_data(ROOT / "examples" / data_name, policy))


def test_layered_units_get_their_layers_and_plugins_are_called_by_the_kernel():
    """A unit with ``[[scores]]`` is a LayeredUnitScore; the kernel itself derives inputs and asks
    for band caps (no second scoring code)."""
    policy = load_policy(ROOT / "tests/golden/layers/policy.toml")
    data = load_data(ROOT / "examples/cum8-2022/units-layers.toml", policy)
    cluster = data.clusters[0]
    with engine_context():
        scored = score_units(policy, cluster.units, cluster.year, None, by_unit(cluster.scores))
    layered = {s.unit.id for s in scored if isinstance(s, LayeredUnitScore)}
    assert layered == {s.unit for s in cluster.scores} and all(s.layers for s in scored if s.unit.id in layered)
    source = _plan(load_policy(ROOT / "policies/cand-cum5-2023.toml")).kernel.source
    assert "derived = DERIVE(unit, env, data)" in source and "caps = CAPS(unit, env)" in source


EDGE_POLICY = """
[policy]
id = "edge"
name = "Edge cases"
precision = 1

[inputs]
a = { type = "decimal" }
b = { type = "decimal" }
flag = { type = "boolean" }

[[criteria]]
id = "tieu_chi_mot"
name = "Gated, negative raw"
points = 10
method = "formula"
formula = "a - b"
gate = "flag"

[[criteria]]
id = "tieu_chi_hai"
name = "Ungrouped"
points = 5
method = "proportional"
value = "a"
target = "b"

[scoring]
total_max = 12

[[bonuses]]
id = "diem_thuong"
name = "When"
formula = "a / 3"
when = "a > 1"

[[bands]]
id = "loai_a"
name = "Top"
min = 10
when = "zero_criteria == 0"

[[bands]]
id = "loai_b"
name = "Rest"
min = -100
"""


def _units(rows):
    lines = "\n".join(f'[[units]]\nid = "u{i}"\nname = "U {i}"\na = {a}\nb = {b}\nflag = {str(flag).lower()}'
                      for i, (a, b, flag) in enumerate(rows))
    return f'[cluster]\nid = "c"\nname = "C"\nyear = 2024\n\n{lines}\n'.encode()



def _row(row):
    return tuple(str(v) if isinstance(v, Decimal) else v for v in row[:5])


#: (a, b, flag) → the criteria's (id, raw, score, gated, capped), the bonus's (id, applies, raw,
#: score, capped), score, total_raw, total, band, the bands skipped and zero_criteria: every digit.
EDGE_EXPECTED = {
    # negative raws clamped to 0 (capped), both criteria at 0
    ("-3", "1", True): ((("tieu_chi_mot", "-4", "0.0", False, True), ("tieu_chi_hai", "-15", "0.0", False, True)),
                        ("diem_thuong", False, "0", "0.0", False), "0.0", "0.0", "0.0", "loai_b", (), "2"),
    # 5 * 0 / -0.5 is -0: scores 0.0, not capped
    ("0", "-0.5", True): ((("tieu_chi_mot", "0.5", "0.5", False, False),
                           ("tieu_chi_hai", "-0E+1", "0.0", False, False)),
                          ("diem_thuong", False, "0", "0.0", False), "0.5", "0.5", "0.5", "loai_b", (), "1"),
    # rounded half up (1.95 → 2.0, 0.75 → 0.8), capped at the points
    ("2.25", "0.3", True): ((("tieu_chi_mot", "1.95", "2.0", False, False),
                             ("tieu_chi_hai", "37.5", "5.0", False, True)),
                            ("diem_thuong", True, "0.75", "0.8", False), "7.0", "7.8", "7.8", "loai_b", (), "0"),
    # the gate fails: raw 0, gated
    ("7", "3", False): ((("tieu_chi_mot", "0", "0.0", True, False),
                         ("tieu_chi_hai", "11.666666666666666666666666666666666666666666666667", "5.0", False, True)),
                        ("diem_thuong", True, "2.3333333333333333333333333333333333333333333333333", "2.3", False),
                        "5.0", "7.3", "7.3", "loai_b", (), "1"),
    # the total capped at total_max (28.3 → 12), the top band's condition holds
    ("40", "9", True): ((("tieu_chi_mot", "31", "10.0", False, True),
                         ("tieu_chi_hai", "22.222222222222222222222222222222222222222222222222", "5.0", False, True)),
                        ("diem_thuong", True, "13.333333333333333333333333333333333333333333333333", "13.3", False),
                        "15.0", "28.3", "12", "loai_a", (), "0"),
    # the top band's minimum reached but its condition fails: skipped
    ("40", "9", False): ((("tieu_chi_mot", "0", "0.0", True, False),
                          ("tieu_chi_hai", "22.222222222222222222222222222222222222222222222222", "5.0", False, True)),
                         ("diem_thuong", True, "13.333333333333333333333333333333333333333333333333", "13.3", False),
                         "5.0", "18.3", "12", "loai_b", (("loai_a", "zero_criteria == 0"),), "1"),
}


def test_kernel_on_gates_criteria_without_groups_total_cap_and_band_conditions():
    """The edge policy's outcomes, digit for digit, for units that take every branch."""
    policy = parse_policy(EDGE_POLICY.encode(), file="edge.toml")
    rows = list(EDGE_EXPECTED) * 2  # twice: each outcome made, then remembered
    data = parse_data(_units(rows), policy, file="edge.toml", format="toml")
    with engine_context():
        scored = score_units(policy, data.clusters[0].units, 2024)
    assert len(scored) == len(rows)
    for s in scored:
        key = rows[int(s.unit.id[1:])]
        assert (tuple(_row(r) for r in s.criterion_rows), _row(s.bonus_rows[0]), str(s.score), str(s.total_raw),
                str(s.total), s.band, s.band_skipped, str(s.env["zero_criteria"])) == EDGE_EXPECTED[key], key
    many = [(a, b, flag) for a in ("-3", "0", "-0", "0.05", "1", "2.25", "7", "40") for b in ("0.3", "1", "3", "9", "-0.5")
            for flag in (True, False)]
    _compare(policy, parse_data(_units(many), policy, file="edge.toml", format="toml"))


RULES_POLICY = """
[policy]
id = "rules"
name = "Rules"
precision = 2

[inputs]
x = { type = "decimal" }
t = { type = "decimal" }
g = { type = "decimal" }
c = { type = "decimal" }
w = { type = "decimal" }
f = { type = "decimal" }
e = { type = "decimal" }
b = { type = "decimal" }

[[criteria]]
id = "k1"
name = "Gated"
points = 10
method = "formula"
formula = "x"
gate = "1 / g > 0"

[[criteria]]
id = "k2"
name = "Formula"
points = 10
method = "formula"
formula = "x / c"

[[criteria]]
id = "k3"
name = "Proportional"
points = 10
method = "proportional"
value = "x"
target = "t"

[[bonuses]]
id = "b1"
name = "Bonus"
formula = "x / f"
when = "1 / w > 0"

[[deductions]]
id = "d1"
name = "Deduction"
formula = "x / e"

[[bands]]
id = "top"
name = "Top"
min = 0
when = "1 / b > 0"

[[bands]]
id = "rest"
name = "Rest"
min = -100
"""

#: The input that is 0 → the one error line (division by zero in that rule).
RULE_ERRORS = {
    "g": "rules.toml: criterion 'k1' gate: unit 'u': division by zero\n    | 1 / g > 0\n    | ^^^^^",
    "c": "rules.toml: criterion 'k2': unit 'u': division by zero\n    | x / c\n    | ^^^^^",
    "t": "rules.toml: criterion 'k3': unit 'u': target is 0, cannot score 'x' against it",
    "w": "rules.toml: bonus 'b1' when: unit 'u': division by zero\n    | 1 / w > 0\n    | ^^^^^",
    "f": "rules.toml: bonus 'b1' formula: unit 'u': division by zero\n    | x / f\n    | ^^^^^",
    "e": "rules.toml: deduction 'd1' formula: unit 'u': division by zero\n    | x / e\n    | ^^^^^",
    "b": "rules.toml: band 'top' when: unit 'u': division by zero\n    | 1 / b > 0\n    | ^^^^^",
}


def _rules_unit(policy, zero: str):
    values = "\n".join(f"{k} = {0 if k == zero else 1}" for k in "xtgcwfeb")
    text = f'[cluster]\nid = "c"\nname = "C"\nyear = 2024\n\n[[units]]\nid = "u"\nname = "U"\n{values}\n'
    return parse_data(text.encode(), policy, file="d.toml", format="toml").clusters[0].units[0]


@pytest.mark.parametrize("zero", sorted(RULE_ERRORS))
def test_a_rule_failing_is_the_error_naming_the_rule_and_the_unit(zero):
    """The kernel's own handler names the policy file, the rule and the unit, as the reference does."""
    policy = parse_policy(RULES_POLICY.encode(), file="rules.toml")
    unit = _rules_unit(policy, zero)
    for _ in range(2):  # made, then with every rule before the failing one remembered
        with engine_context(), pytest.raises(EvaluationError) as info:
            score_unit(policy, unit, 2024)
        assert info.value.lines() == [RULE_ERRORS[zero]]
    with engine_context(), pytest.raises(EvaluationError) as ref:
        reference.score_unit(policy, unit, 2024, {})
    assert ref.value.lines() == [RULE_ERRORS[zero]]


def test_the_rules_policy_scores_when_nothing_fails():
    policy = parse_policy(RULES_POLICY.encode(), file="rules.toml")
    score = score_unit(policy, _rules_unit(policy, ""), 2024)
    assert (str(score.score), str(score.bonus), str(score.deduction), str(score.total), score.band) == \
        ("12.00", "1.00", "1.00", "12.00", "top")


@pytest.mark.parametrize("context", [
    decimal.Context(prec=3, rounding=decimal.ROUND_DOWN, traps=[]),
    decimal.Context(prec=28, Emax=50, Emin=-50, traps=[decimal.Inexact]),
], ids=["prec-3-no-traps", "prec-28-traps-inexact"])
def test_scores_are_computed_in_the_engine_context_whatever_the_callers(context, example_policy):
    """A caller's own decimal context changes no digit and no error: scoring computes in the
    engine's context (the kernel's memos hold for that one arithmetic)."""
    data = parse_data(generate.make_csv(200, seed=5), example_policy, file="g.csv", format="csv")
    units = [u for c in data.clusters for u in c.units]
    rules = parse_policy(RULES_POLICY.encode(), file="rules.toml")
    failing = _rules_unit(rules, "c")
    with engine_context():
        expected = [_fields(score_unit(example_policy, u, 2024)) for u in units]
        totals = [str(score_unit(example_policy, u, 2024).total) for u in units]
    with decimal.localcontext(context):
        assert [_fields(score_unit(example_policy, u, 2024)) for u in units] == expected
        assert [str(score_unit(example_policy, u, 2024).total) for u in units] == totals
        with pytest.raises(EvaluationError) as info:
            score_unit(rules, failing, 2024)
        assert info.value.lines() == [RULE_ERRORS["c"]]


def test_a_policy_of_thousands_of_criteria_gets_a_kernel():
    """Sums of thousands of terms are written over several lines: the kernel compiles, and adds
    left to right as the reference does."""
    criteria = "".join(f'\n[[criteria]]\nid = "c{i}"\nname = "C{i}"\npoints = 1\ngroup = "g"\nmethod = "formula"\n'
                       f'formula = "x / {i + 1}"\n' for i in range(3000))
    policy = parse_policy(f"""
[policy]
id = "many"
name = "Many"
precision = 2

[inputs]
x = {{ type = "decimal" }}

[[groups]]
id = "g"
name = "G"
max = 1000
{criteria}
[[bands]]
id = "all"
name = "All"
min = 0
""".encode(), file="many.toml")
    text = '[cluster]\nid = "c"\nname = "C"\nyear = 2024\n' + "".join(
        f'\n[[units]]\nid = "u{x}"\nname = "U"\nx = {x}\n' for x in (0, 1, 7, 2999))
    data = parse_data(text.encode(), policy, file="d.toml", format="toml")
    assert _compare(policy, data) == 4
    with engine_context():
        # u1: the sum of 1/n rounded half up to 2 places, n = 1…3000 (0 from n = 201 on)
        assert str(score_unit(policy, data.clusters[0].units[1], 2024).total) == "6.16"


class Owner:
    """Overrides criterion 'c2' for unit 'a', derives 'share', caps unit 'b' at 'tot'."""

    @hookimpl
    def derive_inputs(self, unit, env, names, data, config):
        return {"share": Decimal("0.5") if unit.id == "a" else Decimal("0.25")}

    @hookimpl
    def score_criterion(self, unit, criterion, env, config):
        return (Decimal("3.333"), {"why": "decided"}) if unit.id == "a" else None

    @hookimpl
    def cap_band(self, unit, env, bands, config):
        return ("tot", "capped") if unit.id == "b" else None


OWNER_POLICY = """
[policy]
id = "owner"
name = "Owner"
plugins = ["owner"]

[inputs]
done = { type = "integer", min = 0 }
share = { type = "decimal", min = 0, max = 1, plugin = "owner" }

[[criteria]]
id = "c1"
name = "Done"
points = 20
method = "formula"
formula = "done"

[[criteria]]
id = "c2"
name = "Share"
points = 5
method = "formula"
formula = "5 * share"
override = "owner"

[[bands]]
id = "xuat_sac"
name = "XS"
min = 20

[[bands]]
id = "tot"
name = "T"
min = 10

[[bands]]
id = "hoan_thanh"
name = "HT"
min = 0
"""


def test_plugins_that_derive_override_and_cap_are_called_by_the_kernel():
    """Derived inputs, a plugin's criterion score and a band cap, digit for digit and as the
    reference has them."""
    policy = parse_policy(OWNER_POLICY.encode(), file="owner.toml", extra_plugins=(("owner", Owner()),))
    text = '[cluster]\nid = "c"\nname = "C"\nyear = 2024\n' + "".join(
        f'\n[[units]]\nid = "{u}"\nname = "U"\ndone = 18\n' for u in ("a", "b", "c"))
    data = parse_data(text.encode(), policy, file="d.toml", format="toml")
    _compare(policy, data)
    with engine_context():
        a, b, c = score_units(policy, data.clusters[0].units, 2024)
    assert [(_row(r), r[6]) for r in a.criterion_rows] == [
        (("c1", "18", "18.00", False, False), None), (("c2", "3.333", "3.33", False, False), "owner")]
    assert dict(a.criterion_rows[1][5]) == {"why": "decided"}
    assert [(d.input, d.plugin, str(d.value)) for d in a.derived] == [("share", "owner", "0.5")]
    assert (str(a.total), a.band, a.band_caps) == ("21.33", "xuat_sac", ())
    assert [(_row(r), r[6]) for r in b.criterion_rows][1] == (("c2", "1.25", "1.25", False, False), None)
    assert (str(b.total), b.band, [(k.plugin, k.band, k.reason) for k in b.band_caps]) == \
        ("19.25", "tot", [("owner", "tot", "capped")])
    assert (str(c.total), c.band) == ("19.25", "tot")


def test_kernel_source_holds_no_policy_text():
    """Ids, names and numbers are bound as constants, never written into the generated source."""
    policy = parse_policy(EDGE_POLICY.encode(), file="edge.toml")
    source = _plan(policy).kernel.source
    for text in ("tieu_chi_mot", "tieu_chi_hai", "diem_thuong", "loai_a", "loai_b", "zero_criteria ==", "12"):
        assert text not in source


def test_remembered_record_texts_keep_the_sign_of_zero_and_every_digit():
    """The unit record remembers a criterion's and an adjustment's entry by the values they read:
    values equal as numbers but printed differently (``0`` and ``-0``) must not share one, and
    the order in which units are written (which entry is made, which remembered) changes no byte."""
    from decimal import Decimal

    from thidua_rules import evaluate
    from thidua_rules.decimals import plain
    from thidua_rules.report.document import _unit
    from thidua_rules.report.jsontext import compact

    rows = [(a, b, flag) for a in ("0", "-0", "0.0", "-0.00", "2", "2.0", "2.50", "2.5") for b in ("1", "1.0", "-0.5")
            for flag in (True, False)]
    rows += rows[::-1]  # every unit twice, in both orders, so that each entry is both made and remembered
    records = []
    for order in (1, -1):  # a policy of its own each time: its memories start empty
        policy = parse_policy(EDGE_POLICY.encode(), file="edge.toml")
        result = evaluate(policy, parse_data(_units(rows), policy, file="edge.toml", format="toml"))
        units = [u for c in result.clusters for u in c.units][::order]
        records.append({u.id: compact({"record": "unit", **_unit(policy, u)}) for u in units})
    assert records[0] == records[1]
    def shown(text):  # as TOML reads it: ``-0`` is an integer (0), ``-0.00`` a float (-0)
        return plain(Decimal(text)) if "." in text else str(int(text))

    for i, (a, b, _flag) in enumerate(rows):
        inputs = f'"inputs":{{"a":"{shown(a)}","b":"{shown(b)}"}}'
        assert inputs in records[0][f"u{i}"], (i, a, b)
    assert any('"a":"-0"' in r for r in records[0].values())
    assert any('"a":"0"' in r for r in records[0].values())
