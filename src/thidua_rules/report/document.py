"""The canonical result document: plain data, decimals as strings, lists in decision order."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import ROUND_HALF_UP, Decimal
from types import MappingProxyType
from typing import Any

from ..decimals import ENGINE_CONTEXT, figure, fmt, plain, quantum
from ..engine import ClusterResult, Result, UnitResult
from ..layers import layers_document
from ..legal import basis_document
from ..messages import reason_code
from ..model import Policy
from ..people import people_document
from ..plans import plan_for

FORMAT_VERSION = "thidua-result/1"


def _plain_cached(v: Decimal) -> str:
    """``plain(v)``, remembered per nonzero number: equal nonzero numbers have the same plain
    text (only trailing zeros of the fraction differ, and ``plain`` strips them); zero is never
    remembered, because ``-0`` and ``0`` are equal but print differently."""
    text = _PLAIN_TEXTS.get(v) if v else None
    if text is None:
        text = plain(v)
        if v:
            if len(_PLAIN_TEXTS) >= _TEXTS_MAX:
                _PLAIN_TEXTS.clear()
            _PLAIN_TEXTS[v] = text
    return text


_PLAIN_TEXTS: dict[Decimal, str] = {}
_TEXTS_MAX = 1 << 16


def value(v: Any) -> Any:
    """A fact as the document holds it: Decimal → exact string, tuples → lists, rest as is."""
    kind = type(v)
    if kind is Decimal:  # the common exact types first, by identity: same result, less work
        return _plain_cached(v)
    if kind is str or kind is bool or kind is int or v is None:
        return v
    if kind is dict or kind is MappingProxyType:  # before the abstract Mapping check below
        return {str(k): value(x) for k, x in v.items()}
    if isinstance(v, bool) or v is None or isinstance(v, int | str):
        return v
    if isinstance(v, Decimal):
        return plain(v)
    if isinstance(v, list | tuple | frozenset | set):
        items = sorted(v) if isinstance(v, frozenset | set) else v
        return [value(x) for x in items]
    if isinstance(v, Mapping):
        return {str(k): value(x) for k, x in v.items()}
    return str(v)


def coded(reason: str) -> dict[str, Any]:
    """The ``code`` and ``params`` keys that stand beside a ``reason`` (``messages.reason_code``):
    the reason as a message code with its parameters, plain data as the document holds it."""
    code, params = reason_code(reason)
    return {"code": code, "params": value(params)}


def build_document(result: Result) -> dict[str, Any]:
    policy = result.policy
    return {
        "format": FORMAT_VERSION,
        "provenance": {
            "engine": "thidua_rules",
            "engine_version": result.engine_version,
            "policy": {"id": policy.id, "name": policy.name, "year": policy.year,
                       "sha256": policy.sha256},
            "data": {"sha256": result.data_sha256},
            # Added within thidua-result/1: the law each rule applies (thidua_rules.legal).
            "legal_basis": basis_document(policy),
            "plugins": [
                {"name": p.name, "distribution": p.distribution, "version": p.version,
                 "hooks": list(p.hooks)}
                for p in result.plugins
            ],
        },
        "clusters": [_cluster(policy, c) for c in result.clusters],
        "units": [_unit(policy, u, c.member_counts.get(u.id)) for c in result.clusters for u in c.units],
        "leadership": [
            {"cluster": c.id, **_leadership(c)} for c in result.clusters if c.leadership is not None
        ],
        # Only with a members file, so that documents without people keep their shape.
        **({"people": [p for c in result.clusters for p in people_document(c.people, value)]}
           if any(c.people for c in result.clusters) else {}),
    }


def _leadership(cluster: ClusterResult) -> dict[str, Any]:
    lead = cluster.leadership
    assert lead is not None
    return {"year": lead.year, "leader": lead.leader, "deputy": lead.deputy, "method": lead.method,
            "reason": lead.reason, **coded(lead.reason), "previous_leader": lead.previous_leader}


def _cluster(policy: Policy, cluster: ClusterResult) -> dict[str, Any]:
    return {
        "id": cluster.id,
        "name": cluster.name,
        "year": cluster.year,
        "size": len(cluster.units),
        "ranking": [u.id for u in cluster.units],
        "leadership": _leadership(cluster) if cluster.leadership else None,
        "council": [{"title": item.title, "units": list(item.units), "reason": item.reason,
                     **coded(item.reason), "kind": item.kind} for item in cluster.council],
    }


class _Plan:
    """What the document of every unit under one policy shares, formatted once per policy."""

    def __init__(self, policy: Policy) -> None:
        p = policy.precision
        self.policy = policy
        q = quantum(p)
        # Half-up to the policy precision in a private copy of the engine context: the same
        # digits as decimals.fmt, without entering a local context for every number.
        context = ENGINE_CONTEXT.copy()
        quantize = Decimal.quantize

        texts: dict[Decimal, str] = {}
        zero, negative_zero = (f"{quantize(Decimal(z), q, ROUND_HALF_UP, context):f}" for z in ("0", "-0"))

        def fmt_fast(v: Decimal) -> str:
            # Remembered per nonzero number (per policy precision): equal nonzero numbers round
            # to the same digits and sign. A zero is not (equal zeros print with their sign:
            # -0 rounds to "-0.00"), and prints as one of two texts, whatever its exponent.
            if not v:
                return negative_zero if v.is_signed() else zero
            text = texts.get(v)
            if text is None:
                text = f"{quantize(v, q, ROUND_HALF_UP, context):f}"
                if len(texts) >= _TEXTS_MAX:
                    texts.clear()
                texts[v] = text
            return text

        self.fmt = fmt_fast
        #: what ``fmt`` remembers (nonzero numbers only): a writer may look a number up here first
        self.fmt_texts = texts
        self.criteria = tuple(
            (spec.group or None, spec.method, fmt_fast(spec.points), spec.reads,
             None if spec.method_plugin.startswith("thidua_rules.") else spec.method_plugin)
            for spec in policy.criteria)
        self.groups = tuple(fmt_fast(spec.max) if spec.max is not None else None for spec in policy.groups)
        self.bonuses = tuple((fmt_fast(s.max) if s.max is not None else None, tuple(sorted(s.reads)))
                             for s in policy.bonuses)
        self.deductions = tuple((fmt_fast(s.max) if s.max is not None else None, tuple(sorted(s.reads)))
                                for s in policy.deductions)
        self.band_min = {b.id: fmt_fast(b.min) for b in reversed(policy.bands)}
        self.bonus_max = _opt(policy.bonus_max, p)
        self.deduction_max = _opt(policy.deduction_max, p)
        self.total_max = _opt(policy.total_max, p)


def _plan(policy: Policy) -> _Plan:
    return plan_for("document", policy, _Plan)


def _unit(policy: Policy, unit: UnitResult, member_counts: Any = None) -> dict[str, Any]:
    plan = _plan(policy)
    f = plan.fmt
    score = unit.score
    env = score.env
    criteria = []
    layered = {layers.criterion: layers for layers in getattr(score, "layers", ())}
    for (group, method, points, reads, plugin), (c_id, raw, c_score, gated, capped, facts, override) in zip(
            plan.criteria, score.criterion_rows, strict=True):
        entry = {
            "id": c_id, "group": group, "method": method, "points": points,
            "inputs": {name: value(env[name]) for name in reads},
            "facts": value(facts), "raw": _plain_cached(raw), "score": f(c_score),
            "gated": gated, "capped": capped,
        }
        if plugin is not None:
            entry["plugin"] = plugin
        if override is not None:
            entry["override"] = override  # the plugin whose score_criterion gave the points
        if c_id in layered:  # only with [[scores]], so that other documents keep their shape
            entry["layers"] = layers_document(layered[c_id], f)
        criteria.append(entry)
    groups = [{"id": g_id, "sum": f(g_sum), "max": group_max, "score": f(g_score), "capped": capped}
              for group_max, (g_id, g_sum, g_score, capped) in zip(plan.groups, score.group_rows, strict=True)]

    def adjustments(specs: Any, items: Any) -> list[dict[str, Any]]:
        return [{"id": a_id, "applies": applies, "raw": _plain_cached(raw), "score": f(a_score),
                 "max": item_max, "capped": capped,
                 "inputs": {n: value(env[n]) for n in names if n in env}}
                for (item_max, names), (a_id, applies, raw, a_score, capped) in zip(specs, items, strict=True)]

    band = {
        "id": score.band,
        "min": plan.band_min.get(score.band) if score.band is not None else None,
        "skipped": [{"band": b, "failed": src} for b, src in score.band_skipped],
    }
    if score.band_caps:
        band["caps"] = [{"plugin": c.plugin, "ceiling": c.band, "reason": c.reason, **coded(c.reason)}
                        for c in score.band_caps]
    placed = unit.placed
    ranking = {"rank": unit.rank, "tied": unit.tied,
               "above": _separation(placed.above, f), "below": _separation(placed.below, f)}
    titles = []
    for outcome in unit.titles:
        checks = []
        for c in outcome.checks:
            check = {"check": c.check, "passed": c.passed, "reason": c.reason, **coded(c.reason),
                     "seen": value(c.seen)}
            if not c.plugin.startswith("thidua_rules."):
                check["plugin"] = c.plugin
            checks.append(check)
        entry = {"id": outcome.title, "status": outcome.status, "checks": checks}
        if outcome.quota_limit is not None:
            entry["quota"] = {"limit": outcome.quota_limit, "raw": figure(outcome.quota_raw or Decimal(0)),
                              "place": outcome.place}
            if outcome.runoff_yes is not None:
                entry["quota"]["runoff_yes"] = outcome.runoff_yes
        titles.append(entry)
    total = f(unit.total)
    return {
        "id": unit.id,
        "name": unit.name,
        "cluster": unit.cluster,
        "rank": unit.rank,
        "tied": unit.tied,
        "total": total,
        "band": unit.band,
        "proposed": list(unit.proposed),
        "explanation": {
            **({"derived": [{"input": d.input, "plugin": d.plugin, "value": value(d.value)}
                            for d in score.derived]} if score.derived else {}),
            "criteria": criteria,
            "groups": groups,
            "score": f(score.score),
            "bonuses": adjustments(plan.bonuses, score.bonus_rows),
            "bonus": {"sum": f(score.bonus_sum), "max": plan.bonus_max, "applied": f(score.bonus)},
            "deductions": adjustments(plan.deductions, score.deduction_rows),
            "deduction": {"sum": f(score.deduction_sum), "max": plan.deduction_max,
                          "applied": f(score.deduction)},
            "total": {"raw": f(score.total_raw), "max": plan.total_max, "total": f(score.total)},
            "band": band,
            "ranking": ranking,
            "titles": titles,
            # The members behind each member-derived input (only with a members file).
            **({"members": {m.input: {"kind": m.kind, "value": plain(m.value), "members": list(m.members)}
                            for m in member_counts}} if member_counts else {}),
        },
    }


def _opt(v: Decimal | None, places: int) -> str | None:
    return None if v is None else fmt(v, places)


def _separation(sep: Any, f: Any) -> dict[str, Any] | None:
    if sep is None:
        return None
    return {"unit": sep.unit, "key": sep.key,
            "this": None if sep.this is None else f(sep.this),
            "other": None if sep.other is None else f(sep.other)}
