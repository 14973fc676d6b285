"""Scoring layers: the computed score of a criterion → claims beside it, changes after it → the final score.

The engine's own score (from the inputs) is the base layer ``computed``. The policy's layers
(``[[scoring.layers]]``) apply after it in their declared order: a ``claim`` layer (the unit's
self-score, tự chấm) is shown beside the current score and changes nothing; a ``change`` layer
(cross-inspection, kiểm tra chéo; the council) replaces it. Every score of a change layer that
differs from the score it replaces needs a reason. Several scorers of a layer are reconciled by
the layer's declared rule. See docs/layers.md.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

import attrs

from .decimals import round_half_up
from .errors import Issue
from .messages import Reason
from .model import LayerScore, Policy, ScoreLayer
from .tomlfmt import toml_value

#: The base layer: the score the engine computes from the inputs. No declared layer may use it.
COMPUTED = "computed"


def spread_of(entries: list[LayerScore]) -> Decimal:
    scores = [e.score for e in entries]
    return max(scores) - min(scores)


def scores_text(entries: list[LayerScore]) -> str:
    """``a: 7, b: 10``: each scorer's score, by scorer."""
    return ", ".join(f"{e.scorer}: {toml_value(e.score)}" for e in sorted(entries, key=lambda e: e.scorer))


def by_unit(scores: tuple[LayerScore, ...]) -> Mapping[str, tuple[LayerScore, ...]]:
    """The scores of each unit, in their checked order."""
    found: dict[str, list[LayerScore]] = {}
    for record in scores:
        found.setdefault(record.unit, []).append(record)
    return {unit: tuple(records) for unit, records in found.items()}


@attrs.frozen(kw_only=True)
class LayerStep:
    """What one layer did to one criterion of one unit.

    ``applied`` is ``computed`` (the base layer), ``claim`` (shown beside the score), ``given``
    (one scorer's score replaces it), ``mean``/``min``/``max`` (the scorers agreed within the
    rule), ``third`` (a third scorer decided) or ``council`` (undecided: the score is kept and
    the council decides). ``score`` is the criterion's score after the layer; for a claim,
    ``difference`` is the claimed score minus it.
    """

    layer: str
    kind: str
    applied: str
    score: Decimal
    entries: tuple[LayerScore, ...] = ()
    difference: Decimal | None = None
    spread: Decimal | None = None


@attrs.frozen(kw_only=True)
class CriterionLayers:
    """A criterion's layers, from the computed score to the final one."""

    criterion: str
    steps: tuple[LayerStep, ...]

    @property
    def final(self) -> Decimal:
        """The score after the last change (claims change nothing)."""
        return next(s.score for s in reversed(self.steps) if s.kind != "claim")

    @property
    def undecided(self) -> tuple[LayerStep, ...]:
        """The layers left to the council."""
        return tuple(s for s in self.steps if s.applied == "council")


def apply_layers(policy: Policy, scores: Sequence[LayerScore], criterion_id: str,
                 computed: Decimal) -> tuple[CriterionLayers, list[Issue]]:
    """The layers of one criterion of one unit (``scores``: its checked scores) after the
    computed score, and the problems found (a change without a reason)."""
    steps = [LayerStep(layer=COMPUTED, kind=COMPUTED, applied=COMPUTED, score=computed)]
    issues: list[Issue] = []
    current = computed
    points = next(c.points for c in policy.criteria if c.id == criterion_id)

    def shown(value: Decimal) -> str:
        return toml_value(round_half_up(value, policy.precision))

    for layer in policy.layers:
        entries = tuple(s for s in scores if s.layer == layer.id)
        if not entries:
            continue
        if layer.kind == "claim":
            claimed = entries[0].score
            steps.append(LayerStep(layer=layer.id, kind="claim", applied="claim", score=claimed,
                                   entries=entries, difference=claimed - current))
            continue
        for entry in entries:
            if entry.score != current and not entry.reason.strip():
                issues.append(Issue(
                    file=entry.file, path=entry.path,
                    message=f"missing 'reason': layer '{layer.id}' changes criterion '{criterion_id}' of "
                            f"'{entry.unit}' from {shown(current)} to {shown(entry.score)}; "
                            "say why the score differs"))
        step = _change(policy, layer, entries, current)
        # A score is clamped to [0, points] like any criterion score (the data's are, already).
        score = min(max(step.score, Decimal(0)), points)
        steps.append(attrs.evolve(step, score=score))
        current = score
    return CriterionLayers(criterion=criterion_id, steps=tuple(steps)), issues


