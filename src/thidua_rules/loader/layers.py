"""``[[scoring.layers]]`` of a policy and ``[[scores]]`` of a data file → checked layers and scores."""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

from ..errors import did_you_mean
from ..extensions import type_name
from ..layers import COMPUTED, scores_text, spread_of
from ..model import LayerScore, Policy, Reconcile, ScoreLayer
from ..tomlfmt import toml_value
from . import keys as policy_keys
from .common import Issues, check_id, item_path, take

_SCORES_INDEX = re.compile(r"scores\[(\d+)\]")

SCORE_KEYS = {
    "layer": ("str", True), "unit": ("str", True), "criterion": ("str", True), "score": ("number", True),
    "scorer": ("str", False), "reason": ("str", False), "third": ("bool", False),
    "note": ("str", False), "source": ("str", False),
}


def compile_layers(issues: Issues, items: Any) -> tuple[ScoreLayer, ...]:
    """The policy's ``[[scoring.layers]]``, in their order (the order they apply in)."""
    layers = []
    seen: set[str] = {COMPUTED}
    for i, item in enumerate(items):
        path = item_path("scoring.layers", i, item)
        values = take(issues, path, item, policy_keys.LAYER)
        if values is None or "id" not in values:
            continue
        if values["id"] == COMPUTED:
            issues.add(f"{path}.id", f"'{COMPUTED}' is the engine's own score (the base layer); "
                       "give the layer another id")
            continue
        layer_id = check_id(issues, path, values["id"], seen, "layer")
        kind = values.get("kind", "change")
        if kind not in policy_keys.LAYER_KINDS:
            issues.add(f"{path}.kind", f"unknown layer kind '{kind}'"
                       f"{did_you_mean(kind, policy_keys.LAYER_KINDS)}; use 'change' or 'claim'")
            continue
        reconcile = None
        if "reconcile" in values:
            if kind == "claim":
                issues.add(f"{path}.reconcile", "a claim layer changes no score: it takes one score "
                           "per unit and criterion and no 'reconcile' rule")
                continue
            reconcile = _reconcile(issues, f"{path}.reconcile", values["reconcile"])
            if reconcile is None:
                continue
        if layer_id is not None:
            layers.append(ScoreLayer(id=layer_id, name=values.get("name", layer_id), kind=kind,
                                     reconcile=reconcile))
    return tuple(layers)


def _reconcile(issues: Issues, path: str, table: Any) -> Reconcile | None:
    values = take(issues, path, table, policy_keys.RECONCILE)
    if values is None or {"within", "otherwise"} - set(values):
        return None
    ok = True
    within = Decimal(values["within"])
    if within < 0:
        issues.add(f"{path}.within", f"expected a number >= 0, got {toml_value(within)}")
        ok = False
    for key, allowed, default in (("use", policy_keys.RECONCILE_USE, "mean"),
                                  ("otherwise", policy_keys.RECONCILE_OTHERWISE, None)):
        given = values.get(key, default)
        if given not in allowed:
            issues.add(f"{path}.{key}", f"unknown rule '{given}'{did_you_mean(str(given), allowed)}; "
                       f"use one of {', '.join(repr(a) for a in allowed)}")
            ok = False
    if not ok:
        return None
    return Reconcile(within=within, use=values.get("use", "mean"), otherwise=values["otherwise"])


