"""Built-in title checks: ``requires`` (titles won below), ``when`` (a condition), ``votes`` (approval)."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from decimal import Decimal
from fractions import Fraction
from typing import Any

from ..decimals import plain
from ..errors import did_you_mean
from ..extensions import CompileContext, TitleCheckSpec, TitleView, type_name
from ..hookspecs import hookimpl
from ..messages import Reason
from ..tomlfmt import toml_key, toml_value

_FRACTION = re.compile(r"\s*-?\d+\s*/\s*\d+\s*")
#: The reason code of a ``votes`` check without a ballot: the title then awaits the council's vote.
NO_BALLOT = "vote_no_ballot"
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
    return RequiresCheck(tuple(raw))


class RequiresCheck:
    """The ``requires`` runner. Its result depends on the titles won and pending alone, so the
    engine may call :meth:`state` without building a view, and remember it per state."""

    __slots__ = ("met", "required")

    def __init__(self, required: tuple[str, ...]) -> None:
        self.required = required
        self.met = Reason("requires_met", {"titles": list(required)}, text="")  # (a pass keeps its empty text)

    def __call__(self, view: TitleView) -> tuple[bool, str, Mapping[str, Any]]:
        return self.state(view.won, view.pending)

    def state(self, won: frozenset[str], pending: frozenset[str]) -> tuple[bool, str, dict[str, Any]]:
        for title_id in self.required:
            if title_id in pending:
                return False, Reason("requires_pending", {"title": title_id}), {"requires": title_id}
            if title_id not in won:
                # Law2022 Art. 25 k1: a title on a ladder is chosen among units meeting the one below.
                return False, Reason("requires_not_won", {"title": title_id}), {"requires": title_id}
        return self.passed()

    def passed(self) -> tuple[bool, str, dict[str, Any]]:
        """The result when every required title is won."""
        return True, self.met, {"requires": list(self.required)}


def compile_when(table: Mapping[str, Any], ctx: CompileContext) -> Runner | None:
    """A condition over the unit's inputs, scores, band and rank; the first false part is reported."""
    if "when" not in table:
        return None
    expression = ctx.expr("when", table["when"], expect="bool")
    if expression is None:
        return None
    return WhenCheck(expression)


class WhenCheck:
    """The ``when`` runner: the first false part of the condition is reported, with the values
    of the names it reads and of its function calls (``seen``); when every part holds, those of
    the whole condition.

    Besides the view-taking call, :meth:`direct` runs it on an environment and a history
    context; it is :meth:`first_false`, then :meth:`failed` or :meth:`passed`, which the engine
    also calls one by one to share the outcome of units whose ``seen`` values are the same.
    """

    __slots__ = ("calls", "history_reads", "holds", "may_call", "names", "part_calls", "part_names", "parts",
                 "source")

    def __init__(self, expression: Any) -> None:
        self.source = expression.source
        self.holds = Reason("condition_true", {"condition": expression.source}, text="")
        #: the names the conditions of its history functions read in earlier years (set by the
        #: policy loader, which knows which functions are history functions): every history
        #: record must give them (a missing value would silently count as false)
        self.history_reads: tuple[str, ...] = ()
        # Worked out once: each part's function, sorted names, calls and reason; the same for the whole.
        def plan(e: Any) -> tuple[Any, tuple[str, ...], tuple[tuple[str, Any], ...], str]:
            return (e._fn, tuple(sorted(e.names)), tuple((c.source, c._fn) for c in e.calls()),
                    Reason("condition_false", {"condition": e.source}))

        self.parts = tuple(plan(part) for part in expression.conjuncts())
        _, self.names, self.calls, _ = plan(expression)
        self.part_names = tuple(names for _, names, _, _ in self.parts)
        # Whether the condition may call a function (``calls()`` leaves out a condition that is
        # itself a call, so any parenthesis counts), and whether a part's ``seen`` shows calls.
        self.may_call = bool(self.calls) or "(" in expression.source
        self.part_calls = tuple(bool(calls) for _, _, calls, _ in self.parts)

    def __call__(self, view: TitleView) -> tuple[bool, str, Mapping[str, Any]]:
        return self.direct(view.env, view.eval_context)

    def direct(self, env: Mapping[str, Any], context: Any) -> tuple[bool, str, dict[str, Any]]:
        for index, part in enumerate(self.parts):
            if not part[0](env, context):
                return self.failed(index, env, context)
        return self.passed(env, context)

    def first_false(self, env: Mapping[str, Any], context: Any) -> int:
        """The index of the first false part, or -1 when every part holds."""
        for index, part in enumerate(self.parts):
            if not part[0](env, context):
                return index
        return -1

    def failed(self, index: int, env: Mapping[str, Any], context: Any) -> tuple[bool, str, dict[str, Any]]:
        """The result when part ``index`` is the first false one."""
        _, names, calls, reason = self.parts[index]
        seen: dict[str, Any] = {}
        for name in names:  # (a loop: cheaper than a comprehension for a few names)
            if name in env:
                seen[name] = env[name]
        # Show what each call in the failing part gave, e.g. consecutive_years(...) = 1.
        for source, call in calls:
            seen[source] = call(env, context)
        return False, reason, seen

    def passed(self, env: Mapping[str, Any], context: Any) -> tuple[bool, str, dict[str, Any]]:
        """The result when every part holds."""
        seen: dict[str, Any] = {}
        for name in self.names:
            if name in env:
                seen[name] = env[name]
        for source, call in self.calls:
            seen[source] = call(env, context)
        return True, self.holds, seen