def _change(policy: Policy, layer: ScoreLayer, entries: tuple[LayerScore, ...], current: Decimal) -> LayerStep:
    rule = layer.reconcile
    regular = [e for e in entries if not e.third]
    if rule is None or len(regular) == 1:
        return LayerStep(layer=layer.id, kind="change", applied="given", score=regular[0].score, entries=entries)
    spread = spread_of(regular)
    values = [e.score for e in regular]
    if spread <= rule.within:
        if rule.use == "mean":
            # Exact Decimal mean, rounded half-up to the policy precision like a criterion score.
            total = sum(values, Decimal(0))
            score = round_half_up(total / Decimal(len(values)), policy.precision)
        else:
            score = min(values) if rule.use == "min" else max(values)
        return LayerStep(layer=layer.id, kind="change", applied=rule.use, score=score, entries=entries,
                         spread=spread)
    third = next((e for e in entries if e.third), None)
    if third is not None:
        return LayerStep(layer=layer.id, kind="change", applied="third", score=third.score, entries=entries,
                         spread=spread)
    # otherwise = "council" (the loader requires the third scorer of otherwise = "third").
    return LayerStep(layer=layer.id, kind="change", applied="council", score=current, entries=entries,
                     spread=spread)


def council_reason(policy: Policy, layers: CriterionLayers, step: LayerStep) -> Reason:
    """Why a criterion of a unit waits for the council: code ``score_undecided`` (its English
    text is the result's reason, like the other council reasons)."""
    rule = next(layer.reconcile for layer in policy.layers if layer.id == step.layer)
    assert rule is not None and step.spread is not None
    regular = [e for e in step.entries if not e.third]
    return Reason("score_undecided", {"criterion": layers.criterion, "layer": step.layer,
                                      "spread": toml_value(step.spread), "scores": scores_text(regular),
                                      "within": toml_value(rule.within), "score": toml_value(step.score)})


class UnitLayers:
    """One unit's layered scores while it is scored: :meth:`apply` per criterion gives the final
    score and keeps what the layers did (``outcomes``) and the problems found (``issues``)."""

    def __init__(self, policy: Policy, scores: Sequence[LayerScore]) -> None:
        self.policy = policy
        self.by_criterion: dict[str, list[LayerScore]] = {}
        for record in scores:
            self.by_criterion.setdefault(record.criterion, []).append(record)
        self.outcomes: list[CriterionLayers] = []
        self.issues: list[Issue] = []

    def apply(self, criterion_id: str, computed: Decimal) -> Decimal:
        outcome, issues = apply_layers(self.policy, self.by_criterion[criterion_id], criterion_id, computed)
        self.outcomes.append(outcome)
        self.issues.extend(issues)
        return outcome.final


def layers_document(layers: CriterionLayers, fmt: Any) -> list[dict[str, Any]]:
    """A criterion's layers as the result document holds them (``fmt``: the policy's number format)."""
    out: list[dict[str, Any]] = []
    for step in layers.steps:
        entry: dict[str, Any] = {"layer": step.layer, "kind": step.kind, "applied": step.applied,
                                 "score": fmt(step.score)}
        if step.difference is not None:
            entry["difference"] = fmt(step.difference)  # the claim minus the score beside it
        if step.spread is not None:
            entry["spread"] = fmt(step.spread)
        if step.entries:
            used = _used(step)
            entry["scores"] = [{"scorer": e.scorer, "score": fmt(e.score), "reason": e.reason,
                                **({"third": True} if e.third else {}),
                                **({"used": e in used} if step.kind == "change" else {})}
                               for e in step.entries]
        out.append(entry)
    return out


def _used(step: LayerStep) -> tuple[LayerScore, ...]:
    """The scores a change layer's result was made from."""
    regular = tuple(e for e in step.entries if not e.third)
    if step.applied in ("given", "mean"):
        return regular
    if step.applied in ("min", "max"):
        return tuple(e for e in regular if e.score == step.score)
    if step.applied == "third":
        return tuple(e for e in step.entries if e.third)
    return ()
