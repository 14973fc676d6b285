"""The one run-time form of a checked expression: a generated Python function, compiled lazily."""

from __future__ import annotations

import decimal
import types
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, cast

from ..errors import ExpressionRuntimeError
from .nodes import Binary, BoolOp, Call, Compare, IfElse, ListLiteral, Name, Node, Unary

if TYPE_CHECKING:
    from .compiler import _Compiler, _Typed

Fn = Callable[[Mapping[str, Any], Any], Any]

# What a CompiledExpression exposes (the root, the parts of a top-level ``and``, the outer calls)
# is ONE generated function whose body is a single Python expression, so evaluating a rule costs
# one call plus the Decimal work. Its text is generated from the checked tree, never from user
# text: every constant, env key and function is bound in the function's namespace under a
# generated identifier (``_k0``, ``_n1``, ``_f2``, ``_c3``) and only those identifiers, operators
# and keywords appear in the text. A constant, a bare name and a single history call need no text:
# their one form is a small closure.
#
# The function raises the named errors itself. A zero divisor is checked inline (``b or _z4()``,
# which raises the division's error). Every other failing operation is an arithmetic operator or
# a function call that raises a Decimal error or a ValueError; the body runs inside one ``try``
# (free in Python 3.11+ until something raises), and its handler maps the exception to the
# operation's error through a table made with the text. The table is keyed by the line of the
# generated text the failing instruction is on: the text starts a new line wherever the
# operation an exception belongs to changes (each such operation is parenthesized, so that an
# enclosing operation starts at the parenthesis, on the enclosing operation's line), and Python
# gives each instruction the line where its expression starts. An exception belongs to the
# innermost enclosing operation that reports it, as the language defines: arithmetic reports
# Decimal errors of its operands too, a call reports its arguments' ValueErrors and Decimal
# errors, a division with a variable divisor only its own. What no operation reports (a missing
# name's KeyError, a plugin function's TypeError) goes on unchanged.

# Python precedence levels, lowest first. A fragment is parenthesized only where its parent needs
# a tighter level.
_COND, _OR, _AND, _NOT, _CMP, _SUM, _PRODUCT, _UNARY, _ATOM = range(1, 10)
_LEVEL = {"+": _SUM, "-": _SUM, "*": _PRODUCT, "/": _PRODUCT}

#: Tree levels written into one generated function; a deeper subtree (a long chain such as
#: ``a + b + c + ...``, which the parser's depth limit does not count) is called as a generated
#: function of its own, so that no text reaches Python's limit of 200 nested parentheses.
SPLIT_DEPTH = 32

ARITH_ERRORS = (decimal.DecimalException, ZeroDivisionError)
CALL_ERRORS = (ValueError, decimal.DecimalException, ZeroDivisionError)


def arith_message(exc: BaseException) -> str:
    """The message of a Decimal error (or ZeroDivisionError) raised by an operation."""
    if isinstance(exc, ZeroDivisionError):
        return "division by zero"
    causes = exc.args[0] if exc.args and isinstance(exc.args[0], list) else ()
    if decimal.DivisionUndefined in causes or decimal.DivisionByZero in causes:
        return "division by zero"
    if isinstance(exc, decimal.Overflow) or decimal.Overflow in causes:
        return "arithmetic overflow"
    return "invalid arithmetic"


def call_message(exc: BaseException) -> str:
    """The message of an error raised by a function call: a ValueError says it itself."""
    return str(exc) if isinstance(exc, ValueError) else arith_message(exc)


def as_set(items: Any) -> Any:
    """A constant list as a set for fast ``in`` (its items are hashable), else unchanged."""
    try:
        return frozenset(items)
    except TypeError:
        return items


