"""The ``unit`` record of the JSON lines (``document._unit`` encoded by ``jsontext.compact``):
the reviewed bytes of the shipped examples, and on edge values and odd shapes the bytes the
format defines (``json.dumps``), whatever entries were remembered before."""

from __future__ import annotations

import json
import sys
from decimal import Decimal
from pathlib import Path

import attrs
import pytest

from thidua_rules import evaluate, load_data, load_policy, parse_data, parse_policy, render
from thidua_rules.awards import CheckOutcome, TitleOutcome
from thidua_rules.decimals import fmt
from thidua_rules.plugins import BandCap, Derived
from thidua_rules.ranking import Separation
from thidua_rules.report.document import _plan, _unit
from thidua_rules.report.jsontext import compact

from .test_kernel import EDGE_POLICY as KERNEL_EDGE_POLICY

ROOT = Path(__file__).resolve().parent.parent
GOLDEN = ROOT / "tests" / "golden" / "jsonl"
sys.path.insert(0, str(ROOT / "benchmarks"))
import generate  # noqa: E402 - from benchmarks/, added to the path above
import large_policy  # noqa: E402

ODD = "đơn \"vị\"\\\n\u2028\x00\x1f\t'{}"  # quotes, backslash, controls, non-ASCII, braces

#: Ungrouped and gated criteria, a bonus with a condition, a total cap, no deductions, a band
#: condition (as in test_kernel), and a value that prints with its sign when zero.
EDGE_POLICY = KERNEL_EDGE_POLICY.replace('[policy]\nid = "edge"\nname = "Edge cases"\n',
                                         '[policy]\nid = "edge_writer"\nname = "Edge \\"writer\\""\n', 1)
assert EDGE_POLICY != KERNEL_EDGE_POLICY


def record(policy, unit):
    return compact({"record": "unit", **_unit(policy, unit)})


def definition(policy, unit):
    """The record as the format defines it: ``json.dumps`` of the unit entry, sorted, compact."""
    return json.dumps({"record": "unit", **_unit(policy, unit)}, ensure_ascii=False, sort_keys=True,
                      separators=(",", ":"))


def check(policy, units):
    """Each unit's record is the format's bytes, written for the first time and again."""
    for _ in range(2):
        for unit in units:
            assert record(policy, unit) == definition(policy, unit), unit.id


#: (policy, data) of each shipped example whose JSON lines are a reviewed golden file (written by
#: the earlier record writers, and unchanged since): plugins' derived inputs, band caps and checks
#: (cand), a plugin's criterion method (research), skipped bands and quotas (cantho), scoring
#: layers (layers).
JSONL_CASES = {
    "cum8-2022": ("policies/cum8-2022.toml", "examples/cum8-2022/units.toml"),
    "layers": ("tests/golden/layers/policy.toml", "examples/cum8-2022/units-layers.toml"),
    "cand-cum5-2023": ("policies/cand-cum5-2023.toml", "examples/cand-cum5-2023/units.toml"),
    "research-khcn-2023": ("policies/research-khcn-2023.toml", "examples/research-khcn-2023/units.toml"),
    "cantho-2025": ("policies/cantho-dan-van.toml", "examples/cantho-2025/units.toml"),
}


@pytest.mark.parametrize("name", sorted(JSONL_CASES))
def test_shipped_examples_jsonl_golden(golden, name):
    """The JSON lines of each shipped example are byte-for-byte the reviewed golden file, and each
    unit record is the format's bytes."""
    policy_path, data_path = JSONL_CASES[name]
    policy = load_policy(ROOT / policy_path)
    result = evaluate(policy, load_data(ROOT / data_path, policy))
    golden.check(GOLDEN / f"{name}.jsonl", render(result, "jsonl"))
    check(policy, [u for c in result.clusters for u in c.units])


@pytest.fixture(scope="module")
def example_units(example_policy):
    data = parse_data(generate.make_csv(1500, seed=5), example_policy, file="g.csv", format="csv")
    return [u for c in evaluate(example_policy, data).clusters for u in c.units]


