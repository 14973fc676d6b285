"""`thidua whatif`: for one unit, the smallest single change that flips each decision it missed.

The targets are every title the unit is not proposed for (and does not hold), the next rank up
and the next band up. For each, three kinds of answer:

* **points needed** (rank and band targets): the score gap, per criterion, bonus and deduction
  item, exact Decimal arithmetic on the unit's own scores (group caps, the bonus and deduction
  caps and ``total_max`` taken into account);
* **votes**: the yes-votes a title's ballot needs for the unit (ND98 Art. 30 k7: the share is of
  every council member), tried by re-evaluating the cluster with that ballot;
* **input changes**: one input at a time (integers by 1, decimals by the policy's precision,
  every other enum value, a boolean flipped), the smallest change within the input's bounds and
  the policy's checks, found by a scan of the first steps, then doubling and bisection.

Every change printed comes from an actual re-evaluation of the unit's cluster with that change
(the same :func:`~thidua_rules.engine.evaluate_cluster` as ``evaluate``); the number of
evaluations is bounded, and a search cut by the bound says so.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Mapping
from decimal import Decimal
from fractions import Fraction
from typing import Any

import attrs

from .builtin.titles import VotesCheck, share_text
from .decimals import LARGEST, engine_context, quantum
from .engine import ClusterResult, Result, UnitResult, evaluate_cluster
from .errors import ExpressionRuntimeError, ThiduaError
from .model import Ballot, Cluster, Dataset, InputField, Policy, Unit, Value, frozen_mapping

#: Statuses that count as having the title.
WON = ("proposed", "held")
#: Evaluations of the cluster one run may make, unless told otherwise.
DEFAULT_BUDGET = 2000
#: The first steps of a numeric input tried one by one (so a change this small is the smallest);
#: beyond them the step doubles, and a flip found there is bisected.
SCAN = 8
#: The span searched on a side where an input has no bound: 10 × its value, at least 100.
UNBOUNDED_FACTOR = 10
UNBOUNDED_MIN = Decimal(100)


@attrs.frozen(kw_only=True)
class Effect:
    """What one change did: a score, the total, the band, the rank or a title's status."""

    what: str            # criterion.<id> | bonus.<id> | deduction.<id> | total | band | rank | title.<id>
    before: str
    after: str


@attrs.frozen(kw_only=True)
class Change:
    """One verified change: an input's value, or a unit's yes-votes on a title's ballot."""

    kind: str                 # input | votes
    name: str                 # the input's id, or the title whose ballot changes
    before: str
    after: str
    #: ``scan``: no smaller change of this input in this direction flips it (every step tried);
    #: ``bisect``: found by doubling and bisection: the change one step smaller was evaluated
    #: and does not flip it; ``value``: an enum or boolean value; ``exact``: a vote count.
    found_by: str
    effects: tuple[Effect, ...]


@attrs.frozen(kw_only=True)
class Points:
    """Points needed on one criterion or adjustment item to close a score gap, or why not."""

    kind: str                 # criterion | bonus | deduction
    id: str
    needed: Decimal | None    # None: not reachable on this item alone
    room: Decimal | None      # the most this item can still add to the total (None: no limit)
    reason: str
    reads: tuple[str, ...] = ()   # the inputs the item reads: the ones a change would be made to


@attrs.frozen(kw_only=True)
class Target:
    """One decision the unit missed, and what would flip it."""

    kind: str                 # title | rank | band
    id: str                   # title id, band id, or the rank wanted ("2")
    name: str                 # the title's or band's name ("" for a rank)
    now: str                  # the current state (status, rank, band)
    why: str                  # why it is not reached now
    goal: str                 # what flipping means
    gap: Decimal | None = None          # score gap (rank, band)
    points: tuple[Points, ...] = ()
    votes: str = ""           # what the ballot needs, as a sentence ("" when no vote is involved)
    changes: tuple[Change, ...] = ()
    unreachable: str = ""     # why no single change flips it ("" when some change does)
    cut: bool = False         # the evaluation budget ran out before every input was tried


