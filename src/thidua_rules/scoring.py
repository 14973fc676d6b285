"""Scoring: one unit's inputs → points per criterion, group caps, bonuses, deductions, total, band."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Context, Decimal, getcontext
from functools import partial
from types import MappingProxyType
from typing import Any

import attrs

from .decimals import ENGINE_CONTEXT, ZERO, engine_context, quantum
from .errors import EvaluationError, ExpressionRuntimeError, Issue, PolicyError
from .kernel import build_kernel
from .layers import CriterionLayers, UnitLayers
from .model import LayerScore, Policy, Unit, Value
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
#: The plugin data of a cluster that has none.
_NO_DATA: Mapping[str, Any] = MappingProxyType({})
#: Decimal(n) for small counts, made once (equal values, the same digits).
_SMALL = tuple(Decimal(n) for n in range(256))


class _Plan:
    """What scoring every unit under one policy shares, made once per policy (in its
    :class:`~thidua_rules.plans.Program`): the policy's generated kernel (:mod:`kernel`), and
    the kernel for units with scoring layers, made when the first such unit is scored."""

    def __init__(self, policy: Policy) -> None:
        self.policy = policy
        # The names the scores are stored under in ``env``, in the order they are written.
        self.keys = (tuple(f"criterion.{c.id}" for c in policy.criteria),
                     tuple(f"group.{g.id}" for g in policy.groups),
                     tuple(f"bonus.{a.id}" for a in policy.bonuses),
                     tuple(f"deduction.{a.id}" for a in policy.deductions))
        self.kernel = self._build(layered=False)
        self._layered: Any = None

    def _build(self, *, layered: bool) -> Any:
        return build_kernel(self.policy, keys=self.keys, quantum=quantum(self.policy.precision), context=_CONTEXT,
                            make_score=_unit_score, no_facts=_NO_FACTS, small=_SMALL, zero=ZERO,
                            fail=partial(_failure, policy=self.policy), layered=layered)

    def layered_kernel(self) -> Any:
        """``kernel(unit, env, data, layers)``: the same scoring, each layered criterion's score
        replaced by the one its layers give."""
        if self._layered is None:
            self._layered = self._build(layered=True)
        return self._layered


def _plan(policy: Policy) -> _Plan:
    return plan_for("scoring", policy, _Plan)


_YEARS: dict[int, Decimal] = {}


def small_decimal(n: int) -> Decimal:
    """``Decimal(n)`` for a count (zero criteria, a rank, a cluster size): the small ones made once."""
    return _SMALL[n] if n < len(_SMALL) else Decimal(n)


def score_unit(policy: Policy, unit: Unit, year: int,
               plugin_data: Mapping[str, Any] | None = None) -> UnitScore:
    """Score one unit. Each criterion is clamped to ``[0, points]`` and rounded half-up to the
    policy precision; sums are exact; then group caps, capped bonuses and deductions, the total
    and its cap, and the band. See :func:`score_units`."""
    return score_units(policy, (unit,), year, plugin_data)[0]


def score_units(policy: Policy, units: Sequence[Unit], year: int,
                plugin_data: Mapping[str, Any] | None = None,
                layer_scores: Mapping[str, Sequence[LayerScore]] | None = None) -> list[UnitScore]:
    """:func:`score_unit` of each of ``units`` (one cluster's), by the policy's generated kernel
    (:mod:`kernel`), the one code that scores units. A unit with ``layer_scores`` (per unit id)
    gets its criteria's final scores from its layers (a :class:`LayeredUnitScore`); the layer
    problems of all such units are raised at once, as one :class:`PolicyError`.

    The arithmetic is the engine's own, :data:`~thidua_rules.decimals.ENGINE_CONTEXT`, whatever
    decimal context the calling thread has: a caller's other precision, rounding or traps never
    change a score (``evaluate`` computes in it too).

    :raises EvaluationError: a rule failed at run time (it names the policy file, the rule and
        the unit), or a plugin's hook did (naming the plugin, the hook and the unit).
    :raises PolicyError: a scoring layer's change without a reason, and the like.
    """
    if not _engine_arithmetic(getcontext()):
        with engine_context():
            return score_units(policy, units, year, plugin_data, layer_scores)
    plan = _plan(policy)
    data = plugin_data or _NO_DATA
    if layer_scores:
        return _score_with_layers(plan, units, year, data, layer_scores)
    kernel = plan.kernel
    return [kernel(unit, _environment(unit, year), data) for unit in units]


_ENGINE_ARITHMETIC = (ENGINE_CONTEXT.prec, ENGINE_CONTEXT.rounding, ENGINE_CONTEXT.Emax, ENGINE_CONTEXT.Emin,
                      ENGINE_CONTEXT.clamp)


def _engine_arithmetic(context: Context) -> bool:
    """Whether ``context`` computes as the engine's does (:func:`decimals.engine_context`): then
    scoring runs in it as it is, without entering a context of its own. The kernel remembers
    outcomes (see ``kernel._memoized``), which holds only for that one arithmetic."""
    return (context.prec, context.rounding, context.Emax, context.Emin, context.clamp) == _ENGINE_ARITHMETIC \
        and context.traps == ENGINE_CONTEXT.traps


def _score_with_layers(plan: _Plan, units: Sequence[Unit], year: int, data: Mapping[str, Any],
                       scores: Mapping[str, Sequence[LayerScore]]) -> list[UnitScore]:
    results: list[UnitScore] = []
    problems: list[Issue] = []
    for unit in units:
        entries = scores.get(unit.id)
        if not entries:
            results.append(plan.kernel(unit, _environment(unit, year), data))
            continue
        layers = UnitLayers(plan.policy, entries)
        result = plan.layered_kernel()(unit, _environment(unit, year), data, layers)
        if layers.issues:
            problems.extend(layers.issues)
            continue
        results.append(LayeredUnitScore(**{f.name: getattr(result, f.name) for f in attrs.fields(UnitScore)},
                                        layers=tuple(layers.outcomes)))
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
