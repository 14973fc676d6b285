"""Awards: title checks per unit, quotas per cluster in rank order, ladders, council items."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction
from types import MappingProxyType
from typing import Any

import attrs

from .builtin.titles import NO_BALLOT, RequiresCheck, VotesCheck, WhenCheck, share_text, votes_check
from .decimals import engine_context
from .errors import EvaluationError, ExpressionRuntimeError, PluginError, ThiduaError
from .expressions import EvalContext
from .extensions import TitleView
from .messages import Reason
from .model import Ballot, Cluster, Policy, Quota, Title, TitleCheck
from .plans import plan_for
from .plugins import with_unit
from .ranking import Placed
from .records import fast_init


@attrs.frozen(kw_only=True, weakref_slot=False)  # made per unit: see records.fast_init
class CheckOutcome:
    check: str
    plugin: str
    passed: bool
    reason: str
    seen: Mapping[str, Any]


@attrs.frozen(kw_only=True, weakref_slot=False)  # made per unit: see records.fast_init
class TitleOutcome:
    """What happened to one title for one unit.

    ``status`` is ``proposed`` (the unit is proposed for it), ``held`` (won, but a higher title
    of the same ladder is proposed), ``failed`` (a check failed), ``over_quota`` (passed every
    check but the quota was filled by better-ranked units), ``undecided`` (tied with another
    unit across the quota cut: the council decides), ``awaiting_vote`` (every check before the
    council's vote passed, but no ballot is recorded yet: not a failure), ``excluded`` (a
    discipline period runs this year) or ``deferred`` (the decision waits, with the reason).
    """

    title: str
    status: str
    checks: tuple[CheckOutcome, ...]
    quota_limit: int | None = None
    quota_raw: Decimal | Fraction | None = None  # a Fraction only when its decimal form never ends
    place: int | None = None     # position among the units that passed every check, in rank order
    #                              (after a round-2 ballot, in the order of its votes among the tied)
    runoff_yes: int | None = None  # yes-votes in the round-2 ballot that split a tie at the quota cut


@attrs.frozen(kw_only=True)
class CouncilItem:
    """A decision the engine leaves to the council (hội đồng), with why.

    ``kind`` is ``quota_tie`` (units sharing a rank across a quota cut), ``awaiting_vote`` (units
    that passed every check before a title's vote, for which no ballot is recorded yet) or
    ``deferred`` (a unit whose titles wait; ``title`` then lists the deferred titles, empty for all).
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
                                reason=Reason("discipline_running",
                                              {"level": d.level, "start": d.start, "until": d.until}),
                                seen=MappingProxyType({"level": d.level, "until": d.until}))
        if unit_id in deferred and (not deferred[unit_id].titles or title_id in deferred[unit_id].titles):
            return CheckOutcome(check="deferred", plugin="thidua_rules.awards", passed=False,
                                reason=Reason("deferred", {"text": deferred[unit_id].reason}),
                                seen=MappingProxyType({}))
        return None

    return held_back


def quota_limit(quota: Quota, size: int) -> tuple[int, Decimal | Fraction]:
    """The number of units a quota admits in a cluster of ``size`` units, and the raw figure.

    No national rule fixes the rounding of a share (domain.md §6.3), so the policy states it.
    A fraction share (``"1/3"``) is rounded exactly; its raw figure is a Decimal when the
    product ends (``"1/3"`` of 6 is 2) and the Fraction itself when it does not (7/3).
    """
    if quota.count is not None:
        return quota.count, Decimal(quota.count)
    assert quota.share is not None
    if isinstance(quota.share, Fraction):
        exact = quota.share * size
        if quota.rounding == "ceil":
            limit = math.ceil(exact)
        elif quota.rounding == "half_up":
            limit = math.floor(exact + Fraction(1, 2))  # the figure is >= 0: halves go up
        else:
            limit = math.floor(exact)
        return limit, ended(exact)
    with engine_context():
        raw = quota.share * size
    if quota.rounding == "ceil":
        return math.ceil(raw), raw
    if quota.rounding == "half_up":
        return int(raw.quantize(Decimal(1), rounding=ROUND_HALF_UP)), raw
    return math.floor(raw), raw


