"""Where each value of a TOML document is written: key paths to text spans, so that a tool can
change a value in place and keep the rest of the file (comments, layout, order) byte for byte.

A path is a tuple of keys and array indexes: ``("cases", 0, "expect", "units", "a", "total")``.
The scanner reads the TOML that tomllib accepts; a caller re-parses the edited text and compares
it with what it meant to write, so a construct read wrongly here is refused, never written.
"""

from __future__ import annotations

import re
import tomllib

import attrs

Path = tuple[str | int, ...]

_BARE = re.compile(r"[A-Za-z0-9_-]+")
_SCALAR = re.compile(r"[^\s,\]\}#]+")


class SpanError(ValueError):
    """The text is not TOML this scanner reads (tomllib decides whether it is TOML at all)."""


@attrs.frozen
class Spans:
    #: each value's text, ``(start, end)`` offsets
    values: dict[Path, tuple[int, int]]
    #: each table written with a header (``[a]`` or ``[[a]]`` element): the offset just after the
    #: last line of a statement in it or in a table below it (where a new statement can go)
    ends: dict[Path, int]


def scan(text: str) -> Spans:
    """The spans of every value and the ends of every header table of ``text``."""
    return _Scanner(text).run()


class _Scanner:
    def __init__(self, text: str) -> None:
        self.t, self.i = text, 0
        self.values: dict[Path, tuple[int, int]] = {}
        self.ends: dict[Path, int] = {}
        self.arrays: dict[Path, int] = {}  # array-of-tables path -> index of its last element

    def run(self) -> Spans:
        t = self.t
        table: Path = ()
        while True:
            self.blank(newlines=True)
            if self.i >= len(t):
                break
            if t.startswith("[[", self.i):
                self.i += 2
                key = self.key()
                self.expect("]]")
                parent = self.resolve(key[:-1]) + key[-1:]
                self.arrays[parent] = index = self.arrays.get(parent, -1) + 1
                table = (*parent, index)
            elif t[self.i] == "[":
                self.i += 1
                key = self.key()
                self.expect("]")
                table = self.resolve(key)
            else:
                key = self.key()
                self.expect("=")
                self.value(table + key)
            self.line_end()
            for n in range(len(table) + 1):  # the statement ends every table it is under
                self.ends[table[:n]] = self.i
        return Spans(self.values, self.ends)

    def resolve(self, key: Path) -> Path:
        """A header's key with the index of the last element of each array of tables on its way."""
        out: Path = ()
        for part in key:
            out += (part,)
            if out in self.arrays:
                out += (self.arrays[out],)
        return out

    def blank(self, *, newlines: bool) -> None:
        t = self.t
        while self.i < len(t):
            c = t[self.i]
            if c in " \t" or (newlines and c in "\r\n"):
                self.i += 1
            elif c == "#" and newlines:
                end = t.find("\n", self.i)
                self.i = len(t) if end < 0 else end + 1
            else:
                break

    def line_end(self) -> None:
        self.blank(newlines=False)
        t = self.t
        if self.i < len(t) and t[self.i] == "#":
            end = t.find("\n", self.i)
            self.i = len(t) if end < 0 else end
        if t.startswith("\r\n", self.i):
            self.i += 2
        elif t.startswith("\n", self.i):
            self.i += 1
        elif self.i < len(t):
            raise SpanError(f"expected the end of the line at offset {self.i}")

    def expect(self, token: str) -> None:
        self.blank(newlines=False)
        if not self.t.startswith(token, self.i):
            raise SpanError(f"expected {token!r} at offset {self.i}")
        self.i += len(token)

    def key(self) -> Path:
        parts: list[str] = []
        while True:
            self.blank(newlines=False)
            t, start = self.t, self.i
            if t.startswith('"', start) or t.startswith("'", start):
                self.string()
                parts.append(tomllib.loads(f"k = {t[start:self.i]}")["k"])
            else:
                match = _BARE.match(t, start)
                if match is None:
                    raise SpanError(f"expected a key at offset {start}")
                parts.append(match.group())
                self.i = match.end()
            self.blank(newlines=False)
            if not t.startswith(".", self.i):
                return tuple(parts)
            self.i += 1

    def string(self) -> None:
        t, i = self.t, self.i
        for quote in ('"""', "'''"):
            if t.startswith(quote, i):
                i += 3
                while not t.startswith(quote, i):
                    if i >= len(t):
                        raise SpanError("unterminated string")
                    i += 2 if quote == '"""' and t[i] == "\\" else 1
                extra = 0  # a string may end with up to two quotes before the closing three
                while extra < 2 and t.startswith(quote[0], i + 3):
                    i, extra = i + 1, extra + 1
                self.i = i + 3
                return
        quote = t[i]
        i += 1
        while i < len(t) and t[i] != quote:
            if t[i] == "\n":
                raise SpanError("unterminated string")
            i += 2 if quote == '"' and t[i] == "\\" else 1
        if i >= len(t):
            raise SpanError("unterminated string")
        self.i = i + 1

    def value(self, path: Path) -> None:
        self.blank(newlines=False)
        t, start = self.t, self.i
        c = t[start] if start < len(t) else ""
        if c in "\"'":
            self.string()
        elif c == "{":
            self.i += 1
            self.blank(newlines=False)
            if t.startswith("}", self.i):
                self.i += 1
            else:
                while True:
                    key = self.key()
                    self.expect("=")
                    self.value(path + key)
                    self.blank(newlines=False)
                    if t.startswith(",", self.i):
                        self.i += 1
                        continue
                    self.expect("}")
                    break
        elif c == "[":
            self.i += 1
            index = 0
            while True:
                self.blank(newlines=True)
                if t.startswith("]", self.i):
                    self.i += 1
                    break
                self.value((*path, index))
                index += 1
                self.blank(newlines=True)
                if t.startswith(",", self.i):
                    self.i += 1
                    continue
                self.blank(newlines=True)
                self.expect("]")
                break
        else:
            match = _SCALAR.match(t, start)
            if match is None:
                raise SpanError(f"expected a value at offset {start}")
            self.i = match.end()
        self.values[path] = (start, self.i)