@attrs.frozen(kw_only=True)
class WhatIf:
    """Every decision one unit missed, with what would flip each, and the search's work."""

    policy: str
    policy_sha256: str
    data_sha256: str
    unit: str
    name: str
    cluster: str
    rank: int
    tied: bool
    total: Decimal
    band: str | None
    proposed: tuple[str, ...]
    precision: int
    targets: tuple[Target, ...]
    evaluations: int
    budget: int
    cut: bool


class _Budget(Exception):
    """The evaluation budget is spent."""


class _Nothing(Exception):
    """No target is left to search."""


# ---------------------------------------------------------------- evaluating one change


class _Evaluator:
    """Evaluates the unit's cluster with one change, remembering each outcome by the change."""

    def __init__(self, policy: Policy, cluster: Cluster, unit: Unit, budget: int) -> None:
        self.policy, self.cluster, self.unit, self.budget = policy, cluster, unit, budget
        self.count = 0
        self.memo: dict[tuple[Any, ...], UnitResult | None] = {}

    def with_value(self, field: str, value: Value) -> UnitResult | None:
        """The unit's result with ``field`` set to ``value`` (None: the engine refused it)."""
        key = ("input", field, value)
        if key not in self.memo:
            values = dict(self.unit.values)
            values[field] = value
            unit = attrs.evolve(self.unit, values=frozen_mapping(values))
            units = tuple(unit if u.id == unit.id else u for u in self.cluster.units)
            self.memo[key] = self._run(attrs.evolve(self.cluster, units=units))
        return self.memo[key]

    def with_ballot(self, ballot: Ballot, replaced: Ballot) -> UnitResult | None:
        key = ("ballot", ballot.title, ballot.round, tuple(ballot.yes.items()))
        if key not in self.memo:
            ballots = tuple(ballot if b is replaced else b for b in self.cluster.ballots)
            self.memo[key] = self._run(attrs.evolve(self.cluster, ballots=ballots))
        return self.memo[key]

    def _run(self, cluster: Cluster) -> UnitResult | None:
        if self.count >= self.budget:
            raise _Budget
        self.count += 1
        try:
            with engine_context():
                result = evaluate_cluster(self.policy, cluster)
        except ThiduaError:  # a rule cannot be evaluated on this value (a division by zero…)
            return None
        return next(u for u in result.units if u.id == self.unit.id)


# ---------------------------------------------------------------- targets


def _status(result: UnitResult, title: str) -> str:
    return next(t.status for t in result.titles if t.title == title)


def _band_index(policy: Policy, band: str | None) -> int:
    ids = [b.id for b in policy.bands]
    return ids.index(band) if band in ids else len(ids)


def _predicate(policy: Policy, kind: str, wanted: str, base: UnitResult) -> Callable[[UnitResult], bool]:
    if kind == "title":
        return lambda r: _status(r, wanted) in WON
    if kind == "rank":
        return lambda r: r.rank < base.rank
    goal = _band_index(policy, wanted)
    return lambda r: _band_index(policy, r.band) <= goal


# ---------------------------------------------------------------- the search over one input


