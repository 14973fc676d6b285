"""Generated expression functions give exactly what the closure tree gives: values and errors.

A compiled expression's ``_fn`` is one generated Python function; the closure tree it falls back
to on any exception is its ``__wrapped__``. Both are run on the same environments, under the
engine's context and under callers' contexts with other precision and no traps, and must agree
on the value (type, ``==`` and digits), the error (type, message, offsets) and the context flags.
"""

from __future__ import annotations

import decimal
import random
from decimal import Decimal
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
    compile_expression,
)
from thidua_rules.expressions import compiler as compiler_module

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


def _flaky_impl() -> Any:
    calls = []

    def impl(value: Decimal) -> Decimal:
        calls.append(value)
        if len(calls) % 2:
            raise TypeError("odd call")
        return value + 1

    return impl


FUNCTIONS = {spec.name: spec for spec in BUILTIN_FUNCTIONS}
FUNCTIONS["oops"] = FunctionSpec(name="oops", impl=lambda value: value.no_such_method(),
                                 params=("number",), returns="number", plugin="test")

EDGE_NUMBERS = [
    "0", "-0", "1", "-1", "2", "0.5", "-0.5", "0.1", "3", "10", "100", "0.9", "1.5", "28", "29",
    "12345678901234567890123456789012345678901234567890",
    "-9999999999999999999999999999.99999999999999999999",
    "3.14159265358979323846264338327950288419716939937510582097494459",
    "0.000000000000000000000000000000000000000000000000001",
    "1E+50", "-1E+50", "1.000", "2.50", "7E-3",
]

EXPRESSIONS = [
    # arithmetic, unary, division by names and by constants
    "x + y", "x - y - z", "x - (y - z)", "x * y / z", "x / (y * 0.9)", "-x", "-(-x)", "+x",
    "- x * - y", "-(x + y) * z", "15 * members_advanced / (members * 0.9)",
    "(x / y) / (z / (x / y))", "x / 3", "1 / x", "x * 1.000 + 0", "2.50 * x - 0.007",
    "criterion.chi_tieu / members * 100",
    # comparisons, chains, in / not in
    "x < y", "x <= y", "x == y", "x != 0", "0 < x < y <= z", "x < y > z", "x == y == z",
    "band == 'tot'", "band != 'xuat_sac'", "label == 'a'", "t == f", "(x < 1) == (y > 2)",
    "band in ['xuat_sac', 'tot']", "band not in ['xuat_sac', 'tot']", "x in [1, 2, 0.5]",
    "x in [y, z]", "1 in [x, y]", "label in tags", "label not in tags", "'a' in tags",
    "x in [1, 2] in [[1, 2], [3]]", "[x] in [[0], [1], [2]]", "[x, 1] == [1, x]",
    "tags == ['a', 'b']", "(band in ['tot']) == t",
    # booleans
    "t", "not t", "not not t", "t and f", "t or f", "t and f and t", "t or f or t",
    "not t and t or f and not f", "t and (f or t or f)", "x > 0 and y > 0 and z > 0",
    "x > 0 or y / x > 1", "x == 0 or y / x > 1", "not (x < 1) == t",
    "band in ['xuat_sac', 'tot'] and members_advanced / members > 0.5",
    # if-else
    "x if t else y", "x if x > y else y", "(1 if t else 2) if (t if f else t) else (3 if f else 4)",
    "x / y if y != 0 else 0", "band if t else label", "tags if t else ['c']",
    "[x, y] if f else [z]",
    # calls, nested
    "min(x, y)", "max(x, y, z, 0)", "abs(x - y)", "floor(x / 3)", "ceil(-x / 3)",
    "round(x, 2)", "round(x / y, 2)", "round(x, y)", "clamp(x, y, z)", "clamp(x, 0, 10)",
    "round(min(x * 2, members / 10) + max(0, x - 1), 2) if x > 0 and x < 100 else 0",
    "max(min(x, y), min(y, z)) - abs(floor(z) - ceil(x))", "round(clamp(x / 7, -1, 1), 3)",
    "oops(x) if f else x",
    # history functions
    "consecutive_years(band == 'xuat_sac') >= 2",
    "consecutive_years(band == 'xuat_sac' and 'co' in titles) + 1",
    "count_years(t, 3) >= 2 and consecutive_years(t) < 5",
    "consecutive_years_since(t, 'co') if t else count_years(f, x)",
    "min(consecutive_years(t), 3) * x",
]


def compile_(source: str) -> CompiledExpression:
    return compile_expression(source, names=NAMES, functions=FUNCTIONS,
                              history_names=HISTORY_NAMES)


def slow(fn: Any) -> Any:
    """The closure tree behind a generated function (a closure is its own tree)."""
    return getattr(fn, "__wrapped__", fn)