def ended(value: Fraction) -> Decimal | Fraction:
    """``value`` as a Decimal when its decimal form ends (its denominator has only the factors
    2 and 5), else the Fraction itself: a figure is never shown cut off."""
    text = share_text(value)
    return value if "/" in text else Decimal(text)


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
    # Per unit, once, in rank order (units are then addressed by their index): its place, id,
    # scores environment, history context, what history functions see of it as a key
    # (``_context_key``) and its data.
    places = list(placed)
    ids = [p.score.unit.id for p in places]
    envs: list[Any] = [p.score.env for p in places]  # dicts: ``titles`` is set below
    contexts = [history[unit_id] for unit_id in ids]
    context_keys = [_context_key(context) for context in contexts]
    size = len(places)
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
                                   reason=Reason("council_deferred", {"text": deferral.reason}), kind="deferred"))
    plan = _plan(policy)
    # What title views show of a unit's scores: read-only, made once per unit when first needed.
    read_only: list[Any] = [None] * size
    # ``titles``: the titles the unit has won this year among those declared above, in policy
    # order, as a person's conditions see theirs (a history function's condition then sees this
    # year's titles too).
    for env in envs:
        env["titles"] = ()
    with engine_context():  # the built-in checks' arithmetic; plugin checks get their own
        for title_plan in plan.titles:
            title, title_id, steps, failures = title_plan.title, title_plan.id, title_plan.steps, title_plan.failures
            passed: list[tuple[int, tuple[CheckOutcome, ...]]] = []
            ballot = ballots.get(title_id)
            awaiting: list[int] = []
            # A failed first step is the whole outcome, and the same for every unit in the same
            # state (for ``requires`` the titles won and pending; for ``when`` the values its
            # remembered outcome is keyed by): looked up before walking the steps.
            failed_first, first_key = title_plan.failed_first, title_plan.first_key
            for i in range(size):
                if holds:
                    assert held_back is not None  # made when holds
                    stop = held_back(ids[i], title_id)
                    if stop is not None:
                        outcomes[i].append(_title_outcome(title_id, stop.check, (stop,), None, None, None, None))
                        continue
                if failed_first is not None:
                    assert first_key is not None  # failed_first is made only with a first_key
                    state = first_key(won[i], pending[i], envs[i], context_keys[i])
                    if state is not None:
                        outcome = failed_first.get(state)
                        if outcome is not None:
                            outcomes[i].append(outcome)
                            continue
                checked: tuple[CheckOutcome, ...] = ()
                # ``shared``: every outcome so far is one remembered by its step for every unit in
                # the same state, so a failure is the same TitleOutcome for all of them too.
                shared = True
                view = None
                for step in steps:
                    kind = step.kind
                    if kind is _REQUIRES:
                        key = (won[i], pending[i])
                        out = step.memo.get(key) or step.remember(key)
                        if out is _PASSES:
                            # a fresh outcome: its ``seen`` holds a list, so it is not shared
                            out = _outcome(step.check, step.passed())
                            shared = False
                    elif kind is _WHEN:
                        out, fresh = _checked(policy, title, step.check, ids[i], step.outcome,
                                              envs[i], contexts[i], context_keys[i])
                        if fresh:
                            shared = False
                    elif kind is _VOTES:
                        if ballot is None:
                            out = step.no_ballot
                        else:
                            shared = False
                            out = _checked(policy, title, step.check, ids[i], step.outcome, ballot, ids[i])
                    else:
                        shared = False
                        if view is None:
                            if read_only[i] is None:
                                read_only[i] = MappingProxyType(envs[i])
                            view = _title_view(ids[i], title_id, read_only[i], won[i], pending[i], ballot,
                                               contexts[i], places[i].score.unit)
                        check = step.check
                        if kind is _TRUSTED:
                            # A built-in check: its result has the contract's shape and a fresh dict.
                            try:
                                passes, reason, seen = check.run(view)
                            except (EvaluationError, PluginError) as exc:
                                raise with_unit(exc, ids[i]) from None
                            except ExpressionRuntimeError as exc:
                                raise _check_error(policy, title, check, ids[i], exc) from None
                            except Exception as exc:
                                raise _check_error(policy, title, check, ids[i], exc) from exc
                            seen = MappingProxyType(seen)
                        else:
                            passes, reason, seen = _run_check(policy, title, check, view)
                            seen = MappingProxyType(dict(seen))
                        out = _check_outcome(step.name, step.plugin, passes, reason, seen)
                    checked += (out,)
                    if not out.passed:
                        break
                else:
                    passed.append((i, checked))
                    continue
                if ballot is None and _no_ballot(out):
                    # ND98 Art. 30 k7: the council votes on the title; before it has, the title
                    # awaits the vote (it has not failed), and a title requiring it waits too.
                    awaiting.append(i)
                    pending[i] = pending[i] | {title_id}
                if shared:
                    # Keyed by the outcomes' identities: the TitleOutcome holds them, so no key
                    # outlives the objects it names.
                    ids_key = id(out) if len(checked) == 1 else tuple(map(id, checked))
                    outcome = failures.get(ids_key)
                    if outcome is None:
                        if len(failures) >= _MEMO_LIMIT:
                            failures.clear()
                        outcome = failures[ids_key] = _failed(title_id, checked)
                    if failed_first is not None and state is not None and len(checked) == 1:
                        if len(failed_first) >= _MEMO_LIMIT:  # (the first step failed)
                            failed_first.clear()
                        failed_first[state] = outcome
                else:
                    outcome = _failed(title_id, checked)
                outcomes[i].append(outcome)
            if awaiting:
                council.append(CouncilItem(title=title_id, units=tuple(ids[i] for i in awaiting),
                                           reason=Reason("council_awaiting_vote"),
                                           kind="awaiting_vote"))
            # Who won: every unit that passed when there is no quota or it is not filled, else
            # the quota filled in rank order (``_apply_quota``).
            decided = None
            limit = raw = None
            if title.quota is not None:
                limit, raw = plan.quota_limit(title.quota, size)
                if len(passed) > limit:
                    decided = _apply_quota(title, size, [places[i] for i, _ in passed], council,
                                           second_round.get(title_id))
            ladder = title.ladder
            for position, (i, checked) in enumerate(passed, start=1):
                if decided is None:
                    status, runoff_yes = "won", None
                else:
                    status, _, _, true_place, runoff_yes = decided[ids[i]]
                    position = true_place if true_place is not None else position
                if status == "won":
                    won[i] = won[i] | {title_id}
                    envs[i]["titles"] = envs[i]["titles"] + (title_id,)
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
    return dict(zip(ids, outcomes, strict=True)), council


