"""The one JSON encoder (orjson) writes the bytes of the standard library's canonical forms."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from thidua_rules import build_document, evaluate, load_data, load_policy
from thidua_rules.report.jsontext import compact, indented

ROOT = Path(__file__).resolve().parent.parent


def _stdlib_indented(doc: object) -> str:
    return json.dumps(doc, ensure_ascii=False, sort_keys=True, indent=2)


def _stdlib_compact(doc: object) -> str:
    return json.dumps(doc, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def test_every_code_point_is_escaped_as_the_standard_library_does():
    """Every code point but the surrogates, as a string and as a key, in chunks."""
    points = [chr(c) for c in range(sys.maxunicode + 1) if not 0xD800 <= c <= 0xDFFF]
    for start in range(0, len(points), 4096):
        chunk = "".join(points[start:start + 4096])
        doc = {chunk: [chunk, {"k": chunk}], "z" + chunk[:7]: chunk[::-1]}
        assert indented(doc) == _stdlib_indented(doc)
        assert compact(doc) == _stdlib_compact(doc)


@pytest.mark.parametrize("value", [
    {}, [], {"a": []}, {"b": {}, "a": [{}, [], None, True, False, 0, -12, "x\"\\\n\u2028đ"]},
    [[[[1]]]], "text", 7, None, {"z": {"y": {"x": ["ư", {"k": "v"}]}}}, (1, (2, "ba")),
    {"\uffff": 1, "\U00010000": 2, "é": 3, "z": 4, "Z": 5, "": 6, "a\x00": 7, "a": 8, "A": {}},
    2**63 - 1, -(2**63), {"x": 2**64}, {"x": -(2**70), "y": [10**40]}, {"\ud800": "\udfff"},
    {"nested": [[[[[[[[[[[[[[[[[[[[{}]]]]]]]]]]]]]]]]]]]]},
], ids=repr)
def test_edge_values_match_the_standard_library(value):
    """Empty containers, nesting, key order by code point, escapes, tuples and scalars match,
    and so do the values orjson refuses (ints past 64 bits, lone surrogates)."""
    assert indented(value) == _stdlib_indented(value)
    assert compact(value) == _stdlib_compact(value)


def test_deep_nesting_past_orjson_limit_matches():
    """Nesting deeper than orjson's 255 levels is written by the standard library, unchanged."""
    value: list[object] = []
    inner = value
    for _ in range(400):
        inner.append([])
        inner = inner[0]  # type: ignore[assignment]
    assert indented(value) == _stdlib_indented(value)
    assert compact(value) == _stdlib_compact(value)


@pytest.mark.parametrize("policy,data", [
    ("policies/cum8-2022.toml", "examples/cum8-2022/units.toml"),
    ("policies/cum8-2022-members.toml", "examples/cum8-2022/units-members.toml"),
    ("policies/cantho-dan-van.toml", "examples/cantho-2025/units.toml"),
    ("policies/research-khcn-2023.toml", "examples/research-khcn-2023/units.toml"),
])
def test_shipped_documents_match_the_standard_library(policy, data):
    """Whole result documents of shipped examples, indented and compact."""
    pol = load_policy(ROOT / policy)
    members = ROOT / "examples/cum8-2022/members.csv" if "members" in data else None
    doc = build_document(evaluate(pol, load_data(ROOT / data, pol, members=members)))
    assert indented(doc) == _stdlib_indented(doc)
    assert compact(doc) == _stdlib_compact(doc)


class _Interrupting(dict):
    """A mapping whose reading is interrupted, as a signal interrupts whatever Python code runs."""

    def __iter__(self):
        raise KeyboardInterrupt

    def keys(self):
        raise KeyboardInterrupt


def test_an_interrupt_while_encoding_is_not_answered_by_json_dumps():
    """Python code orjson calls back (for a subclass, a shared part) may be interrupted by a
    signal: the interrupt goes on up, not into the json.dumps fallback (which would finish the
    run as if nothing had been asked), also from a shared part written inside another."""
    from thidua_rules.report.jsontext import compact, compact_bytes
    from thidua_rules.report.shared import Shared

    for doc in ({"x": _Interrupting(a=1)}, {"s": Shared({"t": Shared({"x": _Interrupting(a=1)})})}):
        for encode in (compact, compact_bytes):
            with pytest.raises(KeyboardInterrupt):
                encode(doc)