class _Site:
    """An operation that reports errors: which exceptions, how worded, where in the source, and
    the enclosing operation that reports what it does not. (A plain class: a text makes several,
    at its first call.)"""

    __slots__ = ("catches", "end", "message", "parent", "source", "start")

    def __init__(self, catches: tuple[type[BaseException], ...],
                 message: Callable[[BaseException], str], source: str, start: int, end: int,
                 parent: _Site | None) -> None:
        self.catches, self.message, self.parent = catches, message, parent
        self.source, self.start, self.end = source, start, end

    def error(self, exc: BaseException) -> ExpressionRuntimeError | None:
        site: _Site | None = self
        while site is not None:
            if isinstance(exc, site.catches):
                return ExpressionRuntimeError(site.message(exc), site.source, site.start, site.end)
            site = site.parent
        return None


def _reporter(sites: Mapping[int, _Site]) -> Callable[[BaseException], BaseException]:
    """The handler's lookup: what to raise for an exception caught in the generated function,
    the failing operation's error (caused by it, as ``raise ... from``) or, where no operation
    reports it, the exception itself."""

    def report(exc: BaseException) -> BaseException:
        tb = exc.__traceback__  # its first entry is the generated function's own frame
        site = sites.get(tb.tb_lineno) if tb is not None else None
        error = None if site is None else site.error(exc)
        if error is None:
            return exc
        error.__cause__ = exc
        return error

    return report


def _zero_divisor(source: str, start: int, end: int) -> Callable[[], Any]:
    def zero() -> Any:
        raise ExpressionRuntimeError("division by zero", source, start, end)

    return zero


def _constant(value: Any) -> Fn:
    def constant(env: Mapping[str, Any], ctx: Any) -> Any:
        return value

    return constant


def _lookup(key: str) -> Fn:
    def lookup(env: Mapping[str, Any], ctx: Any) -> Any:
        return env[key]

    return lookup


#: The generated text's frame: the body (an expression over several lines) starts on line 4.
_TEMPLATE = """\
def _expression(env, ctx):
    try:
        return (
{body}
        )
    except _caught as _exc:
        raise _report(_exc)
"""
_BODY_LINE = 4
_PLAIN = "def _expression(env, ctx):\n    return (\n{body}\n    )\n"  # nothing to report

#: Python's compiler takes a few hundred microseconds per generated function here; a large
#: policy has a few hundred expressions, so compiling them all while the policy loads would
#: double its load time. Each generated function is therefore compiled at its first call: until
#: then it is a stub (this code object, shared) in the generated function's own namespace; the
#: first call writes and compiles the text and puts the resulting code into the same function
#: object (``__code__``), so every holder of the function — methods and plans bind it while the
#: policy compiles — runs the generated code from then on, without an extra call.
_FIRST_CODE = next(c for c in compile("def _first(env, ctx):\n    return _first_call(env, ctx)\n",
                                      "<thidua_rules expression>", "exec").co_consts
                   if isinstance(c, types.CodeType))


class Forms:
    """The run-time function of each node of one checked expression (the compiler's tree)."""

    def __init__(self, compiler: _Compiler) -> None:
        self.compiler = compiler
        self.done: dict[int, Fn] = {}

    def function(self, node: Node) -> Fn:
        while isinstance(node, Unary) and node.op == "+":  # compiled as its operand
            node = node.operand
        key = id(node)
        if key not in self.done:
            self.done[key] = self._function(node)
        return self.done[key]

    def _function(self, node: Node) -> Fn:
        typed = self.compiler.compile(node)  # already compiled: the compiler's memo
        if typed.const:
            return _constant(typed.value)
        if isinstance(node, Name):
            return _lookup(node.name)
        if isinstance(node, Call) and self.compiler.functions[node.name].history is not None:
            return self._history(node)
        return self._generated(node)

    def _history(self, node: Call) -> Fn:
        """A history call: its condition and other arguments are functions of their own, as the
        impl calls the condition with other years' envs."""
        name = node.name
        impl = self.compiler.functions[name].impl
        cond_fn = self.function(node.args[0])
        fns = tuple(self.function(arg) for arg in node.args[1:])
        source, start, end = self.compiler.source, node.start, node.end
        missing = f"{name}() needs the unit's history"

        def history(env: Mapping[str, Any], ctx: Any) -> Any:
            if ctx is None:
                raise ExpressionRuntimeError(missing, source, start, end)

            def cond(year_env: Mapping[str, Any]) -> Any:
                return cond_fn(year_env, ctx)

            try:
                return impl(env, ctx, cond, *[f(env, ctx) for f in fns])
            except CALL_ERRORS as exc:
                raise ExpressionRuntimeError(call_message(exc), source, start, end) from exc

        return history

    def _generated(self, node: Node) -> Fn:
        """The generated function of ``node``, its text written and compiled at the first call
        (a policy's expressions that no unit reaches cost nothing)."""
        # No builtins: the text uses only its own identifiers.
        namespace: dict[str, Any] = {"__builtins__": {}}
        fn = types.FunctionType(_FIRST_CODE, namespace, "_expression")

        def first_call(env: Mapping[str, Any], ctx: Any) -> Any:
            text = _Codegen(self, namespace).function(node)
            exec(compile(text, "<thidua_rules expression>", "exec"), namespace)  # noqa: S102 - the text generated above
            fn.__code__ = namespace["_expression"].__code__
            namespace["_expression"] = fn
            # ``_first_call`` stays in the namespace: another thread may have entered the stub
            # before its code was swapped and still look it up (it then compiles once more).
            return fn(env, ctx)

        namespace["_first_call"] = first_call
        return cast(Fn, fn)


