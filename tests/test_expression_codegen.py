"""Each expression has one compiled form, a generated Python function (or, for a constant, a bare
name or a single history call, a small closure): its exact values, its errors with their messages
and offsets, its safety, its laziness and the parser's bounds, all of which it compiles."""

from __future__ import annotations

import decimal
import sys
from decimal import Decimal as D
from typing import Any

import pytest

from thidua_rules.builtin.functions import BUILTIN_FUNCTIONS
from thidua_rules.decimals import ENGINE_CONTEXT
from thidua_rules.errors import ExpressionError, ExpressionRuntimeError
from thidua_rules.expressions import (
    CompiledExpression,
    EvalContext,
    FunctionSpec,
    NameInfo,
    codegen,
    compile_expression,
)
from thidua_rules.expressions.parser import MAX_DEPTH, MAX_LENGTH, MAX_NODES

BANDS = ("xuat_sac", "tot", "hoan_thanh", "khong_hoan_thanh")
NUMBERS = ("x", "y", "z", "members", "members_advanced", "criterion.chi_tieu")
NAMES = {
    **{name: NameInfo("number") for name in NUMBERS},
    "t": NameInfo("bool"),
    "f": NameInfo("bool"),
    "band": NameInfo("text", BANDS),
    "label": NameInfo("text"),
    "tags": NameInfo("list"),
}
HISTORY_NAMES = {"titles": NameInfo("list")}
FUNCTIONS = {spec.name: spec for spec in BUILTIN_FUNCTIONS}

ENV = {"x": D(7), "y": D(3), "z": D("0.5"), "members": D(150), "members_advanced": D(140),
       "criterion.chi_tieu": D(120), "t": True, "f": False, "band": "tot", "label": "a",
       "tags": ("a", "b"), "titles": ("co",)}
CTX = EvalContext(2022, {
    2021: {**ENV, "band": "tot", "t": True, "f": True, "titles": ()},
    2020: {**ENV, "band": "xuat_sac", "t": False, "f": True, "titles": ("co",)},
    2019: {**ENV, "t": True, "f": True},
})


def compile_(source: str, functions: Any = None) -> CompiledExpression:
    return compile_expression(source, names=NAMES, functions=functions or FUNCTIONS,
                              history_names=HISTORY_NAMES)


def evaluate(expression: CompiledExpression, env: Any, ctx: Any = CTX) -> Any:
    with decimal.localcontext(ENGINE_CONTEXT):
        return expression.evaluate(env, ctx)


def failure(source: str, env: Any, ctx: Any = CTX, functions: Any = None) -> tuple[Any, ...]:
    """What evaluating ``source`` raises: a runtime error's message, offsets and cause, or the
    name of any other exception, which goes on unchanged."""
    try:
        value = evaluate(compile_(source, functions), env, ctx)
    except ExpressionRuntimeError as exc:
        assert exc.source == source
        assert exc.__context__ is exc.__cause__  # raised once, not while handling another error
        return (exc.message, exc.start, exc.end,
                None if exc.__cause__ is None else type(exc.__cause__).__name__)
    except Exception as exc:  # noqa: BLE001 - named, not hidden
        return (type(exc).__name__,)
    return ("value", value)


# ---------------------------------------------------------------- values

