"""Error types and the one-line issue format shared by every loader and the CLI."""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Iterable, Sequence

import attrs

#: An error line is at most this many characters; a longer one keeps its start and its end around
#: an ellipsis (see :func:`bounded`).
MAX_LINE = 300
#: The file and the key path at the start of a line are each kept to this many characters, so that
#: a huge file name or id cannot push the message out of the line.
MAX_WHERE = 80

# Characters that would change the terminal or split the line when echoed: C0 and C1 controls,
# DEL, the line and paragraph separators and the bidirectional overrides (which can make a line
# read differently from what it says). Vietnamese letters and ordinary spaces are kept.
_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069]")


def _escape_char(match: re.Match[str]) -> str:
    from .tomlfmt import escape_char  # here: only on the rare line that has such a character

    return escape_char(match.group())


def escaped(text: str) -> str:
    """``text`` with every control character written as a visible escape (``\\n``, ``\\x1b``,
    ``\\u202e``), so that user text echoed in an error stays on one line and cannot drive the
    terminal. Other text, Vietnamese included, is unchanged."""
    return _UNSAFE.sub(_escape_char, text)


def bounded(text: str, limit: int = MAX_LINE) -> str:
    """``text`` if at most ``limit`` characters, else its first two thirds and its last third
    around ``…``, ``limit`` characters in all (the start names the place, the end often the fix)."""
    if len(text) <= limit:
        return text
    head = (limit - 1) * 2 // 3
    return text[:head] + "…" + text[len(text) - (limit - 1 - head):]


def error_line(text: str) -> str:
    """One printable, bounded error line: control characters escaped, at most :data:`MAX_LINE`."""
    return bounded(escaped(text))


@attrs.frozen(kw_only=True)
class Issue:
    """One problem found in one input file, addressed by its TOML key path.

    :param file: The file as the user named it (or ``<policy>`` for inline data).
    :param path: TOML key path such as ``criteria[2](id=chi_tieu).points``; empty for
        file-level problems.
    :param message: Lower-case, no final period.
    :param line: 1-based line, only for syntax errors (semantic errors have no line).
    :param column: 1-based column, with ``line``.
    :param detail: Extra lines printed under the message (the caret display of an expression).
    """

    file: str
    path: str = ""
    message: str
    line: int | None = None
    column: int | None = None
    detail: tuple[str, ...] = ()

    def format(self) -> str:
        """``file[:line[:column]]: path: message``, then the detail lines (see :meth:`lines`)."""
        return "\n".join(self.lines())

    def lines(self) -> tuple[str, ...]:
        """The head line and the detail lines, each one printable line (control characters
        escaped) of at most :data:`MAX_LINE` characters."""
        where = bounded(escaped(self.file), MAX_WHERE)
        if self.line is not None:
            where += f":{self.line}"
            if self.column is not None:
                where += f":{self.column}"
        path = bounded(escaped(self.path), MAX_WHERE)
        head = f"{where}: {path}: {self.message}" if path else f"{where}: {self.message}"
        return tuple(error_line(line) for line in (head, *self.detail))


class ThiduaError(Exception):
    """Root of every error thidua_rules raises on purpose (the CLI exits 2 on it)."""

    def lines(self) -> list[str]:
        """The lines the CLI prints, each printable and bounded (see :func:`error_line`)."""
        return [error_line(str(self))]


class PolicyError(ThiduaError):
    """Problems in a policy or data file; every problem of the file at once."""

    def __init__(self, issues: Iterable[Issue]) -> None:
        self.issues: tuple[Issue, ...] = tuple(issues)
        super().__init__("\n".join(issue.format() for issue in self.issues))

    def lines(self) -> list[str]:
        """One entry per issue: its head line, then its detail lines after newlines."""
        return [issue.format() for issue in self.issues]


class ExpressionError(ThiduaError):
    """An expression that cannot be compiled (syntax, unknown name, type).

    :param message: What is wrong, lower-case.
    :param source: The whole expression text.
    :param start: Offset of the first offending character in ``source``.
    :param end: Offset just past the offending text (``end > start``).
    """

    def __init__(self, message: str, source: str, start: int = 0, end: int | None = None) -> None:
        self.message = message
        self.source = source
        self.start = max(0, min(start, len(source)))
        self.end = max(self.start + 1, end if end is not None else self.start + 1)
        super().__init__(message)

    def caret_lines(self) -> tuple[str, ...]:
        """The source line with the error and a caret line under the offending span, cel-python
        style; in a multi-line expression, first ``line N of the expression``."""
        return caret_display(self.source, self.start, self.end)


#: A long expression line is shown as a window: at most this many characters before the offending
#: span, of the span and after it.
CARET_CONTEXT = 90


