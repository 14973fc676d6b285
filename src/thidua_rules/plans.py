"""Per-policy plans: work derived once from a compiled policy and reused for every unit.

Each :class:`~thidua_rules.model.Policy` holds one :class:`Program` (its ``program`` field, made
with the policy by ``load_policy``, never compared nor shown), and the program holds every plan
made for that policy: the scoring kernel, the award steps, the loader's converters (with their
remembered cells) and row readers, the document's formatting and the unit entries it
remembers. A plan lives exactly as long as its policy; nothing is kept in a module global or
keyed by ``id()``, so a new policy can never meet a gone one's plans, and a policy in use keeps
its own however many others come and go. A policy made by ``attrs.evolve`` gets a new, empty
program (the field is not an ``__init__`` argument).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

T = TypeVar("T")
_MISSING = object()


class Program:
    """The plans of one policy, each built the first time it is asked for."""

    __slots__ = ("__weakref__", "_plans")

    def __init__(self) -> None:
        self._plans: dict[Any, Any] = {}

    def plan(self, kind: str, policy: Any, build: Callable[[Any], T]) -> T:
        """The plan of ``kind``, built by ``build(policy)`` the first time."""
        plans = self._plans
        hit = plans.get(kind, _MISSING)
        if hit is _MISSING:
            hit = plans[kind] = build(policy)
        return hit

    def __repr__(self) -> str:
        return f"<Program: {len(self._plans)} plans>"


def plan_for(kind: str, policy: Any, build: Callable[[Any], T]) -> T:
    """The plan of ``kind`` for ``policy`` (from the policy's :class:`Program`)."""
    return policy.program.plan(kind, policy, build)