VALUES = [
    ('x + y', D('10')),
    ('x - y - z', D('3.5')),
    ('x - (y - z)', D('4.5')),
    ('x * y / z', D('42')),
    ('x / (y * 0.9)', D('2.5925925925925925925925925925925925925925925925926')),
    ('-x', D('-7')),
    ('-(-x)', D('7')),
    ('+x', D('7')),
    ('- x * - y', D('21')),
    ('-(x + y) * z', D('-5.0')),
    ('15 * members_advanced / (members * 0.9)', D('15.555555555555555555555555555555555555555555555556')),
    ('(x / y) / (z / (x / y))', D('10.888888888888888888888888888888888888888888888888')),
    ('x / 3', D('2.3333333333333333333333333333333333333333333333333')),
    ('1 / x', D('0.14285714285714285714285714285714285714285714285714')),
    ('x * 1.000 + 0', D('7.000')),
    ('2.50 * x - 0.007', D('17.493')),
    ('criterion.chi_tieu / members * 100', D('80.0')),
    ('x < y', False),
    ('0 < z < y <= x', True),
    ('x < y > z', False),
    ('x == y == z', False),
    ("band == 'tot'", True),
    ("band != 'xuat_sac'", True),
    ('t == f', False),
    ('(x < 1) == (y > 2)', False),
    ("band in ['xuat_sac', 'tot']", True),
    ("band not in ['xuat_sac', 'tot']", False),
    ('x in [1, 2, 7.0]', True),
    ('x in [y, z]', False),
    ('label in tags', True),
    ("'c' not in tags", True),
    ('x in [1, 2] in [[1, 2], [3]]', False),
    ('[x, 1] == [1, x]', False),
    ("tags == ['a', 'b']", True),
    ('not t and t or f and not f', False),
    ('t and f and t', False),
    ('t or f or t', True),
    ('t and (f or t or f)', True),
    ('x > 0 and y > 0 and z > 0', True),
    ('x > 0 or y / x > 1', True),
    ('x if t else y', D('7')),
    ('(1 if t else 2) if (t if f else t) else (3 if f else 4)', D('1')),
    ('x / y if y != 0 else 0', D('2.3333333333333333333333333333333333333333333333333')),
    ("tags if f else ['c']", ('c',)),
    ('[x, y] if t else [z]', (D('7'), D('3'))),
    ('min(x, y)', D('3')),
    ('max(x, y, z, 0)', D('7')),
    ('abs(z - x)', D('6.5')),
    ('floor(x / 3)', D('2')),
    ('ceil(-x / 3)', D('-2')),
    ('round(x / y, 2)', D('2.33')),
    ('round(x, y)', D('7.000')),
    ('clamp(x, y, 10)', D('7')),
    ('round(min(x * 2, members / 10) + max(0, x - 1), 2) if x > 0 and x < 100 else 0', D('20.00')),
    ('max(min(x, y), min(y, z)) - abs(floor(z) - ceil(x))', D('-4')),
    ('round(clamp(x / 7, -1, 1), 3)', D('1.000')),
    ('consecutive_years(t)', D('2')),
    ("consecutive_years(band == 'tot') + 1", D('3')),
    ('count_years(t, 3) >= 2 and consecutive_years(t) < 5', True),
    ("consecutive_years_since(f, 'co')", D('0')),
    ('min(consecutive_years(f), 3) * x', D('0')),
    ("count_years('co' in titles, x) / 2", D('1.5')),
]


@pytest.mark.parametrize(("source", "expected"), VALUES)
def test_values(source, expected):
    expression = compile_(source)
    value = evaluate(expression, ENV)
    assert value == expected and type(value) is type(expected)
    assert repr(value) == repr(expected)  # the same digits and exponent
    if isinstance(value, tuple):
        assert [type(item) for item in value] == [type(item) for item in expected]
    assert evaluate(expression, ENV) == expected  # the first call compiled it; the same again


@pytest.mark.parametrize(("source", "expected"), VALUES)
def test_parts_and_calls_give_their_values(source, expected):
    """The parts of a top-level ``and`` and the outer calls are generated functions of their own."""
    expression = compile_(source)
    for piece in (*expression.conjuncts(), *expression.calls()):
        alone = compile_(piece.source)
        assert repr(evaluate(piece, ENV)) == repr(evaluate(alone, ENV)), piece.source


# ---------------------------------------------------------------- errors

