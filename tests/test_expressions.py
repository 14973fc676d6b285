"""The policy expression language: parsing, type checking, exact evaluation, errors and limits."""

from __future__ import annotations

import builtins
import decimal
from decimal import Decimal

import attrs
import pytest

from thidua_rules.builtin import functions as builtin_functions
from thidua_rules.builtin.functions import BUILTIN_FUNCTIONS
from thidua_rules.errors import (
    ExpressionError,
    ExpressionRuntimeError,
    ExpressionSyntaxError,
    ExpressionTypeError,
    UnknownName,
)
from thidua_rules.expressions import (
    CompiledExpression,
    EvalContext,
    FunctionSpec,
    NameInfo,
    compile_expression,
)
from thidua_rules.expressions.nodes import Binary, BoolOp, IfElse, Name, Number, Unary
from thidua_rules.expressions.parser import parse

BANDS = ("xuat_sac", "tot", "hoan_thanh", "khong_hoan_thanh")

NAMES = {
    "x": NameInfo("number"),
    "y": NameInfo("number"),
    "z": NameInfo("number"),
    "t": NameInfo("bool"),
    "f": NameInfo("bool"),
    "band": NameInfo("text", BANDS),
    "label": NameInfo("text"),
    "tags": NameInfo("list"),
    "awards": NameInfo("list", ("co", "bang_khen")),
    "members": NameInfo("number"),
    "members_advanced": NameInfo("number"),
    "criterion.chi_tieu": NameInfo("number"),
    "group.chuyen_mon": NameInfo("number"),
}

HISTORY_NAMES = {"titles": NameInfo("list")}

ENV = {
    "x": Decimal(2),
    "y": Decimal(3),
    "z": Decimal(4),
    "t": True,
    "f": False,
    "band": "tot",
    "label": "a",
    "tags": ("a", "b"),
    "awards": ("co",),
    "members": Decimal(150),
    "members_advanced": Decimal(140),
    "criterion.chi_tieu": Decimal(35),
    "group.chuyen_mon": Decimal(55),
}

FUNCTIONS = {spec.name: spec for spec in BUILTIN_FUNCTIONS}


def engine():
    """The context the engine evaluates in."""
    return decimal.localcontext(decimal.Context(
        prec=50, traps=[decimal.DivisionByZero, decimal.InvalidOperation, decimal.Overflow]))


def compile_(source: str, **kwargs) -> CompiledExpression:
    kwargs.setdefault("names", NAMES)
    kwargs.setdefault("functions", FUNCTIONS)
    kwargs.setdefault("history_names", HISTORY_NAMES)
    return compile_expression(source, **kwargs)


def run(source: str, env=None, ctx: EvalContext | None = None, **kwargs):
    expression = compile_(source, **kwargs)
    with engine():
        return expression.evaluate(ENV if env is None else env, ctx)


def compile_error(source: str, **kwargs) -> ExpressionError:
    with pytest.raises(ExpressionError) as info:
        compile_(source, **kwargs)
    return info.value


def runtime_error(source: str, env=None, ctx: EvalContext | None = None,
                  **kwargs) -> ExpressionRuntimeError:
    expression = compile_(source, **kwargs)
    with engine(), pytest.raises(ExpressionRuntimeError) as info:
        expression.evaluate(ENV if env is None else env, ctx)
    return info.value


# ---------------------------------------------------------------- literals and values


@pytest.mark.parametrize(("source", "expected"), [
    pytest.param("12", Decimal(12), id="integer"),
    pytest.param("0.9", Decimal("0.9"), id="decimal"),
    pytest.param("007", Decimal(7), id="leading-zeros"),
    pytest.param("'xuat_sac'", "xuat_sac", id="single-quoted"),
    pytest.param('"tot"', "tot", id="double-quoted"),
    pytest.param(r"'it\'s'", "it's", id="escaped-quote"),
    pytest.param(r'"say \"hi\""', 'say "hi"', id="escaped-double-quote"),
    pytest.param(r"'a\\b'", "a\\b", id="escaped-backslash"),
    pytest.param("''", "", id="empty-string"),
    pytest.param("true", True, id="true"),
    pytest.param("false", False, id="false"),
    pytest.param("True", True, id="True"),
    pytest.param("False", False, id="False"),
    pytest.param("[1, 2.5]", (Decimal(1), Decimal("2.5")), id="number-list"),
    pytest.param("['a', 'b',]", ("a", "b"), id="trailing-comma"),
    pytest.param("[]", (), id="empty-list"),
    pytest.param("[x, y]", (Decimal(2), Decimal(3)), id="list-of-names"),
])
def test_literal_values(source, expected):
    """Literals evaluate to Decimal, str, bool or tuple values."""
    value = run(source)
    assert value == expected
    assert type(value) is type(expected)


@pytest.mark.parametrize("source", ["12", "x + 1", "min(1, 2)", "5 if t else 0", "x * 0",
                                    "floor(2.5)", "-x"])
def test_numbers_are_always_decimal(source):
    """Every number an expression produces is a Decimal, never an int or a float."""
    assert type(run(source)) is Decimal


def test_static_types():
    """The compiled expression reports its static result type."""
    assert compile_("x + 1").type == "number"
    assert compile_("x > 1").type == "bool"
    assert compile_("band").type == "text"
    assert compile_("[1]").type == "list"
    assert compile_("label if t else band").type == "text"


# ---------------------------------------------------------------- precedence and operators


