"""Per-policy plans: work derived once from a compiled policy and reused for every unit."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

T = TypeVar("T")

#: (kind, id(policy)) → (policy, plan). The policy is kept so that an id reused by a new object
#: after the old one was freed is never mistaken for it; a handful of policies per process is
#: the normal case, so the cache is simply emptied when it grows.
_CACHE: dict[tuple[str, int], tuple[Any, Any]] = {}
_LIMIT = 64


def plan_for(kind: str, policy: Any, build: Callable[[Any], T]) -> T:
    """The plan of ``kind`` for ``policy``, built by ``build(policy)`` the first time."""
    key = (kind, id(policy))
    hit = _CACHE.get(key)
    if hit is None or hit[0] is not policy:
        if len(_CACHE) >= _LIMIT:
            _CACHE.clear()
        hit = _CACHE[key] = (policy, build(policy))
    return hit[1]
