"""Built-in expression functions: the default allow-list every policy can call."""

from __future__ import annotations

import decimal
from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any

from ..expressions import EvalContext, FunctionSpec
from ..hookspecs import hookimpl

ZERO = Decimal(0)
MAX_PLACES = 28
#: ``_QUANTA[n]`` is 10**-n, exactly.
_QUANTA = tuple(Decimal((0, (1,), -places)) for places in range(MAX_PLACES + 1))

Env = Mapping[str, Any]
Condition = Callable[[Env], Any]


def _min(*values: Decimal) -> Decimal:
    return min(values)


def _max(*values: Decimal) -> Decimal:
    return max(values)


def _abs(value: Decimal) -> Decimal:
    return value.copy_abs()


def _whole(value: Decimal) -> bool:
    return value == value.to_integral_value()


def _unsigned_zero(value: Decimal) -> Decimal:
    """``-0`` (from rounding a small negative number) shown as ``0``."""
    return value if value else value.copy_abs()


def _round(value: Decimal, places: Decimal) -> Decimal:
    if not (0 <= places <= MAX_PLACES and _whole(places)):
        raise ValueError(f"round() needs a whole number of places from 0 to {MAX_PLACES}")
    return _unsigned_zero(value.quantize(_QUANTA[int(places)], rounding=decimal.ROUND_HALF_UP))


def _floor(value: Decimal) -> Decimal:
    return _unsigned_zero(value.to_integral_value(rounding=decimal.ROUND_FLOOR))


def _ceil(value: Decimal) -> Decimal:
    return _unsigned_zero(value.to_integral_value(rounding=decimal.ROUND_CEILING))


def _clamp(value: Decimal, low: Decimal, high: Decimal) -> Decimal:
    if low > high:
        raise ValueError("clamp() needs lo <= hi")
    if value < low:
        return low
    if value > high:
        return high
    return value


def _held(cond: Condition, env: Env, past: bool = True) -> bool:
    """Whether the condition holds in ``env`` (an earlier year's record, or this year's values).
    A value the condition reads and the year does not give is an error, never a silent "not
    held" (the loader refuses such records for the policy's own conditions; this covers the rest)."""
    try:
        return cond(env) is True
    except KeyError as exc:
        year = env.get("year")
        where = ("a history record" if year is None else f"the history record of {year}") if past else "this year"
        raise ValueError(f"{where} does not give '{exc.args[0]}'") from None


def _streak(env: Env, ctx: EvalContext, cond: Condition, after: int | None) -> Decimal:
    """Years in a row ending with this one in which ``cond`` held, counting no year before
    ``ctx.counts_from`` (discipline) and no year up to ``after`` (an award already made)."""
    floor = ctx.counts_from or 0
    if after is not None:
        floor = max(floor, after + 1)
    if ctx.year < floor or not _held(cond, env, past=False):
        return ZERO
    count, year = 1, ctx.year - 1
    while year >= floor and (past := ctx.history.get(year)) is not None and _held(cond, past):
        count += 1
        year -= 1
    return Decimal(count)


def _consecutive_years(env: Env, ctx: EvalContext | None, cond: Condition) -> Decimal:
    if ctx is None:
        raise ValueError("consecutive_years() needs the unit's history")
    return _streak(env, ctx, cond, None)


def _consecutive_years_since(env: Env, ctx: EvalContext | None, cond: Condition, title: str) -> Decimal:
    if ctx is None:
        raise ValueError("consecutive_years_since() needs the unit's history")
    return _streak(env, ctx, cond, ctx.awarded.get(title))


def _count_years(env: Env, ctx: EvalContext | None, cond: Condition, years: Decimal) -> Decimal:
    if ctx is None:
        raise ValueError("count_years() needs the unit's history")
    if not (years >= 1 and _whole(years)):
        raise ValueError("count_years() needs a whole number of years, at least 1")
    first = max(ctx.year - int(years) + 1, ctx.counts_from or ctx.year - int(years) + 1)
    count = 1 if first <= ctx.year and _held(cond, env, past=False) else 0
    for year, past in ctx.history.items():
        if first <= year < ctx.year and _held(cond, past):
            count += 1
    return Decimal(count)


BUILTIN_FUNCTIONS: tuple[FunctionSpec, ...] = (
    FunctionSpec(name="abs", impl=_abs, params=("number",), returns="number",
                 doc="abs(x): the absolute value of x"),
    FunctionSpec(name="ceil", impl=_ceil, params=("number",), returns="number",
                 doc="ceil(x): the smallest whole number not below x"),
    FunctionSpec(name="clamp", impl=_clamp, params=("number", "number", "number"),
                 returns="number", doc="clamp(x, lo, hi): x limited to the range lo..hi"),
    FunctionSpec(name="consecutive_years", impl=_consecutive_years, params=("bool",),
                 returns="number", history="including_current",
                 doc="consecutive_years(cond): years in a row, ending this year, in which cond "
                     "held"),
    FunctionSpec(name="consecutive_years_since", impl=_consecutive_years_since,
                 params=("bool", "text"), returns="number", history="including_current",
                 doc="consecutive_years_since(cond, 'title'): like consecutive_years, counting only "
                     "years after the title was last awarded (one achievement, one award)"),
    FunctionSpec(name="count_years", impl=_count_years, params=("bool", "number"),
                 returns="number", history="including_current",
                 doc="count_years(cond, n): in how many of the last n years (this one included) "
                     "cond held"),
    FunctionSpec(name="floor", impl=_floor, params=("number",), returns="number",
                 doc="floor(x): the largest whole number not above x"),
    FunctionSpec(name="max", impl=_max, params=("number",), returns="number", variadic=True,
                 doc="max(x, ...): the largest of one or more numbers"),
    FunctionSpec(name="min", impl=_min, params=("number",), returns="number", variadic=True,
                 doc="min(x, ...): the smallest of one or more numbers"),
    FunctionSpec(name="round", impl=_round, params=("number", "number"), returns="number",
                 doc="round(x, n): x rounded half-up to n decimal places (0 to 28)"),
)


@hookimpl
def register_functions(register: Callable[[FunctionSpec], None]) -> None:
    for spec in BUILTIN_FUNCTIONS:
        register(spec)