@pytest.mark.parametrize(("source", "expected"), [
    pytest.param("x + y * z", Decimal(14), id="mul-before-add"),
    pytest.param("(x + y) * z", Decimal(20), id="parentheses"),
    pytest.param("z - y - x", Decimal(-1), id="sub-left-assoc"),
    pytest.param("12 / z / y", Decimal(1), id="div-left-assoc"),
    pytest.param("-x * y", Decimal(-6), id="unary-minus-binds-tighter"),
    pytest.param("x * -y", Decimal(-6), id="unary-minus-operand"),
    pytest.param("- -x", Decimal(2), id="double-minus"),
    pytest.param("+x", Decimal(2), id="unary-plus"),
    pytest.param("x - -y", Decimal(5), id="minus-negative"),
    pytest.param("not t or t", True, id="not-before-or"),
    pytest.param("not (t or t)", False, id="not-parenthesised"),
    pytest.param("t or t and f", True, id="and-before-or"),
    pytest.param("(t or t) and f", False, id="or-parenthesised"),
    pytest.param("not x > y", True, id="comparison-before-not"),
    pytest.param("x + 1 == y", True, id="arithmetic-before-comparison"),
    pytest.param("x + 1 if t else 0", Decimal(3), id="ternary-lowest"),
    pytest.param("1 if f else 2 if t else 3", Decimal(2), id="ternary-right-assoc"),
    pytest.param("(1 if f else 2) + 10", Decimal(12), id="ternary-parenthesised"),
    pytest.param("t and not f", True, id="and-not"),
    pytest.param("not not t", True, id="double-not"),
])
def test_precedence(source, expected):
    """Operators bind as documented: ternary < or < and < not < comparison < +- < */ < unary."""
    assert run(source) == expected


def test_parse_tree_shape_and_spans():
    """The parser builds the expected nodes, with offsets into the source (parentheses kept)."""
    tree = parse("1 + (x * 2)")
    assert isinstance(tree, Binary) and tree.op == "+"
    assert (tree.start, tree.end) == (0, 11)
    assert isinstance(tree.left, Number) and tree.left.value == Decimal(1)
    assert isinstance(tree.right, Binary) and tree.right.op == "*"
    assert (tree.right.start, tree.right.end) == (4, 11)
    assert isinstance(tree.right.left, Name)
    assert (tree.right.left.start, tree.right.left.end) == (5, 6)


def test_parse_flattens_and_chains():
    """``a and b and c`` is one node with three operands; ``not`` and ternaries nest."""
    tree = parse("a and b and not c")
    assert isinstance(tree, BoolOp) and tree.op == "and" and len(tree.operands) == 3
    assert isinstance(tree.operands[2], Unary) and tree.operands[2].op == "not"
    ternary = parse("1 if a else 2 if b else 3")
    assert isinstance(ternary, IfElse) and isinstance(ternary.orelse, IfElse)


def test_nodes_are_frozen():
    """Syntax tree nodes are immutable."""
    tree = parse("x")
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        tree.start = 3  # type: ignore[misc]


@pytest.mark.parametrize(("source", "expected"), [
    pytest.param("0 < x <= 5", True, id="inside"),
    pytest.param("0 < y <= 2", False, id="above"),
    pytest.param("x < y < z", True, id="increasing"),
    pytest.param("x < z < y", False, id="second-fails"),
    pytest.param("x == 2 == x", True, id="equal-chain"),
    pytest.param("1 < 2 > 1.5", True, id="mixed-directions"),
    pytest.param("0 <= x < y <= z", True, id="four-operands"),
])
def test_chained_comparisons(source, expected):
    """``a < b <= c`` means ``a < b and b <= c``, as in Python."""
    assert run(source) == expected


def test_chained_comparison_evaluates_middle_once_and_short_circuits():
    """The middle operand of a chain is evaluated once and later links are skipped on failure."""
    calls = []

    def tick() -> Decimal:
        calls.append(1)
        return Decimal(5)

    functions = {**FUNCTIONS,
                 "tick": FunctionSpec(name="tick", impl=tick, params=(), returns="number")}
    assert run("0 < tick() < 10", functions=functions) is True
    assert len(calls) == 1
    assert run("y < x < tick()", functions=functions) is False
    assert len(calls) == 1


@pytest.mark.parametrize(("source", "expected"), [
    pytest.param("x == 2", True, id="eq-number"),
    pytest.param("x != 2", False, id="ne-number"),
    pytest.param("2.0 == x", True, id="eq-ignores-trailing-zeros"),
    pytest.param("band == 'tot'", True, id="eq-text"),
    pytest.param("t == true", True, id="eq-bool"),
    pytest.param("x >= 2", True, id="ge"),
    pytest.param("x > 2", False, id="gt"),
    pytest.param("x <= 1.99", False, id="le"),
    pytest.param("[1, 2] == [1, 2]", True, id="eq-lists"),
    pytest.param("0.1 + 0.2 == 0.3", True, id="exact-decimal-sum"),
])
def test_comparisons(source, expected):
    """Comparisons return exact booleans."""
    assert run(source) is expected


def test_and_or_short_circuit():
    """``and``/``or`` stop at the first decisive operand, so guarded divisions are safe."""
    env = {**ENV, "x": Decimal(0)}
    assert run("x != 0 and 10 / x > 1", env) is False
    assert run("x == 0 or 10 / x > 1", env) is True
    assert run("f and f and 1 / x > 0", env) is False
    assert run("t or f or 1 / x > 0", env) is True


def test_ternary_evaluates_only_the_chosen_branch():
    """``a if c else b`` evaluates ``a`` or ``b``, never both."""
    env = {**ENV, "x": Decimal(0)}
    assert run("1 if x == 0 else 10 / x", env) == Decimal(1)
    assert run("5 if members >= 3 else 0") == Decimal(5)


# ---------------------------------------------------------------- lists and membership


@pytest.mark.parametrize(("source", "expected"), [
    pytest.param("band in ['xuat_sac', 'tot']", True, id="in-literal"),
    pytest.param("band not in ['xuat_sac', 'tot']", False, id="not-in-literal"),
    pytest.param("band in ['xuat_sac']", False, id="absent"),
    pytest.param("x in [1, 2, 3]", True, id="number-in"),
    pytest.param("x in [2.00]", True, id="number-in-trailing-zeros"),
    pytest.param("x not in []", True, id="not-in-empty"),
    pytest.param("'a' in tags", True, id="in-list-name"),
    pytest.param("'z' not in tags", True, id="not-in-list-name"),
    pytest.param("label in [band, 'a']", True, id="literal-with-names"),
    pytest.param("not band in ['tot']", False, id="not-before-in"),
])
def test_membership(source, expected):
    """``in``/``not in`` test membership in a list literal or a list-typed name."""
    assert run(source) is expected


# ---------------------------------------------------------------- names


