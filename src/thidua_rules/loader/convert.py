"""Per-field converters of unit data: each input's cell or value → its typed value, or the
message that words what is wrong with it (the one conversion of the loader)."""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import attrs

from ..decimals import MAX_WHOLE_DIGITS, OutOfBounds, number_problem
from ..errors import did_you_mean
from ..extensions import type_name
from ..model import InputField, Value
from ..tomlfmt import toml_value
from .common import kept

_INT = re.compile(r"[+-]?\d+")
_DEC = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)")
TRUE_WORDS = {"true", "1", "yes", "có", "co", "x"}
FALSE_WORDS = {"false", "0", "no", "không", "khong", ""}
#: How many distinct good cell texts a converter remembers (per input and kind of file): a cell
#: text seen again is its remembered value, with no second parse; a text past these is parsed
#: as the first one was (the same path), so the bound only keeps the memory small.
KNOWN_MAX = 4096
#: ``text_values`` of a CSV file separated by ``;`` (Excel in a Vietnamese locale): its numbers
#: are written with a decimal comma (``98,5``), maybe grouped in thousands (``1.234,5``).
DECIMAL_COMMA = "decimal-comma"
#: A number with a decimal comma: ``_DEC`` with ``,`` for ``.``.
_COMMA_DEC = re.compile(r"[+-]?(\d+(,\d*)?|,\d+)")
#: A number grouped in thousands by one kind of separator (``.``, a space, a no-break space or a
#: narrow no-break space), maybe with a decimal comma.
_GROUPED = re.compile(r"([+-]?)(\d{1,3})(?P<sep>[. \u00a0\u202f])(\d{3}(?:(?P=sep)\d{3})*)(,\d*)?")

Converter = Callable[[Any], tuple[Value, str]]


@attrs.frozen
class FieldConverter:
    """One input's conversion: ``convert(raw) → (value, problem)`` (``problem`` is ``""`` for a
    good value), and ``known``, its memory of the cell texts it converted without a problem
    (cell text → value), which the loader's row readers look up first, calling ``parse`` (the
    conversion without the memory) for a text not in it and remembering a good one themselves
    (:func:`remember`)."""

    convert: Converter
    known: dict[str, Value]
    parse: Converter


def field_converter(field: InputField, text_values: bool | str) -> FieldConverter:
    """The converter of one input. ``text_values``: values are cell texts (CSV): ``True``, or
    :data:`DECIMAL_COMMA` for a file separated by ``;``.

    A good text always converts to an equal value, so a remembered one is its value; the empty
    text (an empty cell: no value given) is never remembered."""
    parse = _KINDS[field.type](field, text_values)
    known: dict[str, Value] = {}
    if field.type == "enum":
        known.update((v, v) for v in sorted(frozenset(field.values)))

    def convert(raw: Any) -> tuple[Value, str]:
        if type(raw) is str:
            value = known.get(raw)
            if value is not None:
                return value, ""
            value, problem = parse(raw)
            if not problem:
                remember(known, raw, value)
            return value, problem
        return parse(raw)

    return FieldConverter(convert, known, parse)


def remember(known: dict[str, Value], text: str, value: Value) -> None:
    """Remember a good cell text's value, while there is room (never the empty text)."""
    if text and len(known) < KNOWN_MAX:
        known[kept(text)] = value


_ZERO = Decimal(0)


def _integer(field: InputField, text_values: bool | str) -> Converter:
    """A whole number: an ``int`` (never ``bool``), or a cell text of digits with a sign maybe
    (``_INT``; leading zeros, spaces around), within the bounds of every number and the field's
    ``min``/``max``."""
    low, high = field.min, field.max
    # the bounds as whole numbers, for comparing a whole number: n < 0.5 exactly when n < 1
    low_whole = -_WHOLE_LIMIT if low is None else math.ceil(low)
    high_whole = _WHOLE_LIMIT if high is None else math.floor(high)
    comma = text_values == DECIMAL_COMMA
    fullmatch, dec_match = _INT.fullmatch, _DEC.fullmatch
    limit = _WHOLE_LIMIT

    def integer(raw: Any) -> tuple[Value, str]:
        written = None  # a decimal-comma cell's text, named as written in a bound's message
        if text_values and isinstance(raw, str):
            text, written, problem = number_text(raw, comma)
            if problem:
                return _ZERO, problem
            if len(text) <= _WHOLE_TEXT_MAX:
                # int() reads exactly the texts _INT matches (a stripped text), and '1_000' too
                if "_" not in text:
                    try:
                        raw = int(text)
                    except ValueError:
                        pass
            elif fullmatch(text):
                raw = whole_number(text)
            elif dec_match(text) and (problem := number_problem(Decimal(text))):
                return _ZERO, problem  # never the whole text of a number out of bounds
        if type(raw) is int:
            if -limit < raw < limit:
                if low_whole <= raw <= high_whole:
                    return Decimal(raw), ""
                return Decimal(raw), _bounds(Decimal(raw), low, high, raw, written)
            return _ZERO, number_problem(raw)
        if isinstance(raw, Decimal):
            problem = number_problem(raw)
            if problem:
                return _ZERO, problem
            if raw == raw.to_integral_value():
                return _ZERO, f"expected a whole number, got {toml_value(raw)} (write {int(raw)})"
            return _ZERO, f"expected a whole number, got {type_name(raw)}"
        if isinstance(raw, bool) or not isinstance(raw, int):
            return _ZERO, f"expected a whole number, got {type_name(raw)}"
        value = Decimal(raw)  # (an int of another type: read as it is)
        return value, _bounds(value, low, high, raw, written)

    return integer


