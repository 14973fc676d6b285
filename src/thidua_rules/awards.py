"""Awards: title checks per unit, quotas per cluster in rank order, ladders, council items."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from decimal import ROUND_HALF_UP, Decimal
from types import MappingProxyType
from typing import Any

import attrs

from .decimals import engine_context
from .errors import EvaluationError, ExpressionRuntimeError, PluginError, ThiduaError
from .expressions import EvalContext
from .extensions import TitleView
from .model import Ballot, Cluster, Policy, Quota, Title
from .plans import plan_for
from .ranking import Placed
from .scoring import fast_init


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
    check but the quota was filled by better-ranked units), ``undecided`` (tied with another
    unit across the quota cut: the council decides), ``excluded`` (a discipline period runs this
    year) or ``deferred`` (the decision waits, with the reason).
    """

    title: str
    status: str
    checks: tuple[CheckOutcome, ...]
    quota_limit: int | None = None
    quota_raw: Decimal | None = None
    place: int | None = None     # position among the units that passed every check, in rank order
    runoff_yes: int | None = None  # yes-votes in the round-2 ballot that split a tie at the quota cut


@attrs.frozen(kw_only=True)
class CouncilItem:
    """A decision the engine leaves to the council (hội đồng), with why.

    ``kind`` is ``quota_tie`` (units sharing a rank across a quota cut) or ``deferred`` (a unit
    whose titles wait; ``title`` then lists the deferred titles, empty for all).
    """

    title: str
    units: tuple[str, ...]
    reason: str
    kind: str = "quota_tie"