def test_qualified_names_are_flat_keys():
    """Dotted names are one identifier, looked up as the flat key of the env."""
    expression = compile_("criterion.chi_tieu > 0 and group.chuyen_mon >= 50")
    assert expression.names == frozenset({"criterion.chi_tieu", "group.chuyen_mon"})
    with engine():
        assert expression.evaluate(ENV) is True
        assert expression.evaluate({**ENV, "group.chuyen_mon": Decimal(49)}) is False


def test_names_set_includes_history_conditions():
    """``names`` lists every variable read, including those inside history conditions."""
    expression = compile_("consecutive_years(band == 'xuat_sac' and 'co' in titles) >= x")
    assert expression.names == frozenset({"band", "titles", "x"})
    assert compile_("1 + 2").names == frozenset()


def test_missing_env_name_raises_key_error():
    """A name absent from the env raises KeyError (the engine checks inputs beforehand)."""
    with pytest.raises(KeyError):
        run("x + 1", {})


# ---------------------------------------------------------------- arithmetic


def test_exact_decimal_result_of_literals():
    """A literal-only formula equals the same Decimal arithmetic in the engine context."""
    with engine():
        expected = Decimal(15) * 140 / (Decimal(150) * Decimal("0.9"))
    assert run("15 * 140 / (150 * 0.9)") == expected
    assert run("15 * 140 / (150 * 0.9)") == Decimal(
        "15.555555555555555555555555555555555555555555555556")


def test_exact_decimal_result_of_names():
    """A formula over names gives exactly the Decimal result, digit for digit."""
    value = run("15 * members_advanced / (members * 0.9)")
    with engine():
        expected = Decimal(15) * Decimal(140) / (Decimal(150) * Decimal("0.9"))
    assert value == expected
    assert str(value) == "15.555555555555555555555555555555555555555555555556"
    assert run("members_advanced / members") == Decimal(
        "0.93333333333333333333333333333333333333333333333333")


def test_division_by_zero_at_runtime_has_the_division_span():
    """A zero divisor at run time is a runtime error pointing at the division."""
    source = "15 * members_advanced / (members - 150)"
    error = runtime_error(source)
    assert error.message == "division by zero"
    assert error.source == source
    assert (error.start, error.end) == (0, len(source))


def test_zero_by_zero_is_division_by_zero():
    """0/0 is reported as division by zero, not as an invalid operation."""
    env = {**ENV, "x": Decimal(0)}
    error = runtime_error("y + x / x", env)
    assert (error.message, error.start, error.end) == ("division by zero", 4, 9)


def test_overflow_is_a_runtime_error():
    """A result beyond the context's exponent limit is 'arithmetic overflow' at the operator."""
    expression = compile_("1 + x * x")
    env = {**ENV, "x": Decimal(10) ** 6}
    traps = [decimal.DivisionByZero, decimal.InvalidOperation, decimal.Overflow]
    context = decimal.Context(prec=50, Emax=10, traps=traps)
    with decimal.localcontext(context), pytest.raises(ExpressionRuntimeError) as info:
        expression.evaluate(env)
    assert (info.value.message, info.value.start, info.value.end) == ("arithmetic overflow", 4, 9)


def test_invalid_operation_is_a_runtime_error():
    """An invalid decimal operation (infinity minus infinity) is 'invalid arithmetic'."""
    error = runtime_error("x - x", {**ENV, "x": Decimal("Infinity")})
    assert (error.message, error.start, error.end) == ("invalid arithmetic", 0, 5)


@pytest.mark.parametrize(("source", "start", "end"), [
    pytest.param("1 / 0", 0, 5, id="literal"),
    pytest.param("x / (2 - 2)", 0, 11, id="folded-divisor"),
    pytest.param("x + 0 / 0", 4, 9, id="zero-by-zero"),
    pytest.param("1 if t else 1 / 0", 12, 17, id="dead-branch"),
])
def test_constant_division_by_zero_is_a_compile_error(source, start, end):
    """Folding never hides a division by zero: a constant zero divisor fails at compile time."""
    error = compile_error(source)
    assert type(error) is ExpressionError
    assert (error.message, error.start, error.end) == ("division by zero", start, end)


def test_literal_subtrees_are_folded():
    """A literal-only expression needs no env and reads no names."""
    expression = compile_("(2 + 3) * 4 - max(1, 7) / 7")
    assert expression.names == frozenset()
    assert expression.evaluate({}) == Decimal(19)


def test_compiled_expression_is_reusable_and_frozen():
    """One compiled expression evaluates many envs and cannot be modified."""
    expression = compile_("x * 2")
    with engine():
        values = [expression.evaluate({"x": Decimal(i)}) for i in range(5)]
    assert values == [Decimal(0), Decimal(2), Decimal(4), Decimal(6), Decimal(8)]
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        expression.source = "y"  # type: ignore[misc]


# ---------------------------------------------------------------- conjuncts


def test_conjuncts_are_exact_source_slices():
    """Top-level ``and`` operands become separately compiled parts with their own text and names."""
    expression = compile_("band in ['xuat_sac', 'tot'] and members_advanced / members > 0.5")
    parts = expression.conjuncts()
    assert [part.source for part in parts] == ["band in ['xuat_sac', 'tot']",
                                               "members_advanced / members > 0.5"]
    assert [part.names for part in parts] == [frozenset({"band"}),
                                              frozenset({"members", "members_advanced"})]
    assert all(part.type == "bool" for part in parts)
    with engine():
        assert [part.evaluate({**ENV, "band": "hoan_thanh"}) for part in parts] == [False, True]


def test_conjuncts_keep_parentheses_and_strip_whitespace():
    """A parenthesised operand keeps its parentheses; surrounding whitespace and newlines go."""
    parts = compile_("  (t or f) and\n  x > 1  ").conjuncts()
    assert [part.source for part in parts] == ["(t or f)", "x > 1"]


@pytest.mark.parametrize("source", [
    pytest.param("t and f or t", id="or-on-top"),
    pytest.param("x > 1", id="comparison"),
    pytest.param("not (t and f)", id="not-of-and"),
    pytest.param("t if t and f else f", id="ternary"),
])
def test_non_and_expression_is_its_own_conjunct(source):
    """An expression whose top operator is not ``and`` returns just itself."""
    expression = compile_(source)
    assert expression.conjuncts() == (expression,)


