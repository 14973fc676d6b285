"""An openpyxl workbook saved as the same bytes every time: no clock in its properties, fixed
zip timestamps and attributes, members in the order openpyxl writes them."""

from __future__ import annotations

import io
import re
import zipfile
from pathlib import Path
from typing import Any

#: The zip members' time (the earliest a zip can hold) and the workbook's created and modified
#: properties: a fixed value, since the same inputs must give the same bytes.
FIXED_ZIP_TIME = (1980, 1, 1, 0, 0, 0)
FIXED_DATE = "1980-01-01T00:00:00Z"
_CORE_DATES = re.compile(rb"(<dcterms:(created|modified)\b[^>]*>)[^<]*(</dcterms:\2>)")


def new_workbook() -> Any:
    """An empty openpyxl workbook (no sheet) with fixed properties."""
    from ..loader.xlsx import openpyxl_module

    openpyxl = openpyxl_module()
    workbook = openpyxl.Workbook()
    workbook.remove(workbook.active)
    workbook.properties.creator = "thidua_rules"
    return workbook


def workbook_bytes(workbook: Any) -> bytes:
    """``workbook`` as .xlsx bytes that depend on its content alone."""
    raw = io.BytesIO()
    workbook.save(raw)
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(raw.getvalue())) as source, \
            zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as target:
        for item in source.infolist():
            data = source.read(item.filename)
            if item.filename == "docProps/core.xml":
                data = _CORE_DATES.sub(lambda m: m.group(1) + FIXED_DATE.encode() + m.group(3), data)
            fixed = zipfile.ZipInfo(item.filename, date_time=FIXED_ZIP_TIME)
            fixed.compress_type = zipfile.ZIP_DEFLATED
            fixed.external_attr = 0o600 << 16
            fixed.create_system = 0
            target.writestr(fixed, data, compresslevel=6)
    return out.getvalue()


def write_workbook(path: str | Path, workbook: Any) -> None:
    """Write ``workbook`` to ``path`` atomically (complete or untouched, see :func:`.writers.atomic_output`)."""
    from .writers import write_bytes_atomic

    write_bytes_atomic(path, workbook_bytes(workbook))


def write_result_workbook(result: Any, path: str | None, out: Any) -> None:
    """``evaluate --format xlsx``: the workbook to ``path`` atomically, or to standard output
    when it is not a terminal (``> result.xlsx``)."""
    from ..errors import Issue, PolicyError
    from .writers import BINARY_FORMATS, write_bytes_atomic

    if path is None and (not hasattr(out, "buffer") or out.isatty()):
        raise PolicyError([Issue(file="thidua", message="--format xlsx writes a workbook: give -o FILE.xlsx "
                                 "(or redirect standard output to a file)")])
    data = BINARY_FORMATS["xlsx"](result)
    if path is not None:
        write_bytes_atomic(path, data)
    else:
        out.flush()
        out.buffer.write(data)
        out.buffer.flush()
