"""The generated unit record writer gives the straightforward writers' bytes, and its source holds
no policy or unit text."""

from __future__ import annotations

import ast
import sys
from decimal import Decimal
from pathlib import Path

import attrs
import pytest

from thidua_rules import evaluate, load_data, load_policy, parse_data, parse_policy
from thidua_rules.awards import CheckOutcome, TitleOutcome
from thidua_rules.decimals import fmt
from thidua_rules.plugins import BandCap, Derived
from thidua_rules.ranking import Separation
from thidua_rules.report import unitline
from thidua_rules.report.document import _unit
from thidua_rules.report.jsontext import compact

from .test_kernel import EDGE_POLICY as KERNEL_EDGE_POLICY

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))
import generate  # noqa: E402 - from benchmarks/, added to the path above
import large_policy  # noqa: E402

ODD = "đơn \"vị\"\\\n\u2028\x00\x1f\t'{}"  # quotes, backslash, controls, non-ASCII, braces

#: Ungrouped and gated criteria, a bonus with a condition, a total cap, no deductions, a band
#: condition (as in test_kernel), and a value that prints with its sign when zero.
EDGE_POLICY = KERNEL_EDGE_POLICY.replace('[policy]\nid = "edge"\nname = "Edge cases"\n',
                                         '[policy]\nid = "edge_writer"\nname = "Edge \\"writer\\""\n', 1)
assert EDGE_POLICY != KERNEL_EDGE_POLICY


def reference(policy, unit):
    return compact({"record": "unit", **_unit(policy, unit)})


def counted_writer(policy):
    """A freshly generated writer whose fallbacks to the loops are counted."""
    writer = unitline._writer(policy)
    assert writer.__name__ == "write", "the writer should be generated"
    calls = []
    loop = writer.__globals__["LOOP"]

    def counting(unit):
        calls.append(unit.id)
        return loop(unit)

    writer.__globals__["LOOP"] = counting
    return writer, calls


def edge_units(policy, rows):
    lines = "\n".join(f'[[units]]\nid = "u{i}"\nname = "U {i}"\na = {a}\nb = {b}\nflag = {str(flag).lower()}'
                      for i, (a, b, flag) in enumerate(rows))
    data = f'[cluster]\nid = "c"\nname = "C"\nyear = 2024\n\n{lines}\n'.encode()
    return [u for c in evaluate(policy, parse_data(data, policy, file="edge.toml", format="toml")).clusters
            for u in c.units]


@pytest.fixture(scope="module")
def example_units(example_policy):
    data = parse_data(generate.make_csv(1500, seed=5), example_policy, file="g.csv", format="csv")
    return [u for c in evaluate(example_policy, data).clusters for u in c.units]


@pytest.fixture(scope="module")
def large():
    policy = parse_policy(large_policy.make_policy().encode("utf-8"), file="large.toml")
    data = parse_data(large_policy.make_csv(600, seed=9), policy, file="l.csv", format="csv")
    return policy, [u for c in evaluate(policy, data).clusters for u in c.units]


@pytest.fixture(scope="module")
def edge():
    policy = parse_policy(EDGE_POLICY.encode(), file="edge.toml")
    rows = [(a, b, flag) for a in ("0", "-0", "0.0", "-0.00", "2", "2.0", "2.50", "-7.125", "1E+2", "0E+3")
            for b in ("1", "1.0", "-0.5", "3") for flag in (True, False)]
    return policy, edge_units(policy, rows + rows[::-1])  # each text both made and remembered


def test_writer_matches_the_loops_and_the_document_without_falling_back(example_policy, example_units, large,
                                                                         edge):
    """On generated units of the example and the large policy, and on zeros of either sign and
    every exponent, the generated writer writes every unit itself, with the exact bytes of the
    encoded document entry and of the straightforward writer (twice: made, then remembered)."""
    for policy, units in ((example_policy, example_units), large, edge):
        writer, calls = counted_writer(policy)
        for _ in range(2):
            for unit in units:
                expected = reference(policy, unit)
                assert writer(unit) == expected, unit.id
                assert unitline.unit_line_loop(policy, unit) == expected, unit.id
        assert calls == []
    assert any('"a":"-0"' in reference(edge[0], u) for u in edge[1])


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