def test_parenthesised_and_has_conjuncts():
    """Parentheses around a whole ``and`` do not hide its operands."""
    parts = compile_("(t and x > 1)").conjuncts()
    assert [part.source for part in parts] == ["t", "x > 1"]


def test_nested_conjuncts():
    """A parenthesised ``and`` operand has conjuncts of its own; a leaf part returns itself."""
    parts = compile_("(t and f) and x > 1").conjuncts()
    assert [part.source for part in parts] == ["(t and f)", "x > 1"]
    assert [part.source for part in parts[0].conjuncts()] == ["t", "f"]
    assert parts[1].conjuncts() == (parts[1],)


def test_conjunct_runtime_error_points_into_the_whole_source():
    """A part's runtime error carries the whole expression and the offsets within it."""
    source = "t and 10 / (x - 2) > 1"
    part = compile_(source).conjuncts()[1]
    assert part.source == "10 / (x - 2) > 1"
    with engine(), pytest.raises(ExpressionRuntimeError) as info:
        part.evaluate(ENV)
    assert (info.value.source, info.value.start, info.value.end) == (source, 6, 18)


# ---------------------------------------------------------------- syntax errors


@pytest.mark.parametrize(("source", "message", "start", "end"), [
    pytest.param("", "empty expression", 0, 1, id="empty"),
    pytest.param("  \n ", "empty expression", 0, 4, id="blank"),
    pytest.param("1 +", "unexpected end of expression", 3, 4, id="dangling-operator"),
    pytest.param("x[0]", "unexpected '['", 1, 2, id="subscript"),
    pytest.param("(1", "unexpected end of expression, expected ')'", 2, 3, id="unclosed-paren"),
    pytest.param("(1 2)", "unexpected '2', expected ')'", 3, 4, id="missing-operator"),
    pytest.param("[1, 2", "unexpected end of expression, expected ',' or ']'", 5, 6,
                 id="unclosed-list"),
    pytest.param("min(1 2)", "unexpected '2', expected ',' or ')'", 6, 7, id="missing-comma"),
    pytest.param("min(,)", "unexpected ','", 4, 5, id="empty-argument"),
    pytest.param("'abc", "unterminated string", 0, 4, id="unterminated-string"),
    pytest.param("'abc\\", "unterminated string", 0, 5, id="unterminated-after-backslash"),
    pytest.param(r"'a\nb'",
                 "unsupported escape '\\n' in string (only \\\\, \\' and \\\" are allowed)",
                 2, 4, id="bad-escape"),
    pytest.param("1.5e3", "exponent notation is not allowed: write 1500", 0, 5, id="exponent"),
    pytest.param("x > 2E-2", "exponent notation is not allowed: write 0.02", 4, 8,
                 id="negative-exponent"),
    pytest.param("1e99999", "exponent notation is not allowed", 0, 7, id="huge-exponent"),
    pytest.param("12abc", "invalid number '12abc'", 0, 5, id="number-then-letters"),
    pytest.param("1_000", "invalid number '1_000'", 0, 5, id="underscore-in-number"),
    pytest.param(".5", "unexpected '.'", 0, 1, id="leading-dot"),
    pytest.param("1.", "unexpected '.'", 1, 2, id="trailing-dot"),
    pytest.param("x ** 2", "unexpected '**'", 2, 4, id="power"),
    pytest.param("x % 2", "unexpected '%'", 2, 3, id="modulo"),
    pytest.param("x // 2", "unexpected '//'", 2, 4, id="floor-division"),
    pytest.param("x = 1", "unexpected '=' (use '==' to compare)", 2, 3, id="assignment"),
    pytest.param("t && f", "unexpected '&&' (use 'and')", 2, 4, id="c-and"),
    pytest.param("t || f", "unexpected '||' (use 'or')", 2, 4, id="c-or"),
    pytest.param("!t", "unexpected '!' (use 'not')", 0, 1, id="c-not"),
    pytest.param("1 if t", "unexpected end of expression, expected 'else'", 6, 7,
                 id="if-without-else"),
    pytest.param("x $ y", "unexpected character '$'", 2, 3, id="unknown-character"),
    pytest.param("điểm > 1", "unexpected character 'đ'", 0, 1, id="non-ascii-name"),
    pytest.param("and", "unexpected 'and'", 0, 3, id="keyword-alone"),
    pytest.param("in > 1", "unexpected 'in'", 0, 2, id="keyword-as-name"),
    pytest.param("x not y", "unexpected 'not'", 2, 5, id="not-without-in"),
    pytest.param("'a' 'b'", "unexpected string 'b'", 4, 7, id="two-strings"),
    pytest.param("criterion . chi_tieu", "unexpected '.'", 10, 11, id="spaced-dot"),
    pytest.param("true.x", "unexpected '.'", 4, 5, id="keyword-then-dot"),
    pytest.param("lambda: 1", "unexpected ':'", 6, 7, id="lambda"),
    pytest.param("[y for y in tags]", "unexpected 'for', expected ',' or ']'", 3, 6,
                 id="comprehension"),
    pytest.param("(1)(2)", "unexpected '('", 3, 4, id="call-of-expression"),
    pytest.param("{'a': 1}", "unexpected '{'", 0, 1, id="dict"),
])
def test_syntax_errors(source, message, start, end):
    """Malformed text is an ExpressionSyntaxError with a clear message and the offending span."""
    error = compile_error(source)
    assert type(error) is ExpressionSyntaxError
    assert (error.message, error.start, error.end) == (message, start, end)


def test_caret_lines_of_a_syntax_error():
    """The caret display underlines the offending token."""
    error = compile_error("members_advanced[0] > 1")
    assert error.caret_lines() == (
        "    | members_advanced[0] > 1",
        "    |                 ^",
    )


def test_caret_lines_at_end_of_expression():
    """A missing operand is shown by a caret just past the end of the text."""
    error = compile_error("x * (y +")
    assert error.message == "unexpected end of expression"
    assert error.caret_lines() == ("    | x * (y +", "    |         ^")


# ---------------------------------------------------------------- unsafe text


