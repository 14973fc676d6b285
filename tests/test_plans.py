"""The per-policy plan cache: a policy in use keeps its plans however many others come and go."""

from __future__ import annotations

from thidua_rules import plans


class _Owner:
    """Stands for a policy: any object that can be weakly referenced."""


def test_a_policy_in_use_keeps_its_plan_while_others_come_and_go(monkeypatch):
    monkeypatch.setattr(plans, "_CACHE", {})
    in_use = _Owner()
    first = plans.plan_for("kind", in_use, lambda policy: object())
    others = [_Owner() for _ in range(3 * plans._LIMIT)]
    for i, other in enumerate(others):
        plans.plan_for("kind", other, lambda policy: object())
        if i % 10 == 0:  # used now and then, as a cluster at a time is
            assert plans.plan_for("kind", in_use, lambda policy: object()) is first
    assert plans.plan_for("kind", in_use, lambda policy: object()) is first
    assert len(plans._CACHE) == plans._LIMIT


def test_the_least_recently_used_plan_goes_first(monkeypatch):
    monkeypatch.setattr(plans, "_CACHE", {})
    owners = [_Owner() for _ in range(plans._LIMIT)]
    built = [plans.plan_for("kind", owner, lambda policy: object()) for owner in owners]
    plans.plan_for("kind", owners[0], lambda policy: object())  # owners[1] is now the oldest
    plans.plan_for("kind", _Owner(), lambda policy: object())
    assert plans.plan_for("kind", owners[0], lambda policy: object()) is built[0]
    assert plans.plan_for("kind", owners[1], lambda policy: object()) is not built[1]


def test_a_gone_policy_leaves_no_entry(monkeypatch):
    monkeypatch.setattr(plans, "_CACHE", {})
    owner = _Owner()
    plans.plan_for("kind", owner, lambda policy: object())
    assert len(plans._CACHE) == 1
    del owner
    assert plans._CACHE == {}

