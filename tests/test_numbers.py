"""Numbers, ids and expressions at load time: the bounds of every number, shown short; huge
integers inside the readers; megabyte expressions; ids with control characters; history
functions where no history is read. (The golden cases are tests/errors/numbers_*.)"""

from __future__ import annotations

import decimal
import io
import json
import time
from decimal import Decimal

import pytest

from thidua_rules import PolicyError, evaluate, load_data, load_policy, parse_data, parse_policy, render
from thidua_rules.decimals import (
    JSON_NUMBERS,
    LARGEST,
    OutOfBounds,
    bounded_decimal,
    number_problem,
    shown_number,
)
from thidua_rules.loader.data import _load_plan
from thidua_rules.stream import evaluate_stream

from .conftest import EXAMPLE_POLICY, ROOT

TOO_LARGE = "number too large: at most 15 digits before the point (got {})"
TOO_MANY_DECIMALS = "too many decimals: at most 20 digits after the point (got {})"


@pytest.mark.parametrize(("text", "problem"), [
    pytest.param("999999999999999", "", id="15-digits"),
    pytest.param(str(LARGEST), "", id="largest"),
    pytest.param("-" + str(LARGEST), "", id="most-negative"),
    pytest.param("1000000000000000", TOO_LARGE.format("1000000000000000"), id="16-digits"),
    pytest.param("0.00000000000000000001", "", id="20-decimals"),
    pytest.param("0.000000000000000000001", TOO_MANY_DECIMALS.format("1e-21"), id="21-decimals"),
    pytest.param("2.5000000000000000000000000000", "", id="trailing-zeros-do-not-count"),
    pytest.param("0E-999999", "", id="zero-with-any-exponent"),
    pytest.param("1e5000", TOO_LARGE.format("1e+5000"), id="1e5000"),
    pytest.param("1e-999999", TOO_MANY_DECIMALS.format("1e-999999"), id="tiny"),
    pytest.param("inf", "expected a finite number, got inf", id="inf"),
    pytest.param("-Infinity", "expected a finite number, got -inf", id="minus-infinity"),
    pytest.param("NaN", "expected a finite number, got nan", id="nan"),
])
def test_the_bounds_of_every_number(text, problem):
    """At most 15 digits before the point and 20 after it, finite; the message names the bound."""
    assert number_problem(Decimal(text)) == problem


def test_integers_have_the_same_bounds():
    """An int is bounded as its Decimal is."""
    assert number_problem(10**15 - 1) == ""
    assert number_problem(-(10**15) + 1) == ""
    assert number_problem(10**15) == TOO_LARGE.format("1000000000000000")
    assert number_problem(-(10**4000)) == TOO_LARGE.format("-1.00000…e+4000")


@pytest.mark.parametrize(("value", "shown"), [
    pytest.param(Decimal("12.5"), "12.5", id="short-as-written"),
    pytest.param(Decimal("1E+5000"), "1e+5000", id="exponent"),
    pytest.param(Decimal("9" * 5000), "9.99999…e+4999", id="many-digits"),
    pytest.param(Decimal("0." + "3" * 100000), "0.333333333333333333333…", id="many-decimals"),
    pytest.param(Decimal("-1e-999999"), "-1e-999999", id="tiny"),
])
def test_a_number_in_a_message_is_short(value, shown):
    """A number is shown as written when short, else cut to its first digits (never megabytes)."""
    assert shown_number(value) == shown
    assert len(shown_number(value)) <= 24


def test_the_readers_mark_numbers_out_of_bounds():
    """parse_float / parse_constant give an OutOfBounds Decimal for a bad number, so that no fast
    path takes it for a good one; a good number is a plain Decimal (or int: integers are bounded
    where they are used)."""
    assert type(bounded_decimal("12.5")) is Decimal
    assert type(bounded_decimal("0.12345678901234567890")) is Decimal
    doc = json.loads("[1.5, 7, NaN, Infinity, -Infinity, 1e999999, 1e-999999]", **JSON_NUMBERS)
    assert doc[:2] == [Decimal("1.5"), 7] and type(doc[1]) is int
    assert all(type(v) is OutOfBounds for v in doc[2:])


