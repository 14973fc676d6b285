"""No process-wide garbage-collector side effects: loading, evaluating, rendering and streaming
leave the collector exactly as the host had it (an embedding server's other threads, and the
objects a pre-forking server froze, are not affected)."""

from __future__ import annotations

import contextvars
import gc
import io
import sys

import pytest

from thidua_rules import evaluate, load_data, render
from thidua_rules.stream import evaluate_stream

from .conftest import EXAMPLE_DATA, ROOT

sys.path.insert(0, str(ROOT / "benchmarks"))
import generate  # the benchmarks' seeded unit data


def _state() -> tuple[bool, int, tuple[int, int, int]]:
    return gc.isenabled(), gc.get_freeze_count(), gc.get_threshold()


def _everything(policy, tmp_path) -> None:
    data = load_data(EXAMPLE_DATA, policy)
    result = evaluate(policy, data)
    for fmt in ("json", "jsonl", "markdown", "table", "toml"):
        render(result, fmt)
    csv = tmp_path / "units.csv"
    if not csv.exists():
        csv.write_bytes(generate.make_csv(300))
    evaluate_stream(policy, csv, io.StringIO())


@pytest.mark.parametrize("host", ["enabled", "disabled", "frozen"])
def test_the_collector_is_left_exactly_as_the_host_had_it(example_policy, tmp_path, host):
    """Enabled, disabled, or with objects frozen by the host: the same state after."""
    was = gc.isenabled()
    _everything(example_policy, tmp_path)   # caches filled: nothing the host froze is freed below
    gc.collect()
    keep = [[i] for i in range(10_000)]
    try:
        if host == "disabled":
            gc.disable()
        # The decimal context is a context variable: setting it replaces the context's mapping, and a
        # frozen object freed leaves the frozen count. Holding a copy keeps the host's mapping
        # alive, so that the count shows only what the collector itself was asked to do.
        held = contextvars.copy_context()
        if host == "frozen":
            gc.freeze()
        before = _state()
        _everything(example_policy, tmp_path)
        assert _state() == before
        if host == "frozen":
            assert gc.get_freeze_count() >= len(keep)
        del held
    finally:
        gc.unfreeze()
        if was:
            gc.enable()


def test_the_library_never_changes_the_collector(example_policy, tmp_path, monkeypatch):
    """No call to disable, enable, freeze, unfreeze, collect or set_threshold."""

    def refuse(name):
        def call(*args, **kwargs):
            raise AssertionError(f"gc.{name}() called by the library")
        return call

    for name in ("disable", "enable", "freeze", "unfreeze", "collect", "set_threshold"):
        monkeypatch.setattr(gc, name, refuse(name))
    _everything(example_policy, tmp_path)