def _field_values(policy: Policy, field: InputField, value: Value) -> Iterator[tuple[str, list[Value]]]:
    """Per direction (``up``, ``down``, ``values``), the candidate values of ``field`` in the
    order the search probes them."""
    if field.type == "boolean":
        yield "values", [not value]
        return
    if field.type == "enum":
        yield "values", [v for v in field.values if v != value]
        return
    assert isinstance(value, Decimal)
    step = Decimal(1) if field.type == "integer" else quantum(policy.precision)
    span = max(abs(value) * UNBOUNDED_FACTOR, UNBOUNDED_MIN)
    for direction, sign, bound in (("up", 1, field.max), ("down", -1, field.min)):
        if bound is None:
            room = min(span, LARGEST - value * sign)  # within the bounds of every number read
        else:
            room = (bound - value) * sign
        if room <= 0:
            continue
        most = int(room // step)
        steps = list(range(1, min(SCAN, most) + 1))
        k = SCAN * 2
        while k < most:
            steps.append(k)
            k *= 2
        if most > SCAN:
            steps.append(most)
        yield direction, [value + sign * step * k for k in steps]


def _checks_hold(policy: Policy, values: Mapping[str, Value], year: int) -> bool:
    """Whether the policy's cross-field checks (``[[checks]]``) hold for these values, as the data
    loader requires of every unit: a change that breaks one is not a change the data could hold."""
    if not policy.checks:
        return True
    env = {**values, "year": Decimal(year)}
    for check in policy.checks:
        if not check.rule.names <= env.keys():
            continue
        try:
            with engine_context():
                if not check.rule.evaluate(env):
                    return False
        except ExpressionRuntimeError:
            return False
    return True


def _search_input(ev: _Evaluator, field: InputField, targets: list[_Open]) -> None:
    """Try the values of one input for every open target: for each, the smallest change per
    direction (numbers), or every value that flips it (enums, booleans)."""
    value = ev.unit.values[field.id]
    year = ev.cluster.year
    for direction, candidates in _field_values(ev.policy, field, value):
        valid = _valid_prefix(ev, field, candidates, year)
        if direction == "values":
            for candidate in valid:
                result = ev.with_value(field.id, candidate)
                for target in targets:
                    if result is not None and target.holds(result):
                        target.add(field.id, value, candidate, "value", result)
            continue
        waiting = list(targets)
        previous: Value | None = None
        for index, candidate in enumerate(valid):
            if not waiting:
                break
            result = ev.with_value(field.id, candidate)
            for target in list(waiting):
                if result is None or not target.holds(result):
                    continue
                waiting.remove(target)
                if index < SCAN or previous is None:
                    target.add(field.id, value, candidate, "scan", result)
                else:
                    _bisect(ev, field, target, value, previous, candidate, result)
            previous = candidate


def _valid_prefix(ev: _Evaluator, field: InputField, candidates: list[Value], year: int) -> list[Value]:
    """The candidates up to the first one the policy's checks refuse; for a numeric input that
    boundary is bisected (checks are cheap: no evaluation), so the last valid value is tried."""
    def ok(candidate: Value) -> bool:
        return _checks_hold(ev.policy, {**ev.unit.values, field.id: candidate}, year)

    if field.type in ("boolean", "enum"):
        return [c for c in candidates if ok(c)]
    for index, candidate in enumerate(candidates):
        if ok(candidate):
            continue
        if index == 0:
            return []
        good, bad = candidates[index - 1], candidate
        assert isinstance(good, Decimal) and isinstance(bad, Decimal)
        step = Decimal(1) if field.type == "integer" else quantum(ev.policy.precision)
        while abs(bad - good) > step:
            middle = good + ((bad - good) / step // 2) * step
            if ok(middle):
                good = middle
            else:
                bad = middle
        kept = candidates[:index]
        if good != kept[-1]:
            kept.append(good)
        return kept
    return candidates


def _bisect(ev: _Evaluator, field: InputField, target: _Open, value: Value, fails: Value, flips: Value,
            flipped: UnitResult) -> None:
    """Between a value that does not flip the target and one that does, the first that does;
    the value one step before it is evaluated too (it does not flip it)."""
    assert isinstance(fails, Decimal) and isinstance(flips, Decimal)
    step = Decimal(1) if field.type == "integer" else quantum(ev.policy.precision)
    while abs(flips - fails) > step:
        middle = fails + ((flips - fails) / step // 2) * step
        result = ev.with_value(field.id, middle)
        if result is not None and target.holds(result):
            flips, flipped = middle, result
        else:
            fails = middle
    target.add(field.id, value, flips, "bisect", flipped)


@attrs.define
class _Open:
    """A target being searched: its predicate and the changes found so far."""

    kind: str
    id: str
    holds: Callable[[UnitResult], bool]
    base: UnitResult
    policy: Policy
    changes: list[Change] = attrs.Factory(list)

    def add(self, name: str, before: Value, after: Value, found_by: str, result: UnitResult,
            kind: str = "input") -> None:
        self.changes.append(Change(kind=kind, name=name, before=_text(before), after=_text(after),
                                   found_by=found_by, effects=_effects(self, result)))


def _shown(places: int) -> Callable[[Decimal | None], str]:
    """Numbers of scores as the outputs print them: fixed point at the policy's precision."""
    q = quantum(places)

    def show(value: Decimal | None) -> str:
        return "-" if value is None else f"{value.quantize(q):f}"

    return show


def _seen_value(value: Any) -> str:
    """A value a check saw, as ``explain`` shows it (a list as ``[a, b]``)."""
    if isinstance(value, list | tuple | frozenset):
        return "[" + ", ".join(_seen_value(v) for v in value) + "]"
    return _text(value)


def _text(value: Value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Decimal):
        return f"{value:f}"
    return str(value)


def _effects(target: _Open, after: UnitResult) -> tuple[Effect, ...]:
    """The scores, total, band, rank and title status that differ after the change."""
    before, places = target.base, target.policy.precision
    q = quantum(places)
    out: list[Effect] = []

    def number(value: Decimal) -> str:
        return f"{value.quantize(q):f}"

    # (kind, id, score before, score after): a criterion row holds its score at 2, an item's at 3.
    scores: list[tuple[str, str, Decimal, Decimal]] = [
        ("criterion", old[0], old[2], new[2])
        for old, new in zip(before.score.criterion_rows, after.score.criterion_rows, strict=True)]
    for kind, old_rows, new_rows in (("bonus", before.score.bonus_rows, after.score.bonus_rows),
                                     ("deduction", before.score.deduction_rows, after.score.deduction_rows)):
        scores += [(kind, old[0], old[3], new[3]) for old, new in zip(old_rows, new_rows, strict=True)]
    for kind, item, old_score, new_score in scores:
        if old_score != new_score:
            out.append(Effect(what=f"{kind}.{item}", before=number(old_score), after=number(new_score)))
    if before.total != after.total:
        out.append(Effect(what="total", before=number(before.total), after=number(after.total)))
    if before.band != after.band:
        out.append(Effect(what="band", before=before.band or "-", after=after.band or "-"))
    if before.rank != after.rank:
        out.append(Effect(what="rank", before=str(before.rank), after=str(after.rank)))
    if target.kind == "title":
        out.append(Effect(what=f"title.{target.id}", before=_status(before, target.id),
                          after=_status(after, target.id)))
    return tuple(out)


# ---------------------------------------------------------------- points needed (score gap)


def _points(policy: Policy, result: UnitResult, gap: Decimal) -> tuple[Points, ...]:
    """Per criterion, bonus and deduction item: the points it must add to the total (a deduction:
    the points it must lose) to close ``gap``, or why it cannot alone. Exact arithmetic on the
    unit's scores: group caps, ``bonus_max``, ``deduction_max`` and ``total_max`` apply."""
    score = result.score
    n = _shown(policy.precision)
    groups = {g.id: g.max for g in policy.groups}
    sums = {row[0]: row[1] for row in score.group_rows}
    total_room = None if policy.total_max is None else max(policy.total_max - score.total_raw, Decimal(0))
    out: list[Points] = []
    for criterion, row in zip(policy.criteria, score.criterion_rows, strict=True):
        left = criterion.points - row[2]
        room: Decimal | None = left
        limit = ""
        group_max = groups.get(criterion.group)
        if group_max is not None:
            group_left = max(group_max - sums[criterion.group], Decimal(0))
            if group_left < left:
                room, limit = group_left, f"group {criterion.group} has {n(group_left)} left of its max {n(group_max)}"
        if left <= 0:
            out.append(Points(kind="criterion", id=criterion.id, needed=None, room=Decimal(0),
                              reason=f"already at its maximum ({row[2]:f} of {n(criterion.points)})"))
            continue
        out.append(_item("criterion", criterion.id, gap, room, limit or f"{n(left)} left of {n(criterion.points)}",
                         total_room, policy))
    bonus_room = None if policy.bonus_max is None else max(policy.bonus_max - score.bonus_sum, Decimal(0))
    for item, item_row in zip(policy.bonuses, score.bonus_rows, strict=True):
        if not item_row[1]:
            out.append(Points(kind="bonus", id=item.id, needed=None, room=Decimal(0),
                              reason="its condition (when) is false"))
            continue
        item_left = None if item.max is None else item.max - item_row[3]
        room = item_left
        limit = "no maximum" if item_left is None else f"{n(item_left)} left of {n(item.max)}"
        if bonus_room is not None and (room is None or bonus_room < room):
            room, limit = bonus_room, f"the bonuses have {n(bonus_room)} left of bonus_max {n(policy.bonus_max)}"
        if room is not None and room <= 0:
            out.append(Points(kind="bonus", id=item.id, needed=None, room=Decimal(0), reason=f"no room: {limit}"))
            continue
        out.append(_item("bonus", item.id, gap, room, limit, total_room, policy))
    excess = Decimal(0) if policy.deduction_max is None else max(score.deduction_sum - policy.deduction_max, Decimal(0))
    for item, item_row in zip(policy.deductions, score.deduction_rows, strict=True):
        taken = item_row[3]
        if not taken:
            out.append(Points(kind="deduction", id=item.id, needed=None, room=Decimal(0), reason="deducts nothing now"))
            continue
        # Lowering this item by y lowers the applied deduction by y minus what the cap hid.
        gain = max(taken - excess, Decimal(0))
        needed = gap + excess
        if needed <= taken and (total_room is None or gap <= total_room):
            out.append(Points(kind="deduction", id=item.id, needed=needed, room=gain,
                              reason=f"{n(taken)} deducted now" + (
                                  f"; {n(excess)} of the sum is above deduction_max" if excess else "")))
        else:
            out.append(Points(kind="deduction", id=item.id, needed=None, room=gain,
                              reason=f"removing all of it gives back {n(gain)}, {n(gap)} needed"))
    inputs = {f.id for f in policy.inputs}
    reads = {("criterion", c.id): c.reads for c in policy.criteria}
    reads.update({(a.kind, a.id): tuple(sorted(a.reads)) for a in (*policy.bonuses, *policy.deductions)})
    return tuple(attrs.evolve(p, reads=tuple(r for r in reads[(p.kind, p.id)] if r in inputs)) for p in out)


def _item(kind: str, item_id: str, gap: Decimal, room: Decimal | None, limit: str, total_room: Decimal | None,
          policy: Policy) -> Points:
    n = _shown(policy.precision)
    if total_room is not None and (room is None or total_room < room):
        room, limit = total_room, f"the total has {n(total_room)} left of total_max {n(policy.total_max)}"
    if room is None or gap <= room:
        return Points(kind=kind, id=item_id, needed=gap, room=room, reason=limit)
    return Points(kind=kind, id=item_id, needed=None, room=room, reason=f"at most +{n(room)} ({limit}), {n(gap)} needed")


# ---------------------------------------------------------------- votes


def _vote_candidates(ev: _Evaluator, policy: Policy) -> list[tuple[str, Ballot, Ballot, int, int]]:
    """Per title with a ``votes`` check and a recorded first-round ballot on which the unit is
    below the threshold: (title, ballot, ballot with just enough yes-votes, yes, needed)."""
    out = []
    unit = ev.unit.id
    for title in policy.titles:
        check = next((c.run for c in title.checks if isinstance(c.run, VotesCheck)), None)
        ballot = next((b for b in ev.cluster.ballots if b.title == title.id and b.round == 1), None)
        if check is None or ballot is None or check.quorum_problem(ballot) is not None:
            continue
        written = ballot.written.get(unit, 0)
        yes = ballot.yes.get(unit, 0) + written
        needed = math.ceil(check.share * ballot.voters)  # ND98 Art. 30 k7: of all the members
        in_room = ballot.voters if ballot.present is None else ballot.present
        if yes >= needed or needed - written > in_room:
            continue
        changed = attrs.evolve(ballot, yes=frozen_mapping({**ballot.yes, unit: needed - written}))
        out.append((title.id, ballot, changed, yes, needed))
    return out


def _votes_text(ev: _Evaluator, policy: Policy, title_id: str) -> str:
    """The title's own ballot: what it needs of this unit, or why no vote count can do it."""
    title = next(t for t in policy.titles if t.id == title_id)
    check = next((c.run for c in title.checks if isinstance(c.run, VotesCheck)), None)
    if check is None:
        return ""
    ballot = next((b for b in ev.cluster.ballots if b.title == title_id and b.round == 1), None)
    if ballot is None:
        return "no ballot recorded: the council has not voted on this title"
    problem = check.quorum_problem(ballot)
    if problem is not None:
        return f"the ballot cannot count: {problem}"
    unit = ev.unit.id
    written = ballot.written.get(unit, 0)
    yes = ballot.yes.get(unit, 0) + written
    threshold = check.share * ballot.voters
    needed = math.ceil(threshold)
    shown = f"yes >= {check.share_shown} × {ballot.voters} = {share_text(Fraction(threshold))}"
    if yes >= needed:
        return f"the ballot passes: {yes} yes of {ballot.voters} ({shown})"
    in_room = ballot.voters if ballot.present is None else ballot.present
    if needed - written > in_room:
        return (f"{needed} yes-votes needed ({shown}), more than the {in_room} members who could vote "
                f"in the room plus {written} written: not reachable with this ballot")
    return f"{needed} yes-votes needed ({shown}); has {yes}: {needed - yes} more"


# ---------------------------------------------------------------- why a target is missed


def _why_title(result: UnitResult, title_id: str) -> tuple[str, str]:
    """(why the unit does not have the title now, and when no change can give it this year,
    the reason; else "")."""
    outcome = next(t for t in result.titles if t.title == title_id)
    failed = next((c for c in outcome.checks if not c.passed), None)
    if outcome.status == "excluded":
        assert failed is not None
        return failed.reason, f"discipline: {failed.reason}; the unit takes no title this year"
    if outcome.status == "deferred":
        assert failed is not None
        return f"deferred: {failed.reason}", "deferred: the decision waits (the council's list)"
    if outcome.status == "over_quota":
        return (f"quota full: place {outcome.place} of limit {outcome.quota_limit}, the places taken by "
                "better-ranked units", "")
    if outcome.status == "undecided":
        return (f"tied with another unit across the quota cut (limit {outcome.quota_limit}): "
                "the council decides", "")
    if outcome.status == "awaiting_vote":
        return "awaiting the council's vote: no ballot recorded", ""
    if failed is None:
        return outcome.status, ""
    seen = ", ".join(f"{k} = {_seen_value(v)}" for k, v in failed.seen.items())
    return f"{failed.check}: {failed.reason}" + (f" [{seen}]" if seen else ""), ""


def _unreachable_reason(result: UnitResult, title_id: str, now: str) -> str:
    """Why no single change flips a title, read from the check that fails."""
    outcome = next(t for t in result.titles if t.title == title_id)
    failed = next((c for c in outcome.checks if not c.passed), None)
    if outcome.status == "over_quota":
        return f"the quota is full (limit {outcome.quota_limit}) and no single change puts the unit in it"
    if outcome.status == "undecided":
        return "a tie across the quota cut: the council decides (a round-2 ballot)"
    if outcome.status == "awaiting_vote":
        return "the council has not voted yet (no ballot recorded)"
    if failed is None:
        return f"no single change flips it ({now})"
    if failed.check == "requires":
        return f"a prerequisite title is not won: {failed.reason}, and no single change gives both"
    if failed.check == "when" and any("(" in k for k in failed.seen):
        calls = ", ".join(f"{k} = {_seen_value(v)}" for k, v in failed.seen.items() if "(" in k)
        return f"it depends on the unit's history ({calls}): earlier years cannot be changed"
    if failed.check == "votes":
        return f"the vote fails ({failed.reason}) and no single change is enough"
    return f"no single change within the inputs' bounds makes it pass ({failed.check}: {failed.reason})"


# ---------------------------------------------------------------- the whole run


def find_cluster(data: Dataset, unit_id: str) -> tuple[Cluster, Unit]:
    for cluster in data.clusters:
        for unit in cluster.units:
            if unit.id == unit_id:
                return cluster, unit
    raise KeyError(unit_id)


def what_if(policy: Policy, data: Dataset, result: Result, unit_id: str, *, budget: int = DEFAULT_BUDGET) -> WhatIf:
    """For ``unit_id`` (as :func:`~thidua_rules.report.explain.find_unit` gives it), every decision
    it missed and the smallest single change that flips each (see the module's docstring)."""
    with engine_context():  # the search's own arithmetic too: never the host's decimal context
        return _what_if(policy, data, result, unit_id, budget)


def _what_if(policy: Policy, data: Dataset, result: Result, unit_id: str, budget: int) -> WhatIf:
    cluster, unit = find_cluster(data, unit_id)
    cluster_result = next(c for c in result.clusters if c.id == cluster.id)
    base = next(u for u in cluster_result.units if u.id == unit_id)
    ev = _Evaluator(policy, cluster, unit, budget)
    opens: list[_Open] = []
    shells: list[dict[str, Any]] = []
    for title in policy.titles:
        status = _status(base, title.id)
        if status in WON:
            continue
        why, blocked = _why_title(base, title.id)
        shell: dict[str, Any] = {"kind": "title", "id": title.id, "name": title.name, "now": status, "why": why,
                 "goal": f"the unit is proposed for '{title.id}' (or holds it)", "unreachable": blocked}
        shell["votes"] = _votes_text(ev, policy, title.id)
        shells.append(shell)
        if not blocked:
            opens.append(_Open("title", title.id, _predicate(policy, "title", title.id, base), base, policy))
        else:
            opens.append(_Open("title", title.id, lambda r: False, base, policy))
    _rank_target(policy, cluster_result, base, shells, opens)
    _band_target(policy, base, shells, opens)
    searchable = [o for o, s in zip(opens, shells, strict=True) if not s["unreachable"]]
    cut_at: int | None = None
    try:
        if not searchable:
            raise _Nothing
        for title_id, ballot, changed, yes, needed in _vote_candidates(ev, policy):
            flipped = ev.with_ballot(changed, ballot)
            for target in searchable:
                if flipped is not None and target.holds(flipped):
                    target.add(title_id, Decimal(yes), Decimal(needed), "exact", flipped, kind="votes")
        for field in policy.inputs:
            if field.type == "text" or field.plugin or field.members or field.id not in unit.values:
                continue
            _search_input(ev, field, searchable)
    except _Budget:
        cut_at = ev.count
    except _Nothing:
        pass
    targets = []
    for target, shell in zip(opens, shells, strict=True):
        changes = tuple(target.changes)
        unreachable = shell["unreachable"]
        if not unreachable and not changes:
            if target.kind == "title":
                unreachable = _unreachable_reason(base, target.id, shell["now"])
            else:
                unreachable = "no single change within the inputs' bounds reaches it"
            if cut_at is not None:
                unreachable = (f"not found before the search was cut after {cut_at} evaluations (not every "
                               f"change was tried); now: {unreachable}")
        gap: Decimal | None = shell.get("gap")
        points: tuple[Points, ...] = shell.get("points", ())
        targets.append(Target(kind=shell["kind"], id=shell["id"], name=shell.get("name", ""), now=shell["now"], why=shell["why"],
                              goal=shell["goal"], gap=gap, points=points,
                              votes=shell.get("votes", ""), changes=changes, unreachable=unreachable,
                              cut=cut_at is not None and not shell["unreachable"]))
    return WhatIf(policy=policy.id, policy_sha256=policy.sha256, data_sha256=result.data_sha256, unit=unit.id, name=unit.name, cluster=cluster.id, rank=base.rank, tied=base.tied,
                  total=base.total, band=base.band, proposed=base.proposed, precision=policy.precision,
                  targets=tuple(targets), evaluations=ev.count, budget=budget, cut=cut_at is not None)


def _rank_target(policy: Policy, cluster: ClusterResult, base: UnitResult, shells: list[dict[str, Any]],
                 opens: list[_Open]) -> None:
    """The next rank up: a place ahead of the last unit now ranked ahead of this one."""
    if base.rank == 1:
        return
    ahead = [u for u in cluster.units if u.rank < base.rank]
    last = max(ahead, key=lambda u: u.rank)
    nearest = next(u for u in ahead if u.rank == last.rank)  # the first listed of a shared rank
    separation = base.placed.above
    why = f"{nearest.id} is ahead (total {nearest.total:f} against {base.total:f})"
    if separation is not None and separation.key is not None:
        n = _shown(policy.precision)
        why += f"; separated by {separation.key} ({n(separation.this)} vs {n(separation.other)})"
    shell: dict[str, Any] = {"kind": "rank", "id": str(base.rank - 1), "now": str(base.rank), "why": why,
                             "goal": f"rank {base.rank - 1} or better (ahead of or level with {nearest.id})",
                             "unreachable": ""}
    first = policy.ranking[0] if policy.ranking else None
    if first is not None and first.key == "total" and first.descending:
        # Strictly ahead on the total passes the unit whatever the rest of the chain says.
        gap = nearest.total - base.total + quantum(policy.precision)
        shell["gap"] = gap
        shell["points"] = _points(policy, base, gap)
    shells.append(shell)
    opens.append(_Open("rank", shell["id"], _predicate(policy, "rank", shell["id"], base), base, policy))


def _band_target(policy: Policy, base: UnitResult, shells: list[dict[str, Any]], opens: list[_Open]) -> None:
    """The next band up: the band listed just above the unit's (or the lowest, when it has none)."""
    index = _band_index(policy, base.band)
    if index == 0 or not policy.bands:
        return
    band = policy.bands[index - 1]
    gap = band.min - base.total
    n = _shown(policy.precision)
    reasons = []
    if gap > 0:
        reasons.append(f"total {n(base.total)} below its minimum {n(band.min)}")
    skipped = dict(base.score.band_skipped)
    if band.id in skipped:
        reasons.append(f"its condition '{skipped[band.id]}' is false")
    for cap in base.score.band_caps:
        reasons.append(f"capped at {cap.band} by plugin {cap.plugin}: {cap.reason}")
    shell: dict[str, Any] = {"kind": "band", "id": band.id, "name": band.name, "now": base.band or "-",
                             "why": "; ".join(reasons) or f"band {band.id} is not reached",
                             "goal": f"band {band.id} (or higher)", "unreachable": ""}
    if gap > 0:
        shell["gap"] = gap
        shell["points"] = _points(policy, base, gap)
    shells.append(shell)
    opens.append(_Open("band", band.id, _predicate(policy, "band", band.id, base), base, policy))
