"""Per-field converters of unit data: a short path for a well-formed value, the checker's own
``convert`` (which words every problem) for anything else."""

from __future__ import annotations

import re
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from ..decimals import LARGEST, MAX_PLACES, MAX_WHOLE_DIGITS, OutOfBounds, number_problem
from ..model import InputField, Value

_INT = re.compile(r"[+-]?\d+")
_DEC = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)")
TRUE_WORDS = {"true", "1", "yes", "có", "co", "x"}
FALSE_WORDS = {"false", "0", "no", "không", "khong", ""}
#: How many distinct cell texts a converter remembers.
PARSED_MAX = 4096

Converter = Callable[[Any], tuple[Value, str]]


def field_converter(field: InputField, convert: Callable[[InputField, Any], tuple[Value, str]],
                    text_values: bool) -> tuple[Converter, dict[str, Value]]:
    """``raw → (value, problem)`` for one input, equal to ``convert(field, raw)``, and the memory
    of cell texts it converted without a problem (cell text → value)."""

    def slow(raw: Any) -> tuple[Value, str]:
        return convert(field, raw)

    #: cell text → its value, for the texts converted so far without a problem
    good: dict[str, Value] = {}
    kind = field.type
    if kind == "integer":
        return _number(field, slow, good, text_values, _INT.fullmatch, _whole, (int,), finite=False), good
    if kind == "decimal":
        return _number(field, slow, good, text_values, _DEC.fullmatch, Decimal, (int, Decimal), finite=True), good
    if kind == "enum":
        allowed = frozenset(field.values)
        good.update((v, v) for v in sorted(allowed))

        def enum(raw: Any) -> tuple[Value, str]:
            if type(raw) is str and raw in allowed:
                return raw, ""
            return slow(raw)

        return enum, good
    if kind == "text":

        def text_(raw: Any) -> tuple[Value, str]:
            if type(raw) is str:
                return raw, ""
            return slow(raw)

        return text_, good
    return slow, good


def whole_number(text: str) -> int | Decimal:
    """``int(text)`` for a whole-number text (``_INT``), or an :class:`OutOfBounds` Decimal when
    it is out of bounds: ``int()`` refuses more than 4300 digits, and a long text may be a small
    number with leading zeros (``+0000000000000000005``)."""
    if len(text) <= _WHOLE_TEXT_MAX:
        return int(text)
    value = Decimal(text)
    return OutOfBounds(text) if number_problem(value) else int(value)


def _whole(text: str) -> Decimal:
    return Decimal(whole_number(text))


#: The longest whole-number text read with int(): a sign and the most digits allowed.
_WHOLE_TEXT_MAX = MAX_WHOLE_DIGITS + 1
#: A decimal text no longer than this has at most MAX_PLACES digits after the point.
_DECIMAL_TEXT_SHORT = MAX_PLACES + 1


def _number(field: InputField, slow: Converter, good: dict[str, Value], text_values: bool,
            match: Callable[[str], Any], parse: Callable[[str], Decimal], exact_types: tuple[type, ...],
            *, finite: bool) -> Converter:
    """An integer or decimal input: a cell text matching ``match`` (CSV) or a value of one of
    ``exact_types`` (never ``bool``) within the bounds; everything else goes to ``slow``.

    The bounds are the field's ``min``/``max`` and the bounds of every number
    (:data:`~thidua_rules.decimals.LARGEST`). A number of an exact type has at most
    ``MAX_PLACES`` decimals: the readers give an out-of-bounds one as an
    :class:`~thidua_rules.decimals.OutOfBounds`, which is not an exact type; a cell text is
    checked when it is first parsed. Only a cell that passed every check is remembered as good."""
    low = -LARGEST if field.min is None else field.min
    high = LARGEST if field.max is None else field.max
    parsed: dict[str, Decimal] = {}  # cell text → its number (the same cells recur)

    def number(raw: Any) -> tuple[Value, str]:
        kind_of = type(raw)
        if kind_of is str and text_values:
            value = parsed.get(raw)
            if value is None:
                text = raw.strip()
                if not match(text):
                    return slow(raw)
                value = parse(text)
                if len(text) > _DECIMAL_TEXT_SHORT and number_problem(value):
                    return slow(raw)
                if len(parsed) < PARSED_MAX:
                    parsed[raw] = value
        elif kind_of in exact_types:
            value = Decimal(raw)
        else:
            return slow(raw)
        if (finite and not value.is_finite()) or value < low or value > high:
            return slow(raw)
        if kind_of is str and len(good) < PARSED_MAX:
            good[raw] = value
        return value, ""

    return number
