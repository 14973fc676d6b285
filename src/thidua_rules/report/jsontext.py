"""Canonical JSON text, fast: the bytes of ``json.dumps(doc, sort_keys=True, ensure_ascii=False,
indent=2)`` and of its compact form, without the standard library's generator-based encoder."""

from __future__ import annotations

import json
from json.encoder import encode_basestring  # C accelerated
from typing import Any

#: One canonical JSON object per line (``--format jsonl``): sorted keys, no spaces, UTF-8 text.
_COMPACT = json.JSONEncoder(ensure_ascii=False, sort_keys=True, separators=(",", ":"))
_INDENTS = ["\n" + "  " * level for level in range(64)]


def compact(doc: Any) -> str:
    """``json.dumps(doc, ensure_ascii=False, sort_keys=True, separators=(",", ":"))`` (C encoder)."""
    return _COMPACT.encode(doc)


def indented(doc: Any) -> str:
    """Exactly ``json.dumps(doc, ensure_ascii=False, sort_keys=True, indent=2)``.

    The standard library only uses its C encoder without ``indent``; this plain recursive writer
    is several times faster than its pure-Python fallback. Documents hold only dicts with string
    keys, lists, strings, ints, booleans and None; anything else falls back to ``json.dumps``.
    """
    parts: list[str] = []
    append = parts.append
    scalar = _scalar

    def write(o: Any, level: int) -> None:
        kind = type(o)
        if kind is dict:
            if not o:
                append("{}")
                return
            inner = _INDENTS[level + 1]
            first = True
            for key in sorted(o):
                if type(key) is not str:
                    raise _Unsupported
                append(("{" if first else ",") + inner + encode_basestring(key) + ": ")
                first = False
                value = o[key]
                text = scalar.get(type(value))
                if text is not None:
                    append(text(value))
                else:
                    write(value, level + 1)
            append(_INDENTS[level] + "}")
        elif kind is list or kind is tuple:
            if not o:
                append("[]")
                return
            inner = _INDENTS[level + 1]
            first = True
            for value in o:
                append(("[" if first else ",") + inner)
                first = False
                text = scalar.get(type(value))
                if text is not None:
                    append(text(value))
                else:
                    write(value, level + 1)
            append(_INDENTS[level] + "]")
        else:
            text = scalar.get(kind)
            if text is None:
                raise _Unsupported
            append(text(o))

    try:
        write(doc, 0)
    except (_Unsupported, IndexError):  # an exotic value or nesting deeper than 63 levels
        return json.dumps(doc, ensure_ascii=False, sort_keys=True, indent=2)
    return "".join(parts)


class _Unsupported(Exception):
    pass


def _bool(value: bool) -> str:
    return "true" if value else "false"


def _null(_value: None) -> str:
    return "null"


_scalar: dict[type, Any] = {str: encode_basestring, int: int.__repr__, bool: _bool, type(None): _null}