#: (source, env changes, with history, what it raises). A changed value of ``None`` removes the
#: name. Each error names the operation that failed: an arithmetic operator reports the Decimal
#: errors of its operands too, a call its arguments' too, a division by a variable only its own.
ERRORS = [
    ('x / y', {'y': D('0')}, False, ('division by zero', 0, 5, None)),
    ('x / y', {'x': D('0'), 'y': D('0')}, False, ('division by zero', 0, 5, None)),
    ('x / (y - y)', {}, False, ('division by zero', 0, 11, None)),
    ('round(x / y, 2) + 1', {'y': D('-0')}, False, ('division by zero', 6, 11, None)),
    ('x > 0 and y / (x - 7) > 1', {}, False, ('division by zero', 10, 21, None)),
    ('1 + x / (y - 3) * 2', {}, False, ('division by zero', 4, 15, None)),
    ('round(x, y)', {'y': D('1.5')}, False, ('round() needs a whole number of places from 0 to 28', 0, 11, 'ValueError')),
    ('round(x, y)', {'y': D('29')}, False, ('round() needs a whole number of places from 0 to 28', 0, 11, 'ValueError')),
    ('clamp(x, y, z) * 2', {}, False, ('clamp() needs lo <= hi', 0, 14, 'ValueError')),
    ('x * y * 10', {'x': D('9E+999990'), 'y': D('9E+9')}, False, ('arithmetic overflow', 0, 5, 'Overflow')),
    ('x * y * 10', {'x': D('9E+999990'), 'y': D('9E+8')}, False, ('arithmetic overflow', 0, 10, 'Overflow')),
    ('-x * 10', {'x': D('9.99999E+999999')}, False, ('arithmetic overflow', 0, 7, 'Overflow')),
    ('-x', {'x': D('sNaN')}, False, ('invalid arithmetic', 0, 2, 'InvalidOperation')),
    ('x - y', {'x': D('Infinity'), 'y': D('Infinity')}, False, ('invalid arithmetic', 0, 5, 'InvalidOperation')),
    ('z + (x - y) * 2', {'x': D('Infinity'), 'y': D('Infinity')}, False, ('invalid arithmetic', 4, 11, 'InvalidOperation')),
    ('z + abs(x - y)', {'x': D('Infinity'), 'y': D('Infinity')}, False, ('invalid arithmetic', 8, 13, 'InvalidOperation')),
    ('z + x / y', {'x': D('Infinity'), 'y': D('Infinity')}, False, ('invalid arithmetic', 4, 9, 'InvalidOperation')),
    ('z + (1 if x < y else 2) / z', {'x': D('NaN')}, False, ('invalid arithmetic', 0, 27, 'InvalidOperation')),
    ('z + z / (1 if x < y else 2)', {'x': D('NaN')}, False, ('invalid arithmetic', 0, 27, 'InvalidOperation')),
    ('(1 if x < y else 2) / z', {'x': D('NaN')}, False, ('InvalidOperation',)),
    ('z * (1 if x < y else 2)', {'x': D('NaN')}, False, ('invalid arithmetic', 0, 23, 'InvalidOperation')),
    ('max(z, 1 if x < y else 2)', {'x': D('NaN')}, False, ('invalid arithmetic', 0, 25, 'InvalidOperation')),
    ('x < y', {'x': D('NaN')}, False, ('InvalidOperation',)),
    ('x in [y, z]', {'x': D('sNaN')}, False, ('InvalidOperation',)),
    ('round(x, 2) if t else x', {'x': D('1E+60')}, False, ('invalid arithmetic', 0, 11, 'InvalidOperation')),
    ('1 + round(x, 2)', {'x': D('1E+60')}, False, ('invalid arithmetic', 4, 15, 'InvalidOperation')),
    ('floor(x) + 1', {'x': D('1E+60')}, False, ('value', D('1.0000000000000000000000000000000000000000000000000E+60'))),
    ('x + y', {'y': None}, False, ('KeyError',)),
    ("band in ['tot'] and members > 1", {'band': None}, False, ('KeyError',)),
    ('x + y', {'y': '3'}, False, ('TypeError',)),
    ('x < y', {'y': '3'}, False, ('TypeError',)),
    ('consecutive_years(t) >= 2', {}, False, ("consecutive_years() needs the unit's history", 0, 20, None)),
    ("x > 1 and consecutive_years(band == 'tot') >= 2", {}, False, ("consecutive_years() needs the unit's history", 10, 42, None)),
    ('count_years(t, x) + 1', {'x': D('0.5')}, True, ('count_years() needs a whole number of years, at least 1', 0, 17, 'ValueError')),
    ('count_years(t, y - 3) + 1', {}, True, ('count_years() needs a whole number of years, at least 1', 0, 21, 'ValueError')),
    ('consecutive_years(10 / (x - 7) > 1) > 0', {}, True, ('division by zero', 18, 30, None)),
    ("consecutive_years('co' in titles)", {'titles': None}, True, ("this year does not give 'titles'", 0, 33, 'ValueError')),
    ('1 + consecutive_years(x / y > 1)', {'y': D('0')}, True, ('division by zero', 22, 27, None)),
]