class _Codegen:
    """Python text for a checked tree; each ``expr`` gives the text and its precedence level.

    :meth:`mark` starts a new line of the text and notes the site its failing instructions belong
    to, so the text is written in order: every fragment is made where it goes, after the ones
    before it (which is how the table knows each line's number)."""

    def __init__(self, forms: Forms, namespace: dict[str, Any]) -> None:
        self.forms = forms
        self.compiler = forms.compiler
        self.namespace = namespace
        self.keys: dict[str, str] = {}
        self.sites: list[_Site] = []
        self.owner: _Site | None = None  # the site the text being written belongs to
        self.lines: list[_Site | None] = []  # the site of each line after the body's first
        self.depth = 0

    def function(self, node: Node) -> str:
        body, _ = self.expr(node, top=True)
        if not self.sites:
            return _PLAIN.format(body=body)
        table = {_BODY_LINE + i: site for i, site in enumerate(self.lines, start=1)
                 if site is not None}
        # what any site reports (the enclosing sites of a line's site are sites of this text too)
        self.namespace["_caught"] = tuple(dict.fromkeys(
            kind for site in self.sites for kind in site.catches))
        self.namespace["_report"] = _reporter(table)
        return _TEMPLATE.format(body=body)

    def bind(self, prefix: str, value: Any) -> str:
        ident = f"_{prefix}{len(self.namespace)}"
        self.namespace[ident] = value
        return ident

    def key(self, name: str) -> str:
        if name not in self.keys:
            self.keys[name] = self.bind("n", name)
        return self.keys[name]

    def site(self, node: Node, catches: tuple[type[BaseException], ...],
             message: Callable[[BaseException], str]) -> _Site:
        site = _Site(catches, message, self.compiler.source, node.start, node.end, self.owner)
        self.sites.append(site)
        return site

    def mark(self, owner: _Site | None) -> str:
        """A new line of the text, belonging to ``owner`` from here on."""
        self.owner = owner
        self.lines.append(owner)
        return "\n"

    def at(self, node: Node, level: int) -> str:
        """The text of ``node`` where its parent needs at least ``level``."""
        text, own = self.expr(node)
        return text if own >= level else f"({text})"

    def expr(self, node: Node, top: bool = False) -> tuple[str, int]:
        typed = self.compiler.compile(node)
        if typed.const:
            return self.bind("k", typed.value), _ATOM
        if isinstance(node, Name):
            return f"env[{self.key(node.name)}]", _ATOM
        if isinstance(node, Unary) and node.op == "+":  # compiled as its operand
            return self.expr(node.operand, top)
        if self.depth >= SPLIT_DEPTH and not top:
            return f"{self.bind('g', self.forms.function(node))}(env, ctx)", _ATOM
        self.depth += 1
        try:
            return self.node(node, typed)
        finally:
            self.depth -= 1

    def node(self, node: Node, typed: _Typed) -> tuple[str, int]:
        if isinstance(node, Unary):
            if node.op == "not":
                return f"not {self.at(node.operand, _NOT)}", _NOT
            return self.reported(node, ARITH_ERRORS, arith_message,
                                 lambda: f"-{self.at(node.operand, _UNARY)}")
        if isinstance(node, Binary):
            return self.binary(node)
        if isinstance(node, BoolOp):
            return self.bool_op(node)
        if isinstance(node, Compare):
            return self.compare(node)
        if isinstance(node, IfElse):
            body, condition = self.at(node.body, _OR), self.at(node.condition, _OR)
            return f"{body} if {condition} else {self.at(node.orelse, _COND)}", _COND
        if isinstance(node, ListLiteral):
            items = [self.at(item, _COND) for item in node.items]  # never empty: folded
            return f"({', '.join(items)}{',' if len(items) == 1 else ''})", _ATOM
        if isinstance(node, Call):
            return self.call(node)
        raise TypeError(f"not an expression node: {node!r}")  # pragma: no cover

    def reported(self, node: Node, catches: tuple[type[BaseException], ...],
                 message: Callable[[BaseException], str], inner: Callable[[], str]) -> tuple[str, int]:
        """``(`` + the operation's own lines + ``)``: the parenthesis on the enclosing lines."""
        outer = self.owner
        start = self.mark(self.site(node, catches, message))
        text = inner()
        return f"({start}{text}{self.mark(outer)})", _ATOM

    def binary(self, node: Binary) -> tuple[str, int]:
        level = _LEVEL[node.op]
        if node.op == "/" and not self.compiler.compile(node.right).const:
            return self.divide(node)
        return self.reported(node, ARITH_ERRORS, arith_message, lambda: (
            f"{self.at(node.left, level)} {node.op} {self.at(node.right, level + 1)}"))

    def divide(self, node: Binary) -> tuple[str, int]:
        """Left, then right, then the zero check, then the division; only the division's own
        failure is the division's (its operands' belong to the enclosing operation)."""
        outer = self.owner
        zero = self.bind("z", _zero_divisor(self.compiler.source, node.start, node.end))
        own = self.site(node, ARITH_ERRORS, arith_message)
        text = [  # in order: each mark and operand where it goes
            "(", self.mark(own), "(", self.mark(outer), self.at(node.left, _COND), self.mark(own),
            ") / (", self.mark(outer), self.at(node.right, _AND), f" or {zero}()", self.mark(own),
            ")", self.mark(outer), ")"]
        return "".join(text), _ATOM

    def bool_op(self, node: BoolOp) -> tuple[str, int]:
        level = _AND if node.op == "and" else _OR
        text = f" {node.op} ".join(self.at(operand, level + 1) for operand in node.operands)
        if len(node.operands) == 2:  # ``a and b`` / ``a or b``: true/false already
            return text, level
        return f"True if {text} else False", _COND

    def compare(self, node: Compare) -> tuple[str, int]:
        texts = [self.at(operand, _SUM) for operand in node.operands[:1]]
        if len(node.ops) == 1 and node.ops[0] in ("in", "not in"):
            left, right = (self.compiler.compile(operand) for operand in node.operands)
            if right.const and not left.const:  # a constant list: a frozenset
                texts.append(self.bind("k", as_set(right.value)))
        texts.extend(self.at(operand, _SUM) for operand in node.operands[len(texts):])
        text = texts[0]
        for op, operand in zip(node.ops, texts[1:], strict=True):
            text += f" {op} {operand}"
        return text, _CMP

    def call(self, node: Call) -> tuple[str, int]:
        spec = self.compiler.functions[node.name]
        if spec.history is not None:  # its condition reads other years' envs: its closure
            return f"{self.bind('c', self.forms.function(node))}(env, ctx)", _ATOM
        impl = self.bind("f", spec.impl)
        return self.reported(node, CALL_ERRORS, call_message, lambda: (
            f"{impl}({', '.join(self.at(arg, _COND) for arg in node.args)})"))