def test_a_bad_cell_is_never_remembered_as_good():
    """A CSV cell out of bounds is worded every time and never kept as a known cell; a good one
    is kept."""
    policy = load_policy(EXAMPLE_POLICY)
    field = next(f for f in policy.inputs if f.id == "members")
    converter = _load_plan(policy, True).converter_of(field)
    for text in ("9" * 5000, "1" * 16, "inf"):
        for _ in range(2):
            _value, problem = converter.convert(text)
            assert problem
        assert text not in converter.known
    assert converter.convert("120") == (Decimal(120), "")
    assert converter.known["120"] == Decimal(120)


@pytest.mark.parametrize("text", ["+0000000000000000005", "-" + "0" * 30, "0" * 5000 + "7", "00000000000000000000000.5"])
def test_a_long_text_of_a_small_number_is_that_number(text):
    """Leading zeros do not count: a long text of a small number is that number."""
    from thidua_rules.loader.common import Issues
    from thidua_rules.loader.data import DataChecker

    policy = parse_policy(EXAMPLE_POLICY.read_bytes().replace(
        b'joint_activities = { type = "integer", min = 0',
        b'rate = { type = "decimal", required = false }\njoint_activities = { type = "integer", min = 0'))
    field = next(f for f in policy.inputs if f.id == ("rate" if "." in text else "joint_activities"))
    for _ in range(2):  # (the second time remembered)
        value = DataChecker(policy, Issues("x"), text_values=True).convert(field, text)
        assert value == (Decimal(text), "")
        assert type(value[0]) is Decimal


def test_a_long_integer_in_toml_is_one_syntax_line_at_its_place():
    """tomllib's ValueError for an integer of more than 4300 digits is one line with the value's place."""
    text = '[policy]\nid = "p"\nname = "P"\n[scoring]\nlimits = { a = 1, b = ' + "7" * 5000 + " }\n"
    with pytest.raises(PolicyError) as err:
        parse_policy(text.encode(), file="p.toml")
    assert err.value.lines() == [(
        "p.toml:5:23: TOML syntax: number too large: at most 15 digits before the point "
        "(got an integer of more than 4300 digits)")]


def test_a_ten_megabyte_expression_is_one_short_line():
    """The expression text is bounded (2000 characters): a 10 MB formula gives one line, quickly."""
    policy = EXAMPLE_POLICY.read_text(encoding="utf-8").replace(
        'formula = "5 * joint_activities"', 'formula = "' + "1 + " * 2_500_000 + '1"')
    start = time.perf_counter()
    with pytest.raises(PolicyError) as err:
        parse_policy(policy.encode(), file="policy.toml")
    assert time.perf_counter() - start < 10
    assert err.value.lines() == [
        "policy.toml: criteria[3](id=phoi_hop_cum).formula: expression is longer than 2000 characters (got 10000001)"]


def test_a_huge_number_in_an_extends_base_is_found_in_the_merged_policy(tmp_path):
    """Numbers are checked in the merged policy, with the base named for an entry it defines."""
    base = EXAMPLE_POLICY.read_text(encoding="utf-8").replace("points = 35", "points = 1e999999")
    (tmp_path / "base.toml").write_text(base, encoding="utf-8")
    (tmp_path / "child.toml").write_text('[policy]\nid = "child"\nname = "Child"\nextends = ["base.toml"]\n',
                                         encoding="utf-8")
    with pytest.raises(PolicyError) as err:
        load_policy(tmp_path / "child.toml", display="child.toml")
    assert err.value.lines() == [
        "child.toml: criteria[0](id=chi_tieu).points: " + TOO_LARGE.format("1e+999999") + " (defined in base.toml)"]


# ---------------------------------------------------------------- members files

MEMBERS_POLICY = ROOT / "policies" / "cum8-2022-members.toml"


def members_data(rows):
    unit = {"id": "a", "name": "A", "targets_assigned": 10, "targets_done": 10, "ad_hoc_assigned": 1,
            "ad_hoc_done": 1, "advisory_adopted": 8, "joint_activities": 3, "party_rating": "tot",
            "ad_hoc_commendations": 0, "inspection_findings": 0}
    return json.dumps({"cluster": {"id": "c", "name": "C", "year": 2022}, "units": [unit], "members": rows})


