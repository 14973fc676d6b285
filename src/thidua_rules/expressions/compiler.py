"""Type checking of parsed expressions and their compilation to plain Python closures."""

from __future__ import annotations

import decimal
import operator
import types
from collections.abc import Callable, Iterable, Mapping
from typing import Any, cast

import attrs

from ..decimals import engine_context
from ..errors import (
    ExpressionError,
    ExpressionRuntimeError,
    ExpressionTypeError,
    UnknownName,
    did_you_mean,
)
from .nodes import (
    Binary,
    Bool,
    BoolOp,
    Call,
    Compare,
    IfElse,
    ListLiteral,
    Name,
    Node,
    Number,
    String,
    Unary,
)
from .parser import parse

# Every node becomes a closure ``fn(env, ctx)``; evaluation is one call of the root closure, with
# no tree walk and no handler lookup. Literal-only subtrees are folded at compile time in the
# engine's decimal context (``decimals.ENGINE_CONTEXT``); a fold that fails (``1 / 0``, a constant
# zero divisor, ``round(1, 30)``) is a compile-time ExpressionError instead of a run-time one.

TYPES = ("number", "bool", "text", "list")
PARAM_TYPES = (*TYPES, "any")
HISTORY_KINDS = ("including_current",)

#: How messages name a required type ("must be a number", "needs true/false").
_WORDS = {"number": "a number", "bool": "true/false", "text": "text", "list": "a list",
          "any": "any value"}

Fn = Callable[[Mapping[str, Any], Any], Any]


