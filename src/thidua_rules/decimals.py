"""Exact decimal arithmetic: the one engine context, conversions and the one rounding function."""

from __future__ import annotations

import decimal
from contextlib import AbstractContextManager
from decimal import Decimal
from fractions import Fraction
from typing import Any

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


def figure(value: Decimal | Fraction) -> str:
    """A raw figure as a reader checks it: :func:`plain` for a Decimal; a Fraction (a figure
    whose decimal form never ends, e.g. a quota share "1/3" of 7 units) as ``"7/3"``."""
    if isinstance(value, Fraction):
        return f"{value.numerator}/{value.denominator}"
    return plain(value)


def plain(value: Decimal) -> str:
    """A number as a policy author wrote it: no exponent, no trailing zeros after the point."""
    text = f"{value:f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text or "0"


# ---------------------------------------------------------------- bounds of every number read

#: Every number read from a policy, a data file or an expression has at most this many digits
#: before the point (|x| < 10**15: a quadrillion, far above any count, score or amount here) ...
MAX_WHOLE_DIGITS = 15
#: ... and at most this many after it (trailing zeros not counted). 15 + 20 digits stay well
#: inside the 50 of :data:`ENGINE_CONTEXT`, so sums and ratios of them stay exact enough, and
#: no number can make a computation (or a message) huge.
MAX_PLACES = 20
#: The largest magnitude within both bounds.
LARGEST = Decimal("9" * MAX_WHOLE_DIGITS + "." + "9" * MAX_PLACES)
#: A number shown in a message is cut to about this many characters.
SHOWN_MAX = 24


class OutOfBounds(Decimal):
    """A number a reader parsed that breaks the bounds (or is not finite): kept as a Decimal of
    its own type so that no fast path takes it for a good value, and reported where it is used."""

    __slots__ = ()


def number_problem(value: Decimal | int) -> str:
    """What is wrong with ``value`` against the bounds above, or ``""`` when it is fine."""
    if isinstance(value, int):
        if -10**MAX_WHOLE_DIGITS < value < 10**MAX_WHOLE_DIGITS:
            return ""
        return f"number too large: at most {MAX_WHOLE_DIGITS} digits before the point (got {shown_number(value)})"
    if not value.is_finite():
        return f"expected a finite number, got {shown_number(value)}"
    if not value:
        return ""
    if value.adjusted() >= MAX_WHOLE_DIGITS:
        return f"number too large: at most {MAX_WHOLE_DIGITS} digits before the point (got {shown_number(value)})"
    _sign, digits, exponent = value.as_tuple()
    if exponent < -MAX_PLACES:  # type: ignore[operator]
        zeros = len(digits) - len("".join(map(str, digits)).rstrip("0"))
        if exponent + zeros < -MAX_PLACES:  # type: ignore[operator]
            return f"too many decimals: at most {MAX_PLACES} digits after the point (got {shown_number(value)})"
    return ""


def shown_number(value: Decimal | int) -> str:
    """``value`` as a message shows it: as TOML writes it when short, else cut to its first
    digits and its exponent (``9.99999…e+4999``), never megabytes long."""
    if isinstance(value, int):
        value = Decimal(value)
    if value.is_nan():
        return "nan"
    if value.is_infinite():
        return "-inf" if value < 0 else "inf"
    adjusted = value.adjusted()
    if -7 < adjusted < SHOWN_MAX - 4:  # a fixed-point text, cut after its first digits
        text = f"{value:f}"
        return text if len(text) <= SHOWN_MAX else text[:SHOWN_MAX - 1] + "…"
    text = str(value).lower()
    if len(text) <= SHOWN_MAX:
        return text
    sign, digits, _exponent = value.as_tuple()
    head = "".join(map(str, digits[:6]))
    return f"{'-' if sign else ''}{head[0]}.{head[1:]}…e{adjusted:+d}"


def bounded_decimal(text: str) -> Decimal:
    """The ``parse_float`` (and ``parse_constant``) of the TOML and JSON readers: a ``Decimal``,
    of type :class:`OutOfBounds` when it breaks the bounds."""
    value = Decimal(text)
    # A short text without an exponent, e.g. "12.5", is within the bounds if it is finite.
    if len(text) <= MAX_WHOLE_DIGITS and "e" not in text and "E" not in text and value.is_finite():
        return value
    return OutOfBounds(text) if number_problem(value) else value


#: The one problem of an integer too long for ``int()`` (more than 4300 digits:
#: ``sys.get_int_max_str_digits``), which tomllib and json raise as a ``ValueError``.
LONG_INTEGER = (f"number too large: at most {MAX_WHOLE_DIGITS} digits before the point "
                "(got an integer of more than 4300 digits)")


#: The number hooks of every ``json.loads`` of data: exact decimals, and no number out of bounds
#: taken for a good one (``NaN``/``Infinity`` included). Integers stay Python's own (a hook
#: for them would cost a call per integer): one out of bounds is found where it is used, and
#: one too long for ``int()`` is the reader's ``ValueError`` (:data:`LONG_INTEGER`).
JSON_NUMBERS: dict[str, Any] = {"parse_float": bounded_decimal, "parse_constant": bounded_decimal}
