"""Ranking inside a cluster: the policy's key chain, shared ranks for full ties, explained neighbours."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from operator import itemgetter, neg
from typing import Any

import attrs

from .collation import vi_sort_key
from .model import RankKey
from .records import fast_init
from .scoring import UnitScore


@attrs.frozen(kw_only=True, weakref_slot=False)  # made per unit: see records.fast_init
class Separation:
    """Why two neighbours in the ranking are in this order: the first key that differs."""

    unit: str
    key: str | None          # None: equal on every key (a shared rank)
    this: Decimal | None
    other: Decimal | None


@attrs.frozen(kw_only=True, weakref_slot=False)  # made per unit: see records.fast_init
class Placed:
    """One unit's place in its cluster."""

    score: UnitScore
    rank: int
    tied: bool
    above: Separation | None
    below: Separation | None


_placed = fast_init(Placed)
_separation = fast_init(Separation)


def key_value(score: UnitScore, key: str) -> Decimal:
    """The value of a ranking key (``total``, ``group.x``, ``criterion.x``, ``input.x``…)."""
    name = key.removeprefix("input.")
    value = score.env[name]
    assert isinstance(value, Decimal)
    return value


def rank_cluster(scores: Sequence[UnitScore], keys: Sequence[RankKey]) -> tuple[Placed, ...]:
    """Order units by the key chain (each key descending unless declared ascending).

    Units equal on every key share a rank (1, 2, 2, 4) and are flagged; among them the listing
    order is Vietnamese alphabetical order of the name, then the id — a listing order only, never
    a decision.
    """
    labels, values_of, chain_of = _chain_plan(keys)
    count = len(scores)
    values = [values_of(score.env) for score in scores]
    chains = [chain_of(v) for v in values]
    # Sort by the chain alone (stable), then order each run of equal chains by name and id: the
    # same order as one sort by (chain, name, id), but the collation key is built only for ties.
    order = sorted(range(count), key=chains.__getitem__)
    ordered: list[int] = []
    ranks: list[int] = []
    tied: list[bool] = []
    start = 0
    while start < count:
        chain = chains[order[start]]
        end = start + 1
        while end < count and chains[order[end]] == chain:
            end += 1
        if end - start == 1:
            ordered.append(order[start])
            ranks.append(start + 1)
            tied.append(False)
        else:
            ordered.extend(sorted(order[start:end], key=lambda j: (vi_sort_key(scores[j].unit.name), scores[j].unit.id)))
            ranks.extend([start + 1] * (end - start))
            tied.extend([True] * (end - start))
        start = end
    # Neighbours k and k + 1 are separated by the first key whose values differ, seen from
    # either side (``below`` of k, ``above`` of k + 1); None when they are equal on every key.
    ranked = [scores[j] for j in ordered]
    ids = [score.unit.id for score in ranked]
    ranked_values = [values[j] for j in ordered]
    width = len(labels)
    placed = []
    above = None
    for k in range(count - 1):
        this, other = ranked_values[k], ranked_values[k + 1]
        x = 0
        while x < width:
            if this[x] != other[x]:
                break
            x += 1
        if x < width:
            a, b = this[x], other[x]
            below = _separation(ids[k + 1], labels[x], a, b)
            placed.append(_placed(ranked[k], ranks[k], tied[k], above, below))
            above = _separation(ids[k], labels[x], b, a)
        else:
            placed.append(_placed(ranked[k], ranks[k], tied[k], above, _separation(ids[k + 1], None, None, None)))
            above = _separation(ids[k], None, None, None)
    if count:
        placed.append(_placed(ranked[-1], ranks[-1], tied[-1], above, None))
    return tuple(placed)


#: key chain → (the keys as written, ``values(env)``: their values, ``chain(values)``: the sort key).
_PLANS: dict[tuple[RankKey, ...], tuple[tuple[str, ...], Any, Any]] = {}


def _chain_plan(keys: Sequence[RankKey]) -> tuple[tuple[str, ...], Any, Any]:
    """Worked out once per key chain: each key's value read from the environment (``input.x`` is
    ``x``), and the sort key, negated where the key is descending so that one ascending sort
    puts the larger value first."""
    keys = tuple(keys)
    plan = _PLANS.get(keys)
    if plan is not None:
        return plan
    names = tuple(k.key.removeprefix("input.") for k in keys)
    descending = tuple(k.descending for k in keys)
    values_of: Any
    chain_of: Any
    if len(names) == 1:
        (name,) = names

        def values_of(env: Any) -> tuple[Any, ...]:
            return (env[name],)
    elif names:
        values_of = itemgetter(*names)
    else:
        def values_of(env: Any) -> tuple[Any, ...]:
            return ()
    if all(descending):
        # ``neg(v)`` is ``-v``, in the current decimal context, as for a mixed chain.
        def chain_of(values: tuple[Any, ...]) -> tuple[Any, ...]:
            return tuple(map(neg, values))
    else:
        def chain_of(values: tuple[Any, ...]) -> tuple[Any, ...]:
            return tuple([-v if d else v for v, d in zip(values, descending, strict=True)])
    if len(_PLANS) >= 64:
        _PLANS.clear()
    plan = _PLANS[keys] = (tuple(k.key for k in keys), values_of, chain_of)
    return plan
