"""The content hash of a JSON result, ``provenance.content_sha256`` (see docs/verify.md)."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any

from .jsontext import compact_bytes

#: The field, inside ``provenance``, that holds the hash; it is left out of what is hashed.
FIELD = "content_sha256"


def canonical_bytes(doc: Mapping[str, Any]) -> bytes:
    """The bytes the hash is taken over: ``doc`` without ``provenance.content_sha256``, as compact
    JSON (keys sorted by code point at every level, no spaces, ``ensure_ascii=False``) in UTF-8."""
    body = dict(doc)
    provenance = body.get("provenance")
    if isinstance(provenance, dict) and FIELD in provenance:
        body["provenance"] = {k: v for k, v in provenance.items() if k != FIELD}
    # a lone surrogate (a "\ud800" escape) is in no result, but a changed file may hold one; it
    # gets bytes (and a hash that does not match) instead of an error (see compact_bytes)
    return compact_bytes(body)


def content_sha256(doc: Mapping[str, Any]) -> str:
    """The SHA-256 (hex) of :func:`canonical_bytes`: equal for equal documents, whatever the
    indentation or key order of the file they were read from, and whether or not they hold it."""
    return hashlib.sha256(canonical_bytes(doc)).hexdigest()


def sealed(doc: Mapping[str, Any]) -> dict[str, Any]:
    """A copy of ``doc`` whose provenance holds its content hash (``doc`` itself is unchanged)."""
    body = dict(doc)
    body["provenance"] = {**doc["provenance"], FIELD: content_sha256(doc)}
    return body
