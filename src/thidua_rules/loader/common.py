"""Shared loader machinery: issue collection, TOML reading with line numbers, typed key access."""

from __future__ import annotations

import hashlib
import re
import tomllib
from collections.abc import Iterable, Mapping
from decimal import Decimal
from pathlib import Path
from typing import Any

from ..decimals import LONG_INTEGER, bounded_decimal, number_problem
from ..errors import Issue, PolicyError, did_you_mean
from ..extensions import type_name
from ..tomlfmt import escape_char, escaped, join_path, toml_key

SLUG = re.compile(r"[a-z][a-z0-9_]*")
UNIT_ID = re.compile(r"[a-z0-9][a-z0-9_.-]*")
MISSING: Any = object()


class Issues:
    """Collects the issues of one file in document order; :meth:`raise_if_any` raises them at once."""

    def __init__(self, file: str) -> None:
        self.file = file
        self.items: list[Issue] = []
        #: The line being checked, for row-based files (CSV, JSON lines) where lines are known.
        self.line: int | None = None

    def add(self, path: str, message: str, detail: tuple[str, ...] = ()) -> None:
        self.items.append(Issue(file=self.file, path=path, message=message, detail=detail, line=self.line))

    def __bool__(self) -> bool:
        return bool(self.items)

    def raise_if_any(self) -> None:
        if self.items:
            raise PolicyError(self.items)


def read_bytes(path: str | Path, display: str) -> bytes:
    try:
        return Path(path).read_bytes()
    except FileNotFoundError:
        raise PolicyError([Issue(file=display, message="file not found")]) from None
    except IsADirectoryError:
        raise PolicyError([Issue(file=display, message="is a folder, expected a file")]) from None
    except OSError as exc:
        raise PolicyError([Issue(file=display, message=f"cannot read: {exc.strerror}")]) from None


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


_AT_LINE = re.compile(r"^(?P<msg>.*?)\s*\(at line (?P<line>\d+), column (?P<col>\d+)\)$")
_AT_END = re.compile(r"^(?P<msg>.*?)\s*\(at end of document\)$")


