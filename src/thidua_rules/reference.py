"""The reference engine: the semantics of an evaluation, written out plainly.

This module is the *specification* of what :func:`thidua_rules.evaluate` computes. It is
slow on purpose: no generated code, no plans, no caches. Every number the reference computes is
a :class:`fractions.Fraction`, so arithmetic is exact (``Fraction(1, 3) * 3 == 1``); it becomes
a :class:`~decimal.Decimal` only at the boundary (:func:`as_decimal`), where the reference
fills the engine's public result records (:class:`engine.Result`, :class:`scoring.UnitScore`
rows, :class:`ranking.Placed` …) so that every writer gives the same bytes for both engines.

Select it with ``thidua_rules.evaluate(policy, data, engine="reference")``;
``tests/test_conformance.py`` requires both engines to give identical output. The semantics are
documented in ``docs/reference.md``.

What is written out here, independently of the production code:

* scoring: gates, clamping, rounding, groups and their caps, bonuses and deductions and their
  caps, the total and its cap, bands (:func:`score_unit`), and scoring layers: claims, changes,
  reconciling several scorers (:func:`apply_layers`);
* ranking: the key chain, shared ranks, the listing order of ties, the explained neighbours
  (:func:`rank_units`);
* leadership: rotation and rank (:func:`choose_leadership`);
* unit titles: exclusions, deferrals, the built-in checks, awaiting the vote, quotas and ties at
  the cut, round-2 ballots, ladders (:func:`decide_titles`), and the earlier years their
  history functions read (:func:`history_contexts`);
* members' titles and the unit inputs counted from them (:func:`decide_people`,
  :func:`fill_person_quota`, :func:`preference_places`, :func:`derive_units`);
* the titles proposed (:func:`proposed_titles`), quotas across clusters
  (:func:`apply_across_clusters`) and the council's items of members and layers
  (:func:`council_items`).

What the reference does not (yet) specify itself, and delegates (each call says so):

* the expressions and criterion methods: the reference calls the compiled expressions and the
  criterion scorers (a separate, readable compiler, shared by both engines);
* plugins' title checks and vetoes, run through their contract (``awards._run_check``);
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from decimal import Decimal
from fractions import Fraction
from types import MappingProxyType
from typing import Any

import attrs

from . import awards, engine, people
from .awards import CheckOutcome, CouncilItem, TitleOutcome
from .builtin.titles import NO_BALLOT, RequiresCheck, VotesCheck, WhenCheck, implied_titles, share_text, votes_check
from .collation import vi_sort_key
from .councils import AWAITING_OPINION, OPINION_MONTHS
from .decimals import engine_context
from .errors import EvaluationError, ExpressionRuntimeError, Issue, PluginError, PolicyError
from .expressions import EvalContext
from .extensions import TitleView
from .layers import COMPUTED, CriterionLayers, LayerStep, by_unit, council_reason
from .leadership import LeadershipResult
from .messages import Reason
from .model import (
    RANKING_BALLOT,
    Ballot,
    Cluster,
    Dataset,
    LayerScore,
    Leadership,
    Policy,
    Quota,
    Title,
    TitleCheck,
    Unit,
    Value,
    frozen_mapping,
)
from .plugins import engine_version, with_unit
from .ranking import Placed, Separation
from .scoring import LayeredUnitScore, UnitScore, _failure
from .tomlfmt import toml_value

# ---------------------------------------------------------------- exact numbers and the boundary


def exact(value: Decimal | int | Fraction) -> Fraction:
    """A number read from the policy, the data or an expression, as an exact Fraction."""
    return Fraction(value)


def round_half_up(value: Fraction, places: int) -> Fraction:
    """``value`` rounded to ``places`` decimals, a tie away from zero (the policy's
    ``precision``; the only rounding of a score)."""
    scale = 10 ** places
    scaled = abs(value) * scale
    rounded = math.floor(scaled + Fraction(1, 2))
    return Fraction(rounded if value >= 0 else -rounded, scale)


def as_decimal(value: Fraction, places: int) -> Decimal:
    """The boundary: an exact Fraction as the Decimal the result records hold.

    A rounded score, and any sum or cap of them, ends in finitely many decimals: it is written
    exactly, with at least ``places`` decimals (as the production engine's quantized scores
    are). The writers print every score with exactly ``places`` decimals and every raw figure
    without trailing zeros, so the number of trailing zeros never shows. A value whose decimal
    form never ends (none reaches here today: the raw figures are the expressions' own
    Decimals) is divided out to the engine's 50 significant digits."""
    denominator, twos, fives = value.denominator, 0, 0
    while denominator % 2 == 0:
        denominator, twos = denominator // 2, twos + 1
    while denominator % 5 == 0:
        denominator, fives = denominator // 5, fives + 1
    with engine_context():
        if denominator == 1:  # value * 10**digits is a whole number
            digits = max(twos, fives, places)
            return Decimal(value.numerator * 10 ** digits // value.denominator).scaleb(-digits)
        return Decimal(value.numerator) / Decimal(value.denominator)


# ---------------------------------------------------------------- rules and their failures


def _run(what: str, unit: Unit, policy: Policy, fn: Any, *args: Any) -> Any:
    """Call a compiled rule (an expression, a criterion's scorer); a failure at run time is an
    :class:`EvaluationError` naming the policy file, the rule and the unit."""
    try:
        return fn(*args)
    except (ExpressionRuntimeError, EvaluationError) as exc:
        error = _failure(exc, what, unit, policy)
        if error is None:
            raise
        raise error from None


def _holds(what: str, unit: Unit, policy: Policy, expression: Any, env: Mapping[str, Value]) -> bool:
    """Whether a condition (a gate, a ``when``) holds for this unit."""
    return bool(_run(what, unit, policy, expression._fn, env, None))


# ---------------------------------------------------------------- scoring


@attrs.frozen
class ExactScore:
    """One unit's scores as the reference holds them: exact Fractions."""

    criteria: dict[str, Fraction]
    groups: dict[str, Fraction]
    score: Fraction
    bonus: Fraction
    deduction: Fraction
    total: Fraction


def _clamp(value: Fraction, top: Fraction | None) -> Fraction:
    """``value`` clamped to ``[0, top]`` (no upper bound when ``top`` is None)."""
    if value < 0:
        return Fraction(0)
    if top is not None and value > top:
        return top
    return value


def _capped_sum(total: Fraction, cap: Decimal | None) -> Fraction:
    """A sum limited by its maximum (none when ``cap`` is None): ``min(total, cap)``."""
    if cap is None:
        return total
    return min(total, exact(cap))


def score_unit(policy: Policy, unit: Unit, year: int, plugin_data: Mapping[str, Any],
               layer_scores: Sequence[LayerScore] = ()) -> tuple[UnitScore, ExactScore]:
    """Score one unit.

    1. The environment the rules read is the unit's inputs and ``year``; plugins' derived
       inputs are added to it first.
    2. Each criterion, in policy order: if it has a gate and the gate fails, it scores 0 (it is
       *gated*). Otherwise a plugin's ``score_criterion`` may give its raw points; else its
       method (scorer) gives them. The raw points are clamped to ``[0, points]`` (*capped*
       when that changed them) and rounded half-up to the policy precision. A criterion with
       scoring layers (``[[scores]]`` of the data: claims, changes) takes the score its layers
       give (:func:`apply_layers`); a change without a reason is a problem of the data.
    3. A group's sum is the exact sum of its criteria's rounded scores; its score is the sum
       limited to the group's ``max`` (*capped* when limited). Ungrouped criteria (group ``""``)
       count directly. ``score`` is the ungrouped criteria plus every group's score.
    4. Each bonus and deduction: if its ``when`` holds, its formula gives the raw value (else
       0); clamped to ``[0, max]`` and rounded half-up. Their sums are limited by
       ``bonus_max`` / ``deduction_max``.
    5. ``total_raw = score + bonus - deduction``; ``total`` is limited by ``total_max``.
    6. The band is the first band, in policy order, whose ``min`` the total reaches, which a
       plugin's band cap does not rule out and whose ``when`` holds; a band whose ``min`` is
       reached but whose ``when`` fails is recorded as skipped.
    """
    places = policy.precision
    env: dict[str, Value] = dict(unit.values)
    env["year"] = Decimal(year)
    runtime = policy.runtime
    derived: tuple[Any, ...] = ()
    layered: list[CriterionLayers] | None = [] if layer_scores else None
    layer_problems: list[Issue] = []
    if runtime is not None and runtime.derivers:
        derived = runtime.derive(unit, env, plugin_data)

    # 2. criteria
    criterion_rows = []
    criteria: dict[str, Fraction] = {}
    by_group: dict[str, Fraction] = {}
    zero_criteria = 0
    for criterion in policy.criteria:
        gated = criterion.gate is not None and not _holds(
            f"criterion '{criterion.id}' gate", unit, policy, criterion.gate, env)
        overridden = None
        found = None
        if gated:
            raw, facts = Decimal(0), {}
        else:
            if criterion.override is not None and runtime is not None:
                found = runtime.override(unit, criterion, env)
            if found is not None:
                (raw, facts), overridden = found, criterion.override
            else:
                raw, facts = _run(f"criterion '{criterion.id}'", unit, policy, criterion.scorer, env)
        # The raw figure is the Decimal the expression (or plugin) gave; the reference reads it
        # exactly. Clamping and rounding happen on the exact value.
        clamped = _clamp(exact(raw), exact(criterion.points))
        score = round_half_up(clamped, places)
        entries = [e for e in layer_scores if e.criterion == criterion.id]
        if layered is not None and entries:
            score, steps, problems = apply_layers(policy, criterion.id, entries, score)
            layered.append(steps)
            layer_problems.extend(problems)
        criterion_rows.append((criterion.id, raw, as_decimal(score, places), gated,
                               clamped != exact(raw), facts, overridden))
        criteria[criterion.id] = score
        if score == 0:
            zero_criteria += 1
        by_group[criterion.group] = by_group.get(criterion.group, Fraction(0)) + score

    # 3. groups
    group_rows = []
    groups: dict[str, Fraction] = {}
    total_score = by_group.get("", Fraction(0))
    for group in policy.groups:
        group_sum = by_group.get(group.id, Fraction(0))
        group_score = _capped_sum(group_sum, group.max)
        group_rows.append((group.id, as_decimal(group_sum, places), as_decimal(group_score, places),
                           group_score != group_sum))
        groups[group.id] = group_score
        total_score += group_score

    # 4. bonuses and deductions
    def adjust(items: Sequence[Any], kind: str) -> tuple[list[Any], list[Fraction], Fraction]:
        rows, scores = [], []
        for item in items:
            applies = item.when is None or _holds(f"{kind} '{item.id}' when", unit, policy, item.when, env)
            raw = _run(f"{kind} '{item.id}' formula", unit, policy, item.raw, env, None) if applies else Decimal(0)
            clamped = _clamp(exact(raw), None if item.max is None else exact(item.max))
            score = round_half_up(clamped, places)
            rows.append((item.id, bool(applies), raw, as_decimal(score, places), clamped != exact(raw)))
            scores.append(score)
        return rows, scores, sum(scores, Fraction(0))

    bonus_rows, bonus_scores, bonus_sum = adjust(policy.bonuses, "bonus")
    deduction_rows, deduction_scores, deduction_sum = adjust(policy.deductions, "deduction")
    bonus = _capped_sum(bonus_sum, policy.bonus_max)
    deduction = _capped_sum(deduction_sum, policy.deduction_max)

    # 5. total
    total_raw = total_score + bonus - deduction
    total = _capped_sum(total_raw, policy.total_max)

    # What later rules (ranking keys, title checks) read, in the order the engine writes it.
    for criterion in policy.criteria:
        env[f"criterion.{criterion.id}"] = as_decimal(criteria[criterion.id], places)
    for group in policy.groups:
        env[f"group.{group.id}"] = as_decimal(groups[group.id], places)
    for item, value in zip(policy.bonuses, bonus_scores, strict=True):
        env[f"bonus.{item.id}"] = as_decimal(value, places)
    for item, value in zip(policy.deductions, deduction_scores, strict=True):
        env[f"deduction.{item.id}"] = as_decimal(value, places)
    env["score"] = as_decimal(total_score, places)
    env["bonus"] = as_decimal(bonus, places)
    env["deduction"] = as_decimal(deduction, places)
    env["total"] = as_decimal(total, places)
    env["zero_criteria"] = Decimal(zero_criteria)

    # 6. band
    caps: tuple[Any, ...] = ()
    if runtime is not None and runtime.cappers:
        caps = runtime.caps(unit, env)
    # A plugin's band cap: no band above the lowest ceiling named (bands are listed best first).
    ceiling = max((runtime.bands.index(c.band) for c in caps), default=0) if caps else 0
    band = None
    skipped = []
    for index, candidate in enumerate(policy.bands):
        if total < exact(candidate.min) or index < ceiling:
            continue
        if candidate.when is not None and not _holds(
                f"band '{candidate.id}' when", unit, policy, candidate.when, env):
            skipped.append((candidate.id, candidate.when.source))
            continue
        band = candidate.id
        break
    env["band"] = band or ""

    record = (UnitScore if layered is None else LayeredUnitScore)(
        unit=unit, criterion_rows=tuple(criterion_rows), group_rows=tuple(group_rows),
        bonus_rows=tuple(bonus_rows), deduction_rows=tuple(deduction_rows),
        score=as_decimal(total_score, places), bonus_sum=as_decimal(bonus_sum, places),
        bonus=as_decimal(bonus, places), deduction_sum=as_decimal(deduction_sum, places),
        deduction=as_decimal(deduction, places), total_raw=as_decimal(total_raw, places),
        total=as_decimal(total, places), band=band, band_skipped=tuple(skipped), env=env,
        derived=derived, band_caps=caps,
        **({} if layered is None else {"layers": tuple(layered)}))
    if layer_problems:
        raise PolicyError(layer_problems)
    return record, ExactScore(criteria=criteria, groups=groups, score=total_score, bonus=bonus,
                              deduction=deduction, total=total)


# ---------------------------------------------------------------- scoring layers


def apply_layers(policy: Policy, criterion_id: str, entries: Sequence[LayerScore], computed: Fraction
                 ) -> tuple[Fraction, CriterionLayers, list[Issue]]:
    """One criterion of one unit through the policy's scoring layers, in declared order, after
    the score the engine computed (the base layer ``computed``); its final score, what each
    layer did, and the changes that lack a reason.

    * A ``claim`` layer (the unit's self-score) is shown beside the current score, with the
      difference claim − score, and changes nothing.
    * A ``change`` layer (cross-inspection, the council) replaces the current score. Each of
      its scores that differs from the one it replaces needs a reason. One scorer's score
      (or a layer without a rule) is *given*. Several regular scorers whose scores lie within
      the rule's ``within`` (the spread: highest − lowest) give their ``mean`` (exact, rounded
      half-up to the precision like a criterion score), ``min`` or ``max``; beyond it a third
      scorer's score decides (*third*), else the score is kept and the council decides
      (*council*). The result is clamped to ``[0, points]``.

    A score a layer takes from the data is shown as the scorer wrote it (``8.5`` stays ``8.5``),
    a spread with the decimals of the two scores it is the difference of; the council's reason
    prints them so."""
    places = policy.precision
    criterion = next(c for c in policy.criteria if c.id == criterion_id)
    current, shown = computed, as_decimal(computed, places)
    steps = [LayerStep(layer=COMPUTED, kind=COMPUTED, applied=COMPUTED, score=shown)]
    problems: list[Issue] = []
    for layer in policy.layers:
        mine = tuple(e for e in entries if e.layer == layer.id)
        if not mine:
            continue
        if layer.kind == "claim":
            claim = mine[0].score
            steps.append(LayerStep(layer=layer.id, kind="claim", applied="claim", score=claim, entries=mine,
                                   difference=_written(exact(claim) - current, claim, shown)))
            continue
        for entry in mine:
            if exact(entry.score) != current and not entry.reason.strip():
                problems.append(Issue(
                    file=entry.file, path=entry.path,
                    message=f"missing 'reason': layer '{layer.id}' changes criterion '{criterion_id}' of "
                            f"'{entry.unit}' from {_score_text(current, places)} to "
                            f"{_score_text(exact(entry.score), places)}; say why the score differs"))
        applied, chosen, spread = _reconcile(layer, mine, (current, shown), places)
        current, shown = _clamp_written(chosen, criterion.points)
        steps.append(LayerStep(layer=layer.id, kind="change", applied=applied, score=shown, entries=mine,
                               spread=spread))
    return current, CriterionLayers(criterion=criterion_id, steps=tuple(steps)), problems


Written = tuple[Fraction, Decimal]  # a score, and the Decimal it is shown as


def _reconcile(layer: Any, entries: tuple[LayerScore, ...], current: Written, places: int
               ) -> tuple[str, Written, Decimal | None]:
    """A change layer's scores reconciled by its rule: how, the score, the spread."""
    rule = layer.reconcile
    regular = [e.score for e in entries if not e.third]
    if rule is None or len(regular) == 1:
        return "given", (exact(regular[0]), regular[0]), None
    values = [exact(v) for v in regular]
    high = regular[values.index(max(values))]  # the first of the highest, as written
    low = regular[values.index(min(values))]
    spread = exact(high) - exact(low)
    shown_spread = _written(spread, high, low)
    if spread <= exact(rule.within):
        if rule.use == "mean":
            mean = round_half_up(sum(values, Fraction(0)) / len(values), places)
            return "mean", (mean, as_decimal(mean, places)), shown_spread
        pick = low if rule.use == "min" else high
        return rule.use, (exact(pick), pick), shown_spread
    third = next((e for e in entries if e.third), None)
    if third is not None:
        return "third", (exact(third.score), third.score), shown_spread
    return "council", current, shown_spread  # otherwise = "council": the score is kept


def _clamp_written(score: Written, points: Decimal) -> Written:
    """A layer's score clamped to ``[0, points]`` like any criterion score."""
    if score[0] < 0:
        return Fraction(0), Decimal(0)
    if score[0] > exact(points):
        return exact(points), points
    return score


def _written(value: Fraction, *operands: Decimal) -> Decimal:
    """A sum or difference of written numbers, shown with the most decimals of any of them."""
    return as_decimal(value, max(max(0, -int(d.as_tuple().exponent)) for d in operands))


def _score_text(value: Fraction, places: int) -> str:
    """A score as an error line shows it: rounded to the precision, as TOML writes it."""
    return toml_value(as_decimal(round_half_up(value, places), places))


# ---------------------------------------------------------------- ranking


def rank_units(scores: Sequence[UnitScore], keys: Sequence[Any]) -> tuple[Placed, ...]:
    """Rank one cluster's units.

    Units are ordered by the policy's key chain: the first key decides, the next one only
    between units equal on all the keys before it; each key is descending (larger is better)
    unless the policy declares it ascending. A key reads the scores environment (``total``,
    ``group.x``, ``criterion.x``, ``vote``…; ``input.x`` reads the input ``x``).

    Units equal on every key share a rank, the best place of their run (1, 2, 2, 4), and are
    flagged ``tied``. Among them the listing order is Vietnamese alphabetical order of the name,
    then the id: an order to print them in, never a decision.

    Each unit is told why it is below the unit above it and above the one below it: the first
    key whose values differ (``key`` None when they are equal on every key)."""
    names = [k.key.removeprefix("input.") for k in keys]

    def values(score: UnitScore) -> list[Fraction]:
        return [exact(score.env[name]) for name in names]  # type: ignore[arg-type]

    def chain(score: UnitScore) -> list[Fraction]:
        return [-v if k.descending else v for v, k in zip(values(score), keys, strict=True)]

    ordered = sorted(scores, key=lambda s: (chain(s), vi_sort_key(s.unit.name), s.unit.id))
    ranks: list[int] = []
    for position, score in enumerate(ordered):
        if position and chain(score) == chain(ordered[position - 1]):
            ranks.append(ranks[-1])
        else:
            ranks.append(position + 1)

    def tied(position: int) -> bool:
        return ranks.count(ranks[position]) > 1

    def separation(this: UnitScore, other: UnitScore) -> Separation:
        for label, name, a, b in zip([k.key for k in keys], names, values(this), values(other), strict=True):
            if a != b:
                return Separation(unit=other.unit.id, key=label, this=this.env[name],  # type: ignore[arg-type]
                                  other=other.env[name])  # type: ignore[arg-type]
        return Separation(unit=other.unit.id, key=None, this=None, other=None)

    placed = []
    for position, score in enumerate(ordered):
        above = separation(score, ordered[position - 1]) if position > 0 else None
        below = separation(score, ordered[position + 1]) if position + 1 < len(ordered) else None
        placed.append(Placed(score=score, rank=ranks[position], tied=tied(position), above=above, below=below))
    return tuple(placed)


# ---------------------------------------------------------------- leadership


def choose_leadership(rule: Leadership | None, cluster: Cluster,
                      placed: Sequence[Placed]) -> LeadershipResult | None:
    """Next year's cluster leader (cụm trưởng) and deputy (cụm phó); none without a rule.

    ``rank``: the unit alone at rank 1 leads and the unit alone at rank 2 deputises; a shared
    rank 1 (or 2) is left to the cluster conference, which elects (suy tôn) them.

    ``rotation`` (the rotating annual practice of clusters, domain.md §8.1): the rotation is
    the cluster's own if it gives one, else the policy's, keeping only this cluster's units.
    The leader is the unit after this year's leader (wrapping round), the deputy the unit after
    the new leader (none when the rotation has one unit). Without a leader recorded, or with one
    the rotation does not list, the rotation starts at its first unit."""
    if rule is None:
        return None
    year = cluster.year + 1
    if rule.method == "rank":
        first = [p.score.unit.id for p in placed if p.rank == 1]
        second = [p.score.unit.id for p in placed if p.rank == 2]
        if len(first) != 1:
            return LeadershipResult(year=year, leader=None, deputy=None, method="rank",
                                    reason=Reason("leader_tie", {"units": len(first)}))
        reason = Reason("leader_by_rank")
        if len(second) > 1:
            reason = Reason("leader_by_rank_deputy_tie", {"units": len(second)})
        return LeadershipResult(year=year, leader=first[0], deputy=second[0] if len(second) == 1 else None,
                                method="rank", reason=reason)
    in_cluster = {p.score.unit.id for p in placed}
    rotation = [u for u in (cluster.rotation or rule.rotation) if u in in_cluster]
    if not rotation:
        return LeadershipResult(year=year, leader=None, deputy=None, method="rotation",
                                reason=Reason("rotation_empty"),
                                previous_leader=cluster.leader)
    if cluster.leader is None:
        leader = rotation[0]
        reason = Reason("rotation_start")
    elif cluster.leader not in rotation:
        leader = rotation[0]
        reason = Reason("rotation_leader_missing", {"leader": cluster.leader})
    else:
        leader = rotation[(rotation.index(cluster.leader) + 1) % len(rotation)]
        reason = Reason("rotation_next", {"leader": cluster.leader})
    deputy = rotation[(rotation.index(leader) + 1) % len(rotation)] if len(rotation) > 1 else None
    return LeadershipResult(year=year, leader=leader, deputy=deputy, method="rotation", reason=reason,
                            previous_leader=cluster.leader)


# ---------------------------------------------------------------- titles

#: The plugin of the built-in title checks (``requires``, ``when``, ``votes``).
BUILTIN_CHECKS = "thidua_rules.builtin.titles"


def _fail_or_pass(passes: bool, reason: str, seen: Mapping[str, Any], check: TitleCheck) -> CheckOutcome:
    return CheckOutcome(check=check.name, plugin=check.plugin, passed=passes, reason=reason,
                        seen=MappingProxyType(dict(seen)))


def check_requires(rule: RequiresCheck, won: set[str], pending: set[str]) -> tuple[bool, str, dict[str, Any]]:
    """``requires``: each named title (in order) must be won this year; one that awaits the
    council (a vote, a tie) makes this one wait too. Law2022 Art. 25 k1: a title on a ladder
    is chosen among the units that meet the one below it."""
    for title_id in rule.required:
        if title_id in pending:
            return False, Reason("requires_pending", {"title": title_id}), {"requires": title_id}
        if title_id not in won:
            return False, Reason("requires_not_won", {"title": title_id}), {"requires": title_id}
    return True, rule.met, {"requires": list(rule.required)}


def check_when(rule: WhenCheck, env: Mapping[str, Any], context: Any) -> tuple[bool, str, dict[str, Any]]:
    """``when``: the condition's parts (``a and b and …``) in order; the first false one is the
    reason, shown with the values of the names it reads and of its function calls; when all
    hold, those of the whole condition."""
    def seen(names: Sequence[str], calls: Sequence[tuple[str, Any]]) -> dict[str, Any]:
        values = {name: env[name] for name in names if name in env}
        values.update({source: call(env, context) for source, call in calls})
        return values

    for holds, names, calls, reason in rule.parts:
        if not holds(env, context):
            return False, reason, seen(names, calls)
    return True, rule.holds, seen(rule.names, rule.calls)


def quorum_problem(rule: VotesCheck, ballot: Ballot) -> Reason | None:
    """Why a ballot does not count: fewer members present than the quorum's share of them (TT
    01/2024/TT-TANDTC Art. 29: a quorum of 2/3 in every round), or no number present."""
    if rule.quorum is None:
        return None
    if ballot.present is None:
        return Reason("vote_present_missing")
    if ballot.present < rule.quorum * ballot.voters:
        return Reason("vote_no_quorum", {"present": ballot.present, "voters": ballot.voters,
                                         "quorum": share_text(rule.quorum)})
    return None


def check_votes(rule: VotesCheck, ballot: Ballot | None, unit_id: str) -> tuple[bool, str, dict[str, Any]]:
    """``votes``: yes-votes (in the room and written) at least ``share`` × all council members,
    exactly (ND98 Art. 30 k7). No ballot yet is not a failure: the title awaits the vote."""
    if ballot is None:
        return False, Reason(NO_BALLOT), {"share": rule.share_shown}
    written = ballot.written.get(unit_id, 0)
    yes = ballot.yes.get(unit_id, 0) + written
    needed = rule.share * ballot.voters
    seen: dict[str, Any] = {"yes": yes, "voters": ballot.voters, "share": rule.share_shown,
                            "needed": share_text(needed)}
    if ballot.written:
        seen["written"] = written
    if rule.quorum is not None:
        seen["present"] = ballot.present
        problem = quorum_problem(rule, ballot)
        if problem is not None:
            return False, problem, seen
    params = {"yes": yes, "voters": ballot.voters, "share": rule.share_shown, "needed": seen["needed"]}
    if yes >= needed:
        return True, Reason("vote_passed", params, text=""), seen
    return False, Reason("vote_below_threshold", params), seen


def run_check(policy: Policy, title: Title, check: TitleCheck, view: TitleView) -> CheckOutcome:
    """One check of a title for one unit: the built-in ones written out above; a plugin's
    through its contract (delegated: ``awards._run_check`` checks what it returns). A failure
    at run time names the policy, the title, the check and the unit."""
    rule = check.run
    if check.plugin != BUILTIN_CHECKS or not isinstance(rule, RequiresCheck | WhenCheck | VotesCheck):
        return _fail_or_pass(*awards._run_check(policy, title, check, view), check)
    try:
        if isinstance(rule, RequiresCheck):
            result = check_requires(rule, set(view.won), set(view.pending))
        elif isinstance(rule, WhenCheck):
            result = check_when(rule, view.env, view.eval_context)
        else:
            result = check_votes(rule, view.ballot, view.unit)
    except (EvaluationError, PluginError) as exc:
        raise with_unit(exc, view.unit) from None
    except ExpressionRuntimeError as exc:
        raise awards._check_error(policy, title, check, view.unit, exc) from None
    except Exception as exc:
        raise awards._check_error(policy, title, check, view.unit, exc) from exc
    return _fail_or_pass(*result, check)


def _awaits_ballot(out: CheckOutcome) -> bool:
    """The built-in ``votes`` check stopped because no ballot is recorded yet."""
    return (out.check == "votes" and out.plugin == BUILTIN_CHECKS and not out.passed
            and getattr(out.reason, "code", None) == NO_BALLOT)


def held_back(cluster: Cluster, unit_id: str, title_id: str) -> CheckOutcome | None:
    """A unit under a discipline period running this year is excluded (TT12-BCA Art. 2 k1); a
    deferred unit waits, for the titles its deferral names or for all (ND152 Art. 4 k4)."""
    running = [d for d in cluster.discipline if d.unit == unit_id and d.start <= cluster.year <= d.until]
    if running:
        d = running[-1]  # the last one recorded
        return CheckOutcome(check="excluded", plugin="thidua_rules.awards", passed=False,
                            reason=Reason("discipline_running", {"level": d.level, "start": d.start, "until": d.until}),
                            seen=MappingProxyType({"level": d.level, "until": d.until}))
    deferrals = [d for d in cluster.deferrals if d.unit == unit_id]
    if deferrals and (not deferrals[-1].titles or title_id in deferrals[-1].titles):
        return CheckOutcome(check="deferred", plugin="thidua_rules.awards", passed=False,
                            reason=Reason("deferred", {"text": deferrals[-1].reason}), seen=MappingProxyType({}))
    return None


def quota_places(quota: Quota, size: int) -> tuple[int, Decimal | Fraction]:
    """How many units a quota admits in a cluster of ``size``, and the figure it was made from.

    ``count`` is the number itself. ``share × size`` is rounded as the policy says (no national
    rule fixes it, domain.md §6.3): ``floor``, ``ceil`` or ``half_up``, exactly. The figure is
    shown with the share's own digits (a Decimal share), or as the exact fraction when its
    decimal form never ends (a share written "1/3")."""
    if quota.count is not None:
        return quota.count, Decimal(quota.count)
    assert quota.share is not None
    figure = Fraction(quota.share) * size
    if quota.rounding == "ceil":
        limit = math.ceil(figure)
    elif quota.rounding == "half_up":
        limit = math.floor(figure + Fraction(1, 2))  # the figure is >= 0
    else:
        limit = math.floor(figure)
    return limit, (awards.ended(figure) if isinstance(quota.share, Fraction) else quota.share * size)


def fill_quota(title: Title, limit: int, passed: Sequence[Placed], runoff: Ballot | None,
               council: list[CouncilItem]) -> dict[str, tuple[str, int, int | None]]:
    """The quota filled in rank order, when more units passed than it admits: per unit its
    status (``won``, ``undecided``, ``over_quota``), its place and its round-2 votes.

    The first ``limit`` units in rank order win. If the unit at the cut shares its rank with one
    inside it, every unit of that rank is left to the council (``undecided``), unless a round-2
    ballot (which needs the round-1 quorum) separates them at the cut: most yes-votes win the
    places left (TT 01/2024/TT-TANDTC Art. 29); those still equal at the new cut stay
    undecided. The rest are ``over_quota``. Places follow the rank, then round-2 votes."""
    cut_rank = passed[limit].rank
    straddles = limit > 0 and passed[limit - 1].rank == cut_rank
    tied = [p for p in passed if straddles and p.rank == cut_rank]
    free = limit - sum(1 for p in passed[:limit] if p.rank < cut_rank)  # places left for the tied
    rule = votes_check(title)
    not_counted = quorum_problem(rule, runoff) if tied and runoff is not None and rule is not None else None
    if not_counted is not None:
        runoff = None
    votes: dict[str, int] = {}
    runoff_winners: set[str] = set()
    if tied and runoff is not None:
        votes = {p.score.unit.id: runoff.yes.get(p.score.unit.id, 0) + runoff.written.get(p.score.unit.id, 0)
                 for p in tied}
        ordered = sorted(votes.values(), reverse=True)
        last_in = ordered[free - 1]  # the votes of the last unit inside the places left
        if len(ordered) <= free or last_in > ordered[free]:  # the runoff separates them at the cut
            runoff_winners = {u for u, v in votes.items() if v >= last_in}
            tied = []
        else:
            runoff_winners = {u for u, v in votes.items() if v > last_in}
            tied = [p for p in tied if votes[p.score.unit.id] == last_in]
    tied_ids = {p.score.unit.id for p in tied}
    order = sorted(range(len(passed)), key=lambda i: (passed[i].rank, -votes.get(passed[i].score.unit.id, 0), i))
    place = {passed[i].score.unit.id: n for n, i in enumerate(order, start=1)}
    decided = {}
    for i, p in enumerate(passed):
        unit_id = p.score.unit.id
        if unit_id in tied_ids:
            status = "undecided"
        elif unit_id in runoff_winners or (i < limit and (p.rank < cut_rank or not straddles)):
            status = "won"
        else:
            status = "over_quota"
        decided[unit_id] = (status, place[unit_id], votes.get(unit_id))
    if tied:
        params: dict[str, Any] = {"units": len(tied), "rank": cut_rank, "limit": limit,
                                  "left": free - len(runoff_winners)}
        code = "quota_tie_after_runoff" if runoff is not None else "quota_tie"
        if not_counted is not None:
            code = "quota_tie_runoff_no_quorum" if not_counted.code == "vote_no_quorum" else "quota_tie_runoff_no_present"
            params.update(not_counted.params)
        council.append(CouncilItem(title=title.id, units=tuple(p.score.unit.id for p in tied),
                                   reason=Reason(code, params)))
    return decided


def history_contexts(cluster: Cluster, implied: Mapping[str, tuple[str, ...]]) -> dict[str, EvalContext]:
    """Per unit, what the history functions of title rules read (``consecutive_years``…):

    * each earlier year recorded for it, as an environment: the record's fields, its ``titles``
      with those they imply on their ladder (a flag recorded implies the titles below it that it
      requires, Law2022 Art. 25 k1: :func:`implied_titles`), its ``year`` and ``band``;
    * the last year each title was awarded, from the titles recorded (one achievement, one
      award: Law2022 Art. 5 k2 c);
    * after a discipline period that ended before this year, the first year whose achievements
      count again (ND152 Art. 4 k4)."""
    contexts = {}
    for unit in cluster.units:
        years: dict[int, Mapping[str, Any]] = {}
        awarded: dict[str, int] = {}
        for record in cluster.history:
            if record.unit != unit.id:
                continue
            env: dict[str, Any] = {**record.fields, "titles": _with_implied(record.titles, implied),
                                   "year": Decimal(record.year)}
            if record.band is not None:
                env["band"] = record.band
            years[record.year] = MappingProxyType(env)
            for title in record.titles:
                awarded[title] = max(record.year, awarded.get(title, record.year))
        ended = [d.until + 1 for d in cluster.discipline if d.unit == unit.id and d.until < cluster.year]
        contexts[unit.id] = EvalContext(year=cluster.year, history=MappingProxyType(dict(sorted(years.items()))),
                                        counts_from=max(ended, default=None),
                                        awarded=MappingProxyType(dict(sorted(awarded.items()))))
    return contexts


def decide_titles(policy: Policy, cluster: Cluster, placed: Sequence[Placed],
                  history: Mapping[str, Any]) -> tuple[dict[str, list[TitleOutcome]], list[CouncilItem]]:
    """Every title for every unit of one cluster, titles in policy order, units in rank order.

    For one title and one unit: a running discipline period excludes it, a deferral holds it;
    else its checks run in stage order (``requires``, ``when``, ``votes``, plugins' checks) up to
    the first that fails. A unit stopped only by a missing ballot *awaits the vote* (not a
    failure; a title requiring this one waits too) and is listed for the council. Of the units
    that passed every check, the quota (if any) is filled in rank order (:func:`fill_quota`).
    A title won is seen by the later titles' checks (``titles``, ``requires``). On a ladder the
    highest title won (the last declared) is proposed and the lower ones are held; a title on
    no ladder is proposed when won."""
    ballots = {b.title: b for b in cluster.ballots if b.round == 1}
    runoffs = {b.title: b for b in cluster.ballots if b.round == 2}
    council = [CouncilItem(title=",".join(d.titles), units=(d.unit,), kind="deferred",
                           reason=Reason("council_deferred", {"text": d.reason})) for d in cluster.deferrals]
    ids = [p.score.unit.id for p in placed]
    won: dict[str, set[str]] = {u: set() for u in ids}
    pending: dict[str, set[str]] = {u: set() for u in ids}
    decided: dict[str, list[tuple[Title, str, tuple[CheckOutcome, ...], int | None, Any, int | None, int | None]]] = \
        {u: [] for u in ids}
    titles: dict[str, tuple[str, ...]] = {u: () for u in ids}  # won this year, in policy order
    for p in placed:
        p.score.env["titles"] = ()  # type: ignore[index]
    for title in policy.titles:
        ballot = ballots.get(title.id)
        passed: list[tuple[Placed, tuple[CheckOutcome, ...]]] = []
        awaiting = []
        for p in placed:
            unit_id = p.score.unit.id
            stop = held_back(cluster, unit_id, title.id)
            if stop is not None:
                decided[unit_id].append((title, stop.check, (stop,), None, None, None, None))
                continue
            view = TitleView(unit=unit_id, title=title.id, env=MappingProxyType(p.score.env),
                             won=frozenset(won[unit_id]), pending=frozenset(pending[unit_id]), ballot=ballot,
                             eval_context=history[unit_id], unit_data=p.score.unit)
            checks: list[CheckOutcome] = []
            for check in title.checks:
                checks.append(run_check(policy, title, check, view))
                if not checks[-1].passed:
                    break
            else:
                passed.append((p, tuple(checks)))
                continue
            status = "failed"
            if _awaits_ballot(checks[-1]):  # ND98 Art. 30 k7: the council has not voted yet
                status = "awaiting_vote"
                awaiting.append(unit_id)
                pending[unit_id].add(title.id)
            decided[unit_id].append((title, status, tuple(checks), None, None, None, None))
        if awaiting:
            council.append(CouncilItem(title=title.id, units=tuple(awaiting), kind="awaiting_vote",
                                       reason=Reason("council_awaiting_vote")))
        limit, figure = quota_places(title.quota, len(placed)) if title.quota is not None else (None, None)
        quota = None
        if limit is not None and len(passed) > limit:
            quota = fill_quota(title, limit, [p for p, _ in passed], runoffs.get(title.id), council)
        for position, (p, checks_) in enumerate(passed, start=1):
            unit_id = p.score.unit.id
            status, place, runoff_yes = ("won", position, None) if quota is None else quota[unit_id]
            if status == "won":
                won[unit_id].add(title.id)
                titles[unit_id] += (title.id,)
                p.score.env["titles"] = titles[unit_id]  # type: ignore[index]
            elif status == "undecided":
                pending[unit_id].add(title.id)
            decided[unit_id].append((title, status, checks_, limit, figure, place, runoff_yes))
    outcomes: dict[str, list[TitleOutcome]] = {}
    for unit_id, items in decided.items():
        statuses = _on_ladders([(t, status) for t, status, *_ in items])
        outcomes[unit_id] = [
            TitleOutcome(title=t.id, status=final, checks=checks_, quota_limit=limit, quota_raw=figure, place=place,
                         runoff_yes=runoff_yes)
            for (t, _, checks_, limit, figure, place, runoff_yes), final in zip(items, statuses, strict=True)]
    return outcomes, council



def _on_ladders(decided: Sequence[tuple[Title, str]]) -> list[str]:
    """The statuses of one unit's (or member's) titles, in policy order, with each title won
    made ``proposed`` or ``held``: on a ladder only the highest title won (the last declared) is
    proposed and the lower ones are held; a title on no ladder is proposed when won."""
    highest = {title.ladder: title.id for title, status in decided if status == "won" and title.ladder}
    return [status if status != "won" else "proposed" if not title.ladder or highest[title.ladder] == title.id
            else "held" for title, status in decided]


def _cut(places: Sequence[int], limit: int) -> tuple[list[str], int]:
    """A quota of ``limit`` places filled by ``places`` (each one more than the candidates
    strictly better): per candidate ``in`` (placed before the cut), ``undecided`` (sharing the
    place at the cut with one inside the limit: the council decides, the engine never splits
    them by an arbitrary order) or ``over_quota``; and the cut, the place of the first candidate
    left out (one past the last when all fit)."""
    if len(places) <= limit:
        return ["in"] * len(places), len(places) + 1
    ordered = sorted(places)
    cut = ordered[limit]
    straddles = limit > 0 and ordered[limit - 1] == cut
    return ["in" if p < cut else "undecided" if p == cut and straddles else "over_quota" for p in places], cut

# ---------------------------------------------------------------- members (people)


def decide_people(policy: Policy, cluster: Cluster) -> tuple[people.PersonResult, ...]:
    """Every member's titles (Law2022 Art. 21–24), members in the order the data lists them.

    Titles are decided in policy order, for all the members of a unit together, so that a
    person title's quota is filled among the unit's members before the next title reads what
    they won (``titles``, ``requires``). For one member and one title:

    * a discipline period running this year excludes the member from every title; a deferral
      holds every title back;
    * else the title's checks run in order up to the first that fails; ``votes`` reads the
      ballot of the member's own unit's council, else the cluster's (ND98 Art. 30 k7);
    * a member transferred in with ``OPINION_MONTHS`` or more months at the previous unit and no
      favourable written opinion from it (TT 01/2024/TT-TANDTC Art. 29): a title the member
      earned (or that awaits the vote) waits for the opinion (``awaiting_opinion``) or, with an
      unfavourable one, fails;
    * stopped only by a missing ballot, the title *awaits the vote*.

    Of the members who passed, a quota is filled by :func:`fill_person_quota`. On a ladder the
    highest title won is proposed and the lower ones are held."""
    rules = policy.people
    if rules is None or not cluster.people:
        return ()
    ballots = {(b.title, b.unit): b for b in cluster.ballots if b.round == 1}
    implied = implied_titles(rules.titles)
    members = [_Member(person, cluster.year, implied) for person in cluster.people]
    units = list(dict.fromkeys(m.person.unit for m in members))
    for title in rules.titles:
        for unit in units:
            here = [m for m in members if m.person.unit == unit]
            passed = [m for m in here if m.decide(policy, title, ballots)]
            if title.quota is None:
                for member in passed:
                    member.decided(title, "won")
            else:
                fill_person_quota(title, here, passed, rules.preference)
    results = []
    for member in members:
        statuses = _on_ladders([(title, status) for title, status, *_ in member.outcomes])
        outcomes = tuple(TitleOutcome(title=title.id, status=final, checks=checks, **quota)
                         for (title, _, checks, quota), final in zip(member.outcomes, statuses, strict=True))
        results.append(people.PersonResult(person=member.person, proposed=proposed_titles(rules, outcomes),  # type: ignore[arg-type]
                                           titles=outcomes, won=tuple(member.won)))
    return tuple(results)


class _Member:
    """One member while their titles are decided: what their rules read, what they won."""

    def __init__(self, person: Any, year: int, implied: Mapping[str, tuple[str, ...]]) -> None:
        self.person = person
        self.year = year
        earlier = sorted(person.earlier.items())
        awarded: dict[str, int] = {}
        for earlier_year, titles in earlier:
            for title_id in titles:
                awarded[title_id] = max(earlier_year, awarded.get(title_id, earlier_year))
        self.context = EvalContext(
            year=year,
            # a ladder title recorded counts for the titles below it that it implies (Law2022 Art. 25 k1)
            history=MappingProxyType({y: MappingProxyType({"titles": _with_implied(t, implied), "year": Decimal(y)})
                                      for y, t in earlier}),
            awarded=MappingProxyType(dict(sorted(awarded.items()))),
            # ND152 Art. 4 k4: after a discipline period, achievements count from its end
            counts_from=None if person.discipline_until is None else person.discipline_until + 1)
        self.won: list[str] = []
        self.pending: list[str] = []
        self.outcomes: list[tuple[Title, str, tuple[CheckOutcome, ...], dict[str, Any]]] = []
        self.checks: tuple[CheckOutcome, ...] = ()
        self.held: CheckOutcome | None = None
        if person.discipline_until is not None and person.discipline_until >= year:
            self.held = CheckOutcome(check="excluded", plugin="thidua_rules.people", passed=False,
                                     reason=Reason("person_discipline_running", {"until": person.discipline_until}),
                                     seen=MappingProxyType({"until": person.discipline_until}))
        elif person.deferred:
            self.held = CheckOutcome(check="deferred", plugin="thidua_rules.people", passed=False,
                                     reason=Reason("deferred", {"text": person.deferred}), seen=MappingProxyType({}))

    def env(self) -> dict[str, Any]:
        """What a member's rules read: their fields, ``year`` and the titles won so far."""
        return {**self.person.values, "year": Decimal(self.year), "titles": tuple(self.won)}

    def decide(self, policy: Policy, title: Title, ballots: Mapping[tuple[str, str | None], Ballot]) -> bool:
        """The title's checks for this member; True when every one passed (a quota comes after)."""
        person = self.person
        if self.held is not None:
            self.outcomes.append((title, self.held.check, (self.held,), {}))
            return False
        ballot = ballots.get((title.id, person.unit)) or ballots.get((title.id, None))
        view = TitleView(unit=person.id, title=title.id, env=MappingProxyType(self.env()), won=frozenset(self.won),
                         pending=frozenset(self.pending), ballot=ballot, eval_context=self.context, unit_data=None)
        checks: list[CheckOutcome] = []
        for check in title.checks:
            checks.append(run_check(policy, title, check, view))
            if not checks[-1].passed:
                break
        self.checks = tuple(checks)
        passed = all(c.passed for c in checks)
        waits_for_vote = ballot is None and not passed and _awaits_ballot(checks[-1])
        opinion = _transfer_opinion(person)
        if opinion is not None and (passed or waits_for_vote):
            status, transfer = opinion
            self.checks = (*checks, transfer)
            if status != "failed":
                self.pending.append(title.id)
            self.outcomes.append((title, status, self.checks, {}))
            return False
        if passed:
            return True
        if waits_for_vote:
            self.pending.append(title.id)  # ND98 Art. 30 k7: the council has not voted yet
        self.outcomes.append((title, "awaiting_vote" if waits_for_vote else "failed", self.checks, {}))
        return False

    def decided(self, title: Title, status: str, **quota: Any) -> None:
        if status == "won":
            self.won.append(title.id)
        elif status == "undecided":
            self.pending.append(title.id)
        self.outcomes.append((title, status, self.checks, quota))


def _with_implied(titles: Sequence[str], implied: Mapping[str, tuple[str, ...]]) -> tuple[str, ...]:
    """A year's recorded titles with those they imply on their ladder (a flag recorded implies
    the titles below it that it requires, Law2022 Art. 25 k1: ``implied_titles``)."""
    if not any(implied.get(t) for t in titles):
        return tuple(titles)
    return tuple(sorted({*titles, *(i for t in titles for i in implied.get(t, ()))}))


def _transfer_opinion(person: Any) -> tuple[str, CheckOutcome] | None:
    """What the previous unit's opinion does to a transferred member's titles: they wait for it
    (``awaiting_opinion``) or, against, fail; None when not needed (not transferred, fewer than
    ``OPINION_MONTHS`` months there) or favourable (TT 01/2024/TT-TANDTC Art. 29)."""
    if person.transferred_from is None or person.months_at_previous is None:
        return None
    if person.months_at_previous < OPINION_MONTHS or person.previous_unit_opinion is True:
        return None
    seen = MappingProxyType({"transferred_from": person.transferred_from,
                             "months_at_previous": person.months_at_previous,
                             "previous_unit_opinion": person.previous_unit_opinion})
    params = {"months": person.months_at_previous, "unit": person.transferred_from}
    awaiting = person.previous_unit_opinion is None
    reason = Reason("transfer_awaiting_opinion" if awaiting else "transfer_opinion_against", params)
    return (AWAITING_OPINION if awaiting else "failed",
            CheckOutcome(check="transfer_opinion", plugin="thidua_rules.councils", passed=False, reason=reason,
                         seen=seen))


def fill_person_quota(title: Title, members: Sequence[_Member], passed: Sequence[_Member],
                      preference: Sequence[Any]) -> None:
    """A person title's quota among the members of one unit who passed its checks.

    It admits ``count``, or ``share`` × the unit's members holding ``of`` this year (all its
    members without ``of``), rounded as the policy says (ND91 Art. 9 k3; no national rounding
    rule, domain.md §6.3). Candidates are placed by the quota's ``order`` keys (each
    descending; a place is one more than the candidates strictly better); without ``order``, by
    the declared preference steps (:func:`preference_places`, ND152 Art. 4 k6); with neither,
    all share the first place. If they all fit, all win. Else those placed before the cut win;
    those sharing the place at the cut, when it straddles the limit, are *undecided* (the
    council decides); the rest are *over the quota*. When the preference steps placed a quota
    that binds, each candidate's checks end with ``preference``: its place, the candidates, the
    limit, the step that put its place below the one above, and its values on the steps."""
    quota = title.quota
    assert quota is not None
    base = len(members) if quota.of is None else sum(1 for m in members if quota.of in m.won)
    limit, figure = quota_places(quota, base)
    by_steps = not quota.order and bool(preference)
    separated: dict[str, str | None] = {}
    if by_steps:
        found = preference_places(passed, preference)
        places = [found[m.person.id][0] for m in passed]
        separated = {m.person.id: found[m.person.id][1] for m in passed}
    else:
        keys = [[exact(expression.evaluate(m.env())) for expression in quota.order] for m in passed]
        places = [1 + sum(1 for other in keys if other > mine) for mine in keys]
    facts = {"quota_limit": limit, "quota_raw": figure}
    binds = len(passed) > limit
    statuses, _ = _cut(places, limit)
    for member, place, placed in zip(passed, places, statuses, strict=True):
        status = "won" if placed == "in" else placed
        if by_steps and binds:
            member.checks = (*member.checks, _preference_check(
                status, place, len(passed), limit, separated[member.person.id],
                {step.key: member.person.values.get(step.key) for step in preference}))
        member.decided(title, status, place=place, **facts)


def preference_places(passed: Sequence[_Member], steps: Sequence[Any]) -> dict[str, tuple[int, str | None]]:
    """Per member id, the place the preference steps give (1, 2, 2, 4) and the step that put it
    below the place above (None for the first place).

    Each step reads a field: a boolean counts as 1 or 0, a number as itself; larger is
    preferred on a descending step, smaller on an ascending one; a member without a value comes
    last on that step. Members equal on every step share a place; the input order never matters
    (ties are listed by id)."""
    def key(member: _Member) -> list[tuple[int, Fraction]]:
        out = []
        for step in steps:
            value = member.person.values.get(step.key)
            if isinstance(value, bool | Decimal):
                number = exact(int(value) if isinstance(value, bool) else value)
                out.append((0, -number if step.descending else number))
            else:
                out.append((1, Fraction(0)))
        return out

    ordered = sorted(passed, key=lambda m: (key(m), m.person.id))
    places: dict[str, tuple[int, str | None]] = {}
    for index, member in enumerate(ordered):
        if index and key(ordered[index - 1]) == key(member):
            places[member.person.id] = places[ordered[index - 1].person.id]
            continue
        step = None
        if index:
            step = next(s.key for s, a, b in zip(steps, key(ordered[index - 1]), key(member), strict=True) if a != b)
        places[member.person.id] = (index + 1, step)
    return places


def _preference_check(status: str, place: int, candidates: int, limit: int, step: str | None,
                      values: Mapping[str, Any]) -> CheckOutcome:
    params: dict[str, Any] = {"place": place, "candidates": candidates, "limit": limit}
    if status == "won":
        code = "preference_within"
    elif status == "undecided":
        code = "preference_tied"
    else:
        code, params["step"] = "preference_beyond", step
    return CheckOutcome(check="preference", plugin="thidua_rules.councils", passed=status == "won",
                        reason=Reason(code, params),
                        seen=MappingProxyType({"place": place, "candidates": candidates, "limit": limit,
                                               "separated_by": step, **values}))


def derive_units(policy: Policy, cluster: Cluster, members: Sequence[people.PersonResult]
                 ) -> tuple[tuple[Unit, ...], Mapping[str, tuple[people.MemberCount, ...]]]:
    """The units with every input declared ``members = { count = "…" }`` or ``{ sum = "…" }``
    computed over their members (the members' fields, ``year`` and the titles they won this
    year): the number of members for whom the condition holds, or the exact sum of the
    expression over them (a sum shown with the most decimals of its terms); with the members
    behind each figure. A unit without members keeps its inputs as given."""
    fields = [f for f in policy.inputs if f.members is not None]
    if not fields or not members:
        return cluster.units, {}
    units = []
    counts: dict[str, tuple[people.MemberCount, ...]] = {}
    for unit in cluster.units:
        mine = [r for r in members if r.person.unit == unit.id]
        if not mine:
            units.append(unit)
            continue
        values = dict(unit.values)
        made = []
        for field in fields:
            rule = field.members
            assert rule is not None
            behind, terms = [], []
            for result in mine:
                value = rule.expression.evaluate({**result.person.values, "year": Decimal(cluster.year),
                                                  "titles": result.won})
                if value:
                    behind.append(result.person.id)
                    terms.append(Decimal(1) if rule.kind == "count" or value is True else value)
            total = _written(sum((exact(t) for t in terms), Fraction(0)), Decimal(0), *terms)
            values[field.id] = total
            made.append(people.MemberCount(input=field.id, kind=rule.kind, value=total, members=tuple(behind)))
        units.append(attrs.evolve(unit, values=frozen_mapping(values)))
        counts[unit.id] = tuple(made)
    return tuple(units), counts


# ---------------------------------------------------------------- what a unit is proposed for


def proposed_titles(policy: Policy, outcomes: Sequence[TitleOutcome]) -> tuple[str, ...]:
    """The titles a unit is proposed for (status ``proposed``): the ladders' titles first, ladder
    by ladder in the order the ladders first appear in the policy, then the titles on no ladder,
    each in policy order."""
    ladders = list(dict.fromkeys(t.ladder for t in policy.titles if t.ladder))
    order = [t.id for ladder in ladders for t in policy.titles if t.ladder == ladder] + \
        [t.id for t in policy.titles if not t.ladder]
    proposed = {o.title for o in outcomes if o.status == "proposed"}
    return tuple(t for t in order if t in proposed)


# ---------------------------------------------------------------- the council's other items


def council_items(policy: Policy, members: Sequence[Any], scores: Sequence[UnitScore]) -> list[CouncilItem]:
    """What the council decides besides the unit titles, in this order:

    * per person title, the members awaiting its vote (ND98 Art. 30 k7);
    * per unit and criterion, each scoring layer whose scorers the policy's rule could not
      reconcile (``otherwise = "council"``);
    * per unit and person title, the members sharing a place across its quota;
    * per person title, the transferred members whose previous unit's opinion is awaited
      (from ``OPINION_MONTHS`` whole months at it in the year: TT 01/2024/TT-TANDTC Art. 29)."""
    items: list[CouncilItem] = []
    for title, ids in _members_with(members, "awaiting_vote").items():
        items.append(CouncilItem(title=title, units=tuple(ids), kind="awaiting_vote",
                                 reason=Reason("council_awaiting_vote_members")))
    for score in scores:
        for criterion in getattr(score, "layers", ()):
            for step in criterion.undecided:
                items.append(CouncilItem(title=criterion.criterion, units=(score.unit.id,), kind="score_undecided",
                                         reason=council_reason(policy, criterion, step)))
    tied: dict[tuple[str, str], list[tuple[str, TitleOutcome]]] = {}
    for result in members:
        for outcome in result.titles:
            if outcome.status == "undecided":
                tied.setdefault((result.person.unit, outcome.title), []).append((result.person.id, outcome))
    for (unit, title), sharing in tied.items():
        first = sharing[0][1]
        won = sum(1 for r in members if r.person.unit == unit
                  for o in r.titles if o.title == title and o.status in ("won", "proposed", "held"))
        items.append(CouncilItem(
            title=title, units=tuple(m for m, _ in sharing), kind="quota_tie",
            reason=Reason("person_quota_tie", {"members": len(sharing), "unit": unit, "place": first.place,
                                               "limit": first.quota_limit, "left": (first.quota_limit or 0) - won})))
    for title, ids in _members_with(members, AWAITING_OPINION).items():
        items.append(CouncilItem(title=title, units=tuple(ids), kind=AWAITING_OPINION,
                                 reason=Reason("council_awaiting_opinion", {"months": OPINION_MONTHS})))
    return items


def _members_with(members: Sequence[Any], status: str) -> dict[str, list[str]]:
    """Per person title (in the order first met), the members whose outcome has ``status``."""
    found: dict[str, list[str]] = {}
    for result in members:
        for outcome in result.titles:
            if outcome.status == status:
                found.setdefault(outcome.title, []).append(result.person.id)
    return found


# ---------------------------------------------------------------- quotas across clusters


def apply_across_clusters(policy: Policy, clusters: tuple[engine.ClusterResult, ...]
                          ) -> tuple[engine.ClusterResult, ...]:
    """The second stage of every title with ``across_clusters``, in policy order.

    The units proposed for the title (or holding it under a higher one) in all the clusters are
    placed together by the quota's ``order`` (ranking keys, each descending unless declared
    ascending): a unit's place is one more than the number of candidates strictly better on
    that key chain. At most ``share × clusters`` (rounded as the policy says) or ``count`` keep
    it (the Government flag: not more than 20 % of the cluster leaders, ND91 Art. 11 k1, applied up
    to 2023; domain.md §6.2).
    Candidates sharing the place at the cut, when it straddles the limit, are ``undecided`` and
    listed for the council in their cluster; those below are ``over_quota``. Each candidate's
    outcome gets the check ``across_clusters``; on a ladder, a unit that loses its proposed
    title is proposed for the highest title of that ladder it still holds."""
    for title in policy.titles:
        if title.across is not None:
            clusters = _across(policy, title, clusters)
    return clusters


def _across(policy: Policy, title: Title, clusters: tuple[engine.ClusterResult, ...]
            ) -> tuple[engine.ClusterResult, ...]:
    quota = title.across
    assert quota is not None
    candidates = [(c, u) for c, cluster in enumerate(clusters) for u, unit in enumerate(cluster.units)
                  if any(t.title == title.id and t.status in ("proposed", "held") for t in unit.titles)]
    limit, figure = quota_places(quota, len(clusters))

    def chain(c: int, u: int) -> list[Fraction]:
        env = clusters[c].units[u].score.env
        values = [exact(env[k.key.removeprefix("input.")]) for k in quota.order]  # type: ignore[arg-type]
        return [v if k.descending else -v for v, k in zip(values, quota.order, strict=True)]

    chains = [chain(c, u) for c, u in candidates]
    places = [1 + sum(1 for other in chains if other > mine) for mine in chains]
    statuses, cut = _cut(places, limit)
    won = statuses.count("in")
    status = {key: ("kept" if placed == "in" else placed, place)
              for key, place, placed in zip(candidates, places, statuses, strict=True)}
    tied = [key for key, (s, _) in status.items() if s == "undecided"]
    shown = _figure_text(quota.share) if quota.share is not None else None
    how = f"{shown} × {len(clusters)} clusters, {quota.rounding}" if shown is not None else "a count"
    facts = {"candidates": len(candidates), "clusters": len(clusters), "limit": limit}
    out = []
    for c, cluster in enumerate(clusters):
        units = list(cluster.units)
        for u, unit in enumerate(units):
            if (c, u) not in status:
                continue
            kind, place = status[(c, u)]
            check = CheckOutcome(
                check="across_clusters", plugin="thidua_rules.across", passed=kind == "kept",
                reason="" if kind == "kept" else Reason(
                    "across_undecided" if kind == "undecided" else "across_over_quota", {"place": place, **facts}),
                seen=MappingProxyType({"place": place, **facts, "raw": _figure_text(figure), "quota": how}))
            units[u] = _with_across(policy, unit, title, check, None if kind == "kept" else kind)
        council = list(cluster.council)
        here = tuple(clusters[c].units[u].id for cc, u in tied if cc == c)
        if here:
            council.append(CouncilItem(title=title.id, units=here, kind="quota_tie", reason=Reason(
                "across_quota_tie", {"units": len(tied), "tied_clusters": len({cc for cc, _ in tied}), "place": cut,
                                     "limit": limit, "clusters": len(clusters), "left": limit - won})))
        out.append(attrs.evolve(cluster, units=tuple(units), council=tuple(council)))
    return tuple(out)


def _figure_text(figure: Any) -> str:
    """A share or a quota's figure as the stage shows it: a Decimal without trailing zeros, a
    fraction as written (``share_text``)."""
    return f"{figure.normalize():f}" if isinstance(figure, Decimal) else share_text(figure)


def _with_across(policy: Policy, unit: engine.UnitResult, title: Title, check: CheckOutcome,
                 lost: str | None) -> engine.UnitResult:
    titles = list(unit.titles)
    index = next(i for i, t in enumerate(titles) if t.title == title.id)
    before = titles[index]
    titles[index] = attrs.evolve(before, status=lost or before.status, checks=(*before.checks, check))
    if lost is not None and before.status == "proposed" and title.ladder:
        ladder = {t.id for t in policy.titles if t.ladder == title.ladder}
        held = [i for i, t in enumerate(titles) if t.title in ladder and t.status == "held"]
        if held:  # the highest title of the ladder still held (titles are in policy order)
            titles[held[-1]] = attrs.evolve(titles[held[-1]], status="proposed")
    return attrs.evolve(unit, titles=tuple(titles), proposed=proposed_titles(policy, titles))


# ---------------------------------------------------------------- one cluster, a dataset


def evaluate_cluster(policy: Policy, cluster: Cluster) -> engine.ClusterResult:
    """One cluster: members → scores → the ranking vote → ranks → titles → leadership."""
    members = decide_people(policy, cluster)
    units, member_counts = derive_units(policy, cluster, members)

    layer_scores = by_unit(cluster.scores)
    scores = []
    problems: list[Issue] = []  # changes of scoring layers without a reason: all of them at once
    for unit in units:
        try:
            scores.append(score_unit(policy, unit, cluster.year, cluster.plugin_data or {},
                                     layer_scores.get(unit.id, ()))[0])
        except PolicyError as exc:
            problems.extend(exc.issues)
    if problems:
        raise PolicyError(problems)

    # A ``vote`` ranking key reads the ranking ballot: yes votes plus written-in votes.
    if any(k.key == "vote" for k in policy.ranking):
        ballot = next((b for b in cluster.ballots if b.title == RANKING_BALLOT), None)
        for score in scores:
            votes = 0 if ballot is None else ballot.yes.get(score.unit.id, 0) + ballot.written.get(score.unit.id, 0)
            score.env["vote"] = Decimal(votes)  # type: ignore[index]

    placed = rank_units(scores, policy.ranking)
    for place in placed:
        place.score.env["rank"] = Decimal(place.rank)  # type: ignore[index]
        place.score.env["cluster_size"] = Decimal(len(placed))  # type: ignore[index]
        place.score.env["tied"] = place.tied  # type: ignore[index]

    history = history_contexts(cluster, implied_titles(policy.titles))
    outcomes, council = decide_titles(policy, cluster, placed, history)
    council.extend(council_items(policy, members, scores))

    results = tuple(
        engine.UnitResult(id=p.score.unit.id, name=p.score.unit.name, cluster=cluster.id, rank=p.rank,
                          tied=p.tied, total=p.score.total, band=p.score.band,
                          proposed=proposed_titles(policy, outcomes[p.score.unit.id]), placed=p,
                          titles=tuple(outcomes[p.score.unit.id]))
        for p in placed)
    return engine.ClusterResult(
        id=cluster.id, name=cluster.name, year=cluster.year, units=results,
        leadership=choose_leadership(policy.leadership, cluster, placed), council=tuple(council),
        people=members, member_counts=MappingProxyType(dict(sorted(member_counts.items()))))


def evaluate(policy: Policy, data: Dataset) -> engine.Result:
    """Evaluate every cluster of ``data`` under ``policy`` by the reference semantics."""
    # The expressions run in the engine's decimal context, as in the production engine.
    with engine_context():
        done: list[engine.ClusterResult] = []
        problems: list[Issue] = []
        for cluster in data.clusters:
            try:
                done.append(evaluate_cluster(policy, cluster))
            except PolicyError as exc:  # scoring layers' changes without a reason: every cluster's at once
                problems.extend(exc.issues)
        if problems:
            raise PolicyError(problems)
        clusters = tuple(done)
        if any(t.across is not None for t in policy.titles):
            clusters = apply_across_clusters(policy, clusters)
    return engine.Result(engine_version=engine_version(), policy=policy, data_file=data.file,
                         data_sha256=data.sha256, plugins=policy.plugin_info, clusters=clusters)
