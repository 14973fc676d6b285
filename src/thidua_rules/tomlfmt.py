"""How messages show TOML keys and values: bare keys where TOML allows them, values as TOML writes them."""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

_BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")


def toml_key(key: str) -> str:
    """A key as it would appear in a TOML key path: bare if possible, else quoted."""
    if _BARE_KEY.fullmatch(key):
        return key
    return '"' + escaped(key.replace("\\", "\\\\").replace('"', '\\"')) + '"'


def escaped(text: str) -> str:
    """``text`` with every non-printing character (control characters, line and format
    separators) written as its escape, ``\\x1b``, so that it cannot break a line or reach the
    terminal; everything printable (Vietnamese letters too) is kept."""
    if text.isprintable():
        return text
    return "".join(ch if ch.isprintable() else escape_char(ch) for ch in text)


_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def escape_char(ch: str) -> str:
    """One character as its visible escape: ``\\n``, ``\\x1b``, ``\\u200b``."""
    if ch in _NAMED:
        return _NAMED[ch]
    code = ord(ch)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}"


def join_path(path: str, key: str) -> str:
    return f"{path}.{toml_key(key)}" if path else toml_key(key)


def toml_value(value: Any) -> str:
    """A scalar as TOML writes it (``-1``, ``"abc"``, ``true``), never a Python repr."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, Decimal):
        text = f"{value:f}"
        return text
    if isinstance(value, str):
        escaped = value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
        return f'"{escaped}"'
    if isinstance(value, list | tuple):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{toml_key(k)} = {toml_value(v)}" for k, v in value.items()) + " }"
    return str(value)
