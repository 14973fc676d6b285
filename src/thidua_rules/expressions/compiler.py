"""Type checking of parsed expressions, folding of their literal-only parts, and their build."""

from __future__ import annotations

import operator
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import attrs

from ..decimals import engine_context
from ..errors import (
    ExpressionError,
    ExpressionTypeError,
    UnknownName,
    did_you_mean,
)
from .codegen import ARITH_ERRORS, CALL_ERRORS, Fn, Forms, arith_message, call_message
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

# Checking gives each node its static type; literal-only subtrees are folded to their values at
# compile time in the engine's decimal context (``decimals.ENGINE_CONTEXT``), and a fold that
# fails (``1 / 0``, a constant zero divisor, ``round(1, 30)``) is a compile-time ExpressionError
# instead of a run-time one. What runs is ``codegen``'s one function per expression.

TYPES = ("number", "bool", "text", "list")
PARAM_TYPES = (*TYPES, "any")
HISTORY_KINDS = ("including_current",)

#: How messages name a required type ("must be a number", "needs true/false").
_WORDS = {"number": "a number", "bool": "true/false", "text": "text", "list": "a list",
          "any": "any value"}


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
    return _build(source, source, root, result, compiler, Forms(compiler))


def _build(source: str, text: str, node: Node, result: _Typed, compiler: _Compiler,
           forms: Forms) -> CompiledExpression:
    parts: tuple[CompiledExpression, ...] = ()
    if isinstance(node, BoolOp) and node.op == "and":
        parts = tuple(
            _build(source, source[op.start : op.end].strip(), op, compiler.compile(op), compiler,
                   forms)
            for op in node.operands
        )
    calls = tuple(
        CompiledExpression(source[call.start : call.end], typed.type, typed.names,
                           fn=forms.function(call))
        for call in _outer_calls(node)
        if call is not node
        for typed in (compiler.compile(call),)
    )
    return CompiledExpression(text, result.type, result.names, fn=forms.function(node),
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


# ---------------------------------------------------------------- checked nodes


@attrs.define(slots=True)
class _Typed:
    """A checked node: static type, names read and, for literal-only trees, the value."""

    type: str
    names: frozenset[str] = frozenset()
    const: bool = False
    value: Any = None
    elem: str | None = None  # element type of a list literal, when known


def _constant(type_: str, value: Any, elem: str | None = None) -> _Typed:
    return _Typed(type_, frozenset(), True, value, elem)


_ARITH = {"+": operator.add, "-": operator.sub, "*": operator.mul, "/": operator.truediv}


def _contains(item: Any, collection: Any) -> bool:
    return item in collection


def _not_contains(item: Any, collection: Any) -> bool:
    return item not in collection


_COMPARE = {"==": operator.eq, "!=": operator.ne, "<": operator.lt, "<=": operator.le,
            ">": operator.gt, ">=": operator.ge, "in": _contains, "not in": _not_contains}


def _chain_holds(ops: tuple[str, ...], values: list[Any]) -> bool:
    return all(_COMPARE[op](a, b) for op, a, b in zip(ops, values, values[1:], strict=False))


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

    def fold(self, result: _Typed, children: list[_Typed], node: Node, value: Callable[[], Any],
             reports: tuple[type[BaseException], ...] = (),
             message: Callable[[BaseException], str] = arith_message) -> _Typed:
        """Replace a node whose children are all literals by its value, ``value()`` in the engine's
        context; what the operation reports at run time (``reports``) is a compile-time error."""
        if not all(child.const for child in children):
            return result
        try:
            with engine_context():
                folded = value()
        except reports as exc:
            raise ExpressionError(message(exc), self.source, node.start, node.end) from exc
        except Exception:  # noqa: BLE001 -- a plugin function that fails oddly: leave it to run time
            return result
        return _constant(result.type, folded, result.elem)

    def compile(self, node: Node) -> _Typed:
        """The checked node, made once. Two frames per tree level (this one and the node's
        check), so that the longest chain the parser accepts is checked far from Python's
        recursion limit."""
        key = id(node)
        typed = self.done.get(key)
        if typed is None:
            typed = self.done[key] = _CHECKS[type(node)](self, node)
        return typed

    def literal(self, node: Node) -> _Typed:
        assert isinstance(node, Number | String | Bool)
        return _constant(_LITERAL_TYPES[type(node)], node.value)

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
        return _Typed(info.type, frozenset({node.name}))

    def list_literal(self, node: ListLiteral) -> _Typed:
        items = [self.compile(item) for item in node.items]
        elem = items[0].type if items else None
        for item, child in zip(items, node.items, strict=True):
            if item.type != elem:
                raise self.type_error(
                    f"list items must all have the same type, got {elem} and {item.type}", child)
        names = frozenset().union(*(item.names for item in items))
        return self.fold(_Typed("list", names, elem=elem), items, node,
                         lambda: tuple([item.value for item in items]))

    # ------------------------------------------------------------ operators

    def unary(self, node: Unary) -> _Typed:
        operand = self.compile(node.operand)
        if node.op == "not":
            if operand.type != "bool":
                raise self.type_error(f"'not' needs a true/false operand, got {operand.type}",
                                      node.operand)
            return self.fold(_Typed("bool", operand.names), [operand], node,
                             lambda: not operand.value)
        if operand.type != "number":
            raise self.type_error(f"cannot apply '{node.op}' to {operand.type}", node.operand)
        if node.op == "+":
            return operand
        return self.fold(_Typed("number", operand.names), [operand], node,
                         lambda: -operand.value, ARITH_ERRORS)

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
        op = _ARITH[node.op]
        return self.fold(_Typed("number", names), [left, right], node,
                         lambda: op(left.value, right.value), ARITH_ERRORS)

    def bool_op(self, node: BoolOp) -> _Typed:
        operands = [self.compile(child) for child in node.operands]
        for result, child in zip(operands, node.operands, strict=True):
            if result.type != "bool":
                raise self.type_error(f"'{node.op}' needs true/false operands, got {result.type}",
                                      child)
        names = frozenset().union(*(result.names for result in operands))
        if node.op == "and":
            return self.fold(_Typed("bool", names), operands, node,
                             lambda: all(result.value for result in operands))
        return self.fold(_Typed("bool", names), operands, node,
                         lambda: any(result.value for result in operands))

    def compare(self, node: Compare) -> _Typed:
        operands = [self.compile(child) for child in node.operands]
        for i, op in enumerate(node.ops):
            self.check_pair(op, node.operands[i], operands[i], node.operands[i + 1],
                            operands[i + 1])
        names = frozenset().union(*(result.names for result in operands))
        return self.fold(_Typed("bool", names), operands, node,
                         lambda: _chain_holds(node.ops, [result.value for result in operands]))

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
        names = body.names | condition.names | orelse.names
        return self.fold(_Typed(body.type, names, elem=elem), [body, condition, orelse], node,
                         lambda: body.value if condition.value else orelse.value)

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
        result = _Typed(spec.returns, names)
        if not args:  # its value may change from call to call
            return result
        return self.fold(result, args, node, lambda: spec.impl(*[arg.value for arg in args]),
                         CALL_ERRORS, call_message)

    def check_argument(self, spec: FunctionSpec, i: int, arg: _Typed, child: Node) -> None:
        params = spec.params
        wanted = params[i] if i < len(params) else (params[-1] if params else "any")
        if wanted != "any" and arg.type != wanted:
            raise self.type_error(
                f"argument {i + 1} of {spec.name}() must be {_WORDS[wanted]}, got {arg.type}",
                child)

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
        names = condition.names.union(*(arg.names for arg in others))
        return _Typed(spec.returns, names)


_LITERAL_TYPES: dict[type[Node], str] = {Number: "number", String: "text", Bool: "bool"}
_CHECKS: dict[type[Node], Callable[[_Compiler, Any], _Typed]] = {
    Number: _Compiler.literal, String: _Compiler.literal, Bool: _Compiler.literal,
    Name: _Compiler.name, ListLiteral: _Compiler.list_literal, Unary: _Compiler.unary,
    Binary: _Compiler.binary, BoolOp: _Compiler.bool_op, Compare: _Compiler.compare,
    IfElse: _Compiler.if_else, Call: _Compiler.call,
}


def _arguments(count: int) -> str:
    return f"{count} argument" if count == 1 else f"{count} arguments"
