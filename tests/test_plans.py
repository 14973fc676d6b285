"""Each policy holds its own plans (its Program): made with it, kept while it lives, never shared."""

from __future__ import annotations

import gc
import weakref
from pathlib import Path

import attrs

from thidua_rules import evaluate, load_data, load_policy, parse_policy, plans, render

ROOT = Path(__file__).resolve().parent.parent
POLICY = ROOT / "policies" / "cum8-2022.toml"
DATA = ROOT / "examples" / "cum8-2022" / "units.toml"


def test_a_plan_is_built_once_per_policy():
    """The second request of a kind gives the first plan; another policy builds its own."""
    one, two = load_policy(POLICY), load_policy(POLICY)
    built = []

    def build(policy):
        built.append(policy)
        return object()

    first = plans.plan_for("kind", one, build)
    assert plans.plan_for("kind", one, build) is first
    assert plans.plan_for("kind", two, build) is not first
    assert built == [one, two] and built[0] is one and built[1] is two


def test_a_plan_may_be_none_and_is_still_built_once():
    """A build that gives None (or any falsy value) is remembered too."""
    policy = load_policy(POLICY)
    calls = []
    for _ in range(3):
        assert plans.plan_for("none", policy, lambda p: calls.append(p)) is None
    assert len(calls) == 1


def test_many_policies_in_use_keep_their_plans():
    """Hundreds of policies alive at once: each keeps its own plans (no shared bound evicts them)."""
    text = POLICY.read_bytes()
    policies = [parse_policy(text, file="p.toml", path=str(POLICY)) for _ in range(200)]
    first = [plans.plan_for("kind", p, lambda p: object()) for p in policies]
    assert [plans.plan_for("kind", p, lambda p: object()) for p in policies] == first


def test_evolve_gives_a_new_program():
    """A policy made by attrs.evolve (which may differ) never sees the original's plans."""
    policy = load_policy(POLICY)
    plan = plans.plan_for("kind", policy, lambda p: object())
    other = attrs.evolve(policy, precision=policy.precision + 1)
    assert other.program is not policy.program
    assert plans.plan_for("kind", other, lambda p: object()) is not plan
    assert attrs.evolve(policy) == policy  # the program is not compared


def test_plans_go_with_their_policy():
    """Nothing outside the policy keeps its plans: once it is gone, they are too."""
    policy = load_policy(POLICY)
    data = load_data(DATA, policy)
    render(evaluate(policy, data), "jsonl")  # builds the loader's, scoring's, awards' and writers' plans
    assert len(policy.program._plans) >= 5
    gone = weakref.ref(policy.program)
    del policy, data
    gc.collect()
    assert gone() is None


def test_the_program_is_not_in_the_repr():
    """The policy's repr shows what it is, not what has been derived from it."""
    assert "program" not in repr(load_policy(POLICY))