_NONE: frozenset[str] = frozenset()
_title_view = fast_init(TitleView)
_check_outcome = fast_init(CheckOutcome)
_title_outcome = fast_init(TitleOutcome)


def _failed(title_id: str, checked: tuple[CheckOutcome, ...]) -> TitleOutcome:
    first = checked[0].check
    status = first if first in ("excluded", "deferred") else "awaiting_vote" if _no_ballot(checked[-1]) else "failed"
    return _title_outcome(title_id, status, checked, None, None, None, None)


def _no_ballot(out: CheckOutcome) -> bool:
    """Whether ``out`` is the built-in ``votes`` check stopped by a missing ballot."""
    return (out.check == "votes" and out.plugin == _VOTES_PLUGIN and not out.passed
            and getattr(out.reason, "code", None) == NO_BALLOT)


#: Remembered outcomes per step (and failures per title) are forgotten past this many.
_MEMO_LIMIT = 4096
#: Step kinds: the built-in checks run without a view, a built-in check run on a view, a plugin's.
_REQUIRES, _WHEN, _VOTES, _TRUSTED, _PLUGIN = "requires", "when", "votes", "trusted", "plugin"
_MISSING = object()
_NO_KEY = object()
_PASSES = object()


def _outcome(check: TitleCheck, result: tuple[bool, str, Mapping[str, Any]]) -> CheckOutcome:
    passes, reason, seen = result
    return _check_outcome(check.name, check.plugin, passes, reason, MappingProxyType(seen))