@pytest.fixture(scope="module")
def large():
    policy = parse_policy(large_policy.make_policy().encode("utf-8"), file="large.toml")
    data = parse_data(large_policy.make_csv(600, seed=9), policy, file="l.csv", format="csv")
    return policy, [u for c in evaluate(policy, data).clusters for u in c.units]


def edge_units(policy, rows):
    lines = "\n".join(f'[[units]]\nid = "u{i}"\nname = "U {i}"\na = {a}\nb = {b}\nflag = {str(flag).lower()}'
                      for i, (a, b, flag) in enumerate(rows))
    data = f'[cluster]\nid = "c"\nname = "C"\nyear = 2024\n\n{lines}\n'.encode()
    return [u for c in evaluate(policy, parse_data(data, policy, file="edge.toml", format="toml")).clusters
            for u in c.units]


@pytest.fixture(scope="module")
def edge():
    policy = parse_policy(EDGE_POLICY.encode(), file="edge.toml")
    rows = [(a, b, flag) for a in ("0", "-0", "0.0", "-0.00", "2", "2.0", "2.50", "-7.125", "1E+2", "0E+3")
            for b in ("1", "1.0", "-0.5", "3") for flag in (True, False)]
    return policy, edge_units(policy, rows + rows[::-1])  # each entry both made and remembered


def test_records_are_the_format_bytes(example_policy, example_units, large, edge):
    """On generated units of the example and the large policy, and on zeros of either sign and
    every exponent: the format's bytes, made and then remembered."""
    for policy, units in ((example_policy, example_units), large, edge):
        check(policy, units)
    assert any('"a":"-0"' in record(edge[0], u) for u in edge[1])


def _with_score(unit, **changes):
    return attrs.evolve(unit, placed=attrs.evolve(unit.placed, score=attrs.evolve(unit.score, **changes)))


def _edge_variants(unit):
    """The unit with one odd value at a time, in each field the writer writes itself."""
    numbers = [Decimal(0), Decimal("-0"), Decimal("0E+3"), Decimal("-0E-9"), Decimal("-0.004"), Decimal("-0.005"),
               Decimal("2.675"), Decimal("-2.675"), Decimal("1E+3"), Decimal("15E-1"), Decimal("-123.456"),
               Decimal("12.345678901234567890123456789012345678901234567891")]
    variants = [attrs.evolve(unit, id=ODD), attrs.evolve(unit, name=ODD, cluster=ODD + "x"),
                attrs.evolve(unit, band=None), attrs.evolve(unit, band=ODD), attrs.evolve(unit, proposed=()),
                attrs.evolve(unit, proposed=(ODD, "a")), attrs.evolve(unit, rank=0), attrs.evolve(unit, rank=10**20),
                attrs.evolve(unit, rank=True), attrs.evolve(unit, tied=True), attrs.evolve(unit, tied=1),
                attrs.evolve(unit, titles=())]
    for n in numbers:
        variants += [attrs.evolve(unit, total=n),
                     _with_score(unit, bonus=n, bonus_sum=-n, deduction=n, deduction_sum=n, score=n,
                                 total_raw=n, total=-n)]
    variants += [_with_score(unit, band=None), _with_score(unit, band=ODD),
                 _with_score(unit, band_skipped=((ODD, "x > 1"), ("tot", "")))]
    seps = [None, Separation(unit=ODD, key=None, this=None, other=None),
            Separation(unit="u", key="total", this=Decimal("-0"), other=Decimal("0E+2")),
            Separation(unit="", key=ODD, this=Decimal("-1.005"), other=Decimal("99.995"))]
    for sep in seps:
        variants += [attrs.evolve(unit, placed=attrs.evolve(unit.placed, above=sep)),
                     attrs.evolve(unit, placed=attrs.evolve(unit.placed, below=sep))]
    groups = unit.score.group_rows
    if groups:  # group scores of every sign and exponent, and a capped flag that is not a bool
        rows = tuple((g_id, numbers[k % len(numbers)], numbers[(k + 5) % len(numbers)], k % 2 == 0)
                     for k, (g_id, *_rest) in enumerate(groups))
        variants += [_with_score(unit, group_rows=rows),
                     _with_score(unit, group_rows=((groups[0][0], Decimal(1), Decimal(1), 1), *groups[1:]))]
    return variants


