"""Shared loader machinery: issue collection, TOML reading with line numbers, typed key access."""

from __future__ import annotations

import errno
import hashlib
import os
import re
import stat
import tomllib
from collections.abc import Iterable, Mapping
from decimal import Decimal
from pathlib import Path
from typing import Any, BinaryIO

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


MIB = 1024 * 1024
#: The most read of a policy, a base it extends or a tests file: far above any real one, and a
#: bound on what a wrong path (a log, an image) costs before its error.
POLICY_MAX_BYTES = 10 * MIB
#: The most read into memory of a data or members file (streaming reads larger ones in parts).
DATA_MAX_BYTES = 1024 * MIB

_SPECIAL = ((stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"),
            (stat.S_ISFIFO, "a named pipe"), (stat.S_ISSOCK, "a socket"))


class Unreadable(Exception):
    """Why a file was not read: ``kind`` is ``missing``, ``folder``, ``special``, ``large`` or
    ``os``; ``detail`` is the special file's kind, the size bound, or the system's reason."""

    def __init__(self, kind: str, detail: str = "") -> None:
        super().__init__(kind, detail)
        self.kind = kind
        self.detail = detail


def _size(limit: int) -> str:
    return f"{limit // MIB} MiB" if limit % MIB == 0 else f"{limit} bytes"


def read_regular(path: str | Path, limit: int) -> bytes:
    """The bytes of a regular file of at most ``limit`` bytes, else :class:`Unreadable`.

    Opened without blocking and checked on the open handle: a named pipe, ``/dev/stdin`` (a pipe
    or a terminal), ``/dev/zero`` or a folder is refused before anything is read, and a file
    that grows past ``limit`` while read is refused after ``limit + 1`` bytes.
    """
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0))
    except FileNotFoundError:
        raise Unreadable("missing") from None
    except IsADirectoryError:
        raise Unreadable("folder") from None
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise Unreadable("os", "symbolic link loop") from None
        raise Unreadable("os", exc.strerror or str(exc)) from None
    mode = os.fstat(fd).st_mode
    if not stat.S_ISREG(mode):
        os.close(fd)
        if stat.S_ISDIR(mode):
            raise Unreadable("folder")
        raise Unreadable("special", next((name for test, name in _SPECIAL if test(mode)), "a special file"))
    with os.fdopen(fd, "rb") as handle:
        try:
            data = handle.read(limit + 1)
        except OSError as exc:
            raise Unreadable("os", exc.strerror or str(exc)) from None
    if len(data) > limit:
        raise Unreadable("large", _size(limit))
    return data


def open_stream(path: str | Path, display: str) -> BinaryIO:
    """``path`` opened to be read as it comes (streamed data): a regular file or a pipe (``-`` of
    a shell, ``/dev/stdin`` fed by one); a folder, a device (``/dev/zero`` would be read for ever)
    or a socket is one line, worded as :func:`read_bytes` words it."""
    try:
        handle = open(path, "rb")  # the caller closes it
    except FileNotFoundError:
        raise PolicyError([Issue(file=display, message=unreadable_message(Unreadable("missing")))]) from None
    except IsADirectoryError:
        raise PolicyError([Issue(file=display, message=unreadable_message(Unreadable("folder")))]) from None
    except OSError as exc:
        why = Unreadable("os", exc.strerror or str(exc))
        raise PolicyError([Issue(file=display, message=unreadable_message(why))]) from None
    mode = os.fstat(handle.fileno()).st_mode
    if not (stat.S_ISREG(mode) or stat.S_ISFIFO(mode)):
        handle.close()
        kind = next((name for test, name in _SPECIAL if test(mode)), "a special file")
        raise PolicyError([Issue(file=display, message=unreadable_message(Unreadable("special", kind)))])
    return handle


def read_bytes(path: str | Path, display: str, *, limit: int = POLICY_MAX_BYTES) -> bytes:
    """A file's bytes, or a :class:`PolicyError` of one line naming the file (see :func:`read_regular`)."""
    try:
        return read_regular(path, limit)
    except Unreadable as exc:
        raise PolicyError([Issue(file=display, message=unreadable_message(exc))]) from None


def unreadable_message(exc: Unreadable, name: str = "") -> str:
    """The message for an unreadable file; ``name`` (a base's path) is put in when given."""
    it = f"{name} " if name else ""
    if exc.kind == "missing":
        return f"file not found: {name}" if name else "file not found"
    if exc.kind == "folder":
        return f"{it}is a folder, expected a file"
    if exc.kind == "special":
        return f"{it}is {exc.detail}, not a regular file: give a file's path"
    if exc.kind == "large":
        return f"{it}is larger than {exc.detail}, the most read of such a file"
    return f"cannot read {name}: {exc.detail}" if name else f"cannot read: {exc.detail}"


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def kept(text: str) -> str:
    """A copy of ``text``, a cell kept past loading (a unit's id or name, a cluster's id, a
    remembered cell text), made after the file's rows are read. A file's cells are all read
    before any is converted, and an arena of small objects (1 MiB) goes back to the system only
    once every object in it is freed: the cells kept as they are, one every few rows, would
    hold nearly every arena of the cells read (issue #11: 100k units resident in 186 MiB, not
    132). ``"".join`` of two strings always makes a new one (``text + ""`` gives ``text``)."""
    return "".join((text, ""))


