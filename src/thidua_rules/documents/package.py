"""Byte-identical .docx files: fixed core properties and a zip rewritten in a fixed way.

A .docx is a zip; Word and python-docx stamp every member with the clock and write members in
whatever order they hold them. :func:`fixed_zip` rewrites one with members in sorted order
(``[Content_Types].xml`` first, as Office writes it), each dated 1980-01-01 00:00 (the zip
format's first date) with fixed attributes and compression, so the same content gives the same
bytes. The script that builds the shipped templates uses the same function.
"""

from __future__ import annotations

import datetime
import io
import zipfile
from typing import Any

EPOCH = (1980, 1, 1, 0, 0, 0)
_FIRST = "[Content_Types].xml"


def fixed_core_properties(document: Any, *, title: str, when: datetime.datetime) -> None:
    """Core properties that depend on the content only (``when`` comes from the data, never a clock)."""
    props = document.core_properties
    props.author = "thidua_rules"
    props.last_modified_by = "thidua_rules"
    props.title = title
    props.subject = ""
    props.keywords = ""
    props.comments = ""
    props.category = ""
    props.content_status = ""
    props.identifier = ""
    props.language = "vi-VN"
    props.version = ""
    props.revision = 1
    props.created = when
    props.modified = when
    props.last_printed = when


def fixed_zip(data: bytes) -> bytes:
    """``data`` (a zip) rewritten with sorted members, fixed dates, attributes and compression."""
    source = zipfile.ZipFile(io.BytesIO(data))
    names = sorted(source.namelist(), key=lambda name: (name != _FIRST, name))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as target:
        for name in names:
            info = zipfile.ZipInfo(name, date_time=EPOCH)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.create_system = 0
            info.external_attr = 0
            target.writestr(info, source.read(name), compress_type=zipfile.ZIP_DEFLATED, compresslevel=6)
    return out.getvalue()
