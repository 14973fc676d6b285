"""Built-in title checks: ``requires`` (titles won below), ``when`` (a condition), ``votes`` (approval)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any

from ..errors import did_you_mean
from ..extensions import CompileContext, TitleCheckSpec, TitleView, type_name
from ..tomlfmt import toml_key
from ..hookspecs import hookimpl

Runner = Callable[[TitleView], tuple[bool, str, Mapping[str, Any]]]


def compile_requires(table: Mapping[str, Any], ctx: CompileContext) -> Runner | None:
    """The unit must win each named title this year (the ladder below this one)."""
    if "requires" not in table:
        return None
    raw = table["requires"]
    if not isinstance(raw, list) or not all(isinstance(t, str) for t in raw):
        ctx.issue("requires", f"expected an array of title ids, got {type_name(raw)}")
        return None
    for i, title_id in enumerate(raw):
        if title_id not in ctx.titles:
            ctx.issue(f"requires[{i}]", f"unknown title '{title_id}'{did_you_mean(title_id, ctx.titles)}"
                      " (a title can only require titles declared above it)")
    if ctx.failed:
        return None
    required = tuple(raw)

    def run(view: TitleView) -> tuple[bool, str, Mapping[str, Any]]:
        for title_id in required:
            if title_id in view.pending:
                return False, f"'{title_id}' awaits a council decision", {"requires": title_id}
            if title_id not in view.won:
                return False, f"does not win '{title_id}' this year", {"requires": title_id}
        return True, "", {"requires": list(required)}

    return run


def compile_when(table: Mapping[str, Any], ctx: CompileContext) -> Runner | None:
    """A condition over the unit's inputs, scores, band and rank; the first false part is reported."""
    if "when" not in table:
        return None
    expression = ctx.expr("when", table["when"], expect="bool")
    if expression is None:
        return None
    parts = expression.conjuncts()

    def run(view: TitleView) -> tuple[bool, str, Mapping[str, Any]]:
        for part in parts:
            if not part.evaluate(view.env, view.eval_context):
                seen = {name: view.env[name] for name in sorted(part.names) if name in view.env}
                # Show what each call in the failing part gave, e.g. consecutive_years(...) = 1.
                for call in part.calls():
                    seen[call.source] = call.evaluate(view.env, view.eval_context)
                return False, f"'{part.source}' is false", seen
        seen = {name: view.env[name] for name in sorted(expression.names) if name in view.env}
        for call in expression.calls():
            seen[call.source] = call.evaluate(view.env, view.eval_context)
        return True, "", seen

    return run


def compile_votes(table: Mapping[str, Any], ctx: CompileContext) -> Runner | None:
    """``yes >= share × voters`` with exact arithmetic (ND98 Art. 30 k7: ≥ 80 % for flags)."""
    if "votes" not in table:
        return None
    raw = table["votes"]
    if not isinstance(raw, dict):
        ctx.issue("votes", f"expected a table like {{ share = 0.8 }}, got {type_name(raw)}")
        return None
    for key in sorted(set(raw) - {"share"}):
        ctx.issue(f"votes.{toml_key(key)}", f"unknown key '{key}'{did_you_mean(key, ['share'])}")
    if "share" not in raw:
        ctx.issue("votes", "missing key 'share'")
        return None
    share = ctx.number("votes.share", raw["share"], minimum=Decimal(0))
    if share is not None and share > 1:
        ctx.issue("votes.share", f"expected a share between 0 and 1, got {share}")
    if share is None or ctx.failed:
        return None

    def run(view: TitleView) -> tuple[bool, str, Mapping[str, Any]]:
        if view.ballot is None:
            return False, "no ballot recorded for this title", {"share": share}
        yes = view.ballot.yes.get(view.unit, 0)
        needed = share * view.ballot.voters
        seen = {"yes": yes, "voters": view.ballot.voters, "share": share, "needed": needed}
        if yes >= needed:
            return True, "", seen
        return False, f"{yes} of {view.ballot.voters} votes, below {share} × {view.ballot.voters}", seen

    return run


CHECKS = (
    TitleCheckSpec(name="requires", stage=10, keys={"requires": "array"}, compile=compile_requires,
                   doc="titles the unit must win below this one"),
    TitleCheckSpec(name="when", stage=20, keys={"when": "expression"}, compile=compile_when,
                   doc="a condition over inputs, scores, band, rank and history"),
    TitleCheckSpec(name="votes", stage=30, keys={"votes": "table"}, compile=compile_votes,
                   doc="yes-votes at least share × voters"),
)


@hookimpl
def register_title_checks(register: Callable[[TitleCheckSpec], None]) -> None:
    for spec in CHECKS:
        register(spec)