def _held_back(cluster: Cluster) -> Any:
    """``held_back(unit, title)``: a closing check outcome for a unit excluded or deferred, or None.

    A discipline period running in the review year excludes the unit (TT12-BCA Art. 2 k1: not
    considered while a discipline period runs); a deferral keeps the decision for later
    (ND152 Art. 4 k4: discipline being considered, an inspection, a complaint being verified).
    """
    running = {d.unit: d for d in cluster.discipline if d.start <= cluster.year <= d.until}
    deferred = {d.unit: d for d in cluster.deferrals}

    def held_back(unit_id: str, title_id: str) -> CheckOutcome | None:
        if unit_id in running:
            d = running[unit_id]
            return CheckOutcome(check="excluded", plugin="thidua_rules.awards", passed=False,
                                reason=f"discipline ({d.level}) runs {d.start}–{d.until}",
                                seen=MappingProxyType({"level": d.level, "until": d.until}))
        if unit_id in deferred and (not deferred[unit_id].titles or title_id in deferred[unit_id].titles):
            return CheckOutcome(check="deferred", plugin="thidua_rules.awards", passed=False,
                                reason=deferred[unit_id].reason, seen=MappingProxyType({}))
        return None

    return held_back


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

    Order of decisions for a title: exclusions (a discipline period running this year) and
    deferrals, then its checks (``requires`` → ``when`` → ``votes`` → plugin checks by stage) for
    each unit, then the quota filled in rank order, with a round-2 ballot (if recorded) deciding
    between units tied across the quota cut.
    """
    ballots = {b.title: b for b in cluster.ballots if b.round == 1}
    second_round = {b.title: b for b in cluster.ballots if b.round == 2}
    # Per unit, once: its place, id, what title checks see of it (read-only, not rebuilt per
    # title), its history and its data. Units are then addressed by their index in rank order.
    units = []
    for place in placed:
        score = place.score
        unit = score.unit
        units.append((place, unit.id, MappingProxyType(score.env), history[unit.id], unit))
    size = len(units)
    # Per unit: the titles it has won or that await the council so far (frozensets replaced on
    # change), its outcomes in title order, and its ladder titles won (decided at the end).
    won: list[frozenset[str]] = [_NONE] * size
    pending: list[frozenset[str]] = [_NONE] * size
    outcomes: list[list[Any]] = [[] for _ in range(size)]
    ladder_wins: dict[int, list[tuple[int, str, tuple[Any, ...]]]] = {}
    council: list[CouncilItem] = []
    holds = bool(cluster.discipline or cluster.deferrals)  # else held_back is always None
    held_back = _held_back(cluster) if holds else None
    for deferral in cluster.deferrals:
        council.append(CouncilItem(title=",".join(deferral.titles), units=(deferral.unit,),
                                   reason=f"deferred: {deferral.reason}", kind="deferred"))
    plan = _plan(policy)
    with engine_context():  # the built-in checks' arithmetic; plugin checks get their own
        for title, checks, ladder, failed_requires in zip(policy.titles, plan.checks, plan.ladders,
                                                           plan.failed_requires, strict=True):
            passed: list[tuple[int, tuple[CheckOutcome, ...]]] = []
            title_id = title.id
            ballot = ballots.get(title_id)
            for i, (_, unit_id, env, context, unit) in enumerate(units):
                if holds:
                    stop = held_back(unit_id, title_id)
                    if stop is not None:
                        outcomes[i].append(_title_outcome(title_id, stop.check, (stop,), None, None, None, None))
                        continue
                if failed_requires is not None:
                    # The title's first check is the built-in ``requires``, whose result depends
                    # on the titles won and pending alone: a failure seen before is the outcome.
                    known = (won[i], pending[i])
                    outcome = failed_requires.get(known)
                    if outcome is not None:
                        outcomes[i].append(outcome)
                        continue
                view = _title_view(unit_id, title_id, env, won[i], pending[i], ballot, context, unit)
                results = []
                ok = True
                for check, name, plugin, trusted in checks:
                    if trusted:
                        # A built-in check: its result has the contract's shape and a fresh dict.
                        try:
                            ok, reason, seen = check.run(view)
                        except (EvaluationError, PluginError):
                            raise
                        except ExpressionRuntimeError as exc:
                            raise _check_error(policy, title, check, view, exc) from None
                        except Exception as exc:
                            raise _check_error(policy, title, check, view, exc) from exc
                        seen = MappingProxyType(seen)
                    else:
                        ok, reason, seen = _run_check(policy, title, check, view)
                        seen = MappingProxyType(dict(seen))
                    results.append(_check_outcome(name, plugin, ok, reason, seen))
                    if not ok:
                        break
                checked = tuple(results)
                if ok:
                    passed.append((i, checked))
                    continue
                first = checked[0].check
                outcome = _title_outcome(title_id, first if first in ("excluded", "deferred") else "failed",
                                         checked, None, None, None, None)
                if failed_requires is not None and len(checked) == 1:
                    # ``requires`` itself failed: its reason and ``seen`` (a title id) are the
                    # same for every unit with these titles won and pending; share the outcome.
                    if len(failed_requires) >= 1024:
                        failed_requires.clear()
                    failed_requires[known] = outcome
                outcomes[i].append(outcome)
            # Who won: every unit that passed when there is no quota or it is not filled, else
            # the quota filled in rank order (``_apply_quota``).
            decided = None
            limit = raw = None
            if title.quota is not None:
                limit, raw = plan.quota_limit(title.quota, size)
                if len(passed) > limit:
                    decided = _apply_quota(title, size, [units[i][0] for i, _ in passed], council,
                                           second_round.get(title_id))
            for position, (i, checked) in enumerate(passed, start=1):
                if decided is None:
                    status, runoff_yes = "won", None
                else:
                    status, _, _, _, runoff_yes = decided[units[i][1]]
                if status == "won":
                    won[i] = won[i] | {title_id}
                    if ladder:
                        # proposed or held: known once every title of the ladder is decided
                        ladder_wins.setdefault(i, []).append(
                            (len(outcomes[i]), ladder, (title_id, checked, limit, raw, position, runoff_yes)))
                        outcomes[i].append(None)
                        continue
                    status = "proposed"
                elif status == "undecided":
                    pending[i] = pending[i] | {title_id}
                outcomes[i].append(_title_outcome(title_id, status, checked, limit, raw, position, runoff_yes))
    # On a ladder only the highest title won (the last declared) is proposed; lower ones are held.
    for i, wins in ladder_wins.items():
        highest = {ladder: index for index, ladder, _ in wins}
        items = outcomes[i]
        for index, ladder, (title_id, checked, limit, raw, position, runoff_yes) in wins:
            status = "proposed" if highest[ladder] == index else "held"
            items[index] = _title_outcome(title_id, status, checked, limit, raw, position, runoff_yes)
    return {units[i][1]: outcomes[i] for i in range(size)}, council


_NONE: frozenset[str] = frozenset()
_title_view = fast_init(TitleView)
_check_outcome = fast_init(CheckOutcome)
_title_outcome = fast_init(TitleOutcome)


class _Plan:
    """Per policy, once: each title's checks with whether they are built in, and the ladders."""

    def __init__(self, policy: Policy) -> None:
        self.policy = policy
        self.checks = tuple(
            tuple((check, check.name, check.plugin, check.plugin in _BUILTIN) for check in title.checks)
            for title in policy.titles)
        self.ladders = tuple(t.ladder for t in policy.titles)
        #: per title whose first check is the built-in ``requires``: (titles won, titles pending)
        #: → the shared outcome of a unit failing it (else None). Filled as units fail it.
        self.failed_requires: tuple[dict[tuple[frozenset[str], frozenset[str]], TitleOutcome] | None, ...] = tuple(
            {} if checks and checks[0][3] and checks[0][1] == "requires" else None for checks in self.checks)
        self._limits: dict[tuple[Quota, int], tuple[int, Decimal]] = {}
        ladders = list(dict.fromkeys(t.ladder for t in policy.titles if t.ladder))
        #: ``proposed_titles`` order: ladder titles by ladder (first appearance), then the others.
        self.proposal_order = tuple(
            [t.id for ladder in ladders for t in policy.titles if t.ladder == ladder]
            + [t.id for t in policy.titles if not t.ladder])

    def quota_limit(self, quota: Quota, size: int) -> tuple[int, Decimal]:
        """:func:`quota_limit`, remembered per quota and cluster size."""
        key = (quota, size)
        hit = self._limits.get(key)
        if hit is None:
            if len(self._limits) > 4096:
                self._limits.clear()
            hit = self._limits[key] = quota_limit(quota, size)
        return hit


