"""Error types and the one-line issue format shared by every loader and the CLI."""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Sequence

import attrs


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
        where = self.file
        if self.line is not None:
            where += f":{self.line}"
            if self.column is not None:
                where += f":{self.column}"
        head = f"{where}: {self.path}: {self.message}" if self.path else f"{where}: {self.message}"
        return "\n".join((head, *self.detail))


class ThiduaError(Exception):
    """Root of every error thidua_rules raises on purpose (the CLI exits 2 on it)."""

    def lines(self) -> list[str]:
        return [str(self)]


class PolicyError(ThiduaError):
    """Problems in a policy or data file; every problem of the file at once."""

    def __init__(self, issues: Iterable[Issue]) -> None:
        self.issues: tuple[Issue, ...] = tuple(issues)
        super().__init__("\n".join(issue.format() for issue in self.issues))

    def lines(self) -> list[str]:
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
        """The source and a caret line under the offending span, cel-python style."""
        width = max(1, min(self.end, len(self.source) + 1) - self.start)
        return (f"    | {self.source}", "    | " + " " * self.start + "^" * width)


class ExpressionSyntaxError(ExpressionError):
    """The expression text does not parse."""


class UnknownName(ExpressionError):
    """The expression names a variable or function the policy does not define."""


class ExpressionTypeError(ExpressionError):
    """Operands of the wrong type, e.g. adding a number to a band name."""


class EvaluationError(ThiduaError):
    """A run-time failure tied to one unit: division by zero, a failing plugin, a broken contract."""

    def __init__(self, message: str, *, unit: str | None = None, where: str = "") -> None:
        self.message = message
        self.unit = unit
        self.where = where
        parts = [p for p in (where, f"unit '{unit}'" if unit else "", message) if p]
        super().__init__(": ".join(parts))


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


class PluginError(ThiduaError):
    """A plugin that is missing, misspelt or broke its contract."""

    def __init__(self, message: str, *, plugin: str | None = None) -> None:
        self.plugin = plugin
        super().__init__(f"plugin '{plugin}': {message}" if plugin else message)


def did_you_mean(word: str, choices: Sequence[str] | Iterable[str]) -> str:
    """A ``" (did you mean 'x'?)"`` suffix, or an empty string when nothing is close."""
    close = difflib.get_close_matches(word, sorted(set(choices)), n=1, cutoff=0.6)
    return f" (did you mean '{close[0]}'?)" if close else ""
