"""The generated scoring kernel gives what the straightforward scoring loops give, value for value."""

from __future__ import annotations

import sys
from decimal import Decimal
from pathlib import Path

import pytest

from thidua_rules import load_data, load_policy, parse_data, parse_policy
from thidua_rules.decimals import engine_context
from thidua_rules.errors import EvaluationError
from thidua_rules.scoring import _plan, score_unit, score_unit_loops

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))
import generate  # noqa: E402 - from benchmarks/, on the path set just above
import large_policy  # noqa: E402


def _exact(value):
    """A value with its decimal digits made visible: Decimal('1.0') and Decimal('1.00') differ."""
    if isinstance(value, Decimal):
        return ("D", str(value))
    if isinstance(value, dict | tuple | list):
        items = value.items() if isinstance(value, dict) else enumerate(value)
        return (type(value).__name__, tuple((k, _exact(v)) for k, v in items))
    if hasattr(value, "items"):  # a read-only mapping
        return ("mapping", tuple((k, _exact(v)) for k, v in value.items()))
    return value


def _fields(score):
    return {name: _exact(getattr(score, name)) for name in (
        "criterion_rows", "group_rows", "bonus_rows", "deduction_rows", "score", "bonus_sum", "bonus",
        "deduction_sum", "deduction", "total_raw", "total", "band", "band_skipped", "env", "derived",
        "band_caps")} | {"unit": score.unit.id, "env order": tuple(score.env)}


def _compare(policy, dataset):
    assert _plan(policy).kernel is not None
    count = 0
    with engine_context():
        for cluster in dataset.clusters:
            for unit in cluster.units:
                assert _fields(score_unit(policy, unit, cluster.year)) == \
                    _fields(score_unit_loops(policy, unit, cluster.year)), unit.id
                count += 1
    assert count


def test_kernel_matches_the_loops_on_generated_units(example_policy):
    _compare(example_policy, parse_data(generate.make_csv(1500, seed=3), example_policy, file="g.csv",
                                        format="csv"))


def test_kernel_matches_the_loops_on_the_large_policy():
    """Every built-in method, gates, bonuses with conditions, deductions, four bands."""
    policy = parse_policy(large_policy.make_policy().encode(), file="large.toml")
    _compare(policy, parse_data(large_policy.make_csv(800), policy, file="large.csv", format="csv"))


@pytest.mark.parametrize(("policy_name", "data_name"), [
    ("cum8-2022", "cum8-2022/units.toml"),
    ("bca-cum8", "cum8-2022/units.toml"),
    ("cantho-dan-van", "cantho-2025/units.toml"),          # band conditions that skip bands
    ("research-khcn-2023", "research-khcn-2023/units.toml"),  # a plugin's criterion method
])
def test_kernel_matches_the_loops_on_shipped_examples(policy_name, data_name):
    policy = load_policy(ROOT / "policies" / f"{policy_name}.toml")
    _compare(policy, load_data(ROOT / "examples" / data_name, policy))


def test_plugins_that_derive_inputs_or_cap_bands_use_the_loops():
    policy = load_policy(ROOT / "policies" / "cand-cum5-2023.toml")
    assert _plan(policy).kernel is None


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


def test_kernel_on_gates_criteria_without_groups_total_cap_and_band_conditions():
    policy = parse_policy(EDGE_POLICY.encode(), file="edge.toml")
    rows = [(a, b, flag) for a in ("-3", "0", "0.05", "1", "2.25", "7", "40") for b in ("0.3", "1", "3", "9")
            for flag in (True, False)]
    _compare(policy, parse_data(_units(rows), policy, file="edge.toml", format="toml"))


def test_a_unit_the_kernel_fails_on_gets_the_loops_error():
    """Division by zero inside a rule: the error names the rule and the unit, as without the kernel."""
    policy = parse_policy(EDGE_POLICY.encode(), file="edge.toml")
    data = parse_data(_units([("2", "0", True)]), policy, file="edge.toml", format="toml")
    unit = data.clusters[0].units[0]
    with engine_context():
        with pytest.raises(EvaluationError) as fast:
            score_unit(policy, unit, 2024)
        with pytest.raises(EvaluationError) as slow:
            score_unit_loops(policy, unit, 2024)
    assert fast.value.lines() == slow.value.lines()
    assert "edge.toml" in str(fast.value) and "u0" in str(fast.value)


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
