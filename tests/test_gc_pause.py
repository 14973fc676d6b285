"""``engine.gc_paused``: the collector is paused inside and left as the caller had it after."""

from __future__ import annotations

import gc

import pytest

from thidua_rules.engine import gc_paused


@pytest.fixture
def collector():
    was_enabled = gc.isenabled()
    gc.enable()
    yield
    gc.unfreeze()
    if not was_enabled:
        gc.disable()


def test_paused_inside_and_restored_after(collector):
    with gc_paused():
        assert not gc.isenabled()
        made = [[i] for i in range(1000)]
    assert gc.isenabled()
    # What the block made went to the oldest generation without being traced by a young
    # collection (which would have left it in the middle one), and nothing stays frozen.
    assert gc.get_freeze_count() == 0
    assert any(x is made[0] for x in gc.get_objects(generation=2))
    assert not any(x is made[0] for x in gc.get_objects(generation=0) + gc.get_objects(generation=1))


def test_objects_the_caller_froze_stay_frozen(collector):
    kept = [[i] for i in range(100)]
    gc.freeze()
    frozen = gc.get_freeze_count()
    assert frozen >= len(kept)
    with gc_paused():
        _ = [[i] for i in range(1000)]
    assert gc.isenabled()
    assert gc.get_freeze_count() == frozen  # not unfrozen, and nothing of the block added


def test_left_disabled_when_the_caller_disabled_it(collector):
    gc.disable()
    with gc_paused():
        assert not gc.isenabled()
    assert not gc.isenabled()
    gc.enable()


def test_restored_when_the_block_raises(collector):
    with pytest.raises(ValueError), gc_paused():
        raise ValueError
    assert gc.isenabled()
    assert gc.get_freeze_count() == 0