_BUILTIN = frozenset({"thidua_rules.builtin.titles"})
def _plan(policy: Policy) -> _Plan:
    return plan_for("awards", policy, _Plan)


def _check_error(policy: Policy, title: Title, check: Any, view: TitleView, exc: Exception) -> ThiduaError:
    """What :func:`_run_check` turns an exception raised by a check into."""
    if isinstance(exc, ExpressionRuntimeError):
        return EvaluationError(f"{exc.message}\n    | {exc.source}\n    | {' ' * exc.start}"
                               f"{'^' * max(1, exc.end - exc.start)}", unit=view.unit,
                               where=f"{policy.file}: title '{title.id}' check '{check.name}'")
    return PluginError(f"title check '{check.name}' raised {type(exc).__name__}: {exc} "
                       f"(title '{title.id}', unit '{view.unit}')", plugin=check.plugin)


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


def _apply_quota(title: Title, size: int, passed: list[Placed], council: list[CouncilItem],
                 runoff: Ballot | None = None) -> dict[str, tuple[str, int | None, Decimal | None, int | None, int | None]]:
    """Fill the quota in rank order; units sharing a rank across the cut are left undecided,
    unless a round-2 ballot separates them (most yes-votes first, at most two rounds)."""
    if title.quota is None:
        return {p.score.unit.id: ("won", None, None, i + 1, None) for i, p in enumerate(passed)}
    limit, raw = quota_limit(title.quota, size)
    decided = {}
    if len(passed) <= limit:
        return {p.score.unit.id: ("won", limit, raw, i + 1, None) for i, p in enumerate(passed)}
    cut_rank = passed[limit].rank
    straddles = limit > 0 and passed[limit - 1].rank == cut_rank
    tied = [p for p in passed if straddles and p.rank == cut_rank]
    free = limit - sum(1 for p in passed[:limit] if p.rank < cut_rank)
    runoff_winners: set[str] = set()
    votes: dict[str, int] = {}
    if tied and runoff is not None:
        votes = {p.score.unit.id: runoff.yes.get(p.score.unit.id, 0) + runoff.written.get(p.score.unit.id, 0)
                 for p in tied}
        ordered = sorted(votes.values(), reverse=True)
        # The runoff decides only where it separates the units at the new cut.
        if len(ordered) <= free or ordered[free - 1] > ordered[free]:
            runoff_winners = {u for u, v in votes.items() if v >= ordered[free - 1]} if free else set()
            tied = []
        else:
            tied = [p for p in tied if votes[p.score.unit.id] == ordered[free - 1]] if free else tied
            runoff_winners = {u for u, v in votes.items() if free and v > ordered[free - 1]}
    tied_ids = {p.score.unit.id for p in tied}
    for i, p in enumerate(passed):
        unit_id = p.score.unit.id
        if unit_id in tied_ids:
            status = "undecided"
        elif unit_id in runoff_winners or (p.rank < cut_rank and i < limit) or (not straddles and i < limit):
            status = "won"
        else:
            status = "over_quota"
        decided[unit_id] = (status, limit, raw, i + 1, votes.get(unit_id))
    if tied_ids:
        left = free - len(runoff_winners)
        council.append(CouncilItem(
            title=title.id, units=tuple(p.score.unit.id for p in tied),
            reason=f"{len(tied)} units share rank {cut_rank} across the quota of {limit}; "
                   f"{left} place(s) left for them" + (" after the round-2 ballot" if runoff else ""),
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
    proposed = {o.title for o in outcomes if o.status == "proposed"}
    if not proposed:
        return ()
    return tuple(t for t in _plan(policy).proposal_order if t in proposed)