def _decimal(field: InputField, text_values: bool | str) -> Converter:
    """A number: an ``int`` (never ``bool``) or a ``Decimal``, or a cell text of digits with a
    point maybe (``_DEC``), finite and within the bounds."""
    low, high = field.min, field.max
    comma = text_values == DECIMAL_COMMA
    fullmatch = _DEC.fullmatch

    def decimal(raw: Any) -> tuple[Value, str]:
        written = None
        if text_values and isinstance(raw, str):
            text, written, problem = number_text(raw, comma)
            if problem:
                return _ZERO, problem
            if fullmatch(text):
                raw = Decimal(text)
        if isinstance(raw, Decimal):
            problem = number_problem(raw)  # (a number out of bounds, or not finite)
            if problem:
                return _ZERO, problem
            value = raw if type(raw) is Decimal else Decimal(raw)
        elif type(raw) is int:
            problem = number_problem(raw)
            if problem:
                return _ZERO, problem
            value = Decimal(raw)
        elif isinstance(raw, bool) or not isinstance(raw, int):
            return _ZERO, f"expected a number, got {type_name(raw)}"
        else:
            value = Decimal(raw)  # (an int of another type: read as it is)
        if (low is not None and value < low) or (high is not None and value > high):
            return value, _bounds(value, low, high, raw, written)
        return value, ""

    return decimal


def _bounds(value: Decimal, low: Decimal | None, high: Decimal | None, raw: Any, written: str | None) -> str:
    """The field's ``min``/``max`` against ``value`` (``raw`` as given, ``written`` as typed)."""
    if low is not None and value < low:
        return f"expected a number >= {toml_value(low)}, got {written or toml_value(raw)}"
    if high is not None and value > high:
        return f"expected a number <= {toml_value(high)}, got {written or toml_value(raw)}"
    return ""


def _boolean(field: InputField, text_values: bool | str) -> Converter:
    """``true``/``false``, or a cell text naming one (``TRUE_WORDS``, ``FALSE_WORDS``)."""

    def boolean(raw: Any) -> tuple[Value, str]:
        if text_values and isinstance(raw, str):
            word = raw.strip().lower()
            if word in TRUE_WORDS:
                return True, ""
            if word in FALSE_WORDS:
                return False, ""
        if not isinstance(raw, bool):
            return False, f"expected true or false, got {type_name(raw)}"
        return raw, ""

    return boolean


def _enum(field: InputField, text_values: bool | str) -> Converter:
    """One of the field's ``values``, exactly as written."""
    allowed = field.values

    def enum(raw: Any) -> tuple[Value, str]:
        if not isinstance(raw, str):
            return "", f"expected one of {', '.join(allowed)}, got {type_name(raw)}"
        if raw not in allowed:
            return "", f"'{raw}' is not allowed{did_you_mean(raw, allowed)}; expected one of {', '.join(allowed)}"
        return raw, ""

    return enum


def _text(field: InputField, text_values: bool | str) -> Converter:
    """Any string, as it is."""

    def text(raw: Any) -> tuple[Value, str]:
        if not isinstance(raw, str):
            return "", f"expected a string, got {type_name(raw)}"
        return raw, ""

    return text


_KINDS: dict[str, Callable[[InputField, bool | str], Converter]] = {
    "integer": _integer, "decimal": _decimal, "boolean": _boolean, "enum": _enum, "text": _text}


def number_text(raw: str, comma: bool) -> tuple[str, str | None, str]:
    """A number cell's text to parse (trimmed; in a decimal-comma file, as a comma-separated file
    writes it), the text as written when that changed it (a bound's message names it so), and
    the problem of a decimal-comma text (:func:`comma_number`)."""
    text = raw.strip()
    if comma:
        dotted, problem = comma_number(text)
        if problem:
            return text, None, problem
        if dotted is not None:
            return dotted, text, ""
    return text, None, ""


def comma_number(text: str) -> tuple[str | None, str]:
    """A number cell of a decimal-comma file (``text`` trimmed) as the text of a comma-separated
    file (``98,5`` → ``98.5``, ``1.234,5`` → ``1234.5``), and ``""``; or ``None`` and the problem
    of a text that is ambiguous (``1.234``: a thousand or one and a quarter?) or written with a
    decimal point; or ``None`` and ``""`` for any other text, left to the usual messages."""
    if _COMMA_DEC.fullmatch(text):
        return text.replace(",", "."), ""
    grouped = _GROUPED.fullmatch(text)
    if grouped is not None:
        sign, head, sep, groups, decimals = grouped.groups()
        if sep == "." and decimals is None and len(groups) == 3:
            return None, (f"'{text}' is ambiguous in a file separated by ';' (the decimal mark is a comma): "
                          f"write {sign}{head}{groups} for a whole number or {sign}{head},{groups} for a decimal")
        return f"{sign}{head}{groups.replace(sep, '')}{(decimals or '').replace(',', '.')}", ""
    if "." in text and _DEC.fullmatch(text):
        return None, (f"'{text}' has a decimal point, but in a file separated by ';' the decimal mark is a "
                      f"comma: write {text.replace('.', ',')}")
    return None, ""


def whole_number(text: str) -> int | Decimal:
    """``int(text)`` for a whole-number text (``_INT``), or an :class:`OutOfBounds` Decimal when
    it is out of bounds: ``int()`` refuses more than 4300 digits, and a long text may be a small
    number with leading zeros (``+0000000000000000005``)."""
    if len(text) <= _WHOLE_TEXT_MAX:
        return int(text)
    value = Decimal(text)
    return OutOfBounds(text) if number_problem(value) else int(value)


#: The longest whole-number text read with int(): a sign and the most digits allowed.
_WHOLE_TEXT_MAX = MAX_WHOLE_DIGITS + 1
#: A whole number's bound (``number_problem``'s): fewer digits than this has.
_WHOLE_LIMIT = 10**MAX_WHOLE_DIGITS