# Patterns of the error path: compiled (and cached by re) when a file fails to parse, not at import.
_AT_LINE = r"^(?P<msg>.*?)\s*\(at line (?P<line>\d+), column (?P<col>\d+)\)$"
_AT_END = r"^(?P<msg>.*?)\s*\(at end of document\)$"


#: Arrays and tables inside each other deeper than this are refused: no real file comes near,
#: and the parsers (and the checks after them) recurse per level.
MAX_DEPTH = 64
#: Spreadsheet workbooks given where text is expected: zip (.xlsx, .ods) and OLE (.xls) files.
_WORKBOOK = (b"PK\x03\x04", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1")
_UTF16 = (b"\xff\xfe", b"\xfe\xff")
_SAVE_CSV = "save as CSV UTF-8 (Comma delimited) in Excel"
_SAVE_TEXT = "save the file as UTF-8"


def _save_hint(kind: str) -> str:
    return _SAVE_CSV if kind == "csv" else _SAVE_TEXT


def binary_problem(head: bytes, kind: str) -> str | None:
    """What a file starting with ``head`` is when it is text we cannot read but can name: a
    workbook, or UTF-16 text (Excel's "Unicode Text"), with the fix; ``None`` otherwise."""
    if head.startswith(_WORKBOOK):
        if kind == "toml":
            return "this is a zip or Office file, not TOML text"
        return "this is an Excel workbook (or another zip or OLE file), not text: save the sheet as CSV UTF-8"
    if head.startswith(_UTF16):
        return f"UTF-16 text, not UTF-8: {_save_hint(kind)}"
    return None


def not_utf8(display: str, line: int | None, kind: str) -> PolicyError:
    """The one line for text that is not UTF-8 (a CSV saved as Windows-1252 or -1258, say)."""
    return PolicyError([Issue(file=display, line=line,
                              message=f"not UTF-8 text: {_save_hint(kind)}")])


def decode_text(data: bytes, display: str, kind: str) -> str:
    """``data`` as text: UTF-8, a byte-order mark dropped (Excel and Notepad write one); a
    workbook, UTF-16 or other non-UTF-8 bytes give one line with the fix."""
    problem = binary_problem(data[:8], kind)
    if problem is not None:
        raise PolicyError([Issue(file=display, message=problem)])
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise not_utf8(display, data.count(b"\n", 0, exc.start) + 1, kind) from None


def too_deep(display: str, line: int | None) -> PolicyError:
    return PolicyError([Issue(file=display, line=line, message=f"arrays and tables nested deeper than "
                              f"{MAX_DEPTH} levels; flatten the data")])


# The error path's (compiled by re when first used, see _AT_LINE).
_JSON_TOKENS = r'"(?:[^"\\]|\\.)*"?|[\[\]{}\n]'
_TOML_TOKENS = (r'"""[\s\S]*?(?:"""|$)' r"|'''[\s\S]*?(?:'''|$)"
                r'|"(?:[^"\\\n]|\\.)*"?' r"|'[^'\n]*'?|#[^\n]*|[\[\]{}\n]")


def deep_line(text: str, kind: str) -> int | None:
    """The line where ``text`` first nests arrays and tables deeper than :data:`MAX_DEPTH`
    (strings and comments skipped); ``None`` if it does not. Only called on the error path."""
    depth, line = 0, 1
    for match in re.finditer(_TOML_TOKENS if kind == "toml" else _JSON_TOKENS, text):
        token = match.group()
        if token == "[" or token == "{":
            depth += 1
            if depth > MAX_DEPTH:
                return line
        elif token == "]" or token == "}":
            depth -= 1
        else:
            line += token.count("\n")
    return None


def check_depth(value: Any, display: str, text: str, kind: str) -> None:
    """Refuse a parsed document nested deeper than :data:`MAX_DEPTH` (walked without recursion)."""
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise too_deep(display, deep_line(text, kind))
        for child in item.values() if type(item) is dict else item:
            if type(child) is dict or type(child) is list:
                stack.append((child, depth + 1))


def parse_toml(data: bytes, display: str) -> dict[str, Any]:
    """Parse TOML with exact decimals; a syntax error becomes one issue with line and column."""
    text = decode_text(data, display, "toml")
    try:
        parsed = tomllib.loads(text, parse_float=bounded_decimal)
    except RecursionError:
        raise too_deep(display, deep_line(text, "toml")) from None
    except tomllib.TOMLDecodeError as exc:
        message = str(exc)
        line = getattr(exc, "lineno", None)
        column = getattr(exc, "colno", None)
        match = re.match(_AT_LINE, message)
        if match:
            message, line, column = match["msg"], int(match["line"]), int(match["col"])
        elif (end := re.match(_AT_END, message)) is not None:
            message = end["msg"]
            line = text.count("\n") + 1
        issue = Issue(file=display, message=f"TOML syntax: {message}", line=line, column=column)
        raise PolicyError([issue]) from None
    except ValueError as exc:
        # int() refuses more than 4300 digits: a number far out of bounds.
        line, column = _toml_position(exc, text)
        raise PolicyError([Issue(file=display, line=line, column=column,
                                 message=f"TOML syntax: {LONG_INTEGER}")]) from None

    check_depth(parsed, display, text, "toml")
    return parsed


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
