"""Contract violations the fuzzer has found and that are being fixed elsewhere (issue #10).

Each entry names its reproduction (kept with the issue's notes, in the regression-case format of
``tests/fuzz/cases.py``). An example whose every violation matches an entry passes, counted as a
hypothesis event (``pytest --hypothesis-show-statistics``); ``THIDUA_FUZZ_STRICT=1`` ignores this
list. When the fix is merged: delete the entry, and add the reproduction under
``tests/fuzz/regressions/`` with its now exact ``expected.err``.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable

from .harness import Violation


def _raised(kind: str, *, text: str = "", site: str = "") -> Callable[[Violation], bool]:
    """An escaping exception of class ``kind`` (or a subclass), ``text`` in its message, raised
    through a frame whose "file:function" contains ``site``."""

    def match(violation: Violation) -> bool:
        run = violation.run
        if violation.kind != "exception" or kind not in run.exception_bases or text not in run.message:
            return False
        return not site or any(site in frame for frame in run.frames)

    return match


def _kind(*kinds: str) -> Callable[[Violation], bool]:
    return lambda violation: violation.kind in kinds


# name → does this violation belong to it (the folders are listed in the findings' INDEX.md)
KNOWN: dict[str, Callable[[Violation], bool]] = {
    # Control characters and newlines of user text echoed raw; error lines of unbounded length.
    # Folders: control-char-in-id, newline-in-expression, long-error-line.
    "error-lines-unescaped": _kind("control-char", "stray-line", "long-line"),
    # Deeply nested arrays / inline tables / JSON: RecursionError in the parsers or the formatter.
    # Folders: deep-nesting-toml, deep-nesting-json, deep-nesting-jsonl, deep-nesting-error-message.
    "deep-nesting": _raised("RecursionError"),
    # Integers of 5,000+ digits: Python's int-string limit (ValueError) in TOML, JSON, JSON lines.
    # Folders: huge-integer-toml, huge-integer-json, huge-integer-jsonl.
    "huge-integers": _raised("ValueError", text="Exceeds the limit"),
    # inf / nan / 1e999 in policy numbers and data: decimal.InvalidOperation / OverflowError.
    # Folders: inf-in-integer-field, nan-band-min, nan-votes-share, inf-criterion-points.
    "non-finite-numbers": lambda v: _raised("ArithmeticError")(v) or _raised("ValueError", site="parse_share")(v),
    # 1e999999 in an integer field, a tiny votes.share: minutes of arithmetic.
    # Folder: huge-exponent-integer-field. Only hangs on an input holding such an exponent are known.
    "huge-exponent-hang": lambda v: v.kind == "hang" and re.search(rb"[eE][-+]?9{6}", v.input) is not None,
    # A .jsonl file that is not UTF-8: UnicodeDecodeError in the in-memory reader. Folder: jsonl-not-utf8.
    "jsonl-not-utf8": _raised("UnicodeDecodeError", site="_jsonl_rows"),
}


def known_finding(violation: Violation) -> str | None:
    """The known finding this violation is, or ``None`` (always ``None`` with ``THIDUA_FUZZ_STRICT=1``)."""
    if os.environ.get("THIDUA_FUZZ_STRICT") == "1":
        return None
    return next((name for name, match in KNOWN.items() if match(violation)), None)