@pytest.mark.parametrize(("source", "changes", "history", "expected"), ERRORS)
def test_errors(source, changes, history, expected):
    env = {**ENV, **changes}
    for name in [name for name, value in changes.items() if value is None]:
        del env[name]
    assert failure(source, env, CTX if history else None) == expected


def test_a_failing_call_runs_once():
    """No second evaluation: a plugin function's own error goes on, after one call."""
    calls = []

    def flaky(value: D) -> D:
        calls.append(value)
        raise TypeError("odd call")

    functions = {**FUNCTIONS, "flaky": FunctionSpec(name="flaky", impl=flaky, params=("number",),
                                                    returns="number")}
    assert failure("flaky(x) * 2", ENV, None, functions) == ("TypeError",)
    assert calls == [D(7)]


def test_plugin_function_errors_name_the_call():
    def share(a: D, b: D) -> D:
        return a / b

    def picky(a: D) -> D:
        raise ValueError("picky() wants something else")

    functions = {**FUNCTIONS,
                 "share": FunctionSpec(name="share", impl=share, params=("number", "number"),
                                       returns="number"),
                 "picky": FunctionSpec(name="picky", impl=picky, params=("number",),
                                       returns="number")}
    env = {**ENV, "z": D(0)}
    assert failure("1 + share(x, z)", env, None, functions) == (
        "division by zero", 4, 15, "DivisionByZero")
    assert failure("picky(x) > 1", env, None, functions) == (
        "picky() wants something else", 0, 8, "ValueError")
    assert failure("1 + share(x / z, 1)", env, None, functions) == ("division by zero", 10, 15, None)


def test_a_callers_context_without_traps():
    """Run in a caller's context, the operations follow it; a zero divisor is refused anyway."""
    overflow = compile_("x * y")
    with decimal.localcontext(decimal.Context(prec=6, traps=[])):
        assert overflow.evaluate({"x": D("9E+999990"), "y": D("9E+9")}) == D("Infinity")
        assert compile_("x / 3").evaluate(ENV) == D("2.33333")
        with pytest.raises(ExpressionRuntimeError, match="division by zero"):
            compile_("x / y").evaluate({"x": D(1), "y": D(0)})


def test_folded_constants_still_fail_at_compile_time():
    with pytest.raises(ExpressionError, match="division by zero"):
        compile_("x + 1 / 0")


# ---------------------------------------------------------------- one form, compiled lazily


def test_trivial_expressions_are_closures():
    """A constant, a bare name, ``+x`` and a single history call need no generated text."""
    for source in ("x", "t", "band", "1 + 2", "'a'", "consecutive_years(t)", "+x", "[1, 2]"):
        code = compile_(source)._fn.__code__
        assert "_first_call" not in code.co_names and code.co_filename != "<thidua_rules expression>", source


def test_generated_at_the_first_call():
    expression = compile_("x / y > 1 and round(x / 3, 2) < 5")
    fn = expression._fn
    assert fn.__code__.co_names == ("_first_call",)  # a stub until called
    assert evaluate(expression, ENV) is True
    assert fn is expression._fn and "_first_call" not in fn.__code__.co_names
    assert {"_caught", "_report"} <= set(fn.__code__.co_names)


def test_user_text_never_reaches_the_generated_source():
    nasty = "x\") or __import__('os').system('true') or (\""
    expression = compile_expression(f"label == '{nasty.replace(chr(39), '')}' and x > 100000 and "
                                    "x / y in [1, 2]", names=NAMES, functions=FUNCTIONS)
    env = {"label": nasty.replace("'", ""), "x": D(200000), "y": D(100000)}
    assert evaluate(expression, env) is True
    code = expression._fn.__code__
    assert all(not isinstance(const, (str, D)) for const in code.co_consts)
    assert all(name.startswith("_") for name in code.co_names)
    assert expression._fn.__globals__["__builtins__"] == {}


# ---------------------------------------------------------------- the parser's bounds


def _longest_chain(op: str, name: str = "x") -> str:
    """The longest left-nested chain ``x op x op ...`` the parser accepts."""
    count = (MAX_NODES + 1) // 2  # a name and an operator per step
    while len(f" {op} ".join([name] * count)) > MAX_LENGTH:
        count -= 1
    return f" {op} ".join([name] * count)


