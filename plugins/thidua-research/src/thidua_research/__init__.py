"""thidua_rules plugin ``research`` for research institutes (e.g. Viện Khoa học và công nghệ).

A generic targets table measures a research unit badly: what counts is the research accepted
(nghiệm thu) at each level, the patents granted and the papers published. This plugin adds the
criterion method ``research_output``::

    [[criteria]]
    id = "nghien_cuu"
    points = 40                                   # the criterion's maximum
    method = "research_output"
    topics = { state = "topics_state", ministry = "topics_ministry", grassroots = "topics_grassroots" }
    per_topic = { state = 15, ministry = 8, grassroots = 3 }
    patents = "patents_granted"                   # optional, with per_patent
    per_patent = 5
    publications = "papers_international"         # optional, with per_publication
    per_publication = 2
    caps = { grassroots = 9, publications = 10 }  # optional: at most this many points per part

Points = Σ per_topic[level] × topics[level] + per_patent × patents + per_publication ×
publications, each part capped by ``caps`` if given; the engine then clamps the sum to the
criterion's ``points``. Every part is shown in the explanation.

Policy: ``policies/research-khcn-2023.toml``; data: ``examples/research-khcn-2023/units.toml``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any

from thidua_rules import CompileContext, MethodSpec, hookimpl

LEVELS = ("state", "ministry", "grassroots")
OTHER_PARTS = (("patents", "per_patent"), ("publications", "per_publication"))
PARTS = (*LEVELS, "patents", "publications")
ZERO = Decimal(0)

Scorer = Callable[[Mapping[str, Any]], tuple[Decimal, Mapping[str, Any]]]


def _table(ctx: CompileContext, key: str, value: Any, allowed: tuple[str, ...]) -> Mapping[str, Any] | None:
    if value is None:
        return None          # a missing required key is reported by the engine
    if not isinstance(value, dict) or not value:
        ctx.issue(key, f"expected a table with some of {', '.join(allowed)}")
        return None
    for name in value:
        if name not in allowed:
            ctx.issue(f"{key}.{name}", f"unknown key '{name}'; expected one of {', '.join(allowed)}")
    return value


def compile_research_output(table: Mapping[str, Any], ctx: CompileContext) -> Scorer | None:
    """Check a ``research_output`` criterion and return its scorer."""
    parts: list[tuple[str, Any, Decimal]] = []   # (part, count expression, points each)
    topics = _table(ctx, "topics", table.get("topics"), LEVELS)
    per_topic = _table(ctx, "per_topic", table.get("per_topic"), LEVELS)
    if topics is not None and per_topic is not None:
        for level in LEVELS:
            if level not in topics:
                if level in per_topic:
                    ctx.issue(f"per_topic.{level}", f"no '{level}' in topics to give points to")
                continue
            count = ctx.expr(f"topics.{level}", topics[level])
            if level not in per_topic:
                ctx.issue("per_topic", f"missing key '{level}' (points per {level}-level topic)")
                continue
            each = ctx.number(f"per_topic.{level}", per_topic[level], minimum=ZERO)
            if count is not None and each is not None:
                parts.append((level, count, each))
    for part, each_key in OTHER_PARTS:
        if (part in table) != (each_key in table):
            ctx.issue(part if part in table else each_key, f"'{part}' and '{each_key}' go together")
            continue
        if part in table:
            count = ctx.expr(part, table[part])
            each = ctx.number(each_key, table[each_key], minimum=ZERO)
            if count is not None and each is not None:
                parts.append((part, count, each))
    caps: dict[str, Decimal] = {}
    if "caps" in table:
        raw_caps = _table(ctx, "caps", table["caps"], PARTS) or {}
        for part, cap in raw_caps.items():
            number = ctx.number(f"caps.{part}", cap, minimum=ZERO) if part in PARTS else None
            if number is not None:
                caps[part] = number
    if ctx.failed:
        return None
    frozen = tuple(parts)

    def score(env: Mapping[str, Any]) -> tuple[Decimal, Mapping[str, Any]]:
        total, facts = ZERO, {}
        for part, count, each in frozen:
            n = count.evaluate(env)
            points = each * n
            if part in caps and points > caps[part]:
                points = caps[part]
            facts[part] = f"{n} × {each} = {points}" if part not in caps else \
                f"{n} × {each}, at most {caps[part]} = {points}"
            total += points
        return total, facts

    return score


@hookimpl
def register_criterion_methods(register: Callable[[MethodSpec], None]) -> None:
    """Register the ``research_output`` criterion method."""
    register(MethodSpec(
        name="research_output",
        keys={"topics": True, "per_topic": True, "patents": False, "per_patent": False,
              "publications": False, "per_publication": False, "caps": False},
        compile=compile_research_output,
        doc="points for accepted research topics by level, patents and publications, with caps",
    ))