def test_writer_on_edge_values(example_policy, example_units, large, edge):
    """Ids, names and texts with quotes, backslashes, controls and non-ASCII; zeros of either sign
    and exponent, negative and long numbers, half-up ties; a band of None or unknown, skipped
    bands; no or odd neighbours; ints and booleans where the other is expected: exact bytes,
    written without falling back."""
    for policy, units in ((example_policy, example_units[:40]), (large[0], large[1][:10]), (edge[0], edge[1][:6])):
        writer, calls = counted_writer(policy)
        for unit in units:
            for variant in _edge_variants(unit):
                assert writer(variant) == reference(policy, variant), variant.id
        assert calls == []


def test_titles_of_odd_shapes(example_policy, example_units):
    """Title outcomes with quotas, runoffs, plugin checks, non-text reasons and values of unusual
    types in what a check saw are written as the document encodes them."""
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
    writer, calls = counted_writer(example_policy)
    for unit in example_units[:20]:
        variant = attrs.evolve(unit, titles=titles + unit.titles)
        for _ in range(2):
            assert writer(variant) == reference(example_policy, variant), unit.id
    assert calls == []


def test_unusual_units_go_to_the_loops(example_policy, example_units):
    """Plugin-derived inputs, band caps, a group row that is not the policy's and a value missing
    from the environment are written by the straightforward writer, with the document's bytes;
    rows that do not fit the policy raise its error."""
    writer, calls = counted_writer(example_policy)
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
    for variant in variants:
        assert writer(variant) == reference(example_policy, variant)
    assert len(calls) == len(variants)
    short = _with_score(unit, criterion_rows=unit.score.criterion_rows[:-1])
    with pytest.raises(ValueError):
        reference(example_policy, short)
    with pytest.raises(ValueError):
        writer(short)


def test_plugin_criterion_facts_of_odd_shapes():
    """A plugin's criterion (never remembered) with facts holding sets, floats, non-text keys
    and nested values: the document's bytes."""
    policy = load_policy(ROOT / "policies" / "research-khcn-2023.toml")
    units = [u for c in evaluate(policy, load_data(ROOT / "examples" / "research-khcn-2023" / "units.toml",
                                                   policy)).clusters for u in c.units]
    plan = unitline._line_plan(policy)
    plugin_rows = [i for i, memo in enumerate(plan.criterion_memo) if memo is None]
    assert plugin_rows
    writer, calls = counted_writer(policy)
    facts = [{"s": {3, 1}, "f": 1.5, 2: "x"}, {"a": (Decimal("-0"), ODD)}, {}, {ODD: {"n": None}}]
    for unit in units:
        assert writer(unit) == reference(policy, unit)
        for odd in facts:
            rows = list(unit.score.criterion_rows)
            for i in plugin_rows:
                rows[i] = (*rows[i][:5], odd, rows[i][6])
            variant = _with_score(unit, criterion_rows=tuple(rows))
            assert writer(variant) == reference(policy, variant), unit.id
    assert calls == []


def test_shipped_examples_through_the_writer():
    """Every shipped example policy and data, plugins included: the document's bytes."""
    for policy_name, data_name in (("cand-cum5-2023", "cand-cum5-2023/units.toml"),
                                   ("research-khcn-2023", "research-khcn-2023/units.toml"),
                                   ("cantho-dan-van", "cantho-2025/units.toml"),
                                   ("cum8-2022", "cum8-2022/units.toml"),
                                   ("bca-cum8", "cum8-2022/units.toml")):
        policy = load_policy(ROOT / "policies" / f"{policy_name}.toml")
        writer, _calls = counted_writer(policy)
        for unit in (u for c in evaluate(policy, load_data(ROOT / "examples" / data_name, policy)).clusters
                     for u in c.units):
            assert writer(unit) == unitline.unit_line(policy, unit) == reference(policy, unit), unit.id


