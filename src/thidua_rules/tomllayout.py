"""`thidua fmt`: the canonical layout of a TOML file, keeping every comment and every value.

The layout (close to taplo's defaults, so an editor and this tool agree):

- headers and statements start at column 0; ``[ a . b ]`` is written ``[a.b]``;
- ``key = value`` with one space each side of ``=``, dotted keys without spaces (``a.b``);
- arrays written on one line stay on one line as ``[1, 2, 3]``; an array written over several
  lines (or holding a comment) has one element per line, indented two spaces a level, each
  followed by a comma; inline tables are ``{ a = 1, b = 2 }`` (``{}`` when empty);
- a trailing comment is two spaces after the code, and the trailing comments of consecutive lines
  are aligned one column after the longest code (policy authors align them by hand);
- at most one blank line in a row; exactly one blank line before a table header, placed above the
  comment lines that sit directly on the header; no blank lines at the start or the end; LF line
  endings and one final newline; no trailing spaces.

Values are copied as written (strings, numbers, dates): the layout never changes what a file
means. The caller checks that: it parses the file before and after with tomllib and refuses a
result that reads differently (see :func:`formatted`).
"""

from __future__ import annotations

import difflib
import os
import re
import tomllib
from collections.abc import Sequence
from pathlib import Path
from typing import IO, Any

import attrs

_BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")
_SCALAR = re.compile(r"[^\s,\]\}#]+")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_TIME_AFTER_SPACE = re.compile(r" \d{2}:\d{2}[^\s,\]\}#]*")

#: A comment is aligned with its neighbours only up to this column; past it, two spaces.
ALIGN_LIMIT = 60


class LayoutError(ValueError):
    """The text is not TOML (tomllib's message), or the layout would change what it means."""


@attrs.define
class _Line:
    kind: str  # blank | comment | header | code
    code: str = ""  # may hold newlines (a multi-line string): only its last line counts for width
    comment: str = ""
    indent: int = 0  # levels of two spaces
    gap: int = 2  # spaces between the code and its trailing comment (set by _align)


def formatted(text: str) -> str:
    """``text`` in the canonical layout; raises :class:`LayoutError` for text that is not TOML or
    whose layout would read differently (which would be a bug here: it is refused, never written)."""
    # Floats as their text: the layout copies numbers as written, so the text must stay the same.
    try:
        before = tomllib.loads(text, parse_float=str)
    except (tomllib.TOMLDecodeError, ValueError) as exc:
        raise LayoutError(f"not valid TOML: {exc}") from None
    text = text.replace("\r\n", "\n")
    out = _render(_Layout(text).run())
    try:
        after = tomllib.loads(out, parse_float=str)
    except (tomllib.TOMLDecodeError, ValueError) as exc:  # pragma: no cover - a bug in this module
        raise LayoutError(f"the canonical layout would not parse ({exc}); the file is left as it is") from None
    if not _same(before, after):  # pragma: no cover - a bug in this module
        raise LayoutError("the canonical layout would change a value; the file is left as it is")
    return out


