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

The compact form writes a :class:`~.shared.Shared` part of a document (one object that many unit
entries hold) once: its text is kept on the part and copied into every later text that holds
it. Subclasses of ``str``, ``int``, ``dict``, ``list`` and ``tuple`` (a :class:`~..messages.Reason`
is a ``str``) are written as ``json.dumps`` writes them: as their base type.
"""

from __future__ import annotations

import json
from typing import Any

import orjson

from .shared import Shared

#: subclasses go to _subclass: a Shared part's text is remembered, the others are their base type
_SHARING = orjson.OPT_SORT_KEYS | orjson.OPT_PASSTHROUGH_SUBCLASS
_INDENTED = orjson.OPT_SORT_KEYS | orjson.OPT_INDENT_2
_dumps = orjson.dumps
_Fragment = orjson.Fragment


def _subclass(v: Any) -> Any:
    """What orjson writes for a value of a subclass (or of a type it does not know)."""
    if type(v) is Shared:
        try:
            return v.text
        except AttributeError:  # written for the first time
            v.text = _Fragment(_dumps(dict(v), default=_subclass, option=_SHARING))
            return v.text
    if isinstance(v, str):
        return str.__str__(v)  # the text itself, whatever the subclass's own str()
    if isinstance(v, int):
        return int(v)
    if isinstance(v, dict):
        return dict(v)
    if isinstance(v, list | tuple):
        return list(v)
    raise TypeError(f"not a JSON value: {type(v).__name__}")


def _raise_cause(exc: TypeError) -> None:
    """Raise what interrupted orjson inside :func:`_subclass` (a signal's KeyboardInterrupt, a
    MemoryError…), which orjson reports as its TypeError (JSONEncodeError) with the exception
    as its cause (the cause of the cause for a shared part written inside another): such an
    error is not a value orjson does not write, and must not be answered by ``json.dumps``."""
    cause = exc.__cause__
    while isinstance(cause, TypeError) and cause.__cause__ is not None:
        cause = cause.__cause__
    if cause is not None and not isinstance(cause, TypeError):
        raise cause


def compact(doc: Any) -> str:
    """``json.dumps(doc, ensure_ascii=False, sort_keys=True, separators=(",", ":"))``: one
    canonical JSON object per line of ``--format jsonl``."""
    try:
        return _dumps(doc, default=_subclass, option=_SHARING).decode()
    except TypeError as exc:  # orjson.JSONEncodeError: a value it does not write (see the module)
        _raise_cause(exc)
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
        return _dumps(doc, default=_subclass, option=_SHARING)
    except TypeError as exc:
        _raise_cause(exc)
        return compact(doc).encode("utf-8", "surrogatepass")


def indented_bytes(doc: Any) -> bytes:
    """:func:`indented` in UTF-8."""
    try:
        return _dumps(doc, option=_INDENTED)
    except TypeError:
        return indented(doc).encode("utf-8", "surrogatepass")