def _context_key(context: Any) -> Any:
    """What a history function can see of ``context`` as a hashable value, or ``_NO_KEY``: a unit
    with earlier years (or awards) has a context of its own, shared with no other unit."""
    if context is None:
        return None
    if type(context) is not EvalContext or context.history or context.awarded:
        return _NO_KEY
    return (context.year, context.counts_from)


def _key_function(names: tuple[str, ...]) -> Any:
    """``key(env, head)``: ``head`` and the values of ``names`` (a marker for an absent one), or
    None when a value is neither text nor a boolean: equal numbers can be written differently
    (``0.5``, ``0.50``) and ``seen`` shows them as written, so only values equal exactly when they
    look the same make a key."""
    if len(names) == 1:
        (name,) = names

        def key1(env: Mapping[str, Any], head: Any) -> tuple[Any, ...] | None:
            value = env.get(name, _MISSING)
            if value.__class__ is str or value.__class__ is bool or value is _MISSING:
                return (head, value)
            return None

        return key1

    def key(env: Mapping[str, Any], head: Any) -> tuple[Any, ...] | None:
        values = [head]
        for name in names:
            value = env.get(name, _MISSING)
            if value.__class__ is not str and value.__class__ is not bool and value is not _MISSING:
                return None
            values.append(value)
        return tuple(values)

    return key


class _Requires:
    """The built-in ``requires``: its outcome is a function of the titles won and pending. A
    failure (``seen``: the title id) is shared by the units in the same state; a pass shows the
    required titles as a list, which stays each unit's own (``_PASSES`` is remembered)."""

    kind = _REQUIRES
    __slots__ = ("check", "memo", "passed", "state")

    def __init__(self, check: TitleCheck) -> None:
        run = check.run
        assert isinstance(run, RequiresCheck)  # as _step chose this step
        self.check = check
        self.state, self.passed = run.state, run.passed
        self.memo: dict[tuple[frozenset[str], frozenset[str]], Any] = {}

    def remember(self, key: tuple[frozenset[str], frozenset[str]]) -> Any:
        if len(self.memo) >= _MEMO_LIMIT:
            self.memo.clear()
        result = self.state(*key)
        out = self.memo[key] = _PASSES if result[0] else _outcome(self.check, result)
        return out