def _same(a: Any, b: Any) -> bool:
    """Equal as TOML values, types included (floats are compared as their text)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    return bool(a == b)


class _Layout:
    """Reads the statements of a TOML text that tomllib has accepted, into layout lines."""

    def __init__(self, text: str) -> None:
        self.t, self.i = text, 0
        self.lines: list[_Line] = []

    # ------------------------------------------------------------ top level

    def run(self) -> list[_Line]:
        t = self.t
        while True:
            self.spaces()
            if self.i >= len(t):
                return self.lines
            c = t[self.i]
            if c == "\n":
                self.i += 1
                self.lines.append(_Line("blank"))
            elif c == "#":
                self.lines.append(_Line("comment", comment=self.comment()))
                self.end_of_line()
            elif c == "[":
                double = t.startswith("[[", self.i)
                self.i += 2 if double else 1
                self.spaces()
                key = self.key()
                self.spaces()
                self.expect("]]" if double else "]")
                code = f"[[{key}]]" if double else f"[{key}]"
                self.lines.append(_Line("header", code, self.trailing_comment()))
                self.end_of_line()
            else:
                key = self.key()
                self.spaces()
                self.expect("=")
                self.spaces()
                value = self.value(0)
                value[0].code = f"{key} = {value[0].code}"
                value[-1].comment = self.trailing_comment()
                self.lines.extend(value)
                self.end_of_line()

    # ------------------------------------------------------------ pieces

    def spaces(self) -> None:
        t = self.t
        while self.i < len(t) and t[self.i] in " \t":
            self.i += 1

    def comment(self) -> str:
        end = self.t.find("\n", self.i)
        end = len(self.t) if end < 0 else end
        text = self.t[self.i:end].rstrip(" \t")
        self.i = end
        return text

    def trailing_comment(self) -> str:
        self.spaces()
        return self.comment() if self.i < len(self.t) and self.t[self.i] == "#" else ""

    def end_of_line(self) -> None:
        self.spaces()
        if self.i < len(self.t):
            self.expect("\n")

    def expect(self, token: str) -> None:
        if not self.t.startswith(token, self.i):
            raise LayoutError(f"expected {token!r} at offset {self.i}")  # tomllib accepted it: a bug
        self.i += len(token)

    def key(self) -> str:
        parts = [self.simple_key()]
        while True:
            save = self.i
            self.spaces()
            if self.i < len(self.t) and self.t[self.i] == ".":
                self.i += 1
                self.spaces()
                parts.append(self.simple_key())
            else:
                self.i = save
                return ".".join(parts)

    def simple_key(self) -> str:
        c = self.t[self.i] if self.i < len(self.t) else ""
        if c in ('"', "'"):
            return self.string()
        m = _BARE_KEY.match(self.t, self.i)
        if not m:
            raise LayoutError(f"expected a key at offset {self.i}")
        self.i = m.end()
        return m.group()

    def string(self) -> str:
        """A string of any of the four kinds, copied as written."""
        t, start = self.t, self.i
        quote = t[start]
        if t.startswith(quote * 3, start):
            i = start + 3
            while True:
                if quote == '"' and t[i] == "\\":
                    i += 2
                    continue
                if t.startswith(quote * 3, i):
                    i += 3
                    extra = 0
                    while extra < 2 and i < len(t) and t[i] == quote:  # up to two quotes end the text
                        i += 1
                        extra += 1
                    break
                i += 1
        else:
            i = start + 1
            while t[i] != quote:
                i += 2 if quote == '"' and t[i] == "\\" else 1
            i += 1
        self.i = i
        return t[start:i]

    def value(self, depth: int, *, flat: bool = False) -> list[_Line]:
        """The value's layout lines; ``flat``: on one line (inside an inline table)."""
        c = self.t[self.i]
        if c == "[":
            return self.array(depth, flat=flat)
        if c == "{":
            return [_Line("code", self.inline_table())]
        if c in ('"', "'"):
            return [_Line("code", self.string())]
        m = _SCALAR.match(self.t, self.i)
        if not m:
            raise LayoutError(f"expected a value at offset {self.i}")
        self.i = m.end()
        text = m.group()
        if _DATE.fullmatch(text):  # a date-time may use a space between date and time
            more = _TIME_AFTER_SPACE.match(self.t, self.i)
            if more:
                self.i = more.end()
                text += more.group()
        return [_Line("code", text)]

    def gap(self) -> tuple[bool, list[str]]:
        """Whitespace, newlines and comments inside an array: whether a newline was crossed before
        the first comment, and the comments with a flag of whether each began its own line."""
        newline, comments, own_line = False, [], False
        t = self.t
        while self.i < len(t):
            c = t[self.i]
            if c in " \t":
                self.i += 1
            elif c == "\n":
                self.i += 1
                newline = own_line = True
            elif c == "#":
                comments.append(("\n" if own_line else "") + self.comment())
                own_line = False
            else:
                break
        return newline, comments

    def array(self, depth: int, *, flat: bool = False) -> list[_Line]:
        self.expect("[")
        items: list[tuple[list[_Line], str]] = []  # each element's lines and its trailing comment
        floating: list[tuple[int, str]] = []  # comments on their own lines, before element n
        opening = ""  # a comment on the line of "["
        multiline = False
        newline, comments = self.gap()
        multiline |= newline or bool(comments)
        for text in comments:
            if not text.startswith("\n") and not opening and not floating:
                opening = text
            else:
                floating.append((0, text.lstrip("\n")))
        while self.t[self.i] != "]":
            element = self.value(depth + 1, flat=flat)
            multiline |= len(element) > 1
            self.spaces()
            newline, comments = self.gap()
            if self.t[self.i] == ",":
                self.i += 1
                more_newline, more = self.gap()
                newline |= more_newline
                comments += more
            multiline |= newline or bool(comments)
            trailing = ""
            for text in comments:
                if not text.startswith("\n") and not trailing:
                    trailing = text
                else:
                    floating.append((len(items) + 1, text.lstrip("\n")))
            items.append((element, trailing))
        self.i += 1
        if flat and (opening or floating or any(trailing for _, trailing in items)):
            # TOML 1.0 lets an array inside an inline table span lines and hold comments; on the
            # one line of the table the comments would be lost, so such a file is left as it is.
            raise LayoutError(f"a comment inside an array inside an inline table (before offset {self.i}) "
                              "cannot be kept on the table's one line; move it out of the table")
        if flat or not multiline:
            return [_Line("code", "[" + ", ".join(e[0].code for e, _ in items) + "]")]
        lines = [_Line("code", "[", opening)]
        for n, (element, trailing) in enumerate(items):
            lines += [_Line("comment", comment=c, indent=depth + 1) for k, c in floating if k == n]
            for line in element:
                line.indent += depth + 1 if line is element[0] else 0
            element[-1].code += ","
            element[-1].comment = trailing
            lines += element
        lines += [_Line("comment", comment=c, indent=depth + 1) for k, c in floating if k == len(items)]
        lines.append(_Line("code", "]", indent=depth))
        return lines

    def inline_table(self) -> str:
        self.expect("{")
        pairs: list[str] = []
        self.spaces()
        while self.t[self.i] != "}":
            key = self.key()
            self.spaces()
            self.expect("=")
            self.spaces()
            value = self.value(0, flat=True)
            pairs.append(f"{key} = {value[0].code}")
            self.spaces()
            if self.t[self.i] == ",":
                self.i += 1
                self.spaces()
        self.i += 1
        return "{ " + ", ".join(pairs) + " }" if pairs else "{}"