def test_records_on_edge_values(example_policy, example_units, large, edge):
    """Ids, names and texts with quotes, backslashes, controls and non-ASCII; zeros of either sign
    and exponent, negative and long numbers, half-up ties; a band of None or unknown, skipped
    bands; no or odd neighbours; ints and booleans where the other is expected: the format's
    bytes, each variant beside units whose entries are remembered."""
    for policy, units in ((example_policy, example_units[:40]), (large[0], large[1][:10]), (edge[0], edge[1][:6])):
        for unit in units:
            check(policy, _edge_variants(unit))


def test_titles_of_odd_shapes(example_policy, example_units):
    """Title outcomes with quotas, runoffs, plugin checks, non-text reasons and values of unusual
    types in what a check saw: the format's bytes."""
    checks = (
        CheckOutcome(check="when", plugin="thidua_rules.builtin.titles", passed=True, reason="",
                     seen={"z": Decimal("-0"), "a": [Decimal("1.50"), ODD], ODD: None}),
        CheckOutcome(check=ODD, plugin="some_plugin", passed=1, reason=None,
                     seen={"s": frozenset({"b", "a"}), "f": 1.5, 3: "int key", "m": {"y": True, "x": 0}}),
    )
    titles = (TitleOutcome(title=ODD, status="proposed", checks=checks, quota_limit=2, quota_raw=Decimal("2.50"),
                           place=1, runoff_yes=7),
              TitleOutcome(title="t", status=ODD, checks=(), quota_limit=0, quota_raw=None, place=None),
              TitleOutcome(title="t", status="failed", checks=checks[:1]))
    check(example_policy, [attrs.evolve(unit, titles=titles + unit.titles) for unit in example_units[:20]])
    one = record(example_policy, attrs.evolve(example_units[0], titles=titles[2:]))
    assert ('"titles":[{"checks":[{"check":"when","code":"passed","params":{},"passed":true,"reason":"",'
            '"seen":{"a":["1.5","đơn \\"vị\\"\\\\\\n\u2028\\u0000\\u001f\\t\'{}"],'
            '"z":"-0","đơn \\"vị\\"\\\\\\n\u2028\\u0000\\u001f\\t\'{}":null}}],'
            '"id":"t","status":"failed"}]') in one


def test_units_with_plugins_parts_and_odd_rows(example_policy, example_units):
    """Plugin-derived inputs, band caps, a group row that is not the policy's and a value missing
    from the environment: the format's bytes; rows that do not fit the policy raise an error."""
    unit = example_units[3]
    env = dict(unit.score.env)
    del env["ad_hoc_commendations"]  # read by the bonus only: its inputs leave it out
    group_rows = unit.score.group_rows
    variants = [
        _with_score(unit, derived=(Derived(input="x", plugin=ODD, value={"v": Decimal("-0"), "s": {2, 1}}),)),
        _with_score(unit, band_caps=(BandCap(plugin="p", band="tot", reason=ODD),)),
        _with_score(unit, group_rows=(("other", *group_rows[0][1:]), *group_rows[1:])),
        _with_score(unit, env=env),
    ]
    check(example_policy, variants)
    derived = record(example_policy, variants[0])
    assert '"explanation":{"band":' in derived
    assert '"derived":[{"input":"x","plugin":' in derived and '"value":{"s":[1,2],"v":"-0"}}]' in derived
    assert '"caps":[{"ceiling":"tot","code":"plugin_text","params":{"text":' in record(example_policy, variants[1])
    assert '"inputs":{}' in record(example_policy, variants[3])
    for rows in ("criterion_rows", "bonus_rows", "deduction_rows", "group_rows"):
        short = _with_score(unit, **{rows: getattr(unit.score, rows)[:-1]})
        with pytest.raises(ValueError):
            record(example_policy, short)


