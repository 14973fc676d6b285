"""Scoring: one unit's inputs → points per criterion, group caps, bonuses, deductions, total, band."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import ROUND_HALF_UP, Context, Decimal, getcontext
from functools import lru_cache
from types import MappingProxyType
from typing import Any

import attrs

from .decimals import ENGINE_CONTEXT, ZERO, quantum
from .errors import EvaluationError, ExpressionRuntimeError, Issue, PolicyError
from .kernel import build_kernel
from .layers import CriterionLayers, UnitLayers
from .model import Adjustment, LayerScore, Policy, Unit, Value
from .plans import plan_for
from .records import fast_init


@attrs.frozen(kw_only=True, weakref_slot=False)  # made per unit: see records.fast_init
class CriterionScore:
    """Points of one criterion for one unit, with what produced them."""

    id: str
    raw: Decimal          # before clamping and rounding
    score: Decimal        # clamped to [0, points], rounded half-up
    gated: bool           # the gate failed, so the criterion scores 0
    capped: bool          # the raw value fell outside [0, points]
    facts: Mapping[str, Any]
    override: str | None = None   # the plugin whose ``score_criterion`` produced the points


@attrs.frozen(kw_only=True, weakref_slot=False)  # made per unit: see records.fast_init
class GroupScore:
    id: str
    sum: Decimal
    score: Decimal
    capped: bool


@attrs.frozen(kw_only=True, weakref_slot=False)  # made per unit: see records.fast_init
class AdjustmentScore:
    id: str
    applies: bool
    raw: Decimal
    score: Decimal
    capped: bool


#: A criterion's outcome as a plain tuple, in :class:`CriterionScore` field order
#: (id, raw, score, gated, capped, facts, override); groups and adjustments likewise.
CriterionRow = tuple[str, Decimal, Decimal, bool, bool, Mapping[str, Any], "str | None"]
GroupRow = tuple[str, Decimal, Decimal, bool]
AdjustmentRow = tuple[str, bool, Decimal, Decimal, bool]


@attrs.frozen(kw_only=True, weakref_slot=False)  # made per unit: see records.fast_init
class UnitScore:
    """Everything scoring computed for one unit; ``env`` is what later rules can read.

    The outcome of each criterion, group and adjustment is kept as a plain tuple (``*_rows``, in
    the field order of its record class): scoring a unit makes a dozen of them, and a tuple costs
    a fraction of a record. ``criteria``, ``groups``, ``bonuses`` and ``deductions`` give the
    records, made when asked for; the writers read the rows.
    """

    unit: Unit
    criterion_rows: tuple[CriterionRow, ...]
    group_rows: tuple[GroupRow, ...]
    bonus_rows: tuple[AdjustmentRow, ...]
    deduction_rows: tuple[AdjustmentRow, ...]
    score: Decimal
    bonus_sum: Decimal
    bonus: Decimal
    deduction_sum: Decimal
    deduction: Decimal
    total_raw: Decimal
    total: Decimal
    band: str | None
    band_skipped: tuple[tuple[str, str], ...]   # bands whose minimum was reached but whose `when` failed
    env: Mapping[str, Value]
    derived: tuple[Any, ...] = ()      # plugins.Derived: inputs computed by plugins
    band_caps: tuple[Any, ...] = ()    # plugins.BandCap: ceilings plugins put on the band

    @property
    def criteria(self) -> tuple[CriterionScore, ...]:
        return tuple([_criterion_score(*row) for row in self.criterion_rows])

    @property
    def groups(self) -> tuple[GroupScore, ...]:
        return tuple([_group_score(*row) for row in self.group_rows])

    @property
    def bonuses(self) -> tuple[AdjustmentScore, ...]:
        return tuple([_adjustment_score(*row) for row in self.bonus_rows])

    @property
    def deductions(self) -> tuple[AdjustmentScore, ...]:
        return tuple([_adjustment_score(*row) for row in self.deduction_rows])


@attrs.frozen(kw_only=True, weakref_slot=False)
class LayeredUnitScore(UnitScore):
    """A unit's score whose criteria have scoring layers (``[[scores]]``, see :mod:`layers`):
    ``layers`` tells, per such criterion, how the computed score became the final one."""

    layers: tuple[CriterionLayers, ...] = ()


_criterion_score = fast_init(CriterionScore)
_group_score = fast_init(GroupScore)
_adjustment_score = fast_init(AdjustmentScore)
_unit_score = fast_init(UnitScore)


#: Quantizing with this context gives the digits ``decimals.round_half_up`` gives (the same
#: precision, traps and explicit half-up rounding) without entering a local context per number.
#: A private copy, because quantizing records flags in the context it is given.
_CONTEXT = ENGINE_CONTEXT.copy()


@lru_cache(maxsize=16)
def rounder(places: int) -> Any:
    """``round_half_up(value, places)`` as a one-argument function, built once per precision."""
    q = quantum(places)
    quantize = Decimal.quantize
    context = _CONTEXT

    def round_(value: Decimal) -> Decimal:
        return quantize(value, q, ROUND_HALF_UP, context)

    return round_


def _run(what: str, unit: Unit, policy: Policy, fn: Any, *args: Any) -> Any:
    """Call a compiled rule; a run-time failure names the policy file, the rule and the unit."""
    try:
        return fn(*args)
    except (ExpressionRuntimeError, EvaluationError) as exc:
        error = _failure(exc, what, unit, policy)
        if error is None:
            raise
        raise error from None


def _failure(exc: ExpressionRuntimeError | EvaluationError, what: str, unit: Unit,
             policy: Policy) -> EvaluationError | None:
    """The error a rule's run-time failure becomes (``None``: re-raise it, it names its unit)."""
    if isinstance(exc, ExpressionRuntimeError):
        return EvaluationError(exc.message, detail=exc.caret_lines(), unit=unit.id, where=f"{policy.file}: {what}")
    if exc.unit:
        return None
    # A plugin function's fault names the plugin already (``where``); it lacks only the unit.
    return EvaluationError(exc.message, unit=unit.id, where=exc.where or f"{policy.file}: {what}")