@pytest.mark.parametrize(("source", "error_type", "message"), [
    pytest.param("__import__('os')", UnknownName, "unknown function '__import__'", id="import"),
    pytest.param("eval('1')", UnknownName, "unknown function 'eval'", id="eval"),
    pytest.param("x.__class__", UnknownName, "unknown name 'x.__class__'", id="dunder-attribute"),
    pytest.param("x.__class__.__bases__", UnknownName, "unknown name 'x.__class__.__bases__'",
                 id="dunder-chain"),
    pytest.param("os.system('ls')", UnknownName, "unknown function 'os.system'", id="module-call"),
    pytest.param("(1).real", ExpressionSyntaxError, "unexpected '.'", id="attribute-of-number"),
    pytest.param("'a'.upper()", ExpressionSyntaxError, "unexpected '.'", id="method-of-string"),
    pytest.param("[].__class__", ExpressionSyntaxError, "unexpected '.'", id="attribute-of-list"),
    pytest.param("().__class__", ExpressionSyntaxError, "unexpected ')'", id="empty-tuple"),
    pytest.param("min.__call__(1)", UnknownName, "unknown function 'min.__call__'",
                 id="attribute-of-function"),
])
def test_unsafe_text_is_rejected(source, error_type, message):
    """Python escape hatches are syntax errors or unknown names, never evaluated."""
    error = compile_error(source)
    assert type(error) is error_type
    assert error.message == message


def test_compiling_and_evaluating_never_evaluates_user_text(monkeypatch):
    """No eval; the one generated function per expression is compiled from text the compiler
    writes from the checked tree, in which the user's names, strings and numbers never appear
    (they are bound in the function's namespace)."""
    sources = []
    real_compile = builtins.compile

    def forbidden(*args, **kwargs):
        raise AssertionError("eval must not be used")

    def recording_compile(source, *args, **kwargs):
        sources.append(source)
        return real_compile(source, *args, **kwargs)

    monkeypatch.setattr(builtins, "eval", forbidden)
    monkeypatch.setattr(builtins, "compile", recording_compile)
    expression = compile_("round(x / 3, 2) if band in ['tot'] and not f else 0")
    with engine():
        assert expression.evaluate(ENV) == Decimal("0.67")
    monkeypatch.undo()
    generated = [s for s in sources if isinstance(s, str)]
    assert generated
    for text in generated:
        assert "band" not in text and "'tot'" not in text and "round" not in text


# ---------------------------------------------------------------- unknown names and functions


@pytest.mark.parametrize(("source", "message", "start", "end"), [
    pytest.param("membrs > 1", "unknown name 'membrs' (did you mean 'members'?)", 0, 6,
                 id="name-typo"),
    pytest.param("x + qqq", "unknown name 'qqq'", 4, 7, id="name-no-hint"),
    pytest.param("criterion.chi_tieux > 0",
                 "unknown name 'criterion.chi_tieux' (did you mean 'criterion.chi_tieu'?)", 0, 19,
                 id="qualified-typo"),
    pytest.param("None", "unknown name 'None'", 0, 4, id="python-none"),
    pytest.param("qux(1)", "unknown function 'qux'", 0, 3, id="function"),
    pytest.param("x + mx(1, 2)", "unknown function 'mx' (did you mean 'max'?)", 4, 6,
                 id="function-typo"),
    pytest.param("band(1)", "unknown function 'band'", 0, 4, id="variable-called"),
    pytest.param("'co' in titles",
                 "unknown name 'titles' (it can only be used in the condition of a history "
                 "function such as consecutive_years())", 8, 14, id="history-only-name"),
    pytest.param("consecutive_years(bnd == 'tot') > 1",
                 "unknown name 'bnd' (did you mean 'band'?)", 18, 21, id="inside-history"),
])
def test_unknown_names(source, message, start, end):
    """Unknown variables and functions are UnknownName with a did-you-mean hint and the span."""
    error = compile_error(source)
    assert type(error) is UnknownName
    assert (error.message, error.start, error.end) == (message, start, end)


def test_function_allow_list_is_exactly_what_is_passed():
    """Only functions passed to compile_expression are callable, built-ins included."""
    error = compile_error("min(x, 1)", functions={})
    assert type(error) is UnknownName
    assert error.message == "unknown function 'min'"


# ---------------------------------------------------------------- type errors


@pytest.mark.parametrize(("source", "message", "start", "end"), [
    pytest.param("band + 1", "cannot apply '+' to text and number", 0, 4, id="text-plus-number"),
    pytest.param("1 + band", "cannot apply '+' to number and text", 4, 8, id="number-plus-text"),
    pytest.param("label + band", "cannot apply '+' to text and text", 0, 12, id="text-plus-text"),
    pytest.param("x * t", "cannot apply '*' to number and bool", 4, 5, id="number-times-bool"),
    pytest.param("-band", "cannot apply '-' to text", 1, 5, id="negate-text"),
    pytest.param("x and y", "'and' needs true/false operands, got number", 0, 1, id="and-numbers"),
    pytest.param("t or x", "'or' needs true/false operands, got number", 5, 6, id="or-number"),
    pytest.param("t and band", "'and' needs true/false operands, got text", 6, 10, id="and-text"),
    pytest.param("not x", "'not' needs a true/false operand, got number", 4, 5, id="not-number"),
    pytest.param("1 if x else 2", "the condition of 'if' needs true/false, got number", 5, 6,
                 id="if-number"),
    pytest.param("1 if t else 'a'",
                 "both sides of 'if ... else' must have the same type, got number and text", 0, 15,
                 id="if-branches"),
    pytest.param("x == 'a'", "cannot apply '==' to number and text", 0, 8, id="eq-mixed"),
    pytest.param("t != 1", "cannot apply '!=' to bool and number", 0, 6, id="ne-mixed"),
    pytest.param("band < 'b'", "cannot apply '<' to text and text", 0, 10, id="order-text"),
    pytest.param("band >= 1", "cannot apply '>=' to text and number", 0, 4, id="order-text-left"),
    pytest.param("0 < x < t", "cannot apply '<' to number and bool", 8, 9, id="chain-link"),
    pytest.param("x in 5", "'in' needs a list on the right, got number", 5, 6, id="in-number"),
    pytest.param("'a' not in label", "'not in' needs a list on the right, got text", 11, 16,
                 id="not-in-text"),
    pytest.param("x in ['a']", "cannot look for number in a list of text", 0, 10,
                 id="in-wrong-item-type"),
    pytest.param("[1, 'a']", "list items must all have the same type, got number and text", 4, 7,
                 id="mixed-list"),
    pytest.param("x + (1 if t else 2) * band", "cannot apply '*' to number and text", 22, 26,
                 id="nested"),
])
def test_type_errors(source, message, start, end):
    """Operands of the wrong type are an ExpressionTypeError at compile time, with the span."""
    error = compile_error(source)
    assert type(error) is ExpressionTypeError
    assert (error.message, error.start, error.end) == (message, start, end)