def random_number(rng: random.Random) -> Decimal:
    if rng.random() < 0.6:
        return Decimal(rng.choice(EDGE_NUMBERS))
    digits = "".join(rng.choice("0123456789") for _ in range(rng.randint(1, 40)))
    return Decimal(rng.choice(["", "-"]) + digits).scaleb(-rng.randint(0, 30))


def random_env(rng: random.Random) -> dict[str, Any]:
    env: dict[str, Any] = {name: random_number(rng) for name in NUMBERS}
    env.update(t=rng.random() < 0.5, f=rng.random() < 0.5, band=rng.choice(BANDS),
               label=rng.choice(["a", "b", "c", ""]),
               tags=tuple(rng.sample(["a", "b", "c"], rng.randint(0, 3))),
               titles=tuple(rng.sample(["co", "bang_khen"], rng.randint(0, 2))))
    return env


def random_ctx(rng: random.Random, env: dict[str, Any]) -> EvalContext | None:
    if rng.random() < 0.1:
        return None
    history = {2022 - back: random_env(rng) for back in range(1, rng.randint(1, 5))}
    if rng.random() < 0.2:
        history.pop(2020, None)  # a gap ends a streak
    for year_env in history.values():
        if rng.random() < 0.1:
            del year_env["band"]  # a year lacking a name the condition reads
    return EvalContext(2022, history, counts_from=rng.choice([None, 2019, 2021]),
                       awarded=rng.choice([{}, {"co": 2020}]))


CONTEXTS = [
    ENGINE_CONTEXT,
    decimal.Context(prec=6, traps=[]),  # a caller's context without traps: no exceptions
    decimal.Context(prec=28, rounding=decimal.ROUND_DOWN, Emax=60, Emin=-60,
                    traps=[decimal.InvalidOperation, decimal.Overflow]),
]


def outcome(fn: Any, env: Any, ctx: Any, context: decimal.Context) -> tuple[Any, ...]:
    """What calling ``fn`` gives: value or error in full detail, and the flags it raised."""
    with decimal.localcontext(context) as local:
        local.clear_flags()
        try:
            value = fn(env, ctx)
        except ExpressionRuntimeError as exc:
            result: tuple[Any, ...] = ("error", type(exc), exc.message, exc.source, exc.start,
                                       exc.end, type(exc.__cause__))
        except Exception as exc:  # noqa: BLE001 - compared, not hidden
            result = ("error", type(exc), exc.args)
        else:
            result = ("value", type(value), repr(value), str(value))
            if isinstance(value, tuple):
                result += (tuple(type(item) for item in value),)
        flags = tuple(sorted(signal.__name__ for signal, on in local.flags.items() if on))
    return result, flags, value if result[0] == "value" else None


def assert_same(fn: Any, env: Any, ctx: Any, context: decimal.Context, label: str) -> str:
    fast, fast_flags, fast_value = outcome(fn, env, ctx, context)
    tree, tree_flags, tree_value = outcome(slow(fn), env, ctx, context)
    assert fast == tree, label
    assert fast_flags == tree_flags, label
    if isinstance(tree_value, Decimal) and not tree_value.is_nan():
        assert fast_value == tree_value, label
    return fast[0]


@pytest.mark.parametrize("source", EXPRESSIONS)
def test_generated_function_matches_closure_tree(source):
    expr = compile_(source)
    rng = random.Random(source)
    pieces = [expr, *expr.conjuncts(), *expr.calls()]
    kinds = set()
    for n in range(150):
        env = random_env(rng)
        ctx = random_ctx(rng, env)
        if n % 25 == 24:
            del env[rng.choice(sorted(expr.names) or ["x"])]  # a missing name: KeyError
        context = CONTEXTS[n % len(CONTEXTS)]
        for piece in pieces:
            kinds.add(assert_same(piece._fn, env, ctx, context, f"{piece.source} #{n}"))
    assert "value" in kinds


def test_every_nontrivial_expression_is_generated():
    """Generated (and compiled at the first call: the function's code then reads the env itself)."""
    for source in EXPRESSIONS:
        expr = compile_(source)
        trivial = source in ("t", "+x")  # a bare name: its closure is one call already
        assert hasattr(expr._fn, "__wrapped__") != trivial, source
        if not trivial:
            rng = random.Random(source)
            env = random_env(rng)
            outcome(expr._fn, env, random_ctx(rng, env), ENGINE_CONTEXT)  # a value or an error
            assert "_first_call" not in expr._fn.__code__.co_names, source  # compiled at that call
            assert expr._fn.__code__.co_names != ("_slow",), source  # to the generated text


def test_trivial_expressions_keep_their_closure():
    for source in ("x", "t", "band", "1 + 2", "'a'", "consecutive_years(t)", "+x", "[1, 2]"):
        assert not hasattr(compile_(source)._fn, "__wrapped__"), source


