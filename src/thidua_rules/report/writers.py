"""Rendering the document in each output format, and writing files atomically."""

from __future__ import annotations

import contextlib
import errno
import os
import stat
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from ..engine import Result
from ..formatnames import EXTENSIONS as EXTENSIONS  # the tables live where the CLI reads them cheaply
from ..formatnames import FORMAT_ALIASES as FORMAT_ALIASES
from .document import build_document


def to_json(result: Result) -> str:
    """Canonical JSON: sorted keys, two-space indent, UTF-8 text, decimals as strings, final newline;
    ``provenance.content_sha256`` holds the hash of the rest (see :mod:`.contenthash`)."""
    return to_json_bytes(result).decode("utf-8", "surrogatepass")


def to_json_bytes(result: Result) -> bytes:
    """:func:`to_json` in UTF-8, what a file of it holds (the CLI writes these bytes)."""
    from .contenthash import sealed
    from .jsontext import indented_bytes  # here: orjson (and its datetime, uuid) only for JSON

    return indented_bytes(sealed(build_document(result))) + b"\n"


def _drop_none(data: Any) -> Any:
    """TOML has no null: absent values are left out."""
    if isinstance(data, dict):
        return {k: _drop_none(v) for k, v in sorted(data.items()) if v is not None}
    if isinstance(data, list):
        return [_drop_none(v) for v in data]
    return data


def to_toml(result: Result) -> str:
    import tomli_w  # for this format only (and its datetime import with it)

    return tomli_w.dumps(_drop_none(build_document(result)))


def to_markdown(result: Result, lang: str = "vi") -> str:
    from .markdown import render_markdown

    return render_markdown(build_document(result), result, lang)


def to_table(result: Result) -> str:
    from .table import render_table

    return render_table(build_document(result))


def to_html(result: Result, lang: str = "vi") -> str:
    """One self-contained HTML page in ``lang`` (see :mod:`thidua_rules.report.html`)."""
    from .html import render_html

    return render_html(build_document(result), result, lang)


def to_jsonl(result: Result) -> str:
    """JSON lines: one canonical object per line (see :mod:`thidua_rules.report.jsonlines`)."""
    from .jsonlines import to_jsonl as render_jsonl

    return render_jsonl(result)


FORMATS: dict[str, Callable[[Result], str]] = {
    "html": to_html,
    "json": to_json,
    "jsonl": to_jsonl,
    "markdown": to_markdown,
    "table": to_table,
    "toml": to_toml,
}



def to_xlsx(result: Result) -> bytes:
    """A workbook (see :mod:`thidua_rules.report.xlsx`); needs openpyxl."""
    from .xlsx import to_xlsx as render_xlsx

    return render_xlsx(result)


#: Formats written as bytes (a file), not text.
BINARY_FORMATS: dict[str, Callable[[Result], bytes]] = {"xlsx": to_xlsx}


def render(result: Result, fmt: str, lang: str = "vi") -> str:
    """``result`` in format ``fmt``; the Markdown and HTML reports in ``lang`` (``vi`` or ``en``)."""
    if fmt == "markdown":
        return to_markdown(result, lang)
    if fmt == "html":
        return to_html(result, lang)
    return FORMATS[fmt](result)


#: The temporary file beside an output file: ``.<name>.thidua-partial-<pid>``. The name says what
#: it is; a run removes one it left when interrupted, and the next write to the same target
#: removes those whose process is gone (a SIGKILL gives no chance to clean up).
PARTIAL = ".{name}.thidua-partial-{pid}"
_PARTIAL_MARK = ".thidua-partial-"

#: Temporary files being written now, so that a signal handler can remove them
#: (see :func:`remove_partial_files`).
_writing: set[str] = set()


class OutputError(OSError):
    """An output path that cannot be written as asked (a folder, a device, a socket): one line."""


def output_target(path: str | Path) -> tuple[Path, os.stat_result | None]:
    """The file to replace for ``path`` and its status (None: it does not exist yet).

    A symbolic link is followed, so that the file it points to is replaced and the link stays;
    a folder or a special file (device, pipe, socket) is refused: replacing ``/dev/null`` or
    a folder's name by a result is never what the user meant.
    """
    shown = str(path)
    target = Path(os.path.realpath(path)) if os.path.islink(path) else Path(path)
    try:
        status = os.stat(target)
    except FileNotFoundError:
        if not target.parent.is_dir():  # said before any work, not after the evaluation
            raise OSError(errno.ENOENT, os.strerror(errno.ENOENT), shown) from None
        return target, None
    except OSError as exc:
        raise OSError(exc.errno, exc.strerror, shown) from None
    if stat.S_ISDIR(status.st_mode):
        raise OutputError(errno.EISDIR, "is a folder, expected a file name for the output", shown)
    if not stat.S_ISREG(status.st_mode):
        raise OutputError(errno.EINVAL, "not a regular file (the output replaces a regular file only)", shown)
    return target, status


def remove_stale_partials(target: Path) -> None:
    """Remove the temporary files of ``target`` left by runs that were killed (their process is gone)."""
    prefix = f".{target.name}{_PARTIAL_MARK}"
    try:
        names = os.listdir(target.parent)
    except OSError:
        return
    for name in names:
        if not name.startswith(prefix) or not name[len(prefix):].isdigit():
            continue
        pid = int(name[len(prefix):])
        if pid != os.getpid() and _alive(pid):
            continue
        with contextlib.suppress(OSError):
            os.unlink(target.parent / name)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # e.g. another user's process: alive, leave its file
        return True
    return True


def remove_partial_files() -> None:
    """Remove the temporary files being written now (a signal handler calls it before exiting)."""
    for name in sorted(_writing):
        with contextlib.suppress(OSError):
            os.unlink(name)
    _writing.clear()


@contextlib.contextmanager
def atomic_output(path: str | Path, *, buffering: int = -1, binary: bool = False) -> Iterator[Any]:
    """A UTF-8, LF text handle (``binary``: a bytes handle) whose file is either complete or
    untouched.

    A temporary file in the target's folder (:data:`PARTIAL`) is written, flushed and renamed
    over the target when the block ends; any exception deletes it and leaves the target as it
    was. The file keeps the permissions of the file it replaces; a new one gets the usual
    ``0666`` less the umask. A symbolic link is written through (its target is replaced); a
    folder or a special file is refused (:class:`OutputError`).
    """
    target, status = output_target(path)
    parent = target.parent
    remove_stale_partials(target)
    tmp = str(parent / PARTIAL.format(name=target.name, pid=os.getpid()))
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_BINARY", 0)
    try:
        _writing.add(tmp)
        fd = os.open(tmp, flags, 0o666)  # the umask applies, as for any new file
    except OSError as exc:  # name the file the user asked for, not the temporary one
        _writing.discard(tmp)
        raise OSError(exc.errno, exc.strerror, str(path)) from None
    try:
        handle: Any
        with (os.fdopen(fd, "wb", buffering=buffering) if binary else
              os.fdopen(fd, "w", encoding="utf-8", newline="\n", buffering=buffering)) as handle:
            if status is not None:  # the replaced file's permissions, not the umask's
                os.chmod(tmp, stat.S_IMODE(status.st_mode))
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    finally:
        _writing.discard(tmp)


def write_bytes_atomic(path: str | Path, data: bytes) -> None:
    """Write ``data`` so that the file is either complete or untouched."""
    with atomic_output(path, binary=True) as handle:
        handle.write(data)


def write_atomic(path: str | Path, text: str) -> None:
    """Write UTF-8 text with LF endings so that the file is either complete or untouched."""
    with atomic_output(path) as handle:
        handle.write(text)