def test_caret_lines_of_a_type_error():
    """The caret display underlines the offending operand."""
    error = compile_error("members and t")
    assert error.message == "'and' needs true/false operands, got number"
    assert error.caret_lines() == ("    | members and t", "    | ^^^^^^^")


@pytest.mark.parametrize(("source", "expect", "message"), [
    pytest.param("x + 1", "bool", "expected true/false, got number", id="number-for-bool"),
    pytest.param("x > 1", "number", "expected a number, got bool", id="bool-for-number"),
    pytest.param("band", "number", "expected a number, got text", id="text-for-number"),
])
def test_expect_result_type(source, expect, message):
    """``expect`` rejects an expression of another result type, spanning the whole expression."""
    error = compile_error(source, expect=expect)
    assert type(error) is ExpressionTypeError
    assert (error.message, error.start, error.end) == (message, 0, len(source))


def test_expect_accepts_the_right_type():
    """``expect`` passes when the result type matches."""
    assert compile_("x > 1", expect="bool").type == "bool"
    assert compile_("band", expect="text").type == "text"


# ---------------------------------------------------------------- enum values


@pytest.mark.parametrize(("source", "message", "start", "end"), [
    pytest.param("band == 'xuat_sacc'",
                 "'xuat_sacc' is not a value of 'band' (did you mean 'xuat_sac'?)", 8, 19, id="eq"),
    pytest.param("'tott' != band", "'tott' is not a value of 'band' (did you mean 'tot'?)", 0, 6,
                 id="ne-reversed"),
    pytest.param("band in ['xuat_sac', 'tott']",
                 "'tott' is not a value of 'band' (did you mean 'tot'?)", 21, 27, id="in-list"),
    pytest.param("band not in ['zzz']", "'zzz' is not a value of 'band'", 13, 18, id="no-hint"),
    pytest.param("'bang_khenn' in awards",
                 "'bang_khenn' is not a value of 'awards' (did you mean 'bang_khen'?)", 0, 12,
                 id="list-name-with-values"),
    pytest.param("consecutive_years(band == 'xuat_sacc') > 1",
                 "'xuat_sacc' is not a value of 'band' (did you mean 'xuat_sac'?)", 26, 37,
                 id="in-history-condition"),
])
def test_enum_value_typos(source, message, start, end):
    """A string compared with an enum-like name must be one of its values."""
    error = compile_error(source)
    assert type(error) is ExpressionTypeError
    assert (error.message, error.start, error.end) == (message, start, end)


def test_enum_typo_caret_lines():
    """The typo hint underlines the misspelt literal."""
    error = compile_error("band == 'xuat_sacc' and x > 1")
    assert error.caret_lines() == ("    | band == 'xuat_sacc' and x > 1",
                                   "    |         ^^^^^^^^^^^")


def test_text_names_without_values_accept_any_string():
    """A free-text name (no declared values) compares with any string."""
    assert run("label == 'anything'") is False


# ---------------------------------------------------------------- limits


def test_length_limit():
    """2000 characters compile; 2001 are rejected."""
    assert compile_("x" + " " * 1999).type == "number"
    source = "x" + " " * 2000
    error = compile_error(source)
    assert isinstance(error, ExpressionSyntaxError)
    assert (error.message, error.start, error.end) == ("expression is longer than 2000 characters (got 2001)",
                                                       2000, 2001)
    assert error.caret_lines() == ()  # the source may be megabytes: not shown


@pytest.mark.parametrize(("opening", "closing"), [
    pytest.param("(", ")", id="parentheses"),
    pytest.param("[", "]", id="lists"),
    pytest.param("abs(", ")", id="calls"),
    pytest.param("-", "", id="unary-minus"),
])
def test_depth_limit(opening, closing):
    """32 levels of nesting compile; 33 are rejected at the 33rd opening bracket or sign."""
    names = {"x": NameInfo("number")}
    compile_(opening * 32 + "x" + closing * 32, names=names)
    source = opening * 33 + "x" + closing * 33
    error = compile_error(source, names=names)
    assert type(error) is ExpressionSyntaxError
    assert error.message == "expression is nested deeper than 32 levels"
    assert error.start == 33 * len(opening) - 1


def test_depth_limit_of_not_and_ternaries():
    """Chains of ``not`` and nested ternaries count as nesting too."""
    assert compile_error("not " * 33 + "t").message == "expression is nested deeper than 32 levels"
    ternaries = "1 if t else " * 33 + "0"
    assert compile_error(ternaries).message == "expression is nested deeper than 32 levels"


def test_node_limit():
    """At most 500 nodes; long flat chains up to that evaluate without deep recursion errors."""
    assert run("x + " * 249 + "x") == Decimal(500)
    error = compile_error("x + " * 250 + "x")
    assert type(error) is ExpressionSyntaxError
    assert error.message == "expression has more than 500 parts"


# ---------------------------------------------------------------- built-in functions


