"""Scoring: one unit's inputs → points per criterion, group caps, bonuses, deductions, total, band."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import ROUND_HALF_UP, Decimal
from functools import lru_cache
from typing import Any

import attrs

from .decimals import ENGINE_CONTEXT, ZERO, quantum
from .errors import EvaluationError, ExpressionRuntimeError
from .model import Adjustment, Policy, Unit, Value


@attrs.frozen(kw_only=True)
class CriterionScore:
    """Points of one criterion for one unit, with what produced them."""

    id: str
    raw: Decimal          # before clamping and rounding
    score: Decimal        # clamped to [0, points], rounded half-up
    gated: bool           # the gate failed, so the criterion scores 0
    capped: bool          # the raw value fell outside [0, points]
    facts: Mapping[str, Any]
    override: str | None = None   # the plugin whose ``score_criterion`` produced the points


@attrs.frozen(kw_only=True)
class GroupScore:
    id: str
    sum: Decimal
    score: Decimal
    capped: bool


@attrs.frozen(kw_only=True)
class AdjustmentScore:
    id: str
    applies: bool
    raw: Decimal
    score: Decimal
    capped: bool


@attrs.frozen(kw_only=True)
class UnitScore:
    """Everything scoring computed for one unit; ``env`` is what later rules can read."""

    unit: Unit
    criteria: tuple[CriterionScore, ...]
    groups: tuple[GroupScore, ...]
    bonuses: tuple[AdjustmentScore, ...]
    deductions: tuple[AdjustmentScore, ...]
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
    except ExpressionRuntimeError as exc:
        raise EvaluationError(f"{exc.message}\n    | {exc.source}\n    | {' ' * exc.start}"
                              f"{'^' * max(1, exc.end - exc.start)}",
                              unit=unit.id, where=f"{policy.file}: {what}") from None
    except EvaluationError as exc:
        if exc.unit:
            raise
        raise EvaluationError(exc.message, unit=unit.id, where=f"{policy.file}: {what}") from None


def _adjust(policy: Policy, unit: Unit, env: dict[str, Value], items: tuple[Adjustment, ...],
            kind: str) -> tuple[AdjustmentScore, ...]:
    scores = []
    round_ = rounder(policy.precision)
    for item in items:
        what = f"{kind} '{item.id}'"
        applies = item.when is None or _run(f"{what} when", unit, policy, item.when.evaluate, env)
        raw = _run(f"{what} formula", unit, policy, item.formula.evaluate, env) if applies else ZERO
        clamped = max(raw, ZERO)
        if item.max is not None:
            clamped = min(clamped, item.max)
        score = round_(clamped)
        scores.append(AdjustmentScore(id=item.id, applies=bool(applies), raw=raw, score=score,
                                      capped=clamped != raw))
    return tuple(scores)


def score_unit(policy: Policy, unit: Unit, year: int,
               plugin_data: Mapping[str, Any] | None = None) -> UnitScore:
    """Score one unit. Each criterion is clamped to ``[0, points]`` and rounded half-up to the
    policy precision; sums are exact; then group caps, capped bonuses and deductions."""
    env: dict[str, Value] = dict(unit.values)
    env["year"] = Decimal(year)
    runtime = policy.runtime
    derived = runtime.derive(unit, env, plugin_data or {}) if runtime is not None else ()
    criteria = []
    by_group: dict[str, Decimal] = {}
    round_ = rounder(policy.precision)
    for criterion in policy.criteria:
        what = f"criterion '{criterion.id}'"
        gated = criterion.gate is not None and not _run(f"{what} gate", unit, policy,
                                                        criterion.gate.evaluate, env)
        overridden = None
        if gated:
            raw, facts = ZERO, {}
        elif criterion.override is not None and runtime is not None and (
                found := runtime.override(unit, criterion, env)) is not None:
            (raw, facts), overridden = found, criterion.override
        else:
            raw, facts = _run(what, unit, policy, criterion.scorer, env)
        clamped = min(max(raw, ZERO), criterion.points)
        score = round_(clamped)
        criteria.append(CriterionScore(id=criterion.id, raw=raw, score=score, gated=gated,
                                       capped=clamped != raw, facts=facts, override=overridden))
        by_group[criterion.group] = by_group.get(criterion.group, ZERO) + score
    groups = []
    total_score = by_group.get("", ZERO)
    for group in policy.groups:
        group_sum = by_group.get(group.id, ZERO)
        group_score = group_sum if group.max is None else min(group_sum, group.max)
        groups.append(GroupScore(id=group.id, sum=group_sum, score=group_score,
                                 capped=group_score != group_sum))
        total_score += group_score
    bonuses = _adjust(policy, unit, env, policy.bonuses, "bonus")
    deductions = _adjust(policy, unit, env, policy.deductions, "deduction")
    bonus_sum = sum((b.score for b in bonuses), ZERO)
    deduction_sum = sum((d.score for d in deductions), ZERO)
    bonus = bonus_sum if policy.bonus_max is None else min(bonus_sum, policy.bonus_max)
    deduction = deduction_sum if policy.deduction_max is None else min(deduction_sum, policy.deduction_max)
    total_raw = total_score + bonus - deduction
    total = total_raw if policy.total_max is None else min(total_raw, policy.total_max)

    for c in criteria:
        env[f"criterion.{c.id}"] = c.score
    for g in groups:
        env[f"group.{g.id}"] = g.score
    for b in bonuses:
        env[f"bonus.{b.id}"] = b.score
    for d in deductions:
        env[f"deduction.{d.id}"] = d.score
    env.update(score=total_score, bonus=bonus, deduction=deduction, total=total,
               zero_criteria=Decimal(sum(1 for c in criteria if c.score == 0)))

    band, skipped = None, []
    caps = runtime.caps(unit, env) if runtime is not None and runtime.cappers else ()
    ceiling = max((runtime.bands.index(c.band) for c in caps), default=0)
    for index, candidate in enumerate(policy.bands):
        if total < candidate.min or index < ceiling:
            continue
        if candidate.when is not None and not _run(f"band '{candidate.id}' when", unit, policy,
                                                   candidate.when.evaluate, env):
            skipped.append((candidate.id, candidate.when.source))
            continue
        band = candidate.id
        break
    env["band"] = band or ""
    return UnitScore(
        unit=unit, criteria=tuple(criteria), groups=tuple(groups), bonuses=bonuses,
        deductions=deductions, score=total_score, bonus_sum=bonus_sum, bonus=bonus,
        deduction_sum=deduction_sum, deduction=deduction, total_raw=total_raw, total=total,
        band=band, band_skipped=tuple(skipped), env=env, derived=derived, band_caps=caps,
    )
