"""Rendering the document in each output format, and writing files atomically."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import tomli_w

from ..engine import Result
from .document import build_document
from .jsontext import indented


def to_json(result: Result) -> str:
    """Canonical JSON: sorted keys, two-space indent, UTF-8 text, decimals as strings, final newline."""
    return indented(build_document(result)) + "\n"


def _drop_none(data: Any) -> Any:
    """TOML has no null: absent values are left out."""
    if isinstance(data, dict):
        return {k: _drop_none(v) for k, v in sorted(data.items()) if v is not None}
    if isinstance(data, list):
        return [_drop_none(v) for v in data]
    return data


def to_toml(result: Result) -> str:
    return tomli_w.dumps(_drop_none(build_document(result)))


def to_markdown(result: Result) -> str:
    from .markdown import render_markdown

    return render_markdown(build_document(result), result)


def to_table(result: Result) -> str:
    from .table import render_table

    return render_table(build_document(result))


def to_jsonl(result: Result) -> str:
    """JSON lines: one canonical object per line (see :mod:`thidua_rules.report.jsonlines`)."""
    from .jsonlines import to_jsonl as render_jsonl

    return render_jsonl(result)


FORMATS: dict[str, Callable[[Result], str]] = {
    "json": to_json,
    "jsonl": to_jsonl,
    "markdown": to_markdown,
    "table": to_table,
    "toml": to_toml,
}


def render(result: Result, fmt: str) -> str:
    return FORMATS[fmt](result)


@contextlib.contextmanager
def atomic_output(path: str | Path, *, buffering: int = -1, binary: bool = False) -> Iterator[Any]:
    """A UTF-8, LF text handle (``binary``: a bytes handle) whose file is either complete or
    untouched.

    A temporary file in the target's folder is written, flushed and renamed over the target when
    the block ends; any exception deletes it and leaves the target as it was.
    """
    target = Path(path)
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent or ".")
    except OSError as exc:  # name the file the user asked for, not the temporary one
        raise OSError(exc.errno, exc.strerror, str(target)) from None
    try:
        handle: Any
        with (os.fdopen(fd, "wb", buffering=buffering) if binary else
              os.fdopen(fd, "w", encoding="utf-8", newline="\n", buffering=buffering)) as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_atomic(path: str | Path, text: str) -> None:
    """Write UTF-8 text with LF endings so that the file is either complete or untouched."""
    with atomic_output(path) as handle:
        handle.write(text)