def _render(lines: list[_Line]) -> str:
    lines = _blank_lines(lines)
    _align(lines)
    out: list[str] = []
    for line in lines:
        if line.kind == "blank":
            out.append("")
            continue
        pad = "  " * line.indent
        text = pad + line.code
        if line.comment:
            text = f"{text}{' ' * line.gap}{line.comment}" if line.code else pad + line.comment
        out.append(text)
    return "\n".join(out) + "\n" if out else ""


def _blank_lines(lines: list[_Line]) -> list[_Line]:
    """One blank line before each header (above the comments resting on it), at most one blank
    in a row elsewhere, none at the start or the end."""
    result: list[_Line] = []
    for line in lines:
        if line.kind == "header":
            # the comment lines directly above the header belong to it
            k = len(result)
            while k > 0 and result[k - 1].kind == "comment" and result[k - 1].indent == 0:
                k -= 1
            head = result[k:]
            del result[k:]
            while result and result[-1].kind == "blank":
                result.pop()
            if result:
                result.append(_Line("blank"))
            result += head
        elif line.kind == "blank" and (not result or result[-1].kind == "blank"):
            continue
        result.append(line)
    while result and result[-1].kind == "blank":
        result.pop()
    return result


def _width(line: _Line) -> int:
    return len("  " * line.indent + line.code.rsplit("\n", 1)[-1])


def _align(lines: list[_Line]) -> None:
    """Trailing comments of consecutive code lines start in one column: one past the longest code
    line of the run plus one space (two spaces after it), unless that is past ``ALIGN_LIMIT``."""
    run: list[_Line] = []

    def close() -> None:
        widths = [_width(line) for line in run if line.comment]
        column = max(widths, default=0) + 2
        for line in run:
            width = _width(line)
            line.gap = column - width if column <= ALIGN_LIMIT else 2
        run.clear()

    for line in lines:
        if line.kind in ("code", "header") and line.code:
            run.append(line)
        else:
            close()
            line.gap = 0
    close()


# ---------------------------------------------------------------- the command


def toml_files(paths: Sequence[str]) -> list[str]:
    """The files named, and the ``*.toml`` files under the folders named, each once, in order."""
    found: list[str] = []
    for path in paths:
        if os.path.isdir(path):
            found += sorted(str(p) for p in Path(path).rglob("*.toml") if p.is_file())
        else:
            found.append(path)
    return list(dict.fromkeys(found))


def fmt_command(paths: Sequence[str], out: IO[str], *, check: bool = False, diff: bool = False) -> int:
    """`thidua fmt`: rewrite each file in the canonical layout (atomically, only when it changes);
    ``check``: list the files that would change, exit 1; ``diff``: print the changes, exit 1.

    A file that cannot be read or is not TOML is one line (all such files are reported, the others
    are still done) and the exit code is 2.
    """
    from .errors import Issue, PolicyError
    from .loader.common import decode_text, parse_toml, read_bytes
    from .report import write_atomic

    issues: list[Issue] = []
    changed = unchanged = 0
    for path in toml_files(paths):
        try:
            data = read_bytes(path, path)
            parse_toml(data, path)  # the loader's own syntax lines, with line and column
            text = decode_text(data, path, "toml")
            new = formatted(text)
        except PolicyError as exc:
            issues += exc.issues
            continue
        except LayoutError as exc:
            issues.append(Issue(file=path, message=str(exc)))
            continue
        if new == text:
            unchanged += 1
            continue
        changed += 1
        if diff:
            out.writelines(difflib.unified_diff(text.splitlines(keepends=True), new.splitlines(keepends=True),
                                                fromfile=path, tofile=path))
        elif check:
            out.write(f"would reformat {path}\n")
        else:
            write_atomic(path, new)
            out.write(f"reformatted {path}\n")
    verb = "would be reformatted" if check or diff else "reformatted"
    out.write(f"{changed} file(s) {verb}, {unchanged} file(s) already in the canonical layout\n")
    if issues:
        raise PolicyError(issues)
    return 1 if changed and (check or diff) else 0