def parse_toml(data: bytes, display: str) -> dict[str, Any]:
    """Parse TOML with exact decimals; a syntax error becomes one issue with line and column."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise PolicyError([Issue(file=display, message=f"not UTF-8 text (byte {exc.start})")]) from None
    try:
        return tomllib.loads(text, parse_float=bounded_decimal)
    except tomllib.TOMLDecodeError as exc:
        message = str(exc)
        line = getattr(exc, "lineno", None)
        column = getattr(exc, "colno", None)
        match = _AT_LINE.match(message)
        if match:
            message, line, column = match["msg"], int(match["line"]), int(match["col"])
        elif (end := _AT_END.match(message)) is not None:
            message = end["msg"]
            line = text.count("\n") + 1
        issue = Issue(file=display, message=f"TOML syntax: {message}", line=line, column=column)
        raise PolicyError([issue]) from None
    except ValueError as exc:
        # int() refuses more than 4300 digits: a number far out of bounds.
        line, column = _toml_position(exc, text)
        raise PolicyError([Issue(file=display, line=line, column=column,
                                 message=f"TOML syntax: {LONG_INTEGER}")]) from None


def _toml_position(exc: BaseException, text: str) -> tuple[int | None, int | None]:
    """Line and column of the value tomllib was reading when ``exc`` was raised (its parser's
    innermost ``pos``), or ``(None, None)`` when the frames do not show it."""
    pos = None
    tb = exc.__traceback__
    while tb is not None:
        frame_locals = tb.tb_frame.f_locals
        if tb.tb_frame.f_code.co_filename.endswith("_parser.py") and frame_locals.get("src") is text \
                and isinstance(frame_locals.get("pos"), int):
            pos = frame_locals["pos"]
        tb = tb.tb_next
    if pos is None:
        return None, None
    return text.count("\n", 0, pos) + 1, pos - text.rfind("\n", 0, pos)


def item_path(array_path: str, index: int, item: Any) -> str:
    """``criteria[2](id=chi_tieu)``: the index for position, the id because it survives reordering."""
    path = f"{array_path}[{index}]"
    if isinstance(item, dict) and isinstance(item.get("id"), str):
        path += f"(id={escaped(item['id'])})"
    return path


def non_printing(issues: Issues, path: str, value: str, what: str) -> bool:
    """Report an id holding a non-printing character (one line, the character escaped)."""
    if value.isprintable():
        return False
    first = next(ch for ch in value if not ch.isprintable())
    issues.add(path, f"{what} id '{escaped(value)}' contains the non-printing character "
               f"'{escape_char(first)}'; ids are written without control characters")
    return True


KINDS = {
    "str": "a string",
    "int": "an integer",
    "number": "a number",
    "bool": "true or false",
    "table": "a table",
    "array": "an array",
    "str_list": "an array of strings",
    "table_list": "an array of tables",
    "any": "a value",
}


def check_kind(value: Any, kind: str) -> bool:
    if kind == "any":
        return True
    if kind == "str":
        return isinstance(value, str)
    if kind == "int":
        return isinstance(value, int) and not isinstance(value, bool)
    if kind == "number":
        return isinstance(value, int | Decimal) and not isinstance(value, bool)
    if kind == "bool":
        return isinstance(value, bool)
    if kind == "table":
        return isinstance(value, dict)
    if kind == "array":
        return isinstance(value, list)
    if kind == "str_list":
        return isinstance(value, list) and all(isinstance(v, str) for v in value)
    if kind == "table_list":
        return isinstance(value, list) and all(isinstance(v, dict) for v in value)
    raise ValueError(kind)


def take(
    issues: Issues,
    path: str,
    table: Any,
    fields: Mapping[str, tuple[str, bool]],
    *,
    extra: Iterable[str] = (),
) -> dict[str, Any] | None:
    """Read the typed ``fields`` (name → (kind, required)) of a TOML table.

    Reports unknown keys (with "did you mean"), missing required keys and wrong types, all at
    once. Returns the present, well-typed values (bad or absent ones are left out), or ``None``
    if ``table`` is not a table at all or holds a number out of bounds (see
    :func:`~thidua_rules.decimals.number_problem`). Keys in ``extra`` are allowed and left to the caller.
    """
    if not isinstance(table, dict):
        issues.add(path, f"expected a table, got {type_name(table)}")
        return None
    allowed = set(fields) | set(extra)
    values: dict[str, Any] = {}
    out_of_bounds = False
    for key, value in table.items():
        if key not in allowed:
            issues.add(join_path(path, key), f"unknown key '{key}'{did_you_mean(key, allowed)}")
            continue
        if key in fields:
            kind = fields[key][0]
            if (type(value) is int or isinstance(value, Decimal)) and (problem := number_problem(value)):
                issues.add(join_path(path, key), problem)
                out_of_bounds = True
                continue
            if not check_kind(value, kind):
                issues.add(join_path(path, key), f"expected {KINDS[kind]}, got {type_name(value)}")
                continue
            values[key] = value
    for key, (_kind, required) in fields.items():
        if required and key not in table:
            issues.add(path, f"missing key '{key}'")
    # A number out of bounds is the one problem of its table: nothing else is checked in it.
    return None if out_of_bounds else values


def check_id(issues: Issues, path: str, value: Any, seen: set[str], what: str,
             pattern: re.Pattern[str] = SLUG) -> str | None:
    """A stable id: the right shape and not used twice in its list."""
    if not isinstance(value, str):
        return None
    if non_printing(issues, f"{path}.id", value, what):
        return None
    if not pattern.fullmatch(value):
        shape = "lower-case letters, digits and '_', starting with a letter" if pattern is SLUG \
            else "lower-case letters, digits, '-', '_' and '.'"
        issues.add(f"{path}.id", f"{what} id '{value}' must be {shape}")
        return None
    if value in seen:
        issues.add(f"{path}.id", f"duplicate {what} id '{value}'")
        return None
    seen.add(value)
    return value


def key(name: str) -> str:
    return toml_key(name)
