"""Writers: one canonical document built from a Result, rendered as JSON, TOML, Markdown or a table."""

from __future__ import annotations

from .document import build_document
from .writers import FORMATS, render, write_atomic

__all__ = ["FORMATS", "build_document", "render", "write_atomic"]
