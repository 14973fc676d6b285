"""Contract violations the fuzzer has found and that are being fixed elsewhere (issue #10).

Each entry names its reproduction (kept with the issue's notes, in the regression-case format of
``tests/fuzz/cases.py``). An example whose every violation matches an entry passes, counted as a
hypothesis event (``pytest --hypothesis-show-statistics``); ``THIDUA_FUZZ_STRICT=1`` ignores this
list. When the fix is merged: delete the entry, and add the reproduction under
``tests/fuzz/regressions/`` with its now exact ``expected.err``.
"""

from __future__ import annotations

import os
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


# name → does this violation belong to it. Empty: every finding of issue #10 is fixed and kept as a
# regression case in tests/fuzz/regressions/ (control-char-in-id, deep-nesting-*, huge-integer-*,
# huge-exponent-integer-field, inf-*/nan-*, jsonl-not-utf8, long-error-line, newline-in-expression).
KNOWN: dict[str, Callable[[Violation], bool]] = {}


def known_finding(violation: Violation) -> str | None:
    """The known finding this violation is, or ``None`` (always ``None`` with ``THIDUA_FUZZ_STRICT=1``)."""
    if os.environ.get("THIDUA_FUZZ_STRICT") == "1":
        return None
    return next((name for name, match in KNOWN.items() if match(violation)), None)