@pytest.mark.parametrize(("source", "expected"), [
    pytest.param("min(3, x, 5)", "2", id="min"),
    pytest.param("min(x)", "2", id="min-one"),
    pytest.param("max(3, x, 5)", "5", id="max"),
    pytest.param("abs(-x)", "2", id="abs"),
    pytest.param("abs(x - 3.5)", "1.5", id="abs-decimal"),
    pytest.param("round(2.345, 2)", "2.35", id="round-half-up"),
    pytest.param("round(x + 0.5, 0)", "3", id="round-half-up-to-integer"),
    pytest.param("round(-x - 0.5, 0)", "-3", id="round-negative-half"),
    pytest.param("round(x / 3, 4)", "0.6667", id="round-ratio"),
    pytest.param("round(x, 2)", "2.00", id="round-pads"),
    pytest.param("round(0 - 0.001, 2)", "0.00", id="round-no-negative-zero"),
    pytest.param("floor(2.7)", "2", id="floor"),
    pytest.param("floor(-2.1)", "-3", id="floor-negative"),
    pytest.param("ceil(2.1)", "3", id="ceil"),
    pytest.param("ceil(-x / 4)", "0", id="ceil-no-negative-zero"),
    pytest.param("clamp(x, 0, 1)", "1", id="clamp-high"),
    pytest.param("clamp(-x, 0, 5)", "0", id="clamp-low"),
    pytest.param("clamp(x, 0, 5)", "2", id="clamp-inside"),
])
def test_builtin_values(source, expected):
    """Built-in functions return exact Decimals (shown here as their string)."""
    value = run(source)
    assert type(value) is Decimal
    assert str(value) == expected


@pytest.mark.parametrize(("source", "message", "start", "end"), [
    pytest.param("min()", "min() takes at least 1 argument", 0, 5, id="min-none"),
    pytest.param("round(1)", "round() takes 2 arguments, got 1", 0, 8, id="round-one"),
    pytest.param("abs(1, 2)", "abs() takes 1 argument, got 2", 0, 9, id="abs-two"),
    pytest.param("clamp(x, 1)", "clamp() takes 3 arguments, got 2", 0, 11, id="clamp-two"),
    pytest.param("consecutive_years()", "consecutive_years() takes 1 argument, got 0", 0, 19,
                 id="history-none"),
    pytest.param("abs(band)", "argument 1 of abs() must be a number, got text", 4, 8,
                 id="abs-text"),
    pytest.param("max(1, t)", "argument 2 of max() must be a number, got bool", 7, 8,
                 id="max-variadic-bool"),
    pytest.param("consecutive_years(x)",
                 "argument 1 of consecutive_years() must be true/false, got number", 18, 19,
                 id="history-condition-number"),
    pytest.param("count_years(t, band)", "argument 2 of count_years() must be a number, got text",
                 15, 19, id="count-years-text"),
    pytest.param("consecutive_years(count_years(t, 2) > 1)",
                 "count_years() cannot be used inside the condition of consecutive_years()", 18, 35,
                 id="nested-history"),
])
def test_builtin_arity_and_type_errors(source, message, start, end):
    """Wrong argument counts and types are compile-time type errors."""
    error = compile_error(source)
    assert type(error) is ExpressionTypeError
    assert (error.message, error.start, error.end) == (message, start, end)


@pytest.mark.parametrize(("source", "message"), [
    pytest.param("round(x, 29)", "round() needs a whole number of places from 0 to 28",
                 id="too-many"),
    pytest.param("round(x, y - 4)", "round() needs a whole number of places from 0 to 28",
                 id="negative"),
    pytest.param("round(x, y / 2)", "round() needs a whole number of places from 0 to 28",
                 id="fraction"),
    pytest.param("clamp(x, y, 1)", "clamp() needs lo <= hi", id="clamp-bounds"),
])
def test_builtin_runtime_errors(source, message):
    """Bad argument values are runtime errors spanning the call."""
    error = runtime_error(source)
    assert (error.message, error.start, error.end) == (message, 0, len(source))


def test_builtin_error_on_literals_is_a_compile_error():
    """A call folded at compile time reports its failure then."""
    error = compile_error("x + round(1, 30)")
    assert type(error) is ExpressionError
    assert (error.message, error.start, error.end) == (
        "round() needs a whole number of places from 0 to 28", 4, 16)


def test_builtin_specs():
    """Every built-in has a unique name, a one-line doc and the builtin provenance."""
    names = [spec.name for spec in BUILTIN_FUNCTIONS]
    assert names == sorted(set(names))
    assert set(names) == {"abs", "ceil", "clamp", "consecutive_years", "consecutive_years_since",
                          "count_years", "floor", "max", "min", "round"}
    for spec in BUILTIN_FUNCTIONS:
        assert spec.doc and "\n" not in spec.doc
        assert spec.plugin == "builtin"
    history = {spec.name for spec in BUILTIN_FUNCTIONS if spec.history}
    assert history == {"consecutive_years", "consecutive_years_since", "count_years"}


def test_register_functions_hook_registers_every_builtin():
    """The built-in plugin's hook hands every spec to ``register``."""
    registered = []
    builtin_functions.register_functions(registered.append)
    assert tuple(registered) == BUILTIN_FUNCTIONS


# ---------------------------------------------------------------- plugin functions


def test_plugin_function_gets_plain_values():
    """A normal function is called ``impl(*values)`` with Decimals, and ``any`` accepts any type."""
    seen = []

    def describe(value, count):
        seen.append((value, count))
        return f"{value}:{count}"

    functions = {"describe": FunctionSpec(name="describe", impl=describe, params=("any", "number"),
                                          returns="text", plugin="demo")}
    assert run("describe(band, x + 1) == 'tot:3'", functions=functions) is True
    assert seen == [("tot", Decimal(3))]
    assert type(seen[0][1]) is Decimal


def test_plugin_function_errors_become_runtime_errors():
    """A ValueError or decimal error inside a function is a runtime error spanning the call."""

    def share(a, b):
        return a / b

    def picky(a):
        raise ValueError("picky() wants something else")

    functions = {
        "share": FunctionSpec(name="share", impl=share, params=("number", "number"),
                              returns="number"),
        "picky": FunctionSpec(name="picky", impl=picky, params=("number",), returns="number"),
    }
    env = {**ENV, "z": Decimal(0)}
    error = runtime_error("1 + share(x, z)", env, functions=functions)
    assert (error.message, error.start, error.end) == ("division by zero", 4, 15)
    error = runtime_error("share(z, z)", env, functions=functions)
    assert error.message == "division by zero"
    error = runtime_error("picky(x) > 1", functions=functions)
    assert (error.message, error.start, error.end) == ("picky() wants something else", 0, 8)