def parse_share(ctx: CompileContext, key: str, raw: Any) -> Fraction | None:
    """A share as a policy writes it, exactly: a number (``0.8``) or a fraction (``"2/3"``)."""
    value, problem = read_share(raw)
    if problem is not None:
        ctx.issue(key, problem)
    return value


def read_share(raw: Any) -> tuple[Fraction | None, str | None]:
    """A share between 0 and 1 as a policy writes it, exactly, or the problem with it (one line)."""
    if isinstance(raw, str) and _FRACTION.fullmatch(raw.strip()):
        numerator, denominator = (int(x) for x in raw.split("/"))
        if not denominator:
            return None, f"the fraction {toml_value(raw)} divides by zero; expected a share like \"1/3\""
        value = Fraction(numerator, denominator)
        if not 0 <= value <= 1:
            side = "above 1" if value > 1 else "below 0"
            return None, f"expected a share between 0 and 1, got the fraction {toml_value(raw)} ({side})"
    elif isinstance(raw, int | Decimal) and not isinstance(raw, bool):
        value = Fraction(Decimal(raw))
    else:
        value = None
    if value is None or not 0 <= value <= 1:
        return None, (f"expected a share between 0 and 1 (a number like 0.8 or a fraction like \"2/3\"), "
                      f"got {type_name(raw)}")
    return value, None


def share_text(value: Fraction) -> str:
    """A share or a threshold as people write it: a decimal where it ends, else a fraction."""
    denominator = value.denominator
    while denominator % 2 == 0:
        denominator //= 2
    while denominator % 5 == 0:
        denominator //= 5
    if denominator != 1:
        return f"{value.numerator}/{value.denominator}"
    return plain(Decimal(value.numerator) / Decimal(value.denominator))


def compile_votes(table: Mapping[str, Any], ctx: CompileContext) -> Runner | None:
    """``yes >= share × voters``, exact. ND98 Art. 30 k7: the share is of **all** council members
    (80 % for flags and CSTĐCS, 90 % for CSTĐ), and absent members' written opinions count;
    ``quorum`` is the share of members who must be present (e.g. "2/3", Bắc Ninh QĐ 86/2025)."""
    if "votes" not in table:
        return None
    raw = table["votes"]
    if not isinstance(raw, dict):
        ctx.issue("votes", f"expected a table like {{ share = 0.8 }}, got {type_name(raw)}")
        return None
    for key in sorted(set(raw) - {"share", "quorum"}):
        ctx.issue(f"votes.{toml_key(key)}", f"unknown key '{key}'{did_you_mean(key, ['share', 'quorum'])}")
    if "share" not in raw:
        ctx.issue("votes", "missing key 'share'")
        return None
    share = parse_share(ctx, "votes.share", raw["share"])
    quorum = parse_share(ctx, "votes.quorum", raw["quorum"]) if "quorum" in raw else None
    if share is None or ctx.failed:
        return None
    share_shown = raw["share"] if isinstance(raw["share"], str) else share_text(share)
    return VotesCheck(share, quorum, share_shown)