#: Facts of a gated criterion: empty and read-only, shared.
_NO_FACTS: Mapping[str, Any] = MappingProxyType({})


class _Plan:
    """What scoring every unit under one policy shares, worked out once per policy: the compiled
    functions (called directly, without ``CompiledExpression.evaluate``), the names each result is
    stored under in ``env`` and the rule descriptions errors name."""

    def __init__(self, policy: Policy) -> None:
        self.policy = policy
        self.round = rounder(policy.precision)
        self.quantum = quantum(policy.precision)
        self.criteria = tuple(
            (c, c.id, c.group, None if c.gate is None else c.gate._fn, c.scorer, c.points,
             c.override, f"criterion '{c.id}'", f"criterion '{c.id}' gate", f"criterion.{c.id}")
            for c in policy.criteria)
        self.groups = tuple((g.id, g.max, f"group.{g.id}") for g in policy.groups)
        self.bonuses = self._adjustments(policy.bonuses, "bonus")
        self.deductions = self._adjustments(policy.deductions, "deduction")
        self.bands = tuple(
            (b.id, b.min, None if b.when is None else b.when._fn,
             None if b.when is None else b.when.source, f"band '{b.id}' when")
            for b in policy.bands)
        # The names the scores are stored under in ``env``, in the order they are written.
        self.criterion_keys = tuple(item[9] for item in self.criteria)
        self.group_keys = tuple(item[2] for item in self.groups)
        self.bonus_keys = tuple(item[6] for item in self.bonuses)
        self.deduction_keys = tuple(item[6] for item in self.deductions)
        #: The policy's scoring as one generated function, when it has no plugin hooks in scoring.
        self.kernel = build_kernel(
            policy, keys=(self.criterion_keys, self.group_keys, self.bonus_keys, self.deduction_keys),
            quantum=self.quantum, context=_CONTEXT, make_score=_unit_score, no_facts=_NO_FACTS,
            small=_SMALL, zero=ZERO)

    @staticmethod
    def _adjustments(items: tuple[Adjustment, ...], kind: str) -> tuple[Any, ...]:
        return tuple(
            (a.id, None if a.when is None else a.when._fn, a.raw, a.max,
             f"{kind} '{a.id}' when", f"{kind} '{a.id}' formula", f"{kind}.{a.id}")
            for a in items)


def _plan(policy: Policy) -> _Plan:
    return plan_for("scoring", policy, _Plan)


def _adjust(plan: _Plan, unit: Unit, env: dict[str, Value],
            items: tuple[Any, ...]) -> tuple[tuple[AdjustmentRow, ...], list[Decimal], Decimal]:
    """The adjustments' outcomes, their rounded scores and the sum of those (``ZERO + s1 + s2…``)."""
    scores = []
    points = []
    round_ = plan.round
    what = ""
    try:
        for item_id, when, formula, item_max, what_when, what_formula, _key in items:
            what = what_when
            applies = when is None or when(env, None)
            if applies:
                what = what_formula
                raw = formula(env, None)
            else:
                raw = ZERO
            clamped = ZERO if raw <= ZERO else raw  # max(raw, ZERO), without the call (-0 becomes 0)
            if item_max is not None and clamped > item_max:
                clamped = item_max
            score = round_(clamped)
            scores.append((item_id, bool(applies), raw, score, clamped != raw))
            points.append(score)
    except (ExpressionRuntimeError, EvaluationError) as exc:
        error = _failure(exc, what, unit, plan.policy)
        if error is None:
            raise
        raise error from None
    total = ZERO
    for score in points:
        total += score
    return tuple(scores), points, total


