"""Per-policy plans: work derived once from a compiled policy and reused for every unit."""

from __future__ import annotations

import weakref
from collections.abc import Callable
from typing import Any, TypeVar

T = TypeVar("T")

#: (kind, id(policy)) → (weak reference to the policy, plan), least recently used first. The
#: reference tells a policy from a new object that got a freed one's id, and its callback drops
#: the entry when the policy goes; a plan that holds its policy keeps it, so the cache is also
#: bounded, and the least recently used plan goes first: a policy in use keeps its plans (its
#: remembered cells among them) however many others come and go.
_CACHE: dict[tuple[str, int], tuple[weakref.ref[Any], Any]] = {}
_LIMIT = 64


def plan_for(kind: str, policy: Any, build: Callable[[Any], T]) -> T:
    """The plan of ``kind`` for ``policy``, built by ``build(policy)`` the first time."""
    key = (kind, id(policy))
    hit = _CACHE.pop(key, None)
    if hit is None or hit[0]() is not policy:
        while len(_CACHE) >= _LIMIT:
            del _CACHE[next(iter(_CACHE))]
        hit = (weakref.ref(policy, _forgetter(_CACHE, key)), build(policy))
    _CACHE[key] = hit  # (again) the most recently used
    return hit[1]


def _forgetter(cache: dict[tuple[str, int], Any], key: tuple[str, int]) -> Callable[[weakref.ref[Any]], None]:
    """The callback that drops ``key``'s entry from ``cache`` once its policy is gone. The cache
    is bound here, not looked up as a module global, which is None while the interpreter exits."""

    def forget(_ref: weakref.ref[Any]) -> None:
        cache.pop(key, None)

    return forget