class VotesCheck:
    """The ``votes`` runner; :meth:`direct` runs it on a ballot (or None) and a unit id."""

    __slots__ = ("quorum", "share", "share_shown")

    def __init__(self, share: Fraction, quorum: Fraction | None, share_shown: str) -> None:
        self.share, self.quorum, self.share_shown = share, quorum, share_shown

    def __call__(self, view: TitleView) -> tuple[bool, str, Mapping[str, Any]]:
        return self.direct(view.ballot, view.unit)

    def quorum_problem(self, ballot: Any) -> Reason | None:
        """Why ``ballot`` cannot count under the quorum, or None. A round-2 ballot obeys the same
        rule as round 1 (TT 01/2024/TT-TANDTC Art. 29: a quorum of 2/3 for every round)."""
        quorum = self.quorum
        if quorum is None:
            return None
        if ballot.present is None:
            return Reason("vote_present_missing")
        if ballot.present < quorum * ballot.voters:
            return Reason("vote_no_quorum", {"present": ballot.present, "voters": ballot.voters,
                                             "quorum": share_text(quorum)})
        return None

    def direct(self, ballot: Any, unit: str) -> tuple[bool, str, dict[str, Any]]:
        share_shown, quorum = self.share_shown, self.quorum
        if ballot is None:
            # Not a failure: the council has not voted yet (the title awaits the vote).
            return False, Reason(NO_BALLOT), {"share": share_shown}
        in_room = ballot.yes.get(unit, 0)
        written = ballot.written.get(unit, 0)
        yes = in_room + written
        needed = self.share * ballot.voters
        seen: dict[str, Any] = {"yes": yes, "voters": ballot.voters, "share": share_shown,
                                "needed": share_text(needed)}
        if ballot.written:
            seen["written"] = written
        if quorum is not None:
            seen["present"] = ballot.present
            problem = self.quorum_problem(ballot)
            if problem is not None:
                return False, problem, seen
        if yes >= needed:
            return True, Reason("vote_passed", {"yes": yes, "voters": ballot.voters, "share": share_shown,
                                                "needed": seen["needed"]}, text=""), seen
        # ND98 Art. 30 k7: the share is of all council members (written opinions counted).
        return False, Reason("vote_below_threshold", {"yes": yes, "voters": ballot.voters, "share": share_shown,
                                                      "needed": seen["needed"]}), seen


def votes_check(title: Any) -> VotesCheck | None:
    """The built-in ``votes`` runner of a title, if it has one."""
    return next((c.run for c in title.checks if isinstance(c.run, VotesCheck)), None)


def implied_titles(titles: Any) -> dict[str, tuple[str, ...]]:
    """Per title, the titles a record of it implies: those it ``requires`` on its own ladder,
    transitively: a unit proposed for a flag won the titles below it that year and holds them
    (e.g. Law2022 Art. 25 k1: the Government flag is chosen among collectives that meet the
    ministry flag's standard). A title without a ladder implies nothing, and neither does a
    required title on another ladder."""
    ladder = {t.id: t.ladder for t in titles}
    direct = {t.id: next((c.run.required for c in t.checks if isinstance(c.run, RequiresCheck)), ())
              for t in titles}
    implied: dict[str, tuple[str, ...]] = {}
    for t in titles:  # in policy order: a title requires only titles declared above it
        found: set[str] = set()
        if t.ladder:
            for required in direct[t.id]:
                if ladder.get(required) == t.ladder:
                    found.add(required)
                    found.update(implied.get(required, ()))
        implied[t.id] = tuple(sorted(found))
    return implied


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