def test_parts_and_calls_are_generated():
    expr = compile_("x / y > 1 and consecutive_years(t) >= 2 and round(x / 3, 2) < 5")
    first, second, third = expr.conjuncts()
    assert hasattr(first._fn, "__wrapped__") and hasattr(third._fn, "__wrapped__")
    assert hasattr(second._fn, "__wrapped__")  # ``_c(env, ctx) >= _k``: a comparison inline
    history_call, round_call = expr.calls()
    assert not hasattr(history_call._fn, "__wrapped__")  # a single history call: its closure
    assert hasattr(round_call._fn, "__wrapped__")


# ---------------------------------------------------------------- errors

ERROR_CASES = [
    ("x / y", {"x": Decimal(1), "y": Decimal(0)}, None),
    ("x / y", {"x": Decimal(0), "y": Decimal(0)}, None),
    ("x / (y - y)", {"x": Decimal(5), "y": Decimal(3)}, None),
    ("round(x / y, 2) + 1", {"x": Decimal(1), "y": Decimal("-0")}, None),
    ("x > 0 and y / (x - 1) > 1", {"x": Decimal(1), "y": Decimal(2)}, None),
    ("round(x, y)", {"x": Decimal(1), "y": Decimal("1.5")}, None),
    ("round(x, y)", {"x": Decimal(1), "y": Decimal(29)}, None),
    ("clamp(x, y, z) * 2", {"x": Decimal(1), "y": Decimal(3), "z": Decimal(2)}, None),
    ("x * y * 10", {"x": Decimal("9E+999990"), "y": Decimal("9E+9")}, None),
    ("-x * 10", {"x": Decimal("9.99999E+999999")}, None),
    ("oops(x) if t else x", {"x": Decimal(1), "t": True}, None),
    ("consecutive_years(t) >= 2", {"t": True}, None),
    ("count_years(t, x) + 1", {"t": True, "x": Decimal("0.5")}, EvalContext(2022, {})),
    ("x + y", {"x": Decimal(1)}, None),
    ("band in ['tot'] and members > 1", {"members": Decimal(2)}, None),
]


@pytest.mark.parametrize(("source", "env", "ctx"), ERROR_CASES)
def test_errors_are_the_closure_trees(source, env, ctx):
    expr = compile_(source)
    assert hasattr(expr._fn, "__wrapped__")
    with decimal.localcontext(ENGINE_CONTEXT):
        with pytest.raises(Exception) as fast:
            expr._fn(env, ctx)
        with pytest.raises(Exception) as tree:
            slow(expr._fn)(env, ctx)
    assert type(fast.value) is type(tree.value)
    assert fast.value.args == tree.value.args
    if isinstance(tree.value, ExpressionRuntimeError):
        got, want = fast.value, tree.value
        assert (got.message, got.source, got.start, got.end) == (
            want.message, want.source, want.start, want.end)
        assert type(got.__cause__) is type(want.__cause__)
    # The closure tree ran after the handler: no "during handling of the above exception".
    assert fast.value.__context__ is None or fast.value.__context__ is fast.value.__cause__
    for context in CONTEXTS:
        assert_same(expr._fn, env, ctx, context, source)


def test_division_by_zero_message_and_offsets():
    expr = compile_("1 + x / (y - 2)")
    with decimal.localcontext(ENGINE_CONTEXT), pytest.raises(ExpressionRuntimeError) as info:
        expr.evaluate({"x": Decimal(0), "y": Decimal(2)})
    assert (info.value.message, info.value.start, info.value.end) == ("division by zero", 4, 15)


def test_a_function_failing_once_gives_the_closure_trees_value():
    spec = FunctionSpec(name="flaky", impl=_flaky_impl(), params=("number",), returns="number")
    expr = compile_expression("flaky(x) * 2", names=NAMES, functions={"flaky": spec})
    with decimal.localcontext(ENGINE_CONTEXT):
        assert expr.evaluate({"x": Decimal(1)}) == Decimal(4)


# ---------------------------------------------------------------- safety and limits

def test_user_text_never_reaches_the_generated_source():
    nasty = "x\") or __import__('os').system('true') or (\""
    expr = compile_expression(f"label == '{nasty.replace(chr(39), '')}' and x > 100000 and "
                              "criterion.chi_tieu in [1, 2]", names=NAMES, functions=FUNCTIONS)
    code = expr._fn.__code__
    assert all(not isinstance(const, (str, Decimal)) for const in code.co_consts)
    assert all(name.startswith("_") or name == "Exception" for name in code.co_names)
    assert expr._fn.__globals__["__builtins__"] == {}
    env = {"label": nasty.replace("'", ""), "x": Decimal(200000), "criterion.chi_tieu": Decimal(2)}
    with decimal.localcontext(ENGINE_CONTEXT):
        assert expr.evaluate(env) is True