def test_plugin_criterion_facts_of_odd_shapes():
    """A plugin's criterion (never remembered) with facts holding sets, floats, non-text keys
    and nested values: the format's bytes."""
    policy = load_policy(ROOT / "policies" / "research-khcn-2023.toml")
    units = [u for c in evaluate(policy, load_data(ROOT / "examples" / "research-khcn-2023" / "units.toml",
                                                   policy)).clusters for u in c.units]
    plan = _plan(policy)
    plugin_rows = [i for i, memo in enumerate(plan.criterion_memos) if memo is None]
    assert plugin_rows
    facts = [{"s": {3, 1}, "f": 1.5, 2: "x"}, {"a": (Decimal("-0"), ODD)}, {}, {ODD: {"n": None}}]
    for unit in units:
        variants = []
        for odd in facts:
            rows = list(unit.score.criterion_rows)
            for i in plugin_rows:
                rows[i] = (*rows[i][:5], odd, rows[i][6])
            variants.append(_with_score(unit, criterion_rows=tuple(rows)))
        check(policy, [unit, *variants])
        assert '"facts":{"a":["-0",' in record(policy, variants[1])


def test_number_texts_match_fmt():
    """The document's number texts are ``decimals.fmt``'s, for zeros of either sign and any
    exponent, equal numbers written differently and half-up ties, at several precisions, made
    and then remembered."""
    from thidua_rules.report.document import _Plan

    numbers = [Decimal(s) for s in ("0", "-0", "0.000", "-0.000", "0E+5", "-0E-7", "-0.004", "-0.005", "0.005",
                                    "1.5", "1.50", "15E-1", "1E+2", "100", "2.675", "-2.675", "2.665",
                                    "99.995", "-99.995", "123456789.123456789")]
    for precision in (0, 1, 2, 3):
        policy = parse_policy(EDGE_POLICY.replace("precision = 1", f"precision = {precision}").encode(),
                              file="edge.toml")
        plan = _Plan(policy)
        for _ in range(2):
            for n in numbers:
                assert plan.fmt(n) == fmt(n, precision), (precision, n)


def test_checks_remembered_by_content_keep_kinds_and_signs(example_policy, example_units):
    """Checks that differ only in a value's kind or a zero's sign (``Decimal(1)``, ``True``, ``1``;
    ``0`` and ``-0``; a text and a list of it) get their own entries, each the format's bytes."""
    seens = [{"x": Decimal(0)}, {"x": Decimal("-0")}, {"x": Decimal("0E+2")}, {"x": Decimal(1)},
             {"x": Decimal("1.0")}, {"x": True}, {"x": 1}, {"x": "a"}, {"x": ["a"]}, {"x": ("a",)},
             {"x": [Decimal(1)]}, {"x": [True]}, {"x": "a", "y": Decimal("-2.50")}, {"y": Decimal("-2.50"), "x": "a"},
             {}, {1: "a"}, {"x": None}, {"x": {"a": 1}}]
    shown = ['"0"', '"-0"', '"0"', '"1"', '"1"', "true", "1", '"a"', '["a"]', '["a"]', '["1"]', "[true]"]
    unit = example_units[0]
    for _ in range(3):  # made, remembered (and shared), shared
        for passed in (True, False, 1):
            for k, seen in enumerate(seens):
                # fresh objects each time: alike in content, never the same object
                outcome = CheckOutcome(check="when", plugin="thidua_rules.builtin.titles", passed=passed,
                                       reason="", seen=dict(seen))
                variant = attrs.evolve(unit, titles=(TitleOutcome(title="t", status="failed", checks=(outcome,)),))
                check(example_policy, [variant])
                if k < len(shown):
                    assert f'"seen":{{"x":{shown[k]}}}' in record(example_policy, variant), (passed, seen)


def test_shared_entries_are_read_only(example_policy, example_units):
    """Entries many units hold are one object, which cannot be changed in place (a change would
    show in every unit holding it); the rest of a unit's entry is its own."""
    from thidua_rules.report.shared import Shared

    unit = example_units[0]
    made, first, second = (_unit(example_policy, unit) for _ in range(3))  # made, then met twice
    shared = [c for c, d in zip(first["explanation"]["criteria"], second["explanation"]["criteria"], strict=True)
              if c is d]
    assert len(shared) == len(example_policy.criteria) and all(type(c) is Shared for c in shared)
    assert [dict(c) for c in shared] == made["explanation"]["criteria"]
    with pytest.raises(TypeError):
        shared[0]["score"] = "0"
    first["explanation"]["score"] = "changed"  # a unit's own parts are plain dicts
    assert second["explanation"]["score"] != "changed"