_YEARS: dict[int, Decimal] = {}
#: Decimal(n) for small counts, made once (equal values, the same digits).
_SMALL = tuple(Decimal(n) for n in range(256))


def small_decimal(n: int) -> Decimal:
    """``Decimal(n)`` for a count (zero criteria, a rank, a cluster size): the small ones made once."""
    return _SMALL[n] if n < len(_SMALL) else Decimal(n)


def score_unit(policy: Policy, unit: Unit, year: int,
               plugin_data: Mapping[str, Any] | None = None) -> UnitScore:
    """Score one unit. Each criterion is clamped to ``[0, points]`` and rounded half-up to the
    policy precision; sums are exact; then group caps, capped bonuses and deductions.

    The policy's generated kernel (:mod:`kernel`) does it when the policy allows; the loops
    (:func:`score_unit_loops`) are the straightforward path, and give the errors: a unit the
    kernel fails on is scored again by them."""
    return score_units(policy, (unit,), year, plugin_data)[0]


def score_units(policy: Policy, units: Sequence[Unit], year: int,
                plugin_data: Mapping[str, Any] | None = None,
                layer_scores: Mapping[str, Sequence[LayerScore]] | None = None) -> list[UnitScore]:
    """:func:`score_unit` of each of ``units`` (one cluster's), the plan looked up once: by the
    kernel, or by the loops for a unit the kernel fails on (they name the rule) and for every
    unit of a policy without a kernel. A unit with ``layer_scores`` (per unit id) is scored by
    the loops, which apply its layers; the problems of all such units are raised at once."""
    if layer_scores:
        return _score_with_layers(policy, units, year, plugin_data, layer_scores)
    kernel = _plan(policy).kernel
    if kernel is None or not _engine_arithmetic(getcontext()):
        return [score_unit_loops(policy, unit, year, plugin_data) for unit in units]
    scores: list[UnitScore] = []
    append = scores.append
    for unit in units:
        try:
            append(kernel(unit, _environment(unit, year)))
        except Exception:  # noqa: BLE001 - scored again below, which names the rule and the unit
            append(score_unit_loops(policy, unit, year, plugin_data))
    return scores


_ENGINE_ARITHMETIC = (ENGINE_CONTEXT.prec, ENGINE_CONTEXT.rounding, ENGINE_CONTEXT.Emax, ENGINE_CONTEXT.Emin,
                      ENGINE_CONTEXT.clamp)


def _engine_arithmetic(context: Context) -> bool:
    """Whether ``context`` computes as the engine's does (:func:`decimals.engine_context`). The
    kernel remembers outcomes (see ``kernel._memoized``), which holds only for one arithmetic:
    in another context (a caller's own) the loops score every unit."""
    return (context.prec, context.rounding, context.Emax, context.Emin, context.clamp) == _ENGINE_ARITHMETIC \
        and context.traps == ENGINE_CONTEXT.traps


def _score_with_layers(policy: Policy, units: Sequence[Unit], year: int, plugin_data: Mapping[str, Any] | None,
                       scores: Mapping[str, Sequence[LayerScore]]) -> list[UnitScore]:
    results: list[UnitScore] = []
    problems: list[Issue] = []
    for unit in units:
        entries = scores.get(unit.id)
        if not entries:
            results.extend(score_units(policy, (unit,), year, plugin_data))
            continue
        try:
            results.append(score_unit_loops(policy, unit, year, plugin_data, entries))
        except PolicyError as exc:
            problems.extend(exc.issues)
    if problems:
        raise PolicyError(problems)
    return results


def _environment(unit: Unit, year: int) -> dict[str, Value]:
    """The unit's inputs and ``year``, in a new dict that scoring fills."""
    values = unit.values
    # A mapping proxy's copy is its dict's copy: the same items in the same order, made faster.
    env: dict[str, Value] = values.copy() if type(values) is MappingProxyType else dict(values)
    if type(env) is not dict:
        env = dict(env)
    year_value = _YEARS.get(year)
    if year_value is None:
        year_value = _YEARS[year] = Decimal(year)
    env["year"] = year_value
    return env