def test_writer_source_holds_no_text(example_policy, example_units, large, edge):
    """The generated source has no string or number literal (but 0 and 1), and none of its names is a
    policy's or a unit's text: ids, names, key names and numbers are all bound as constants."""
    for policy, units in ((example_policy, example_units), large, edge):
        writer = unitline._writer(policy)
        for unit in units[:5]:
            writer(attrs.evolve(unit, id=ODD, name=ODD))
        tree = ast.parse(writer.source)
        constants = [node.value for node in ast.walk(tree) if isinstance(node, ast.Constant)]
        # only the language's own: ``is None``, ``is True``, ``hit[0]``
        assert all(value is None or (type(value) in (bool, int) and value in (0, 1)) for value in constants)
        names = {node.id for node in ast.walk(tree) if isinstance(node, ast.Name)}
        texts = {policy.id, policy.name, *(c.id for c in policy.criteria), *(g.id for g in policy.groups),
                 *(b.id for b in policy.bands), *(i.id for i in policy.inputs), *(t.id for t in policy.titles),
                 *(u.id for u in units), *(u.name for u in units)}
        if policy is example_policy:  # long ids, which no generated name could be by chance
            assert not {t for t in texts if len(t) > 3 and t in writer.source}
        # The large policy's short ids (``b0``, ``d1``) may equal a generated local's name by
        # chance; none is ever read from the namespace the policy's values are bound in.
        assert not (names & texts) - {f"{k}{n}" for k in "bcd" for n in range(100)}


def test_number_memory_matches_fmt():
    """The writer's remembered number texts are ``decimals.fmt``'s, for zeros of either sign and
    any exponent, equal numbers written differently and half-up ties, at several precisions."""
    from thidua_rules.report.document import _Plan

    numbers = [Decimal(s) for s in ("0", "-0", "0.000", "-0.000", "0E+5", "-0E-7", "-0.004", "-0.005", "0.005",
                                    "1.5", "1.50", "15E-1", "1E+2", "100", "2.675", "-2.675", "2.665",
                                    "99.995", "-99.995", "123456789.123456789")]
    for precision in (0, 1, 2, 3):
        policy = parse_policy(EDGE_POLICY.replace("precision = 1", f"precision = {precision}").encode(),
                              file="edge.toml")
        plan = _Plan(policy)
        texts, missed = plan.fmt_texts, plan.fmt
        for _ in range(2):
            for n in numbers:
                assert (texts.get(n) or missed(n)) == fmt(n, precision), (precision, n)


def test_checks_remembered_by_content_keep_kinds_and_signs(example_policy, example_units):
    """Checks that differ only in a value's kind or a zero's sign (``Decimal(1)``, ``True``, ``1``;
    ``0`` and ``-0``; a text and a list of it) get their own texts, each one the document's."""
    seens = [{"x": Decimal(0)}, {"x": Decimal("-0")}, {"x": Decimal("0E+2")}, {"x": Decimal(1)},
             {"x": Decimal("1.0")}, {"x": True}, {"x": 1}, {"x": "a"}, {"x": ["a"]}, {"x": ("a",)},
             {"x": [Decimal(1)]}, {"x": [True]}, {"x": "a", "y": Decimal("-2.50")}, {"y": Decimal("-2.50"), "x": "a"},
             {}, {1: "a"}, {"x": None}, {"x": {"a": 1}}]
    writer, calls = counted_writer(example_policy)
    unit = example_units[0]
    for _ in range(2):
        for passed in (True, False, 1):
            for seen in seens:
                # fresh objects each time: alike in content, never the same object
                check = CheckOutcome(check="when", plugin="thidua_rules.builtin.titles", passed=passed,
                                     reason="", seen=dict(seen))
                variant = attrs.evolve(unit, titles=(TitleOutcome(title="t", status="failed", checks=(check,)),))
                assert writer(variant) == reference(example_policy, variant), (passed, seen)
    assert calls == []
