"""Canonical JSON text, the one encoder of every JSON result: orjson, giving the bytes of
``json.dumps(doc, ensure_ascii=False, sort_keys=True, indent=2)`` and of its compact form.

The result formats are pinned to what the standard library writes (the golden files were made
by it): keys sorted by code point, UTF-8 text with only ``"``, ``\\`` and the control characters
escaped (``\\n``, ``\\t``… and ``\\u00XX`` in lower case), two-space indent with ``", "`` →
``","`` and ``": "`` as ``json.dumps(indent=2)`` has them, ``{}`` / ``[]`` for empty
containers. orjson writes exactly that for the values documents hold (dicts with string keys,
lists, tuples, strings, ints, booleans, None: decimals, floats and every other kind of value
are text by then, see :func:`.document.value`); ``tests/test_jsontext.py`` checks it against
``json.dumps`` on every code point and on whole documents. A value orjson refuses (an int
outside 64 bits, nesting past its 255 levels, a non-string key, a lone surrogate) is written by
``json.dumps``, the format's definition, so such a value still prints as it always did.
"""

from __future__ import annotations

import json
from typing import Any

import orjson

_SORTED = orjson.OPT_SORT_KEYS
_INDENTED = orjson.OPT_SORT_KEYS | orjson.OPT_INDENT_2
_dumps = orjson.dumps


def compact(doc: Any) -> str:
    """``json.dumps(doc, ensure_ascii=False, sort_keys=True, separators=(",", ":"))``: one
    canonical JSON object per line of ``--format jsonl``."""
    try:
        return _dumps(doc, option=_SORTED).decode()
    except TypeError:  # orjson.JSONEncodeError: a value it does not write (see the module)
        return json.dumps(doc, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def indented(doc: Any) -> str:
    """``json.dumps(doc, ensure_ascii=False, sort_keys=True, indent=2)``."""
    try:
        return _dumps(doc, option=_INDENTED).decode()
    except TypeError:  # orjson.JSONEncodeError: a value it does not write (see the module)
        return json.dumps(doc, ensure_ascii=False, sort_keys=True, indent=2)


# The same texts as UTF-8 bytes, for a file: a large document is not decoded to a str only to be
# encoded again on its way out (two copies of 160 MB for 20,000 units). "surrogatepass": the
# standard library's text may hold a lone surrogate, which orjson refuses (see the module).


def compact_bytes(doc: Any) -> bytes:
    """:func:`compact` in UTF-8."""
    try:
        return _dumps(doc, option=_SORTED)
    except TypeError:
        return compact(doc).encode("utf-8", "surrogatepass")


def indented_bytes(doc: Any) -> bytes:
    """:func:`indented` in UTF-8."""
    try:
        return _dumps(doc, option=_INDENTED)
    except TypeError:
        return indented(doc).encode("utf-8", "surrogatepass")