def check_scores(issues: Issues, path: str, items: Any, ids: set[str], policy: Policy) -> tuple[LayerScore, ...]:
    """The data's ``[[scores]]``, checked against the policy's layers and criteria and the units.

    What does not depend on the computed scores is checked here, all at once: the names, the
    score's range and precision, one score per scorer, and the reconciliation rule's needs (a
    third scorer where the scorers differ by more than ``within``). A missing reason depends on
    the score a layer changes, so :mod:`thidua_rules.layers` checks it while scoring.
    """
    if not isinstance(items, list):
        issues.add(path, f"expected an array of tables, got {type_name(items)}")
        return ()
    layers = {layer.id: layer for layer in policy.layers}
    criteria = {c.id: c for c in policy.criteria}
    quantum = Decimal(1).scaleb(-policy.precision)
    groups: dict[tuple[str, str, str], list[LayerScore]] = {}
    for i, item in enumerate(items):
        where = f"{path}[{i}]"
        values = take(issues, where, item, SCORE_KEYS)
        if not values or {"layer", "unit", "criterion", "score"} - set(values):
            continue
        layer_id, unit_id, criterion_id = values["layer"], values["unit"], values["criterion"]
        where = f"{where}(unit={unit_id})"
        ok = True
        if layer_id not in layers:
            hint = did_you_mean(layer_id, layers) if layers else " (the policy declares no [[scoring.layers]])"
            issues.add(f"{where}.layer", f"unknown layer '{layer_id}'{hint}")
            ok = False
        if unit_id not in ids:
            issues.add(f"{where}.unit", f"unknown unit '{unit_id}'{did_you_mean(unit_id, ids)}")
            ok = False
        criterion = criteria.get(criterion_id)
        if criterion is None:
            issues.add(f"{where}.criterion", f"unknown criterion '{criterion_id}'{did_you_mean(criterion_id, criteria)}")
            ok = False
        score = Decimal(values["score"])
        if criterion is not None and not Decimal(0) <= score <= criterion.points:
            issues.add(f"{where}.score", f"expected a score in [0, {toml_value(criterion.points)}] "
                       f"(the points of criterion '{criterion_id}'), got {toml_value(score)}")
            ok = False
        elif score != score.quantize(quantum):
            issues.add(f"{where}.score", f"{toml_value(score)} has more decimals than the policy's "
                       f"precision ({policy.precision})")
            ok = False
        layer = layers.get(layer_id)
        third = values.get("third", False)
        if layer is not None and third and (layer.reconcile is None or layer.reconcile.otherwise != "third"):
            issues.add(f"{where}.third", f"layer '{layer_id}' takes no third scorer (only a layer whose "
                       "reconcile rule says otherwise = \"third\" does)")
            ok = False
        if layer is not None and layer.reconcile is not None and "scorer" not in values:
            issues.add(where, f"missing key 'scorer' (layer '{layer_id}' reconciles several scorers)")
            ok = False
        if ok:
            record = LayerScore(layer=layer_id, unit=unit_id, criterion=criterion_id, score=score,
                                scorer=values.get("scorer", ""), reason=values.get("reason", ""),
                                third=third, file=issues.file, path=where)
            groups.setdefault((layer_id, unit_id, criterion_id), []).append(record)
    order = {layer.id: n for n, layer in enumerate(policy.layers)}
    records = []
    found = Issues(issues.file)
    for key in sorted(groups, key=lambda k: (k[1], order[k[0]], k[2])):
        entries = _check_group(found, layers[key[0]], groups[key])
        records.extend(sorted(entries, key=lambda e: (e.third, e.scorer)))
    # The problems of several scores, in the order of the scores they name (document order).
    issues.items.extend(sorted(found.items, key=lambda issue: _index(issue.path)))
    return tuple(records)


def _index(path: str) -> int:
    """The index of the ``[[scores]]`` entry a key path names (``scores[3](unit=…)`` → 3)."""
    found = _SCORES_INDEX.findall(path)
    return int(found[-1]) if found else 0


def _check_group(issues: Issues, layer: ScoreLayer, entries: list[LayerScore]) -> list[LayerScore]:
    """One layer's scores of one criterion of one unit: as many as its rule allows."""
    first = entries[0]
    what = f"criterion '{first.criterion}' of '{first.unit}' in layer '{layer.id}'"
    rule = layer.reconcile
    if rule is None:
        for extra in entries[1:]:
            issues.add(extra.path, f"a second score of {what}, which has no 'reconcile' rule for several scorers")
        return entries[:1]
    kept: list[LayerScore] = []
    seen: dict[str, LayerScore] = {}
    for entry in entries:
        if entry.scorer in seen:
            issues.add(entry.path, f"a second score by scorer '{entry.scorer}' of {what}")
        elif entry.third and any(e.third for e in kept):
            issues.add(entry.path, f"a second third scorer of {what}")
        else:
            seen[entry.scorer] = entry
            kept.append(entry)
    regular = [e for e in kept if not e.third]
    thirds = [e for e in kept if e.third]
    if not regular:
        issues.add(thirds[0].path, f"a third scorer of {what} without the scorers it decides between")
        return []
    spread = spread_of(regular)
    # The reconciliation rule is the policy's own (docs/layers.md; domain.md cites no legal source
    # for it): scorers further apart than `within` are decided by a third scorer when it says so.
    if spread > rule.within and rule.otherwise == "third" and not thirds:
        issues.add(first.path, f"the scorers of {what} differ by {toml_value(spread)} ({scores_text(regular)}), "
                   f"more than within = {toml_value(rule.within)}: give a third scorer's score (third = true)")
    return kept