def caret_display(source: str, start: int, end: int) -> tuple[str, ...]:
    """The lines showing ``source[start:end]``: the line of ``source`` it starts on (escaped,
    and cut to a window around the span when long) and a caret line under the span."""
    first = source.rfind("\n", 0, start) + 1
    stop = source.find("\n", start)
    stop = len(source) if stop < 0 else stop
    line = source[first:stop]
    col, span_end = start - first, max(start, min(end, stop)) - first
    lead, span, rest = escaped(line[:col]), escaped(line[col:span_end]), escaped(line[span_end:])
    if len(lead) + len(span) + len(rest) > MAX_LINE - 6:  # a window around the span
        if len(lead) > CARET_CONTEXT:
            lead = "…" + lead[-CARET_CONTEXT:]
        if len(span) > CARET_CONTEXT:
            span = span[:CARET_CONTEXT] + "…"
        if len(rest) > CARET_CONTEXT:
            rest = rest[:CARET_CONTEXT] + "…"
    lines = (f"    | {lead}{span}{rest}", "    | " + " " * len(lead) + "^" * max(1, len(span)))
    if "\n" in source:
        number = source.count("\n", 0, start) + 1
        return (f"    line {number} of the expression:", *lines)
    return lines


class ExpressionSyntaxError(ExpressionError):
    """The expression text does not parse."""


class UnknownName(ExpressionError):
    """The expression names a variable or function the policy does not define."""


class ExpressionTypeError(ExpressionError):
    """Operands of the wrong type, e.g. adding a number to a band name."""


class EvaluationError(ThiduaError):
    """A run-time failure tied to one unit: division by zero, a failing plugin, a broken contract."""

    def __init__(self, message: str, *, unit: str | None = None, where: str = "",
                 detail: tuple[str, ...] = ()) -> None:
        self.message = message
        self.unit = unit
        self.where = where
        self.detail = detail
        parts = [p for p in (where, f"unit '{unit}'" if unit else "", message) if p]
        self.head = ": ".join(parts)
        super().__init__("\n".join((self.head, *detail)))

    def lines(self) -> list[str]:
        """One entry, as :meth:`PolicyError.lines` gives per issue: the head line, then the
        caret lines after newlines."""
        return ["\n".join(error_line(line) for line in (self.head, *self.detail))]


class ExpressionRuntimeError(ThiduaError):
    """Raised while evaluating a compiled expression (division by zero, overflow, bad value).

    The engine catches it and re-raises an :class:`EvaluationError` naming the unit and the key
    path of the expression.
    """

    def __init__(self, message: str, source: str, start: int = 0, end: int | None = None) -> None:
        self.message = message
        self.source = source
        self.start = start
        self.end = end if end is not None else start + 1
        super().__init__(message)

    def caret_lines(self) -> tuple[str, ...]:
        """As :meth:`ExpressionError.caret_lines`."""
        return caret_display(self.source, self.start, self.end)


class PluginError(ThiduaError):
    """A plugin that is missing, misspelt or broke its contract."""

    def __init__(self, message: str, *, plugin: str | None = None) -> None:
        self.plugin = plugin
        super().__init__(f"plugin '{plugin}': {message}" if plugin else message)


@functools.lru_cache(maxsize=1 << 16)  # the same choices are folded for every suggestion
def folded(text: str) -> str:
    """``text`` compared without accents, case or spaces: ``'Xuất sắc'`` → ``'xuat_sac'``
    (NFD, combining marks dropped, đ → d, lower case, runs of spaces → ``_``)."""
    plain = "".join(c for c in unicodedata.normalize("NFD", text) if not unicodedata.combining(c))
    return "_".join(plain.replace("đ", "d").replace("Đ", "D").lower().split())


def closest(word: str, choices: Sequence[str] | Iterable[str]) -> str | None:
    """The choice ``word`` most likely meant, or None: one that is equal once accents, case and
    spaces are folded (:func:`folded`), else the closest folded spelling."""
    by_folded: dict[str, str] = {}
    for choice in sorted(set(choices)):
        by_folded.setdefault(folded(choice), choice)
    key = folded(word)
    if key in by_folded:
        return by_folded[key]
    import difflib  # here: only when a word is not found (difflib costs a millisecond to import)

    close = difflib.get_close_matches(key, list(by_folded), n=1, cutoff=0.6)
    return by_folded[close[0]] if close else None


def did_you_mean(word: str, choices: Sequence[str] | Iterable[str]) -> str:
    """A ``" (did you mean 'x'?)"`` suffix, or an empty string when nothing is close; accents,
    case and spaces do not count (``'Tốt'`` → ``'tot'``)."""
    close = closest(word, choices)
    return f" (did you mean '{close}'?)" if close is not None and close != word else ""
