"""Built-in criterion methods: proportional, bands, lookup, formula, per_item, full_if."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from decimal import Decimal
from types import MappingProxyType
from typing import Any

from ..errors import EvaluationError, did_you_mean
from ..extensions import CompileContext, MethodSpec, type_name
from ..hookspecs import hookimpl
from ..tomlfmt import toml_key

ZERO = Decimal(0)
#: The facts of a formula: none, one empty read-only mapping shared by every unit.
NO_FACTS: Mapping[str, Any] = MappingProxyType({})
# Each scorer carries ``inline``: its method and parts, from which the scoring kernel
# (``kernel.py``) writes the same computation into the policy's generated function.
Scorer = Callable[[Mapping[str, Any]], tuple[Decimal, Mapping[str, Any]]]


def _points(table: Mapping[str, Any]) -> Decimal:
    value = table.get("points", 0)
    return Decimal(value) if isinstance(value, int | Decimal) and not isinstance(value, bool) else ZERO


def compile_proportional(table: Mapping[str, Any], ctx: CompileContext) -> Scorer | None:
    """points × value / target (the published ``(b/a) × điểm chuẩn`` formula); clamped later."""
    value = ctx.expr("value", table.get("value"))
    target_raw = table.get("target")
    if isinstance(target_raw, int | Decimal) and not isinstance(target_raw, bool):
        target_const: Decimal | None = ctx.number("target", target_raw, minimum=None)
        target = None
    else:
        target_const = None
        target = ctx.expr("target", target_raw)
    if value is None or (target is None and target_const is None):
        return None
    points = _points(table)
    value_fn = value._fn
    target_fn = None if target is None else target._fn

    def score(env: Mapping[str, Any]) -> tuple[Decimal, Mapping[str, Any]]:
        v = value_fn(env, None)
        t = target_const if target_fn is None else target_fn(env, None)
        if t == 0:
            raise EvaluationError(zero_target(value.source))
        return points * v / t, {"value": v, "target": t}

    score.inline = ("proportional", value, target, target_const, points)  # type: ignore[attr-defined]
    return score



def zero_target(source: str) -> str:
    """The error of a proportional criterion whose target is 0 (the kernel, which writes the
    method inline, raises it too)."""
    return f"target is 0, cannot score '{source}' against it"

def _band_bound(item: Any, i: int, ctx: CompileContext) -> tuple[str, Decimal, Decimal] | None:
    path = f"bands[{i}]"
    if not isinstance(item, dict):
        ctx.issue(path, f"expected a table like {{ at_least = 5, points = 7 }}, got {type_name(item)}")
        return None
    unknown = sorted(set(item) - {"at_least", "above", "points"})
    for key in unknown:
        ctx.issue(f"{path}.{toml_key(key)}",
                  f"unknown key '{key}'{did_you_mean(key, ['at_least', 'above', 'points'])}")
    bounds = [k for k in ("at_least", "above") if k in item]
    if len(bounds) != 1:
        ctx.issue(path, "give exactly one of 'at_least' (>=) or 'above' (>)")
        return None
    points = ctx.number(f"{path}.points", item.get("points"), minimum=ZERO) if "points" in item else None
    if "points" not in item:
        ctx.issue(path, "missing key 'points'")
    bound = ctx.number(f"{path}.{bounds[0]}", item[bounds[0]])
    if points is None or bound is None or unknown:
        return None
    return bounds[0], bound, points


def compile_bands(table: Mapping[str, Any], ctx: CompileContext) -> Scorer | None:
    """The points of the first listed band whose bound the value reaches; none reached → 0."""
    value = ctx.expr("value", table.get("value"))
    raw_bands = table.get("bands")
    if not isinstance(raw_bands, list) or not raw_bands:
        ctx.issue("bands", "expected a non-empty array of { at_least = ..., points = ... }")
        return None
    bands = [_band_bound(item, i, ctx) for i, item in enumerate(raw_bands)]
    if value is None or any(b is None for b in bands):
        return None
    steps = tuple(b for b in bands if b is not None)
    value_fn = value._fn

    def score(env: Mapping[str, Any]) -> tuple[Decimal, Mapping[str, Any]]:
        v = value_fn(env, None)
        for index, (kind, bound, points) in enumerate(steps):
            if (v >= bound) if kind == "at_least" else (v > bound):
                return points, {"value": v, "band": index, kind: bound}
        return ZERO, {"value": v, "band": "none"}

    score.inline = ("bands", value, steps)  # type: ignore[attr-defined]
    return score


def compile_lookup(table: Mapping[str, Any], ctx: CompileContext) -> Scorer | None:
    """Points looked up by the value (e.g. a party-organisation rating); unlisted → ``default``."""
    value = ctx.expr("value", table.get("value"), expect="text")
    raw_table = table.get("table")
    if not isinstance(raw_table, dict) or not raw_table:
        ctx.issue("table", "expected a table of value = points, e.g. { xuat_sac = 10, tot = 8 }")
        return None
    allowed: tuple[str, ...] = ()
    if value is not None and value.source.strip() in ctx.inputs:
        allowed = ctx.inputs[value.source.strip()].values
    points_by_value: dict[str, Decimal] = {}
    for key, raw in sorted(raw_table.items()):
        if allowed and key not in allowed:
            assert value is not None  # allowed values come from the value's input
            ctx.issue(f"table.{toml_key(key)}",
                      f"'{key}' is not a value of '{value.source.strip()}'{did_you_mean(key, allowed)}")
            continue
        number = ctx.number(f"table.{toml_key(key)}", raw, minimum=ZERO)
        if number is not None:
            points_by_value[key] = number
    default = ZERO
    if "default" in table:
        default = ctx.number("default", table["default"], minimum=ZERO) or ZERO
    if value is None or ctx.failed:
        return None
    value_fn = value._fn

    def score(env: Mapping[str, Any]) -> tuple[Decimal, Mapping[str, Any]]:
        v = value_fn(env, None)
        listed = v in points_by_value
        return (points_by_value[v] if listed else default), {"value": v, "listed": listed}

    score.inline = ("lookup", value, points_by_value, default)  # type: ignore[attr-defined]
    return score


def compile_formula(table: Mapping[str, Any], ctx: CompileContext) -> Scorer | None:
    """Any number expression over the inputs; clamped to ``[0, points]`` by the engine."""
    formula = ctx.expr("formula", table.get("formula"))
    if formula is None:
        return None
    formula_fn = formula._fn

    def score(env: Mapping[str, Any]) -> tuple[Decimal, Mapping[str, Any]]:
        return formula_fn(env, None), NO_FACTS

    score.inline = ("formula", formula)  # type: ignore[attr-defined]
    return score


def compile_per_item(table: Mapping[str, Any], ctx: CompileContext) -> Scorer | None:
    """``each`` points per counted item (e.g. 0.4 per beneficiary checked); clamped by the engine."""
    value = ctx.expr("value", table.get("value"))
    each = ctx.number("each", table.get("each"))
    if value is None or each is None:
        return None
    value_fn = value._fn

    def score(env: Mapping[str, Any]) -> tuple[Decimal, Mapping[str, Any]]:
        v = value_fn(env, None)
        return each * v, {"value": v, "each": each}

    score.inline = ("per_item", value, each)  # type: ignore[attr-defined]
    return score


def compile_full_if(table: Mapping[str, Any], ctx: CompileContext) -> Scorer | None:
    """Full points when the condition holds, else 0 (a yes/no criterion)."""
    condition = ctx.expr("condition", table.get("condition"), expect="bool")
    if condition is None:
        return None
    points = _points(table)
    condition_fn = condition._fn

    def score(env: Mapping[str, Any]) -> tuple[Decimal, Mapping[str, Any]]:
        held = condition_fn(env, None)
        return (points if held else ZERO), {"condition": held}

    score.inline = ("full_if", condition, points)  # type: ignore[attr-defined]
    return score


METHODS = (
    MethodSpec(name="bands", keys={"value": True, "bands": True}, compile=compile_bands,
               doc="points of the first band whose bound the value reaches"),
    MethodSpec(name="formula", keys={"formula": True}, compile=compile_formula,
               doc="an expression over the inputs, clamped to [0, points]"),
    MethodSpec(name="full_if", keys={"condition": True}, compile=compile_full_if,
               doc="full points when a condition holds, else 0"),
    MethodSpec(name="lookup", keys={"value": True, "table": True, "default": False},
               compile=compile_lookup, doc="points looked up by a value; unlisted values score default (0)"),
    MethodSpec(name="per_item", keys={"value": True, "each": True}, compile=compile_per_item,
               doc="each × value, clamped to [0, points]"),
    MethodSpec(name="proportional", keys={"value": True, "target": True},
               compile=compile_proportional, doc="points × value / target, clamped to [0, points]"),
)


@hookimpl
def register_criterion_methods(register: Callable[[MethodSpec], None]) -> None:
    for spec in METHODS:
        register(spec)
