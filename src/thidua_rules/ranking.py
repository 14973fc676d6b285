"""Ranking inside a cluster: the policy's key chain, shared ranks for full ties, explained neighbours."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

import attrs

from .collation import vi_sort_key
from .model import RankKey
from .scoring import UnitScore, fast_init


@attrs.frozen(kw_only=True)
class Separation:
    """Why two neighbours in the ranking are in this order: the first key that differs."""

    unit: str
    key: str | None          # None: equal on every key (a shared rank)
    this: Decimal | None
    other: Decimal | None


@attrs.frozen(kw_only=True)
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
    # (env name, key, descending) per key, worked out once per call rather than per unit and key.
    names = tuple((k.key.removeprefix("input."), k.key, k.descending) for k in keys)

    def chain(score: UnitScore) -> tuple[Decimal, ...]:
        env = score.env
        out = []
        for name, _, descending in names:
            value = env[name]
            assert isinstance(value, Decimal)
            out.append(-value if descending else value)
        return tuple(out)

    # Sort by the chain alone, then order each run of equal chains by name and id: the same
    # order as one sort by (chain, name, id), but the collation key is built only for ties.
    keyed = sorted(((chain(s), s) for s in scores), key=lambda item: item[0])
    ordered: list[UnitScore] = []
    chains: list[tuple[Decimal, ...]] = []
    start = 0
    while start < len(keyed):
        end = start + 1
        while end < len(keyed) and keyed[end][0] == keyed[start][0]:
            end += 1
        run = [s for _, s in keyed[start:end]]
        if len(run) > 1:
            run.sort(key=lambda s: (vi_sort_key(s.unit.name), s.unit.id))
        ordered.extend(run)
        chains.extend(keyed[start][0] for _ in run)
        start = end
    ranks: list[int] = []
    for i in range(len(ordered)):
        ranks.append(ranks[-1] if i and chains[i] == chains[i - 1] else i + 1)

    def separation(i: int, j: int) -> Separation:
        this_env, other_env = ordered[i].env, ordered[j].env
        for name, key, _ in names:
            a, b = this_env[name], other_env[name]
            if a != b:
                return _separation(ordered[j].unit.id, key, a, b)
        return _separation(ordered[j].unit.id, None, None, None)

    placed = []
    for i, score in enumerate(ordered):
        tied = (i > 0 and ranks[i - 1] == ranks[i]) or (i + 1 < len(ordered) and ranks[i + 1] == ranks[i])
        placed.append(_placed(score, ranks[i], tied, separation(i, i - 1) if i > 0 else None,
                              separation(i, i + 1) if i + 1 < len(ordered) else None))
    return tuple(placed)
