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
#: ``text_values`` of a CSV file separated by ``;`` (Excel in a Vietnamese locale): its numbers
#: are written with a decimal comma (``98,5``), maybe grouped in thousands (``1.234,5``).
DECIMAL_COMMA = "decimal-comma"
#: A number with a decimal comma: ``_DEC`` with ``,`` for ``.``.
_COMMA_DEC = re.compile(r"[+-]?(\d+(,\d*)?|,\d+)")
#: A number grouped in thousands by one kind of separator (``.``, a space, a no-break space or a
#: narrow no-break space), maybe with a decimal comma.
_GROUPED = re.compile(r"([+-]?)(\d{1,3})(?P<sep>[. \u00a0\u202f])(\d{3}(?:(?P=sep)\d{3})*)(,\d*)?")

Converter = Callable[[Any], tuple[Value, str]]


def field_converter(field: InputField, convert: Callable[[InputField, Any], tuple[Value, str]],
                    text_values: bool | str) -> tuple[Converter, dict[str, Value]]:
    """``raw → (value, problem)`` for one input, equal to ``convert(field, raw)``, and the memory
    of cell texts it converted without a problem (cell text → value)."""

    def slow(raw: Any) -> tuple[Value, str]:
        return convert(field, raw)

    #: cell text → its value, for the texts converted so far without a problem
    good: dict[str, Value] = {}
    kind = field.type
    if kind in ("integer", "decimal") and text_values == DECIMAL_COMMA:
        # Each text is read as the comma-separated file's text it stands for: the same values,
        # remembered per kind of file (the plans of the two kinds are apart).
        plain_match, plain_parse = (_INT.fullmatch, _whole) if kind == "integer" else (_DEC.fullmatch, Decimal)

        def match(text: str) -> Any:
            dotted, _ = comma_number(text)
            return dotted is not None and plain_match(dotted)

        def parse(text: str) -> Decimal:
            dotted, _ = comma_number(text)
            assert dotted is not None  # (matched above)
            return plain_parse(dotted)

        exact: tuple[type, ...] = (int,) if kind == "integer" else (int, Decimal)
        return _number(field, slow, good, text_values, match, parse, exact, finite=kind == "decimal"), good
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


def _whole(text: str) -> Decimal:
    return Decimal(whole_number(text))


#: The longest whole-number text read with int(): a sign and the most digits allowed.
_WHOLE_TEXT_MAX = MAX_WHOLE_DIGITS + 1
#: A decimal text no longer than this has at most MAX_PLACES digits after the point.
_DECIMAL_TEXT_SHORT = MAX_PLACES + 1


def _number(field: InputField, slow: Converter, good: dict[str, Value], text_values: bool | str,
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