def _deepest(opening: str, closing: str, middle: str = "x") -> str:
    return opening * (MAX_DEPTH - 1) + middle + closing * (MAX_DEPTH - 1)


def _nested(value: Any, depth: int) -> Any:
    for _ in range(depth):
        value = (value,)
    return value


BOUNDS = [
    (_longest_chain("+"), {"x": D("1.5")}, D("375.0")),
    (_longest_chain("-"), {"x": D("1.5")}, D("-372.0")),
    (_longest_chain("*"), {"x": D(1)}, D(1)),
    (_longest_chain("/"), {"x": D(1)}, D(1)),
    (_longest_chain("<"), {"x": D(1)}, False),
    (_longest_chain("and", "t"), {"t": True}, True),
    ("x" + " - (x" * (MAX_DEPTH - 1) + ")" * (MAX_DEPTH - 1), {"x": D(2)}, D(0)),
    (_deepest("abs(", ")"), {"x": D(-2)}, D(2)),
    (_deepest("round(", ", 1)"), {"x": D("2.25")}, D("2.3")),
    ("-" * (MAX_DEPTH - 1) + "x", {"x": D(3)}, D(-3)),
    (_deepest("x / (", ")"), {"x": D(2)}, D(1)),
    (_deepest("(x / ", ")"), {"x": D(2)}, D(1)),
    (_deepest("not ", "", "t"), {"t": True}, False),
    (_deepest("x if t else ", ""), {"x": D(4), "t": True}, D(4)),
    (_deepest("[", "]"), {"x": D(1)}, _nested(D(1), MAX_DEPTH - 1)),
    (_deepest("max(x, ", ")"), {"x": D(5)}, D(5)),
    ("max(" + ", ".join(["x / x"] * 166) + ")", {"x": D(3)}, D(1)),
    ("(" * (MAX_DEPTH - 1) + " + ".join(["x"] * 200) + ")" * (MAX_DEPTH - 1), {"x": D(1)}, D(200)),
    (_deepest("abs(x - ", ")") + " + " + " + ".join(["x"] * 150), {"x": D(1)}, D(150)),
]


@pytest.mark.parametrize(("source", "env", "expected"), BOUNDS)
def test_every_expression_within_the_bounds_compiles(source, env, expected):
    """At the parser's limits on size and depth the generated text still compiles (a long chain
    is split into functions of its own) and gives the exact value."""
    assert len(source) <= MAX_LENGTH
    expression = compile_(source)
    assert repr(evaluate(expression, env)) == repr(expected)


def test_errors_in_a_long_chain_name_their_operation():
    """Past the split into functions of their own, an error still names its own operation."""
    source = " + ".join(["x"] * 100 + ["x / y"] + ["x"] * 100)
    start = source.index("x / y")
    assert failure(source, {"x": D(1), "y": D(0)}, None) == ("division by zero", start, start + 5, None)
    assert failure(source, {"x": D("Infinity"), "y": D(1)}, None) == ("value", D("Infinity"))
    source = " * ".join(["x"] * 200)
    for power in (1, 31, 32, 33, 64, 150):  # the product of ``power + 1`` factors overflows
        env = {"x": D(10) ** (999_999 // (power + 1) + 1)}
        end = len(" * ".join(["x"] * (power + 1)))
        got = failure(source, env, None)
        assert got == ("arithmetic overflow", 0, end, "Overflow"), power


def test_the_split_depth_is_below_pythons_limits():
    """Three parentheses at most per tree level in one function: far from Python's 200."""
    assert codegen.SPLIT_DEPTH * 3 + 2 < 200
    assert sys.getrecursionlimit() >= 1000


def test_the_longest_chain_compiles_deep_in_a_stack():
    """Checking takes two frames per tree level and the generated text is split into functions
    of SPLIT_DEPTH levels: the longest chain compiles and runs even 300 frames down the stack."""

    def down(frames: int) -> Any:
        if frames:
            return down(frames - 1)
        return evaluate(compile_(_longest_chain("-")), {"x": D("1.5")})

    assert down(300) == D("-372.0")