def _check_type(allowed: tuple[str, ...]) -> Callable[[Any, attrs.Attribute[Any], Any], None]:
    def check(_instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
        values = value if attribute.name == "params" else (value,)
        for item in values:
            if item not in allowed:
                raise ValueError(f"{attribute.name}: unknown type '{item}', expected one of "
                                 f"{', '.join(allowed)}")

    return check


def _strings(value: Iterable[str]) -> tuple[str, ...]:
    """``tuple``, typed (attrs' mypy plugin cannot type a generic class as a converter)."""
    return tuple(value)


def _optional_strings(value: Iterable[str] | None) -> tuple[str, ...] | None:
    """``attrs.converters.optional(tuple)``, typed (the plugin takes only named converters)."""
    return None if value is None else tuple(value)


@attrs.frozen
class NameInfo:
    """A variable visible to expressions: its type and, for enum-like text, its allowed values."""

    type: str = attrs.field(validator=_check_type(TYPES))
    values: tuple[str, ...] | None = attrs.field(
        default=None, converter=_optional_strings
    )


def _check_history(_instance: Any, _attribute: attrs.Attribute[Any], value: Any) -> None:
    if value is not None and value not in HISTORY_KINDS:
        raise ValueError(
            f"history: expected None or one of {', '.join(HISTORY_KINDS)}, got {value!r}")


@attrs.frozen(kw_only=True)
class FunctionSpec:
    """A function policies may call (the expression allow-list).

    Normal functions are called ``impl(*values)``. A history function
    (``history="including_current"``) is called ``impl(env, ctx, cond, *values)`` where
    ``cond(env)`` evaluates its first argument (a condition) against any year's env and raises
    ``KeyError`` when that env lacks a name the condition reads. An ``impl`` reports a bad
    argument by raising ``ValueError(message)``; it becomes an
    :class:`~thidua_rules.errors.ExpressionRuntimeError` pointing at the call.
    """

    name: str
    impl: Callable[..., Any]
    params: tuple[str, ...] = attrs.field(converter=_strings, validator=_check_type(PARAM_TYPES))
    returns: str = attrs.field(validator=_check_type(TYPES))
    variadic: bool = False
    history: str | None = attrs.field(default=None, validator=_check_history)
    doc: str = ""
    plugin: str = "builtin"


@attrs.frozen
class EvalContext:
    """The current year and the unit's earlier years (year -> that year's env).

    ``counts_from``: the first year whose achievements count (after a discipline period ends,
    ND152 Art. 4 k4); ``awarded``: the last year each title was awarded, so that a streak used for
    an award is not used again ("one achievement, one award", Law2022 Art. 5 k2 c).
    """

    year: int
    history: Mapping[int, Mapping[str, Any]]
    counts_from: int | None = None
    awarded: Mapping[str, int] = attrs.field(factory=dict)


@attrs.frozen(eq=False)
class CompiledExpression:
    """A checked expression, ready to evaluate against many environments."""

    source: str
    type: str
    names: frozenset[str]
    _fn: Fn = attrs.field(repr=False, alias="fn")
    _parts: tuple[CompiledExpression, ...] = attrs.field(default=(), repr=False, alias="parts")
    _calls: tuple[CompiledExpression, ...] = attrs.field(default=(), repr=False, alias="calls")

    def evaluate(self, env: Mapping[str, Any], ctx: EvalContext | None = None) -> Any:
        """The value for ``env`` (numbers as Decimal); history functions need ``ctx``."""
        return self._fn(env, ctx)

    def conjuncts(self) -> tuple[CompiledExpression, ...]:
        """The top-level ``and`` operands, each compiled on its own; ``(self,)`` otherwise."""
        return self._parts or (self,)

    def calls(self) -> tuple[CompiledExpression, ...]:
        """The outermost function calls in the expression, each compiled on its own, so that an
        explanation can show the value a call gave (``consecutive_years(...) = 1``)."""
        return self._calls


def compile_expression(
    source: str,
    *,
    names: Mapping[str, NameInfo],
    functions: Mapping[str, FunctionSpec],
    history_names: Mapping[str, NameInfo] | None = None,
    expect: str | None = None,
) -> CompiledExpression:
    """Parse, type-check and compile ``source``; raise an ExpressionError subclass if it is bad."""
    if expect is not None and expect not in TYPES:
        raise ValueError(f"expect: unknown type '{expect}'")
    root = parse(source)
    compiler = _Compiler(source, names, functions, history_names or {}, history=history_names is not None)
    result = compiler.compile(root)
    if expect is not None and result.type != expect:
        raise ExpressionTypeError(f"expected {_WORDS[expect]}, got {result.type}", source,
                                  root.start, root.end)
    return _build(source, source, root, result, compiler)


def _build(source: str, text: str, node: Node, result: _Typed,
           compiler: _Compiler) -> CompiledExpression:
    parts: tuple[CompiledExpression, ...] = ()
    if isinstance(node, BoolOp) and node.op == "and":
        parts = tuple(
            _build(source, source[op.start : op.end].strip(), op, compiler.compile(op), compiler)
            for op in node.operands
        )
    calls = tuple(
        CompiledExpression(source[call.start : call.end], typed.type, typed.names,
                           fn=_generate(call, typed, compiler))
        for call in _outer_calls(node)
        if call is not node
        for typed in (compiler.compile(call),)
    )
    return CompiledExpression(text, result.type, result.names, fn=_generate(node, result, compiler),
                              parts=parts, calls=calls)


def _outer_calls(node: Node) -> list[Call]:
    """Function calls not nested inside another call, in source order."""
    if isinstance(node, Call):
        return [node]
    found: list[Call] = []
    for field in attrs.fields(type(node)):
        value = getattr(node, field.name)
        children = value if isinstance(value, tuple) else (value,)
        for child in children:
            if isinstance(child, Node):
                found.extend(_outer_calls(child))
    return found


# ---------------------------------------------------------------- compiled nodes


@attrs.define(slots=True)
class _Typed:
    """A compiled node: static type, closure, names read and, for literal-only trees, the value."""

    type: str
    fn: Fn
    names: frozenset[str] = frozenset()
    const: bool = False
    value: Any = None
    elem: str | None = None  # element type of a list literal, when known


def _constant(type_: str, value: Any, elem: str | None = None) -> _Typed:
    def fn(env: Mapping[str, Any], ctx: Any) -> Any:
        return value

    return _Typed(type_, fn, frozenset(), True, value, elem)


def _arith_message(exc: BaseException) -> str:
    if isinstance(exc, ZeroDivisionError):
        return "division by zero"
    causes = exc.args[0] if exc.args and isinstance(exc.args[0], list) else ()
    if decimal.DivisionUndefined in causes or decimal.DivisionByZero in causes:
        return "division by zero"
    if isinstance(exc, decimal.Overflow) or decimal.Overflow in causes:
        return "arithmetic overflow"
    return "invalid arithmetic"


_ARITH_ERRORS = (decimal.DecimalException, ZeroDivisionError)
_CALL_ERRORS = (ValueError, decimal.DecimalException, ZeroDivisionError)

_ARITH = {"+": operator.add, "-": operator.sub, "*": operator.mul, "/": operator.truediv}


def _contains(item: Any, collection: Any) -> bool:
    return item in collection


def _not_contains(item: Any, collection: Any) -> bool:
    return item not in collection


_COMPARE = {"==": operator.eq, "!=": operator.ne, "<": operator.lt, "<=": operator.le,
            ">": operator.gt, ">=": operator.ge, "in": _contains, "not in": _not_contains}


class _Compiler:
    def __init__(self, source: str, names: Mapping[str, NameInfo],
                 functions: Mapping[str, FunctionSpec], history_names: Mapping[str, NameInfo],
                 *, history: bool = True):
        self.source = source
        self.functions = functions
        self.history_names = history_names
        #: whether history functions may be called: only where the earlier years are known (a
        #: title's conditions); anywhere else their value would be a run-time failure
        self.history = history
        self.scope: Mapping[str, NameInfo] = names
        self.current = names
        self.in_history: str | None = None  # the history function whose condition is compiled
        self.done: dict[int, _Typed] = {}

    # ------------------------------------------------------------ helpers

    def type_error(self, message: str, node: Node) -> ExpressionTypeError:
        return ExpressionTypeError(message, self.source, node.start, node.end)

    def fold(self, result: _Typed, children: list[_Typed], node: Node) -> _Typed:
        """Replace a node whose children are all literals by its value."""
        if not all(child.const for child in children):
            return result
        try:
            with engine_context():
                value = result.fn({}, None)
        except ExpressionRuntimeError as exc:
            raise ExpressionError(exc.message, self.source, exc.start, exc.end) from exc
        except Exception:  # noqa: BLE001 -- a plugin function that fails oddly: leave it to run time
            return result
        return _constant(result.type, value, result.elem)

    def compile(self, node: Node) -> _Typed:
        key = id(node)
        if key not in self.done:
            self.done[key] = self._compile(node)
        return self.done[key]

    def _compile(self, node: Node) -> _Typed:
        if isinstance(node, Number):
            return _constant("number", node.value)
        if isinstance(node, String):
            return _constant("text", node.value)
        if isinstance(node, Bool):
            return _constant("bool", node.value)
        if isinstance(node, Name):
            return self.name(node)
        if isinstance(node, ListLiteral):
            return self.list_literal(node)
        if isinstance(node, Unary):
            return self.unary(node)
        if isinstance(node, Binary):
            return self.binary(node)
        if isinstance(node, BoolOp):
            return self.bool_op(node)
        if isinstance(node, Compare):
            return self.compare(node)
        if isinstance(node, IfElse):
            return self.if_else(node)
        if isinstance(node, Call):
            return self.call(node)
        raise TypeError(f"not an expression node: {node!r}")  # pragma: no cover

    # ------------------------------------------------------------ leaves

    def name(self, node: Name) -> _Typed:
        info = self.scope.get(node.name)
        if info is None:
            message = f"unknown name '{node.name}'"
            if node.name in self.history_names:
                message += (" (it can only be used in the condition of a history function such "
                            "as consecutive_years())")
            else:
                message += did_you_mean(node.name, self.scope)
            raise UnknownName(message, self.source, node.start, node.end)
        key = node.name

        def lookup(env: Mapping[str, Any], ctx: Any) -> Any:
            return env[key]

        return _Typed(info.type, lookup, frozenset({key}))

    def list_literal(self, node: ListLiteral) -> _Typed:
        items = [self.compile(item) for item in node.items]
        elem = items[0].type if items else None
        for item, child in zip(items, node.items, strict=True):
            if item.type != elem:
                raise self.type_error(
                    f"list items must all have the same type, got {elem} and {item.type}", child)
        fns = tuple(item.fn for item in items)

        def fn(env: Mapping[str, Any], ctx: Any) -> Any:
            return tuple([f(env, ctx) for f in fns])

        names = frozenset().union(*(item.names for item in items))
        return self.fold(_Typed("list", fn, names, elem=elem), items, node)

    # ------------------------------------------------------------ operators

    def unary(self, node: Unary) -> _Typed:
        operand = self.compile(node.operand)
        f = operand.fn
        if node.op == "not":
            if operand.type != "bool":
                raise self.type_error(f"'not' needs a true/false operand, got {operand.type}",
                                      node.operand)

            def not_(env: Mapping[str, Any], ctx: Any) -> Any:
                return not f(env, ctx)

            return self.fold(_Typed("bool", not_, operand.names), [operand], node)
        if operand.type != "number":
            raise self.type_error(f"cannot apply '{node.op}' to {operand.type}", node.operand)
        if node.op == "+":
            return operand
        source, start, end = self.source, node.start, node.end

        def negate(env: Mapping[str, Any], ctx: Any) -> Any:
            try:
                return -f(env, ctx)
            except _ARITH_ERRORS as exc:
                raise ExpressionRuntimeError(_arith_message(exc), source, start, end) from exc

        return self.fold(_Typed("number", negate, operand.names), [operand], node)

    def binary(self, node: Binary) -> _Typed:
        left, right = self.compile(node.left), self.compile(node.right)
        if left.type != "number" or right.type != "number":
            culprit: Node = node
            if left.type == "number":
                culprit = node.right
            elif right.type == "number":
                culprit = node.left
            raise self.type_error(f"cannot apply '{node.op}' to {left.type} and {right.type}",
                                  culprit)
        names = left.names | right.names
        if node.op == "/" and right.const and not right.value and not left.const:
            raise ExpressionError("division by zero", self.source, node.start, node.end)
        return self.fold(_Typed("number", self.arith_fn(node, left, right), names),
                         [left, right], node)

    def arith_fn(self, node: Binary, left: _Typed, right: _Typed) -> Fn:
        op = _ARITH[node.op]
        lf, rf = left.fn, right.fn
        source, start, end = self.source, node.start, node.end
        if node.op == "/" and not right.const:

            def divide(env: Mapping[str, Any], ctx: Any) -> Any:
                a = lf(env, ctx)
                b = rf(env, ctx)
                if not b:
                    raise ExpressionRuntimeError("division by zero", source, start, end)
                try:
                    return a / b
                except _ARITH_ERRORS as exc:
                    raise ExpressionRuntimeError(_arith_message(exc), source, start, end) from exc

            return divide
        if right.const and not left.const:
            c = right.value

            def arith_const(env: Mapping[str, Any], ctx: Any) -> Any:
                try:
                    return op(lf(env, ctx), c)
                except _ARITH_ERRORS as exc:
                    raise ExpressionRuntimeError(_arith_message(exc), source, start, end) from exc

            return arith_const

        def arith(env: Mapping[str, Any], ctx: Any) -> Any:
            try:
                return op(lf(env, ctx), rf(env, ctx))
            except _ARITH_ERRORS as exc:
                raise ExpressionRuntimeError(_arith_message(exc), source, start, end) from exc

        return arith

    def bool_op(self, node: BoolOp) -> _Typed:
        operands = [self.compile(child) for child in node.operands]
        for result, child in zip(operands, node.operands, strict=True):
            if result.type != "bool":
                raise self.type_error(f"'{node.op}' needs true/false operands, got {result.type}",
                                      child)
        fns = tuple(result.fn for result in operands)
        names = frozenset().union(*(result.names for result in operands))
        if node.op == "and":
            if len(fns) == 2:
                a, b = fns

                def and2(env: Mapping[str, Any], ctx: Any) -> Any:
                    return a(env, ctx) and b(env, ctx)

                fn = and2
            else:

                def and_(env: Mapping[str, Any], ctx: Any) -> Any:
                    for f in fns:
                        if not f(env, ctx):
                            return False
                    return True

                fn = and_
        elif len(fns) == 2:
            a, b = fns

            def or2(env: Mapping[str, Any], ctx: Any) -> Any:
                return a(env, ctx) or b(env, ctx)

            fn = or2
        else:

            def or_(env: Mapping[str, Any], ctx: Any) -> Any:
                for f in fns:
                    if f(env, ctx):
                        return True
                return False

            fn = or_
        return self.fold(_Typed("bool", fn, names), operands, node)

    def compare(self, node: Compare) -> _Typed:
        operands = [self.compile(child) for child in node.operands]
        for i, op in enumerate(node.ops):
            self.check_pair(op, node.operands[i], operands[i], node.operands[i + 1],
                            operands[i + 1])
        names = frozenset().union(*(result.names for result in operands))
        return self.fold(_Typed("bool", self.compare_fn(node, operands), names), operands, node)

    def check_pair(self, op: str, left_node: Node, left: _Typed, right_node: Node,
                   right: _Typed) -> None:
        pair = Node(start=left_node.start, end=right_node.end)
        if op in ("==", "!="):
            if left.type != right.type:
                raise self.type_error(f"cannot apply '{op}' to {left.type} and {right.type}", pair)
            self.check_value(left_node, right_node)
            self.check_value(right_node, left_node)
        elif op in ("in", "not in"):
            if right.type != "list":
                raise self.type_error(f"'{op}' needs a list on the right, got {right.type}",
                                      right_node)
            if right.elem is not None and left.type != right.elem:
                raise self.type_error(f"cannot look for {left.type} in a list of {right.elem}",
                                      pair)
            if isinstance(right_node, ListLiteral):
                for item in right_node.items:
                    self.check_value(left_node, item)
            else:
                self.check_value(right_node, left_node)
        elif left.type != "number" or right.type != "number":
            culprit = pair
            if left.type == "number":
                culprit = right_node
            elif right.type == "number":
                culprit = left_node
            raise self.type_error(f"cannot apply '{op}' to {left.type} and {right.type}", culprit)

    def check_value(self, name: Node, literal: Node) -> None:
        """A string literal compared with an enum-like name must be one of its values."""
        if not isinstance(name, Name) or not isinstance(literal, String):
            return
        info = self.scope.get(name.name)
        if info is None or info.values is None or literal.value in info.values:
            return
        raise self.type_error(
            f"'{literal.value}' is not a value of '{name.name}'"
            f"{did_you_mean(literal.value, info.values)}", literal)

    def compare_fn(self, node: Compare, operands: list[_Typed]) -> Fn:
        ops = [_COMPARE[op] for op in node.ops]
        fns = [result.fn for result in operands]
        if len(ops) == 1:
            op, lf, rf, right = ops[0], fns[0], fns[1], operands[1]
            if right.const and not operands[0].const:
                c = right.value
                if node.ops[0] in ("in", "not in"):
                    c = _as_set(c)
                    if node.ops[0] == "in":

                        def in_const(env: Mapping[str, Any], ctx: Any) -> Any:
                            return lf(env, ctx) in c

                        return in_const

                    def not_in_const(env: Mapping[str, Any], ctx: Any) -> Any:
                        return lf(env, ctx) not in c

                    return not_in_const

                def compare_const(env: Mapping[str, Any], ctx: Any) -> Any:
                    return op(lf(env, ctx), c)

                return compare_const

            def compare2(env: Mapping[str, Any], ctx: Any) -> Any:
                return op(lf(env, ctx), rf(env, ctx))

            return compare2
        first = fns[0]
        steps = tuple(zip(ops, fns[1:], strict=True))

        def chain(env: Mapping[str, Any], ctx: Any) -> Any:
            a = first(env, ctx)
            for op, f in steps:
                b = f(env, ctx)
                if not op(a, b):
                    return False
                a = b
            return True

        return chain

    def if_else(self, node: IfElse) -> _Typed:
        body, condition, orelse = (self.compile(node.body), self.compile(node.condition),
                                   self.compile(node.orelse))
        if condition.type != "bool":
            raise self.type_error(f"the condition of 'if' needs true/false, got {condition.type}",
                                  node.condition)
        if body.type != orelse.type:
            raise self.type_error(
                f"both sides of 'if ... else' must have the same type, got {body.type} and "
                f"{orelse.type}", node)
        elem = body.elem if body.elem == orelse.elem else None
        b, c, o = body.fn, condition.fn, orelse.fn

        def if_else(env: Mapping[str, Any], ctx: Any) -> Any:
            return b(env, ctx) if c(env, ctx) else o(env, ctx)

        names = body.names | condition.names | orelse.names
        return self.fold(_Typed(body.type, if_else, names, elem=elem), [body, condition, orelse],
                         node)

    # ------------------------------------------------------------ calls

    def call(self, node: Call) -> _Typed:
        name = node.name
        spec = self.functions.get(name)
        if spec is None:
            raise UnknownName(f"unknown function '{name}'{did_you_mean(name, self.functions)}",
                              self.source, node.start, node.start + len(name))
        if spec.history is not None and not self.history:
            raise self.type_error(
                f"{name}() can only be used in a title's conditions, such as 'when' "
                "(scores, bands and checks do not see earlier years)", node)
        count, params = len(node.args), spec.params
        if spec.variadic:
            if count < len(params):
                raise self.type_error(f"{name}() takes at least {_arguments(len(params))}", node)
        elif count != len(params):
            raise self.type_error(f"{name}() takes {_arguments(len(params))}, got {count}", node)
        if spec.history is not None:
            return self.history_call(node, spec)
        args = [self.compile(arg) for arg in node.args]
        for i, (arg, child) in enumerate(zip(args, node.args, strict=True)):
            self.check_argument(spec, i, arg, child)
        names = frozenset().union(*(arg.names for arg in args))
        result = _Typed(spec.returns, self.call_fn(node, spec, args), names)
        return self.fold(result, args, node) if args else result

    def check_argument(self, spec: FunctionSpec, i: int, arg: _Typed, child: Node) -> None:
        params = spec.params
        wanted = params[i] if i < len(params) else (params[-1] if params else "any")
        if wanted != "any" and arg.type != wanted:
            raise self.type_error(
                f"argument {i + 1} of {spec.name}() must be {_WORDS[wanted]}, got {arg.type}",
                child)

    def call_fn(self, node: Call, spec: FunctionSpec, args: list[_Typed]) -> Fn:
        impl = spec.impl
        source, start, end = self.source, node.start, node.end
        fns = tuple(arg.fn for arg in args)
        if len(fns) == 1:
            (a,) = fns

            def call1(env: Mapping[str, Any], ctx: Any) -> Any:
                try:
                    return impl(a(env, ctx))
                except _CALL_ERRORS as exc:
                    raise _call_error(exc, source, start, end) from exc

            return call1
        if len(fns) == 2:
            a, b = fns

            def call2(env: Mapping[str, Any], ctx: Any) -> Any:
                try:
                    return impl(a(env, ctx), b(env, ctx))
                except _CALL_ERRORS as exc:
                    raise _call_error(exc, source, start, end) from exc

            return call2

        def call(env: Mapping[str, Any], ctx: Any) -> Any:
            try:
                return impl(*[f(env, ctx) for f in fns])
            except _CALL_ERRORS as exc:
                raise _call_error(exc, source, start, end) from exc

        return call

    def history_call(self, node: Call, spec: FunctionSpec) -> _Typed:
        name = node.name
        if self.in_history is not None:
            raise self.type_error(
                f"{name}() cannot be used inside the condition of {self.in_history}()", node)
        if not node.args:
            raise self.type_error(f"{name}() needs a condition as its first argument", node)
        saved = self.scope
        self.scope = {**self.history_names, **self.current}
        self.in_history = name
        try:
            condition = self.compile(node.args[0])
        finally:
            self.scope = saved
            self.in_history = None
        if condition.type != "bool":
            raise self.type_error(
                f"argument 1 of {name}() must be true/false, got {condition.type}", node.args[0])
        others = [self.compile(arg) for arg in node.args[1:]]
        for i, (arg, child) in enumerate(zip(others, node.args[1:], strict=True), start=1):
            self.check_argument(spec, i, arg, child)
        impl, cond_fn = spec.impl, condition.fn
        fns = tuple(arg.fn for arg in others)
        source, start, end = self.source, node.start, node.end
        missing = f"{name}() needs the unit's history"

        def history(env: Mapping[str, Any], ctx: Any) -> Any:
            if ctx is None:
                raise ExpressionRuntimeError(missing, source, start, end)

            def cond(year_env: Mapping[str, Any]) -> Any:
                return cond_fn(year_env, ctx)

            try:
                return impl(env, ctx, cond, *[f(env, ctx) for f in fns])
            except _CALL_ERRORS as exc:
                raise _call_error(exc, source, start, end) from exc

        names = condition.names.union(*(arg.names for arg in others))
        return _Typed(spec.returns, history, names)


def _as_set(items: Any) -> Any:
    """A constant list as a set for fast ``in`` (its items are hashable), else unchanged."""
    try:
        return frozenset(items)
    except TypeError:
        return items


def _arguments(count: int) -> str:
    return f"{count} argument" if count == 1 else f"{count} arguments"


def _call_error(exc: BaseException, source: str, start: int, end: int) -> ExpressionRuntimeError:
    message = str(exc) if isinstance(exc, ValueError) else _arith_message(exc)
    return ExpressionRuntimeError(message, source, start, end)


# ---------------------------------------------------------------- generated functions

# The closure tree costs one Python call per node. What a CompiledExpression exposes (the root,
# the parts of a top-level ``and``, the outer calls) is instead ONE generated function whose body
# is a single Python expression doing the closures' operations in the same order, so evaluating a
# rule costs one call plus the Decimal work. Its text is generated from the checked tree, never
# from user text: every constant, env key, function and closure is bound in the function's
# namespace under a generated identifier (``_k0``, ``_n1``, ``_f2``, ``_c3``) and only those
# identifiers, operators and keywords appear in the text.
#
# The generated body does not reproduce the closures' error handling. On any exception it runs the
# closure tree of the same node again (after the handler, so a traceback shows no "during handling
# of the above exception"), which raises exactly the error the closure path raises (same type,
# message and offsets) or, for a plugin function that fails only once, returns its value. The tree
# is pure, so running it again is safe, and the failed attempt did a prefix of the same Decimal
# operations, so it leaves no flag in the caller's context that the second run does not leave too.

#: Longer generated text keeps the closure tree (the parser's limits keep expressions far below).
MAX_GENERATED = 20_000

# Python precedence levels, lowest first. A fragment is parenthesized only where its parent needs
# a tighter level, so that a long left-nested chain (``a + b + c + ...``) is not run into Python's
# limit on nested parentheses.
_COND, _OR, _AND, _NOT, _CMP, _SUM, _PRODUCT, _UNARY, _ATOM = range(1, 10)
_LEVEL = {"+": _SUM, "-": _SUM, "*": _PRODUCT, "/": _PRODUCT}


def _zero_divisor() -> Any:
    """A zero divisor in generated code: raise, so that the closure tree reports it."""
    raise ZeroDivisionError


_TEMPLATE = """\
def _expression(env, ctx):
    try:
        return {body}
    except Exception:
        pass
    return _slow(env, ctx)
"""


#: Python's compiler takes a few hundred microseconds per generated function here; a large
#: policy has a few hundred expressions, so compiling them all while the policy loads would
#: double its load time. Each generated function is therefore compiled at its first call: until
#: then it is a stub (these two code objects, shared) in the generated function's own namespace;
#: the first call compiles the text and puts the resulting code into the same function object
#: (``__code__``), so every holder of the function — methods and plans bind it while the policy
#: compiles — runs the generated code from then on, without an extra call.
_STUBS = compile("def _first(env, ctx):\n    return _first_call(env, ctx)\n"
                 "def _closure(env, ctx):\n    return _slow(env, ctx)\n", "<thidua_rules expression>", "exec")
_FIRST_CODE, _CLOSURE_CODE = (c for c in _STUBS.co_consts if isinstance(c, types.CodeType))


def _generate(node: Node, result: _Typed, compiler: _Compiler) -> Fn:
    """One generated function for ``node`` (compiled as ``result``), or its closure when that is
    as fast (a constant, a bare name, a single history call) or the text cannot be compiled.

    The text, too, is written at the first call: a policy's expressions that no unit reaches
    (a title's conditions after a failed prerequisite, say) cost nothing."""
    slow = result.fn
    while isinstance(node, Unary) and node.op == "+":  # compiled as its operand
        node = node.operand
    if result.const or isinstance(node, Name) or (
            isinstance(node, Call) and getattr(compiler.functions.get(node.name), "history", None)):
        return slow
    codegen = _Codegen(compiler)
    namespace = codegen.namespace
    namespace["_slow"] = slow
    fn = types.FunctionType(_FIRST_CODE, namespace, "_expression")

    def first_call(env: Mapping[str, Any], ctx: Any) -> Any:
        fn.__code__ = _CLOSURE_CODE  # unless the generated text compiles, below
        try:
            body, _ = codegen.expr(node)
            if codegen.inline and len(body) <= MAX_GENERATED:
                code = compile(_TEMPLATE.format(body=body), "<thidua_rules expression>", "exec")
                exec(code, namespace)  # noqa: S102 - defines _expression from the text generated above
                fn.__code__ = namespace["_expression"].__code__
        except (RecursionError, SyntaxError, MemoryError):
            pass  # the closure tree, for good
        namespace["_expression"] = fn
        # ``_first_call`` stays in the namespace: another thread may have entered the stub
        # before its code was swapped and still look it up (it then compiles once more).
        return fn(env, ctx)

    namespace["_first_call"] = first_call
    fn.__wrapped__ = slow  # type: ignore[attr-defined]  # the closure tree it falls back to (tests compare the two)
    return cast(Fn, fn)


class _Codegen:
    """Python text for a checked tree; each ``expr`` gives the text and its precedence level."""

    def __init__(self, compiler: _Compiler) -> None:
        self.compiler = compiler
        # No builtins: the text uses only its own identifiers (and ``Exception`` in the handler).
        self.namespace: dict[str, Any] = {"__builtins__": {}, "Exception": Exception,
                                          "_zero_divisor": _zero_divisor}
        self.keys: dict[str, str] = {}
        self.inline = 0  # operations done in the text itself, not by a closure

    def bind(self, prefix: str, value: Any) -> str:
        ident = f"_{prefix}{len(self.namespace)}"
        self.namespace[ident] = value
        return ident

    def key(self, name: str) -> str:
        if name not in self.keys:
            self.keys[name] = self.bind("n", name)
        return self.keys[name]

    def at(self, node: Node, level: int) -> str:
        """The text of ``node`` where its parent needs at least ``level``."""
        text, own = self.expr(node)
        return text if own >= level else f"({text})"

    def expr(self, node: Node) -> tuple[str, int]:
        typed = self.compiler.compile(node)  # already compiled: the compiler's memo
        if typed.const:
            return self.bind("k", typed.value), _ATOM
        if isinstance(node, Name):
            return f"env[{self.key(node.name)}]", _ATOM
        if isinstance(node, Unary):
            if node.op == "+":  # compiled as its operand
                return self.expr(node.operand)
            self.inline += 1
            if node.op == "not":
                return f"not {self.at(node.operand, _NOT)}", _NOT
            return f"-{self.at(node.operand, _UNARY)}", _UNARY
        if isinstance(node, Binary):
            return self.binary(node)
        if isinstance(node, BoolOp):
            return self.bool_op(node)
        if isinstance(node, Compare):
            return self.compare(node)
        if isinstance(node, IfElse):
            self.inline += 1
            body, condition = self.at(node.body, _OR), self.at(node.condition, _OR)
            return f"{body} if {condition} else {self.at(node.orelse, _COND)}", _COND
        if isinstance(node, ListLiteral):
            self.inline += 1
            items = [self.at(item, _COND) for item in node.items]  # never empty: folded
            return f"({', '.join(items)}{',' if len(items) == 1 else ''})", _ATOM
        if isinstance(node, Call):
            return self.call(node, typed)
        raise TypeError(f"not an expression node: {node!r}")  # pragma: no cover

    def binary(self, node: Binary) -> tuple[str, int]:
        self.inline += 1
        level = _LEVEL[node.op]
        left = self.at(node.left, level)
        if node.op == "/" and not self.compiler.compile(node.right).const:
            # Like ``divide``: left, then right, then the zero check, then the division.
            right = f"({self.at(node.right, _AND)} or _zero_divisor())"
        else:
            right = self.at(node.right, level + 1)
        return f"{left} {node.op} {right}", level

    def bool_op(self, node: BoolOp) -> tuple[str, int]:
        self.inline += 1
        level = _AND if node.op == "and" else _OR
        text = f" {node.op} ".join(self.at(operand, level + 1) for operand in node.operands)
        if len(node.operands) == 2:  # ``a and b`` / ``a or b``, as and2 / or2
            return text, level
        return f"True if {text} else False", _COND  # and_ / or_ give True or False

    def compare(self, node: Compare) -> tuple[str, int]:
        self.inline += 1
        texts = [self.at(operand, _SUM) for operand in node.operands[:1]]
        if len(node.ops) == 1 and node.ops[0] in ("in", "not in"):
            left, right = (self.compiler.compile(operand) for operand in node.operands)
            if right.const and not left.const:  # like in_const / not_in_const: a frozenset
                texts.append(self.bind("k", _as_set(right.value)))
        texts.extend(self.at(operand, _SUM) for operand in node.operands[len(texts):])
        text = texts[0]
        for op, operand in zip(node.ops, texts[1:], strict=True):
            text += f" {op} {operand}"
        return text, _CMP

    def call(self, node: Call, typed: _Typed) -> tuple[str, int]:
        spec = self.compiler.functions[node.name]
        if spec.history is not None:  # its condition reads other years' envs: keep the closure
            return f"{self.bind('c', typed.fn)}(env, ctx)", _ATOM
        self.inline += 1
        args = ", ".join(self.at(arg, _COND) for arg in node.args)
        return f"{self.bind('f', spec.impl)}({args})", _ATOM