@pytest.mark.parametrize(("row", "lines"), [
    pytest.param('{"unit": "a", "id": "p1", "rating": "tot", "discipline_until": 1e999999}',
                 ["data.json: members[0](id=p1).discipline_until: " + TOO_LARGE.format("1e+999999")],
                 id="discipline-until-huge"),
    pytest.param('{"unit": "a", "id": "p1", "rating": "tot", "discipline_until": ' + "2" * 5000 + "}",
                 ["data.json: JSON syntax: " + TOO_LARGE.format("an integer of more than 4300 digits")],
                 id="discipline-until-5000-digits"),
    pytest.param('{"unit": "a", "id": "p1", "rating": "tot", "discipline_until": ' + "2" * 4000 + "}",
                 ["data.json: members[0](id=p1).discipline_until: " + TOO_LARGE.format("2.22222…e+3999")],
                 id="discipline-until-4000-digits"),
    pytest.param('{"unit": "a", "id": "p1", "rating": "tot", "discipline_until": "²"}',
                 ['data.json: members[0](id=p1).discipline_until: expected a year, got a string "²"'],
                 id="discipline-until-not-ascii-digit"),
    pytest.param('{"unit": "a", "id": "p1", "rating": "tot", "earlier": {"²": []}}',
                 ['data.json: members[0](id=p1).earlier."²": expected an earlier year than 2022'],
                 id="earlier-year-not-ascii-digit"),
    pytest.param('{"unit": "a", "id": "p1\\u001b]0;x\\u0007", "rating": "tot"}',
                 [("data.json: members[0](id=p1\\x1b]0;x\\x07).id: person id 'p1\\x1b]0;x\\x07' contains the "
                   "non-printing character '\\x1b'; ids are written without control characters")],
                 id="person-id-control-character"),
])
def test_member_numbers_and_ids(row, lines):
    """A member's numbers are bounded and its id has no control character: one line each."""
    policy = load_policy(MEMBERS_POLICY, display="cum8-2022-members.toml")
    data = members_data([]).replace('"members": []', f'"members": [{row}]')
    with pytest.raises(PolicyError) as err:
        parse_data(data.encode(), policy, file="data.json", format="json")
    assert err.value.lines() == lines


def test_history_functions_stay_allowed_in_titles_and_person_titles():
    """A title's 'when' (a unit's or a person's) may count earlier years: the shipped policies load."""
    policy = load_policy(MEMBERS_POLICY)
    assert policy.titles and policy.people is not None


#: A caller's context as different from the engine's as a host might leave it: few digits,
#: rounding down, and traps on every inexact or rounded result.
ODD_CONTEXT = decimal.Context(prec=4, rounding=decimal.ROUND_DOWN, traps=[decimal.Inexact, decimal.Rounded])


@pytest.mark.parametrize(("policy_name", "data_name"), [
    ("cum8-2022", "cum8-2022/units.toml"), ("cand-cum5-2023", "cand-cum5-2023/units.toml"),
    ("research-khcn-2023", "research-khcn-2023/units.toml")])
def test_a_callers_decimal_context_changes_nothing(policy_name, data_name):
    """Loading the policy and the data, evaluating and rendering give the same bytes (and the
    same data digest) under a caller's odd decimal context as under the default one."""
    def run():
        policy = load_policy(ROOT / "policies" / f"{policy_name}.toml")
        data = load_data(ROOT / "examples" / data_name, policy)
        result = evaluate(policy, data)
        return data.sha256, [render(result, f) for f in ("json", "jsonl", "markdown", "toml", "table")]

    expected = run()
    with decimal.localcontext(ODD_CONTEXT):
        assert run() == expected


def test_long_decimals_load_and_stream_alike_under_a_callers_context(tmp_path):
    """Figures with more digits than the caller's precision: the same values, digest and JSON
    lines, in memory and streamed (``--jobs 1`` runs in the caller's thread)."""
    policy = parse_policy(b'[policy]\nid = "p"\nname = "P"\nyear = 2024\n\n[inputs]\nx = { type = "decimal" }\n\n'
                          b'[[criteria]]\nid = "c"\nname = "C"\npoints = 10\nmethod = "formula"\nformula = "x / 3"\n',
                          file="p.toml")
    path = tmp_path / "u.csv"
    path.write_text("cluster,id,x\nk,a,1.23456789\nk,b,7.000000001\n", encoding="utf-8")

    def run():
        data = load_data(path, policy)
        out = io.StringIO()
        evaluate_stream(policy, path, out)
        return data.sha256, [dict(u.values) for u in data.clusters[0].units], render(evaluate(policy, data), "jsonl"), \
            out.getvalue()

    expected = run()
    assert expected[1] == [{"x": Decimal("1.23456789")}, {"x": Decimal("7.000000001")}]
    with decimal.localcontext(ODD_CONTEXT):
        assert run() == expected
