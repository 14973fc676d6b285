"""Quotas across clusters: a ministry-level second stage over every cluster's decisions.

A title with ``across_clusters = { share = 0.2, rounding = "floor", order = ["total"] }`` is
first decided in each cluster as usual; then the units proposed (or held) for it in all the
clusters of the data are placed together by ``order`` (ranking keys, each descending unless
``{ key = "...", direction = "asc" }``; default ``total``), and at most ``share`` × the number
of clusters keep it (``count`` fixes the number instead). This is how the Government flag is
capped at a share of the cluster leaders: "không quá 20 % tổng số tập thể dẫn đầu các cụm,
khối" (ND91 Art. 11 k1 [V], applied up to 2023; the ND98/ND152 equivalent is not verified,
domain.md §6.2). Units sharing a place across the cut are all left ``undecided`` and listed for
the council in their cluster; units below it are ``over_quota``. The stage adds one check,
``across_clusters``, to the title's outcome of every candidate, with its place and the limit.
A title no other title may ``requires`` (the loader refuses it), so nothing decided after it
changes; on a ladder, the highest title still won becomes the one proposed.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

import attrs

from .awards import CheckOutcome, CouncilItem, TitleOutcome, proposer, quota_limit
from .builtin.titles import share_text
from .messages import Reason
from .ranking import key_value

if TYPE_CHECKING:
    from .engine import ClusterResult, UnitResult
    from .model import Policy, Title

PLUGIN = "thidua_rules.across"
KEPT = ("proposed", "held")


def apply_across_clusters(policy: Policy, clusters: Sequence[ClusterResult]) -> tuple[ClusterResult, ...]:
    """``clusters`` with every ``across_clusters`` quota of ``policy`` applied, titles in policy order."""
    result = tuple(clusters)
    for title in policy.titles:
        if title.across is not None:
            result = _apply(policy, title, result)
    return result


def _apply(policy: Policy, title: Title, clusters: tuple[ClusterResult, ...]) -> tuple[ClusterResult, ...]:
    quota = title.across
    assert quota is not None
    candidates: list[tuple[int, int]] = []  # (cluster index, unit index)
    for c, cluster in enumerate(clusters):
        for u, unit in enumerate(cluster.units):
            outcome = _outcome(unit, title.id)
            if outcome is not None and outcome.status in KEPT:
                candidates.append((c, u))
    limit, raw = quota_limit(quota, len(clusters))
    keys = [tuple(_key(clusters[c].units[u], k) for k in quota.order) for c, u in candidates]
    places = [1 + sum(1 for other in keys if other > key) for key in keys]
    ordered = sorted(places)
    if len(candidates) > limit:
        cut = ordered[limit]
        straddles = limit > 0 and ordered[limit - 1] == cut
    else:
        cut, straddles = len(candidates) + 1, False
    won = sum(1 for p in places if p < cut)
    figure = f"{_raw(quota.share)} × {len(clusters)} clusters, {quota.rounding}" if quota.share is not None \
        else "a count"
    status_of: dict[tuple[int, int], tuple[str, int]] = {}
    for (c, u), place in zip(candidates, places, strict=True):
        if place < cut:
            status_of[(c, u)] = ("kept", place)
        elif place == cut and straddles:
            status_of[(c, u)] = ("undecided", place)
        else:
            status_of[(c, u)] = ("over_quota", place)
    tied = [key for key, (status, _) in status_of.items() if status == "undecided"]
    out = []
    propose = proposer(policy)
    for c, cluster in enumerate(clusters):
        units = list(cluster.units)
        council = list(cluster.council)
        for u, unit in enumerate(units):
            if (c, u) not in status_of:
                continue
            status, place = status_of[(c, u)]
            check = CheckOutcome(
                check="across_clusters", plugin=PLUGIN, passed=status == "kept",
                reason="" if status == "kept" else Reason(
                    "across_undecided" if status == "undecided" else "across_over_quota",
                    {"place": place, "candidates": len(candidates), "clusters": len(clusters), "limit": limit}),
                seen=MappingProxyType({"place": place, "candidates": len(candidates), "clusters": len(clusters),
                                       "limit": limit, "raw": _raw(raw), "quota": figure}))
            units[u] = _with(policy, unit, title, check, None if status == "kept" else status, propose)
        here = tuple(clusters[c].units[u].id for cc, u in tied if cc == c)
        if here:
            council.append(CouncilItem(
                title=title.id, units=here, kind="quota_tie",
                reason=Reason("across_quota_tie", {
                    "units": len(tied), "tied_clusters": len({cc for cc, _ in tied}), "place": cut,
                    "limit": limit, "clusters": len(clusters), "left": limit - won})))
        out.append(attrs.evolve(cluster, units=tuple(units), council=tuple(council)))
    return tuple(out)


def _outcome(unit: UnitResult, title_id: str) -> TitleOutcome | None:
    return next((t for t in unit.titles if t.title == title_id), None)


def _key(unit: UnitResult, key: Any) -> Decimal:
    value = key_value(unit.score, key.key)
    return value if key.descending else -value


def _raw(raw: Any) -> str:
    return share_text(raw) if not isinstance(raw, Decimal) else f"{raw.normalize():f}"


def _with(policy: Policy, unit: UnitResult, title: Title, check: CheckOutcome, lost: str | None,
          propose: Any) -> UnitResult:
    """``unit`` with the stage's check on ``title``; if ``lost`` (its new status), the ladder's
    highest title still won becomes the proposed one."""
    titles = list(unit.titles)
    index = next(i for i, t in enumerate(titles) if t.title == title.id)
    before = titles[index]
    titles[index] = attrs.evolve(before, status=lost or before.status, checks=(*before.checks, check))
    if lost is not None and before.status == "proposed" and title.ladder:
        ladder = {t.id for t in policy.titles if t.ladder == title.ladder}
        held = [i for i, t in enumerate(titles) if t.title in ladder and t.status == "held"]
        if held:
            titles[held[-1]] = attrs.evolve(titles[held[-1]], status="proposed")
    return attrs.evolve(unit, titles=tuple(titles), proposed=propose(titles))