class _When:
    """The built-in ``when``, run on the scores environment and history context directly.

    Its outcome is remembered where it is a function of a few values:

    * the whole outcome, looked up before running it: without function calls it depends on the
      values of the names the condition reads alone; with calls, also on the history context,
      when every function is a built-in one (they depend on their arguments and the context
      alone; a plugin's might read more of the environment). A unit without history shares its
      context's content with the others of its year (``_context_key``);
    * the outcome of a failing part, looked up once the part is known to be the first false
      one: it shows the values of the names the part reads and, if any, of its calls (which
      depend on the context, as above).

    Values make a key only when they are texts or booleans (``_key_function``).
    """

    kind = _WHEN
    __slots__ = ("check", "direct", "failed", "first_false", "has_calls", "part_calls", "part_keys",
                 "parts", "passed", "pure", "try_whole", "whole", "whole_key")

    def __init__(self, check: TitleCheck, pure: bool) -> None:
        when = check.run
        assert isinstance(when, WhenCheck)  # as _step chose this step
        self.check = check
        self.direct, self.first_false, self.failed, self.passed = when.direct, when.first_false, when.failed, when.passed
        self.whole_key = _key_function(when.names)
        self.part_keys = [_key_function(names) for names in when.part_names]
        self.part_calls = when.part_calls
        self.has_calls = when.may_call
        self.pure = pure
        self.try_whole = pure or not self.has_calls
        self.whole: dict[tuple[Any, ...], CheckOutcome] = {}
        self.parts: dict[tuple[Any, ...], CheckOutcome] = {}

    def outcome(self, env: Mapping[str, Any], context: Any, context_key: Any) -> tuple[CheckOutcome, bool]:
        """The check's outcome and whether it is a fresh one (not remembered)."""
        if self.try_whole:
            head = context_key if self.has_calls else None
            if head is not _NO_KEY:
                key = self.whole_key(env, head)
                if key is not None:
                    out = self.whole.get(key)
                    if out is None:
                        out = self._remember(self.whole, key, self.direct(env, context))
                    return out, False
                # A value that is no key (a number): the names are typed, so it stays so.
                self.try_whole = False
        index = self.first_false(env, context)
        if index < 0:
            return _outcome(self.check, self.passed(env, context)), True
        key_of = self.part_keys[index]
        if key_of is None:
            return _outcome(self.check, self.failed(index, env, context)), True
        head = index
        if self.part_calls[index]:
            if not self.pure or context_key is _NO_KEY:
                return _outcome(self.check, self.failed(index, env, context)), True
            head = (index, context_key)
        key = key_of(env, head)
        if key is None:
            self.part_keys[index] = None  # as for the whole: a number stays a number
            return _outcome(self.check, self.failed(index, env, context)), True
        out = self.parts.get(key)
        if out is None:
            out = self._remember(self.parts, key, self.failed(index, env, context))
        return out, False

    def _remember(self, memo: dict[tuple[Any, ...], CheckOutcome], key: tuple[Any, ...],
                  result: tuple[bool, str, Mapping[str, Any]]) -> CheckOutcome:
        if len(memo) >= _MEMO_LIMIT:
            memo.clear()
        out = memo[key] = _outcome(self.check, result)
        return out


class _Votes:
    """The built-in ``votes``: without a ballot the outcome is the same for every unit."""

    kind = _VOTES
    __slots__ = ("check", "direct", "no_ballot")

    def __init__(self, check: TitleCheck) -> None:
        run = check.run
        assert isinstance(run, VotesCheck)  # as _step chose this step
        self.check = check
        self.direct = run.direct
        self.no_ballot = _outcome(check, self.direct(None, ""))

    def outcome(self, ballot: Ballot, unit_id: str) -> CheckOutcome:
        return _outcome(self.check, self.direct(ballot, unit_id))


class _OnView:
    """A check run on a :class:`TitleView`: a plugin's (through ``_run_check``) or a built-in one."""

    __slots__ = ("check", "kind", "name", "plugin")

    def __init__(self, check: TitleCheck, trusted: bool) -> None:
        self.check, self.name, self.plugin = check, check.name, check.plugin
        self.kind = _TRUSTED if trusted else _PLUGIN


def _step(check: TitleCheck, pure: bool) -> Any:
    if check.plugin not in _BUILTIN:
        return _OnView(check, False)
    run = check.run
    if isinstance(run, RequiresCheck):
        return _Requires(check)
    if isinstance(run, WhenCheck):
        return _When(check, pure)
    if isinstance(run, VotesCheck):
        return _Votes(check)
    return _OnView(check, True)


def _requires_key(won: frozenset[str], pending: frozenset[str], env: Any, context_key: Any) -> Any:
    return (won, pending)


def _first_key(step: Any) -> Any:
    """The ``first_key`` of a title whose first step is ``step`` (see ``_TitlePlan``), or None."""
    if step.kind is _REQUIRES:
        return _requires_key
    if step.kind is not _WHEN:
        return None

    def when_key(won: frozenset[str], pending: frozenset[str], env: Any, context_key: Any) -> Any:
        # the key ``_When.outcome`` looks its whole outcome up by, when it does
        if not step.try_whole:
            return None
        head = context_key if step.has_calls else None
        return None if head is _NO_KEY else step.whole_key(env, head)

    return when_key