def test_long_generated_text_keeps_the_closure(monkeypatch):
    monkeypatch.setattr(compiler_module, "MAX_GENERATED", 10)
    expr = compile_("x + y * z")
    with decimal.localcontext(ENGINE_CONTEXT):
        assert expr.evaluate({"x": Decimal(1), "y": Decimal(2), "z": Decimal(3)}) == Decimal(7)
    assert expr._fn.__code__.co_names == ("_slow",)  # the text was too long: the closure tree


def test_uncompilable_text_keeps_the_closure(monkeypatch):
    def refuse(*_args: Any) -> Any:
        raise RecursionError

    monkeypatch.setattr(compiler_module, "compile", refuse, raising=False)
    expr = compile_("x + y")
    env = {"x": Decimal("1.5"), "y": Decimal(2)}
    with decimal.localcontext(ENGINE_CONTEXT):
        assert expr._fn(env, None) == Decimal("3.5")  # the first call finds the text uncompilable
    assert expr._fn.__code__.co_names == ("_slow",)  # and keeps the closure tree for good


def test_long_chains_and_deep_nesting_compile():
    chain = " + ".join(["x"] * 240)
    nested = "x" + " - (x" * 30 + ")" * 30
    for source in (chain, nested):
        expr = compile_(source)
        assert hasattr(expr._fn, "__wrapped__")
        env = {"x": Decimal("1.5")}
        for context in CONTEXTS:
            assert assert_same(expr._fn, env, None, context, source) == "value"


def test_folded_constants_still_fail_at_compile_time():
    with pytest.raises(ExpressionError, match="division by zero"):
        compile_("x + 1 / 0")


# ---------------------------------------------------------------- random expressions


class _Random:
    """Random well-typed expressions over NAMES and the builtin functions."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng

    def number(self, depth: int) -> str:
        rng = self.rng
        if depth <= 0 or rng.random() < 0.25:
            return rng.choice([*NUMBERS, "0", "1", "2", "0.5", "-3", "100000000000000000000", "0.001"])
        roll = rng.randrange(7)
        if roll == 0:
            return f"-{self.number(depth - 1)}"
        if roll <= 2:
            op = rng.choice("+-*/")
            return f"({self.number(depth - 1)} {op} {self.number(depth - 1)})"
        if roll == 3:
            return f"({self.number(depth - 1)} if {self.boolean(depth - 1)} else {self.number(depth - 1)})"
        if roll == 4:
            name = rng.choice(["min", "max"])
            args = ", ".join(self.number(depth - 1) for _ in range(rng.randint(1, 3)))
            return f"{name}({args})"
        if roll == 5:
            return f"{rng.choice(['abs', 'floor', 'ceil'])}({self.number(depth - 1)})"
        return rng.choice([f"round({self.number(depth - 1)}, {rng.choice(['0', '2', 'y'])})",
                           f"clamp({self.number(depth - 1)}, 0, {self.number(depth - 1)})",
                           "consecutive_years(t or band == 'tot')"])

    def boolean(self, depth: int) -> str:
        rng = self.rng
        if depth <= 0 or rng.random() < 0.2:
            return rng.choice(["t", "f", "true", "band == 'tot'", "label in tags"])
        roll = rng.randrange(5)
        if roll == 0:
            return f"not {self.boolean(depth - 1)}"
        if roll == 1:
            op = rng.choice(["and", "or"])
            return "(" + f" {op} ".join(self.boolean(depth - 1) for _ in range(rng.randint(2, 4))) + ")"
        if roll == 2:
            ops = [rng.choice(["<", "<=", ">", ">=", "==", "!="]) for _ in range(rng.randint(1, 3))]
            text = self.number(depth - 1)
            for op in ops:
                text += f" {op} {self.number(depth - 1)}"
            return f"({text})"
        if roll == 3:
            items = ", ".join(self.number(depth - 1) for _ in range(rng.randint(1, 3)))
            return f"({self.number(depth - 1)} {rng.choice(['in', 'not in'])} [{items}])"
        return f"({self.boolean(depth - 1)} if {self.boolean(depth - 1)} else {self.boolean(depth - 1)})"


@pytest.mark.parametrize("seed", range(4))
def test_random_expressions_match_closure_tree(seed):
    rng = random.Random(seed)
    make = _Random(rng)
    compiled = 0
    while compiled < 40:
        source = make.boolean(4) if rng.random() < 0.5 else make.number(4)
        try:
            expr = compile_(source)
        except ExpressionError:
            continue  # e.g. a constant division by zero folded at compile time
        compiled += 1
        for n in range(30):
            env = random_env(rng)
            ctx = random_ctx(rng, env)
            for piece in (expr, *expr.conjuncts(), *expr.calls()):
                assert_same(piece._fn, env, ctx, CONTEXTS[n % len(CONTEXTS)], f"{source} #{n}")
