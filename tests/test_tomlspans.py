"""tomlspans: the span of each value of a TOML document reads back as that value (what
`thidua test --update` relies on to edit a value in place)."""

from __future__ import annotations

import tomllib

import pytest

from thidua_rules.tomlspans import SpanError, scan

from .conftest import ROOT

FILES = sorted(p for folder in ("policies", "examples", "tests/policytest") for p in (ROOT / folder).rglob("*.toml"))


def leaves(value, path=()):
    if isinstance(value, dict):
        for key, item in value.items():
            yield from leaves(item, (*path, key))
    elif isinstance(value, list) and value and all(isinstance(x, dict) for x in value):
        for index, item in enumerate(value):
            yield from leaves(item, (*path, index))
    else:
        yield path, value


@pytest.mark.parametrize("path", FILES, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_value_of_the_shipped_files_reads_back_from_its_span(path):
    text = path.read_text(encoding="utf-8")
    spans = scan(text)
    found = list(leaves(tomllib.loads(text)))
    assert found
    for key_path, value in found:
        start, end = spans.values[key_path]
        assert tomllib.loads(f"k = {text[start:end]}")["k"] == value, key_path


def test_strings_keys_arrays_and_tables():
    text = ('a."b.c".d = """x\n"y"""""  # two quotes before the end\n'
            "[[t]]\n[[t]]\nv = [\n  1, # one\n  'lit',\n]\n[t.sub]\nw = { x = 1.5, y = [] }\n")
    spans = scan(text)

    def at(*path):
        start, end = spans.values[path]
        return text[start:end]

    assert at("a", "b.c", "d") == '"""x\n"y"""""'
    assert at("t", 1, "v") == "[\n  1, # one\n  'lit',\n]"
    assert at("t", 1, "v", 1) == "'lit'"
    assert at("t", 1, "sub", "w", "x") == "1.5"
    assert at("t", 1, "sub", "w", "y") == "[]"
    first = text.index("[[t]]\n")
    assert spans.ends[("t", 0)] == text.index("[[t]]\n", first + 1)  # just after its header line
    assert spans.ends[("t", 1)] == len(text)


def test_text_the_scanner_does_not_read_is_refused():
    with pytest.raises(SpanError):
        scan("a = 1 b = 2\n")