def test_spec_validation():
    """NameInfo and FunctionSpec reject unknown type names when they are built."""
    with pytest.raises(ValueError, match="unknown type 'integer'"):
        NameInfo("integer")
    with pytest.raises(ValueError, match="unknown type 'float'"):
        FunctionSpec(name="f", impl=abs, params=("float",), returns="number")
    with pytest.raises(ValueError, match="history"):
        FunctionSpec(name="f", impl=abs, params=("bool",), returns="number", history="past")
    assert NameInfo("text", ["a", "b"]).values == ("a", "b")


# ---------------------------------------------------------------- history functions


def year_env(band: str) -> dict[str, object]:
    return {"band": band, "titles": ("co",) if band == "xuat_sac" else ()}


@pytest.mark.parametrize(("history", "current", "expected"), [
    pytest.param({2021: "xuat_sac", 2020: "xuat_sac", 2019: "tot"}, "xuat_sac", 3, id="streak"),
    pytest.param({2021: "xuat_sac", 2019: "xuat_sac"}, "xuat_sac", 2, id="missing-year-breaks"),
    pytest.param({2021: "tot", 2020: "xuat_sac"}, "xuat_sac", 1, id="failing-year-breaks"),
    pytest.param({2021: "xuat_sac"}, "tot", 0, id="current-fails"),
    pytest.param({}, "xuat_sac", 1, id="no-history"),
    pytest.param({2023: "xuat_sac", 2021: "xuat_sac"}, "xuat_sac", 2, id="later-year-ignored"),
])
def test_consecutive_years(history, current, expected):
    """consecutive_years counts the years in a row, up to the current one, the condition held."""
    ctx = EvalContext(year=2022, history={year: year_env(band) for year, band in history.items()})
    value = run("consecutive_years(band == 'xuat_sac')", {**ENV, "band": current}, ctx)
    assert value == Decimal(expected)
    assert type(value) is Decimal


def test_consecutive_years_missing_field_in_history():
    """A history year lacking a name the condition reads is an error, not a silent 'not held'
    (issue #10; the data loader refuses such records for the policy's own conditions)."""
    ctx = EvalContext(year=2022, history={2021: {"titles": ()}, 2020: year_env("xuat_sac")})
    env = {**ENV, "band": "xuat_sac"}
    with pytest.raises(ExpressionRuntimeError) as err:
        run("consecutive_years(band == 'xuat_sac')", env, ctx)
    assert err.value.message == "a history record does not give 'band'"


def test_history_only_name_is_missing_this_year():
    """This year's values must give what the condition reads too (the engine gives units and
    persons their ``titles``); without it the call is an error, not a streak of 0."""
    ctx = EvalContext(year=2022, history={2021: year_env("xuat_sac")})
    with pytest.raises(ExpressionRuntimeError) as err:
        run("consecutive_years('co' in titles)", ENV, ctx)
    assert err.value.message == "this year does not give 'titles'"
    assert run("count_years('co' in titles, 2)", {**ENV, "titles": ("co",)}, ctx) == Decimal(2)


@pytest.mark.parametrize(("years", "expected"), [
    pytest.param(1, 1, id="this-year-only"),
    pytest.param(3, 2, id="window-of-three"),
    pytest.param(5, 3, id="window-of-five"),
])
def test_count_years(years, expected):
    """count_years counts held years in the window ending now; missing years do not count."""
    history = {2021: year_env("tot"), 2020: year_env("xuat_sac"), 2018: year_env("xuat_sac"),
               2017: year_env("xuat_sac")}
    ctx = EvalContext(year=2022, history=history)
    env = {**ENV, "band": "xuat_sac"}
    assert run(f"count_years(band == 'xuat_sac', {years})", env, ctx) == Decimal(expected)


def test_count_years_needs_a_positive_whole_number():
    """count_years with 0 or a fraction of years is a runtime error at the call."""
    ctx = EvalContext(year=2022, history={})
    error = runtime_error("count_years(t, x - 2)", ENV, ctx)
    assert (error.message, error.start, error.end) == (
        "count_years() needs a whole number of years, at least 1", 0, 21)


def test_history_function_without_context():
    """Evaluating a history function without an EvalContext is a runtime error at the call."""
    error = runtime_error("x > 1 and consecutive_years(band == 'tot') >= 2", ENV, None)
    assert (error.message, error.start, error.end) == (
        "consecutive_years() needs the unit's history", 10, 42)


def test_history_function_call_shape():
    """A history impl gets ``(env, ctx, cond, *other_args)``; ``cond`` evaluates any year's env."""
    calls = []

    def probe(env, ctx, cond, weight):
        calls.append((env, ctx, weight))
        return weight * sum((1 for past in ctx.history.values() if cond(past)), Decimal(0))

    functions = {**FUNCTIONS, "probe": FunctionSpec(
        name="probe", impl=probe, params=("bool", "number"), returns="number",
        history="including_current", plugin="demo")}
    ctx = EvalContext(year=2022, history={2021: year_env("xuat_sac"), 2020: year_env("tot")})
    assert run("probe(band == 'tot', x + 1)", ENV, ctx, functions=functions) == Decimal(3)
    assert calls == [(ENV, ctx, Decimal(3))]


def test_history_condition_runtime_error_keeps_its_span():
    """An arithmetic error inside a history condition points at the operation, not the call."""
    ctx = EvalContext(year=2022, history={})
    error = runtime_error("consecutive_years(10 / (x - 2) > 1) > 0", ENV, ctx)
    assert (error.message, error.start, error.end) == ("division by zero", 18, 30)


def test_the_documented_example_policy_expressions():
    """The example expressions from the policy files compile and evaluate as intended."""
    ctx = EvalContext(year=2022, history={2021: year_env("xuat_sac")})
    env = {**ENV, "band": "xuat_sac"}
    assert run("band in ['xuat_sac', 'tot'] and members_advanced / members > 0.5", env) is True
    assert run("consecutive_years(band == 'xuat_sac') >= 2", env, ctx) is True
    assert run("criterion.chi_tieu > 0 and group.chuyen_mon >= 50", env) is True
    assert run("5 if x >= 3 else 0", env) == Decimal(0)
