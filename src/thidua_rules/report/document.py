"""The canonical result document: plain data, decimals as strings, lists in decision order."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from ..decimals import fmt, plain
from ..engine import ClusterResult, Result, UnitResult
from ..model import Policy

FORMAT_VERSION = "thidua-result/1"


def value(v: Any) -> Any:
    """A fact as the document holds it: Decimal → exact string, tuples → lists, rest as is."""
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
            "plugins": [
                {"name": p.name, "distribution": p.distribution, "version": p.version,
                 "hooks": list(p.hooks)}
                for p in result.plugins
            ],
        },
        "clusters": [_cluster(policy, c) for c in result.clusters],
        "units": [_unit(policy, u) for c in result.clusters for u in c.units],
        "leadership": [
            {"cluster": c.id, **_leadership(c)} for c in result.clusters if c.leadership is not None
        ],
    }


def _leadership(cluster: ClusterResult) -> dict[str, Any]:
    lead = cluster.leadership
    assert lead is not None
    return {"year": lead.year, "leader": lead.leader, "deputy": lead.deputy, "method": lead.method,
            "reason": lead.reason, "previous_leader": lead.previous_leader}


def _cluster(policy: Policy, cluster: ClusterResult) -> dict[str, Any]:
    return {
        "id": cluster.id,
        "name": cluster.name,
        "year": cluster.year,
        "size": len(cluster.units),
        "ranking": [u.id for u in cluster.units],
        "leadership": _leadership(cluster) if cluster.leadership else None,
        "council": [{"title": item.title, "units": list(item.units), "reason": item.reason}
                    for item in cluster.council],
    }


def _unit(policy: Policy, unit: UnitResult) -> dict[str, Any]:
    p = policy.precision
    score = unit.score
    env = score.env
    criteria = []
    for spec, c in zip(policy.criteria, score.criteria, strict=True):
        criteria.append({
            "id": c.id, "group": spec.group or None, "method": spec.method, "points": fmt(spec.points, p),
            "inputs": {name: value(env[name]) for name in spec.reads},
            "facts": value(c.facts), "raw": plain(c.raw), "score": fmt(c.score, p),
            "gated": c.gated, "capped": c.capped,
            **({"plugin": spec.method_plugin} if not spec.method_plugin.startswith("thidua_rules.") else {}),
        })
    groups = [{"id": g.id, "sum": fmt(g.sum, p), "max": fmt(spec.max, p) if spec.max is not None else None,
               "score": fmt(g.score, p), "capped": g.capped}
              for spec, g in zip(policy.groups, score.groups, strict=True)]

    def adjustments(specs: Any, items: Any) -> list[dict[str, Any]]:
        return [{"id": a.id, "applies": a.applies, "raw": plain(a.raw), "score": fmt(a.score, p),
                 "max": fmt(spec.max, p) if spec.max is not None else None, "capped": a.capped,
                 "inputs": {n: value(env[n]) for n in sorted(spec.formula.names) if n in env}}
                for spec, a in zip(specs, items, strict=True)]

    band_spec = next((b for b in policy.bands if b.id == score.band), None)
    band = {
        "id": score.band,
        "min": fmt(band_spec.min, p) if band_spec else None,
        "skipped": [{"band": b, "failed": src} for b, src in score.band_skipped],
    }
    placed = unit.placed
    ranking = {"rank": unit.rank, "tied": unit.tied,
               "above": _separation(placed.above, p), "below": _separation(placed.below, p)}
    titles = []
    for outcome in unit.titles:
        entry: dict[str, Any] = {
            "id": outcome.title, "status": outcome.status,
            "checks": [{"check": c.check, "passed": c.passed, "reason": c.reason, "seen": value(c.seen),
                        **({"plugin": c.plugin} if not c.plugin.startswith("thidua_rules.") else {})}
                       for c in outcome.checks],
        }
        if outcome.quota_limit is not None:
            entry["quota"] = {"limit": outcome.quota_limit, "raw": plain(outcome.quota_raw or Decimal(0)),
                              "place": outcome.place}
        titles.append(entry)
    return {
        "id": unit.id,
        "name": unit.name,
        "cluster": unit.cluster,
        "rank": unit.rank,
        "tied": unit.tied,
        "total": fmt(unit.total, p),
        "band": unit.band,
        "proposed": list(unit.proposed),
        "explanation": {
            "criteria": criteria,
            "groups": groups,
            "score": fmt(score.score, p),
            "bonuses": adjustments(policy.bonuses, score.bonuses),
            "bonus": {"sum": fmt(score.bonus_sum, p), "max": _opt(policy.bonus_max, p), "applied": fmt(score.bonus, p)},
            "deductions": adjustments(policy.deductions, score.deductions),
            "deduction": {"sum": fmt(score.deduction_sum, p), "max": _opt(policy.deduction_max, p),
                          "applied": fmt(score.deduction, p)},
            "total": {"raw": fmt(score.total_raw, p), "max": _opt(policy.total_max, p), "total": fmt(score.total, p)},
            "band": band,
            "ranking": ranking,
            "titles": titles,
        },
    }


def _opt(v: Decimal | None, places: int) -> str | None:
    return None if v is None else fmt(v, places)


def _separation(sep: Any, places: int) -> dict[str, Any] | None:
    if sep is None:
        return None
    return {"unit": sep.unit, "key": sep.key,
            "this": None if sep.this is None else fmt(sep.this, places),
            "other": None if sep.other is None else fmt(sep.other, places)}