class _TitlePlan:
    __slots__ = ("failed_first", "failures", "first_key", "id", "steps", "title")

    def __init__(self, title: Title, pure: bool) -> None:
        self.title, self.id = title, title.id
        self.steps = tuple(_step(check, pure) for check in title.checks)
        #: when the first step is a built-in ``requires`` or ``when``: ``first_key(won, pending,
        #: env, context_key)``, the key its remembered outcome is a function of (None: none for
        #: this unit), and the TitleOutcome of a failure of that step by that key
        self.first_key = _first_key(self.steps[0]) if self.steps else None
        self.failed_first: dict[Any, TitleOutcome] | None = {} if self.first_key is not None else None
        #: the TitleOutcome of a failure whose check outcomes are all remembered ones, keyed by
        #: their identities
        self.failures: dict[int | tuple[int, ...], TitleOutcome] = {}


class _Plan:
    """Per policy, once: each title's checks as steps (with what they remember), and the ladders."""

    def __init__(self, policy: Policy) -> None:
        self.policy = policy
        # Built-in functions depend on their arguments and the history context alone; a plugin's
        # might read more of the environment, so with one no call's value is remembered.
        # (``proposed_titles`` also plans the people's titles, whose object has no plugin list.)
        registrars = {info.name for info in getattr(policy, "plugin_info", ())
                      if "register_functions" in info.hooks}
        pure = registrars == {"thidua_rules.builtin.functions"}
        self.titles = tuple(_TitlePlan(title, pure) for title in policy.titles)
        self._limits: dict[tuple[Quota, int], tuple[int, Decimal | Fraction]] = {}
        ladders = list(dict.fromkeys(t.ladder for t in policy.titles if t.ladder))
        #: ``proposed_titles`` order: ladder titles by ladder (first appearance), then the others.
        self.proposal_order = tuple(
            [t.id for ladder in ladders for t in policy.titles if t.ladder == ladder]
            + [t.id for t in policy.titles if not t.ladder])
        self.proposal_position = {title_id: i for i, title_id in enumerate(self.proposal_order)}

    def quota_limit(self, quota: Quota, size: int) -> tuple[int, Decimal | Fraction]:
        """:func:`quota_limit`, remembered per quota and cluster size."""
        key = (quota, size)
        hit = self._limits.get(key)
        if hit is None:
            if len(self._limits) > 4096:
                self._limits.clear()
            hit = self._limits[key] = quota_limit(quota, size)
        return hit


_VOTES_PLUGIN = "thidua_rules.builtin.titles"
_BUILTIN = frozenset({_VOTES_PLUGIN})
def _plan(policy: Policy) -> _Plan:
    return plan_for("awards", policy, _Plan)


def _checked(policy: Policy, title: Title, check: Any, unit_id: str, run: Any, *args: Any) -> Any:
    """``run(*args)`` of a built-in check; a failure becomes :func:`_check_error`'s error."""
    try:
        return run(*args)
    except (EvaluationError, PluginError) as exc:
        raise with_unit(exc, unit_id) from None  # a plugin function's fault lacks the unit
    except ExpressionRuntimeError as exc:
        raise _check_error(policy, title, check, unit_id, exc) from None
    except Exception as exc:
        raise _check_error(policy, title, check, unit_id, exc) from exc


def _check_error(policy: Policy, title: Title, check: Any, unit_id: str, exc: Exception) -> ThiduaError:
    """What :func:`_run_check` turns an exception raised by a check into."""
    if isinstance(exc, ExpressionRuntimeError):
        return EvaluationError(exc.message, detail=exc.caret_lines(), unit=unit_id,
                               where=f"{policy.file}: title '{title.id}' check '{check.name}'")
    return PluginError(f"title check '{check.name}' raised {type(exc).__name__}: {exc} "
                       f"(title '{title.id}', unit '{unit_id}')", plugin=check.plugin)


