"""What plugins contribute: criterion methods and title checks, and the context they compile in."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import attrs

if TYPE_CHECKING:
    from .expressions import CompiledExpression
    from .model import Ballot, InputField, Unit, Value


@attrs.frozen(kw_only=True)
class MethodSpec:
    """A criterion scoring method (``method = "<name>"`` in ``[[criteria]]``).

    :param name: The method name policies use.
    :param keys: The method's own TOML keys, each mapped to whether it is required.
    :param compile: ``compile(table, ctx) -> scorer`` where ``table`` is the criterion's TOML
        table (read-only) and ``ctx`` a :class:`CompileContext`. It reports problems with
        ``ctx.issue(...)`` and may return ``None`` after reporting. ``scorer(env)`` returns
        ``(raw_points, facts)``: the unclamped, unrounded points and a mapping of the facts the
        explanation shows (plain values: Decimal, int, str, bool). A plugin's scorer gets
        ``env`` read-only, and its faults are reported as in docs/plugins.md ("Faults").
    :param doc: One line for ``thidua plugins`` and the docs.
    """

    name: str
    keys: Mapping[str, bool]
    compile: Callable[[Mapping[str, Any], CompileContext], Any]
    doc: str = ""
    plugin: str = ""


@attrs.frozen(kw_only=True)
class TitleCheckSpec:
    """A per-unit condition of a title.

    :param name: The check's name in explanations (``requires``, ``when``, ``votes``…).
    :param stage: Order among checks; built-ins use 10, 20, 30.
    :param keys: The ``[[titles]]`` keys this check owns, each mapped to its expected TOML type
        name (for messages).
    :param compile: ``compile(table, ctx) -> run | None``; ``run(view: TitleView)`` returns
        ``(passed, reason, seen)``. ``reason`` is a text, or a :class:`~thidua_rules.Reason`
        (a message code with its parameters) whose texts ``messages`` gives.
    :param messages: The check's message catalogue: ``{"en": {code: template}, "vi": {...}}``,
        templates with ``{name}`` fields filled from the reason's parameters (see
        docs/plugins.md, "Reasons and messages"). The English text becomes the result's
        ``reason``; the Vietnamese one the Markdown report's.

    .. versionchanged:: 0.2 ``messages``; a runner may return a ``Reason``.
    """

    name: str
    stage: int
    keys: Mapping[str, str]
    compile: Callable[[Mapping[str, Any], CompileContext], Any]
    doc: str = ""
    plugin: str = ""
    messages: Mapping[str, Mapping[str, str]] = attrs.field(factory=dict)


@attrs.frozen(kw_only=True, weakref_slot=False)  # made per unit: see records.fast_init
class TitleView:
    """What a title check sees of one unit: read-only."""

    unit: str
    title: str
    env: Mapping[str, Value]
    won: frozenset[str]
    pending: frozenset[str]
    ballot: Ballot | None
    eval_context: Any
    unit_data: Unit | None = None


@attrs.frozen(kw_only=True)
class PolicyContext:
    """What ``validate_policy_section`` may check a plugin's section against: read-only.

    :param plugin: The plugin whose section this is.
    :param inputs: Every input field by id (:class:`~thidua_rules.InputField`).
    :param derived: The inputs the policy declares with ``plugin = "<this plugin>"``, sorted.
    :param criteria: Criterion ids in policy order.
    :param bands: Band ids, highest first.
    :param titles: Title ids in policy order.
    """

    plugin: str
    inputs: Mapping[str, InputField]
    derived: tuple[str, ...]
    criteria: tuple[str, ...]
    bands: tuple[str, ...]
    titles: tuple[str, ...]


def deep_freeze(value: Any) -> Any:
    """A read-only copy of TOML data: tables become sorted mapping proxies, arrays tuples."""
    from types import MappingProxyType

    if isinstance(value, Mapping):
        return MappingProxyType({k: deep_freeze(v) for k, v in sorted(value.items())})
    if isinstance(value, list | tuple):
        return tuple(deep_freeze(v) for v in value)
    return value


@attrs.define
class CompileContext:
    """Handed to a method's or check's ``compile``: reports issues at the right key path and
    compiles expressions against the names visible at that stage."""

    path: str
    report: Callable[[str, str, tuple[str, ...]], None]
    compile_expression: Callable[..., CompiledExpression]
    inputs: Mapping[str, Any]
    titles: tuple[str, ...] = ()
    failed: bool = False

    def issue(self, key: str, message: str, detail: tuple[str, ...] = ()) -> None:
        """Report a problem at ``<path>.<key>`` (or at the path itself for ``key=""``)."""
        self.failed = True
        self.report(f"{self.path}.{key}" if key else self.path, message, detail)

    def expr(self, key: str, source: Any, *, expect: str = "number") -> CompiledExpression | None:
        """Compile the expression at ``key``; report and return ``None`` if it is bad."""
        if not isinstance(source, str):
            self.issue(key, f"expected an expression in quotes, got {type_name(source)}")
            return None
        from .errors import ExpressionError

        try:
            return self.compile_expression(source, expect=expect)
        except ExpressionError as exc:
            self.issue(key, exc.message, exc.caret_lines())
            return None

    def number(self, key: str, value: Any, *, minimum: Decimal | None = None) -> Decimal | None:
        """Check that ``value`` is a number (not a boolean), optionally at least ``minimum``."""
        if isinstance(value, bool) or not isinstance(value, int | Decimal):
            self.issue(key, f"expected a number, got {type_name(value)}")
            return None
        number = Decimal(value)
        if minimum is not None and number < minimum:
            self.issue(key, f"expected a number >= {minimum}, got {number}")
            return None
        return number

    def input_name(self, key: str, value: Any, *, types: tuple[str, ...]) -> str | None:
        """Check that ``value`` names an input field of one of ``types``."""
        from .errors import did_you_mean

        if not isinstance(value, str):
            self.issue(key, f"expected the name of an input field, got {type_name(value)}")
            return None
        field = self.inputs.get(value)
        if field is None:
            self.issue(key, f"unknown input '{value}'{did_you_mean(value, self.inputs)}")
            return None
        if field.type not in types:
            self.issue(key, f"input '{value}' is {field.type}, expected {' or '.join(types)}")
            return None
        return value


def type_name(value: Any) -> str:
    """How an error message names a TOML value's type, with the value as TOML writes it."""
    from .tomlfmt import toml_value

    kinds = {bool: "a boolean", str: "a string", int: "an integer", Decimal: "a number",
             list: "an array", dict: "a table"}
    kind = next((k for t, k in kinds.items() if isinstance(value, t)), type(value).__name__)
    if isinstance(value, dict | list):
        return kind
    return f"{kind} {toml_value(value)}"
