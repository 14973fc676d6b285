"""Awards: title checks per unit, quotas per cluster in rank order, ladders, council items."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from decimal import ROUND_HALF_UP, Decimal
from types import MappingProxyType
from typing import Any

import attrs

from .decimals import engine_context
from .errors import EvaluationError, ExpressionRuntimeError, PluginError
from .expressions import EvalContext
from .extensions import TitleView
from .model import Cluster, Policy, Quota, Title
from .ranking import Placed


@attrs.frozen(kw_only=True)
class CheckOutcome:
    check: str
    plugin: str
    passed: bool
    reason: str
    seen: Mapping[str, Any]


@attrs.frozen(kw_only=True)
class TitleOutcome:
    """What happened to one title for one unit.

    ``status`` is ``proposed`` (the unit is proposed for it), ``held`` (won, but a higher title
    of the same ladder is proposed), ``failed`` (a check failed), ``over_quota`` (passed every
    check but the quota was filled by better-ranked units) or ``undecided`` (tied with another
    unit across the quota cut: the council decides).
    """

    title: str
    status: str
    checks: tuple[CheckOutcome, ...]
    quota_limit: int | None = None
    quota_raw: Decimal | None = None
    place: int | None = None     # position among the units that passed every check, in rank order


@attrs.frozen(kw_only=True)
class CouncilItem:
    """A decision the engine leaves to the council (hội đồng), with why."""

    title: str
    units: tuple[str, ...]
    reason: str


def quota_limit(quota: Quota, size: int) -> tuple[int, Decimal]:
    """The number of units a quota admits in a cluster of ``size`` units, and the raw figure.

    No national rule fixes the rounding of a share (domain.md §6.3), so the policy states it.
    """
    if quota.count is not None:
        return quota.count, Decimal(quota.count)
    assert quota.share is not None
    with engine_context():
        raw = quota.share * size
    if quota.rounding == "ceil":
        return math.ceil(raw), raw
    if quota.rounding == "half_up":
        return int(raw.quantize(Decimal(1), rounding=ROUND_HALF_UP)), raw
    return math.floor(raw), raw


def award_cluster(policy: Policy, cluster: Cluster, placed: Sequence[Placed],
                  history: Mapping[str, EvalContext]) -> tuple[dict[str, list[TitleOutcome]], list[CouncilItem]]:
    """Decide every title for every unit of one cluster, titles in policy order.

    Order of decisions for a title: its checks (``requires`` → ``when`` → ``votes`` → plugin
    checks by stage) for each unit, then the quota filled in rank order.
    """
    ballots = {b.title: b for b in cluster.ballots}
    won: dict[str, set[str]] = {p.score.unit.id: set() for p in placed}
    pending: dict[str, set[str]] = {p.score.unit.id: set() for p in placed}
    outcomes: dict[str, list[TitleOutcome]] = {p.score.unit.id: [] for p in placed}
    council: list[CouncilItem] = []
    for title in policy.titles:
        passed: list[Placed] = []
        checks_of: dict[str, tuple[CheckOutcome, ...]] = {}
        for place in placed:
            unit_id = place.score.unit.id
            view = TitleView(
                unit=unit_id, title=title.id, env=MappingProxyType(place.score.env),
                won=frozenset(won[unit_id]), pending=frozenset(pending[unit_id]),
                ballot=ballots.get(title.id), eval_context=history[unit_id],
            )
            results = []
            for check in title.checks:
                ok, reason, seen = _run_check(policy, title, check, view)
                results.append(CheckOutcome(check=check.name, plugin=check.plugin, passed=ok,
                                            reason=reason, seen=MappingProxyType(dict(seen))))
                if not ok:
                    break
            checks_of[unit_id] = tuple(results)
            if all(r.passed for r in results):
                passed.append(place)
        decided = _apply_quota(title, len(placed), passed, council)
        for place in placed:
            unit_id = place.score.unit.id
            status, limit, raw, position = decided.get(unit_id, ("failed", None, None, None))
            if status == "won":
                won[unit_id].add(title.id)
            elif status == "undecided":
                pending[unit_id].add(title.id)
            outcomes[unit_id].append(TitleOutcome(
                title=title.id, status=status, checks=checks_of[unit_id],
                quota_limit=limit, quota_raw=raw, place=position,
            ))
    return _ladders(policy, outcomes), council


def _run_check(policy: Policy, title: Title, check: Any, view: TitleView) -> tuple[bool, str, Mapping[str, Any]]:
    where = f"{policy.file}: title '{title.id}' check '{check.name}'"
    try:
        with engine_context():
            result = check.run(view)
    except ExpressionRuntimeError as exc:
        raise EvaluationError(f"{exc.message}\n    | {exc.source}\n    | {' ' * exc.start}"
                              f"{'^' * max(1, exc.end - exc.start)}", unit=view.unit, where=where) from None
    except (EvaluationError, PluginError):
        raise
    except Exception as exc:
        raise PluginError(f"title check '{check.name}' raised {type(exc).__name__}: {exc} "
                          f"(title '{title.id}', unit '{view.unit}')", plugin=check.plugin) from exc
    if (not isinstance(result, tuple) or len(result) != 3 or not isinstance(result[0], bool)
            or not isinstance(result[1], str) or not isinstance(result[2], Mapping)):
        raise PluginError(f"title check '{check.name}' must return (bool, str, mapping), got "
                          f"{type(result).__name__} (title '{title.id}', unit '{view.unit}')",
                          plugin=check.plugin)
    return result


def _apply_quota(title: Title, size: int, passed: list[Placed],
                 council: list[CouncilItem]) -> dict[str, tuple[str, int | None, Decimal | None, int | None]]:
    """Fill the quota in rank order; units sharing a rank across the cut are left undecided."""
    if title.quota is None:
        return {p.score.unit.id: ("won", None, None, i + 1) for i, p in enumerate(passed)}
    limit, raw = quota_limit(title.quota, size)
    decided = {}
    if len(passed) <= limit:
        return {p.score.unit.id: ("won", limit, raw, i + 1) for i, p in enumerate(passed)}
    cut_rank = passed[limit].rank
    straddles = limit > 0 and passed[limit - 1].rank == cut_rank
    tied_units = []
    for i, p in enumerate(passed):
        if straddles and p.rank == cut_rank:
            status = "undecided"
            tied_units.append(p.score.unit.id)
        elif i < limit:
            status = "won"
        else:
            status = "over_quota"
        decided[p.score.unit.id] = (status, limit, raw, i + 1)
    if tied_units:
        free = limit - sum(1 for v in decided.values() if v[0] == "won")
        council.append(CouncilItem(
            title=title.id, units=tuple(tied_units),
            reason=f"{len(tied_units)} units share rank {cut_rank} across the quota of {limit}; "
                   f"{free} place(s) left for them",
        ))
    return decided


def _ladders(policy: Policy, outcomes: dict[str, list[TitleOutcome]]) -> dict[str, list[TitleOutcome]]:
    """On a ladder only the highest title won (the last declared) is proposed; lower ones are held."""
    ladder_of = {t.id: t.ladder for t in policy.titles}
    result = {}
    for unit_id, items in outcomes.items():
        highest: dict[str, str] = {}
        for item in items:
            ladder = ladder_of[item.title]
            if ladder and item.status == "won":
                highest[ladder] = item.title
        result[unit_id] = [
            attrs.evolve(item, status=(
                "proposed" if not ladder_of[item.title] or highest.get(ladder_of[item.title]) == item.title
                else "held")) if item.status == "won" else item
            for item in items
        ]
    return result


def proposed_titles(policy: Policy, outcomes: Sequence[TitleOutcome]) -> tuple[str, ...]:
    """Ladder titles first (in the order ladders first appear in the policy), then the others."""
    status = {o.title: o.status for o in outcomes}
    ladders = list(dict.fromkeys(t.ladder for t in policy.titles if t.ladder))
    first = [t.id for ladder in ladders for t in policy.titles
             if t.ladder == ladder and status.get(t.id) == "proposed"]
    rest = [t.id for t in policy.titles if not t.ladder and status.get(t.id) == "proposed"]
    return tuple(first + rest)