def _run_check(policy: Policy, title: Title, check: Any, view: TitleView) -> tuple[bool, str, Mapping[str, Any]]:
    where = f"{policy.file}: title '{title.id}' check '{check.name}'"
    try:
        with engine_context():
            result = check.run(view)
    except ExpressionRuntimeError as exc:
        raise EvaluationError(exc.message, detail=exc.caret_lines(), unit=view.unit, where=where) from None
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
                 runoff: Ballot | None = None) -> dict[str, tuple[str, int | None, Decimal | Fraction | None, int | None, int | None]]:
    """Fill the quota in rank order; units sharing a rank across the cut are left undecided,
    unless a round-2 ballot separates them (most yes-votes first, at most two rounds: TT
    01/2024/TT-TANDTC Art. 29). The round-2 ballot obeys the quorum of round 1; without it, it
    does not count and the tied units stay undecided. Places follow the rank, and among the
    units a counted round-2 ballot ordered, its votes."""
    if title.quota is None:
        return {p.score.unit.id: ("won", None, None, i + 1, None) for i, p in enumerate(passed)}
    limit, raw = quota_limit(title.quota, size)
    decided: dict[str, tuple[str, int | None, Decimal | Fraction | None, int | None, int | None]] = {}
    if len(passed) <= limit:
        return {p.score.unit.id: ("won", limit, raw, i + 1, None) for i, p in enumerate(passed)}
    cut_rank = passed[limit].rank
    straddles = limit > 0 and passed[limit - 1].rank == cut_rank
    tied = [p for p in passed if straddles and p.rank == cut_rank]
    free = limit - sum(1 for p in passed[:limit] if p.rank < cut_rank)
    runoff_winners: set[str] = set()
    votes: dict[str, int] = {}
    not_counted = None
    if tied and runoff is not None:
        check = votes_check(title)
        not_counted = check.quorum_problem(runoff) if check is not None else None
        if not_counted is not None:
            runoff = None
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
    # The true places: rank order, and among the units of the cut's rank, round-2 votes (most first).
    order = sorted(range(len(passed)), key=lambda i: (passed[i].rank, -votes.get(passed[i].score.unit.id, 0), i))
    place_of = {passed[i].score.unit.id: place for place, i in enumerate(order, start=1)}
    for i, p in enumerate(passed):
        unit_id = p.score.unit.id
        if unit_id in tied_ids:
            status = "undecided"
        elif unit_id in runoff_winners or (p.rank < cut_rank and i < limit) or (not straddles and i < limit):
            status = "won"
        else:
            status = "over_quota"
        decided[unit_id] = (status, limit, raw, place_of[unit_id], votes.get(unit_id))
    if tied_ids:
        params: dict[str, Any] = {"units": len(tied), "rank": cut_rank, "limit": limit,
                                  "left": free - len(runoff_winners)}
        code = "quota_tie_after_runoff" if runoff else "quota_tie"
        if not_counted is not None:
            # TT 01/2024/TT-TANDTC Art. 29: the round-2 ballot needs the quorum of round 1.
            code = "quota_tie_runoff_no_quorum" if not_counted.code == "vote_no_quorum" else "quota_tie_runoff_no_present"
            params.update(not_counted.params)
        council.append(CouncilItem(title=title.id, units=tuple(p.score.unit.id for p in tied),
                                   reason=Reason(code, params)))
    return decided


def _ladders(policy: Policy, outcomes: dict[str, list[TitleOutcome]]) -> dict[str, list[TitleOutcome]]:
    """On a ladder only the highest title won (the last declared) is proposed; lower ones are held."""
    ladder_of = {t.id: t.ladder for t in policy.titles}
    result = {}
    for unit_id, items in outcomes.items():
        highest: dict[str | None, str] = {}  # by ladder (looked up only for a title on one)
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
    return proposer(policy)(outcomes)


def proposer(policy: Policy) -> Any:
    """:func:`proposed_titles` for ``policy`` as a one-argument function, for many units."""
    position = _plan(policy).proposal_position
    by_position = position.__getitem__

    def proposed_titles(outcomes: Sequence[TitleOutcome]) -> tuple[str, ...]:
        proposed = [o.title for o in outcomes if o.status == "proposed"]
        if not proposed:
            return ()
        if len(proposed) == 1:
            return (proposed[0],) if proposed[0] in position else ()
        return tuple(sorted({t for t in proposed if t in position}, key=by_position))

    return proposed_titles
