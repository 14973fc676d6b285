"""Exact decimal arithmetic: the one engine context, conversions and the one rounding function."""

from __future__ import annotations

import decimal
from contextlib import AbstractContextManager
from decimal import Decimal

#: Every evaluation runs inside this context (see :func:`engine_context`). Fifty significant
#: digits keep every ratio of realistic counts exact enough that a comparison with a threshold
#: of up to forty digits is decided correctly; division by zero and overflow raise instead of
#: giving ``Infinity``/``NaN``.
ENGINE_CONTEXT = decimal.Context(
    prec=50,
    rounding=decimal.ROUND_HALF_EVEN,
    Emax=999_999,
    Emin=-999_999,
    traps=[decimal.DivisionByZero, decimal.InvalidOperation, decimal.Overflow],
)

ZERO = Decimal(0)
ONE = Decimal(1)


def engine_context() -> AbstractContextManager[decimal.Context]:
    """A fresh local context equal to :data:`ENGINE_CONTEXT`, whatever the caller's thread has."""
    return decimal.localcontext(ENGINE_CONTEXT)


def to_decimal(value: object) -> Decimal:
    """Convert an ``int``, ``str`` or ``Decimal`` to ``Decimal``; refuse ``float`` and ``bool``.

    ``Decimal(0.1)`` is inexact, so a float reaching the engine is a bug upstream.
    """
    if isinstance(value, bool):
        raise TypeError("a boolean is not a number")
    if isinstance(value, Decimal):
        return value
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, str):
        return Decimal(value)
    raise TypeError(f"cannot use {type(value).__name__} as an exact number")


def quantum(places: int) -> Decimal:
    return Decimal(1).scaleb(-places)


def round_half_up(value: Decimal, places: int) -> Decimal:
    """Round ``value`` half-up (away from zero on a tie) to ``places`` decimals.

    This is the only place that rounds a score; the policy's ``precision`` gives ``places``.
    """
    with engine_context():
        return value.quantize(quantum(places), rounding=decimal.ROUND_HALF_UP)


def fmt(value: Decimal, places: int) -> str:
    """A score as the outputs print it: fixed point with exactly ``places`` decimals."""
    return f"{round_half_up(value, places):f}"


def plain(value: Decimal) -> str:
    """A number as a policy author wrote it: no exponent, no trailing zeros after the point."""
    text = f"{value:f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text or "0"