def score_unit_loops(policy: Policy, unit: Unit, year: int,
                     plugin_data: Mapping[str, Any] | None = None,
                     layer_scores: Sequence[LayerScore] = ()) -> UnitScore:
    """:func:`score_unit` the straightforward way, rule by rule, for every policy; with the
    unit's ``layer_scores``, each layered criterion's final score is the one its layers give
    (before group caps, totals and bands), and a :class:`LayeredUnitScore` tells how."""
    plan = _plan(policy)
    layered = UnitLayers(policy, layer_scores) if layer_scores else None
    env = _environment(unit, year)
    runtime = policy.runtime
    derived = runtime.derive(unit, env, plugin_data or {}) if runtime is not None and runtime.derivers else ()
    criteria = []
    scores = []
    zero_criteria = 0
    by_group: dict[str, Decimal] = {}
    # plan.round, inlined: the same quantize, without a call per criterion
    quantize, q, context = Decimal.quantize, plan.quantum, _CONTEXT
    what = ""
    try:
        for (criterion, criterion_id, group, gate, scorer, points, override, what_score, what_gate,
             _key) in plan.criteria:
            overridden = None
            if gate is not None:
                what = what_gate
                gated = not gate(env, None)
            else:
                gated = False
            if gated:
                raw, facts = ZERO, _NO_FACTS
            elif override is not None and runtime is not None and (
                    found := runtime.override(unit, criterion, env)) is not None:
                (raw, facts), overridden = found, override
            else:
                what = what_score
                raw, facts = scorer(env)
            clamped = ZERO if raw <= ZERO else raw  # min(max(raw, ZERO), points) (-0 becomes 0),
            if clamped > points:  # without the calls, to the digit
                clamped = points
            score = quantize(clamped, q, ROUND_HALF_UP, context)
            if layered is not None and criterion_id in layered.by_criterion:
                score = layered.apply(criterion_id, score)
            criteria.append((criterion_id, raw, score, gated, clamped != raw, facts, overridden))
            scores.append(score)
            if not score:  # score == 0, without converting the 0
                zero_criteria += 1
            by_group[group] = by_group.get(group, ZERO) + score
    except (ExpressionRuntimeError, EvaluationError) as exc:
        error = _failure(exc, what, unit, policy)
        if error is None:
            raise
        raise error from None
    # ``min(a, cap)`` below is written ``cap if cap < a else a``: the same object, without the call.
    groups = []
    group_scores = []
    total_score = by_group.get("", ZERO)
    for group_id, group_max, _key in plan.groups:
        group_sum = by_group.get(group_id, ZERO)
        group_score = group_sum if group_max is None or not group_max < group_sum else group_max
        groups.append((group_id, group_sum, group_score, group_score != group_sum))
        group_scores.append(group_score)
        total_score += group_score
    bonuses, bonus_scores, bonus_sum = _adjust(plan, unit, env, plan.bonuses)
    deductions, deduction_scores, deduction_sum = _adjust(plan, unit, env, plan.deductions)
    cap = policy.bonus_max
    bonus = bonus_sum if cap is None or not cap < bonus_sum else cap
    cap = policy.deduction_max
    deduction = deduction_sum if cap is None or not cap < deduction_sum else cap
    total_raw = total_score + bonus - deduction
    cap = policy.total_max
    total = total_raw if cap is None or not cap < total_raw else cap

    # The same keys, in the same order, as the straightforward code wrote them.
    env.update(zip(plan.criterion_keys, scores, strict=True))
    env.update(zip(plan.group_keys, group_scores, strict=True))
    env.update(zip(plan.bonus_keys, bonus_scores, strict=True))
    env.update(zip(plan.deduction_keys, deduction_scores, strict=True))
    env.update(score=total_score, bonus=bonus, deduction=deduction, total=total,
               zero_criteria=small_decimal(zero_criteria))

    band, skipped = None, []
    caps = runtime.caps(unit, env) if runtime is not None and runtime.cappers else ()
    ceiling = max((runtime.bands.index(c.band) for c in caps), default=0) if caps else 0
    what = ""
    try:
        for index, (band_id, band_min, when, when_source, what_when) in enumerate(plan.bands):
            if total < band_min or index < ceiling:
                continue
            if when is not None:
                what = what_when
                if not when(env, None):
                    skipped.append((band_id, when_source))
                    continue
            band = band_id
            break
    except (ExpressionRuntimeError, EvaluationError) as exc:
        error = _failure(exc, what, unit, policy)
        if error is None:
            raise
        raise error from None
    env["band"] = band or ""
    result = _unit_score(unit, tuple(criteria), tuple(groups), bonuses, deductions, total_score, bonus_sum,
                         bonus, deduction_sum, deduction, total_raw, total, band, tuple(skipped), env,
                         derived, caps)
    if layered is None:
        return result
    if layered.issues:
        raise PolicyError(layered.issues)
    return LayeredUnitScore(**{f.name: getattr(result, f.name) for f in attrs.fields(UnitScore)},
                            layers=tuple(layered.outcomes))
