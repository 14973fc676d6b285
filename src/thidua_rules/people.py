"""Individual titles from a members file, and the unit inputs counted from them.

Each member's titles are decided first (Law2022 Art. 21–24: CSTT/LĐTT, CSTĐCS, CSTĐ of a
ministry, CSTĐ toàn quốc), in policy order, so that a title can require one above it and a
condition can read ``titles`` (the titles the person won this year among those declared above).
Then every unit input declared with ``members = { count = "..." }`` or ``{ sum = "..." }`` is
computed over the unit's members and handed to scoring as if it had been typed — with the list of
members behind it, so that a unit's title can be traced to the people who made the share.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal
from types import MappingProxyType
from typing import Any

import attrs

from .awards import (
    CheckOutcome,
    CouncilItem,
    TitleOutcome,
    _ladders,
    _no_ballot,
    _run_check,
    proposed_titles,
    quota_limit,
)
from .builtin.titles import implied_titles
from .councils import (
    council_ballot,
    person_ballots,
    preference_check,
    preference_groups,
    transfer_check,
    transfer_document,
    transfer_hold,
)
from .errors import EvaluationError
from .expressions import EvalContext
from .extensions import TitleView
from .messages import Reason, reason_code
from .model import Cluster, Person, Policy, PreferenceStep, Title, Unit, frozen_mapping
from .plugins import with_unit


@attrs.frozen(kw_only=True)
class PersonResult:
    """One member's titles this year."""

    person: Person
    proposed: tuple[str, ...]
    titles: tuple[TitleOutcome, ...]
    won: tuple[str, ...]


@attrs.frozen(kw_only=True)
class MemberCount:
    """How a member-derived unit input was computed: its value and the members behind it."""

    input: str
    kind: str
    value: Decimal
    members: tuple[str, ...]


def decide_people(policy: Policy, cluster: Cluster) -> tuple[PersonResult, ...]:
    """Every member's titles, in (unit, person id) order.

    Titles are decided in policy order for all the members of a unit at once, so that a person
    title's quota (``quota = { share = 0.15, of = "chien_si_tien_tien" }``, ND91 Art. 9 k3) is
    filled among the unit's members before the next title reads what they won.
    """
    people_policy = policy.people
    if people_policy is None or not cluster.people:
        return ()
    ballots = person_ballots(cluster.ballots)  # per unit council, or the cluster's (councils.py)
    implied = implied_titles(people_policy.titles)
    states = [_PersonState(person, cluster.year, implied) for person in cluster.people]
    by_unit: dict[str, list[_PersonState]] = {}
    for state in states:
        by_unit.setdefault(state.person.unit, []).append(state)
    for title in people_policy.titles:
        for members in by_unit.values():
            passed = [state for state in members if state.decide(policy, title, cluster.year, ballots)]
            if title.quota is None:
                for state in passed:
                    state.win(title)
            else:
                _fill_person_quota(title, members, passed, people_policy.preference)
    results = []
    for state in states:
        laddered = _ladders(people_policy, {state.person.id: state.outcomes})[state.person.id]  # type: ignore[arg-type]
        results.append(PersonResult(person=state.person, proposed=proposed_titles(people_policy, laddered),  # type: ignore[arg-type]
                                    titles=tuple(laddered), won=tuple(state.won)))
    return tuple(results)


class _PersonState:
    """One member while their titles are decided: the history context, the titles won, pending."""

    def __init__(self, person: Person, year: int, implied: Mapping[str, tuple[str, ...]]) -> None:
        self.person = person
        self.year = year
        awarded: dict[str, int] = {}
        for earlier_year, titles in person.earlier.items():
            for title_id in titles:
                awarded[title_id] = max(earlier_year, awarded.get(title_id, earlier_year))
        self.context = EvalContext(
            year=year,
            # A recorded ladder title counts for the titles below it that it implies.
            history=MappingProxyType({y: MappingProxyType({"titles": with_implied(t, implied), "year": Decimal(y)})
                                      for y, t in sorted(person.earlier.items())}),
            awarded=MappingProxyType(dict(sorted(awarded.items()))),
            # ND152 Art. 4 k4: after a discipline period, achievements count from its end.
            counts_from=None if person.discipline_until is None else person.discipline_until + 1,
        )
        self.running = person.discipline_until is not None and person.discipline_until >= year
        self.won: list[str] = []
        self.pending: list[str] = []  # titles awaiting the council's vote or its quota decision
        self.outcomes: list[TitleOutcome] = []
        self.checks: tuple[CheckOutcome, ...] = ()
        self.base = {**person.values, "year": Decimal(year)}  # the fields a condition reads, once
        #: the closing check of every title while a discipline period runs, or of a deferral
        self.held: CheckOutcome | None = None
        self.hold = transfer_hold(person)  # TT 01/2024/TT-TANDTC Art. 29: the previous unit's opinion
        if self.running:
            self.held = CheckOutcome(check="excluded", plugin="thidua_rules.people", passed=False,
                                     reason=Reason("person_discipline_running", {"until": person.discipline_until}),
                                     seen=MappingProxyType({"until": person.discipline_until}))
        elif person.deferred:
            self.held = CheckOutcome(check="deferred", plugin="thidua_rules.people", passed=False,
                                     reason=Reason("deferred", {"text": person.deferred}), seen=MappingProxyType({}))

    def env(self) -> dict[str, Any]:
        return {**self.base, "titles": tuple(self.won)}

    def decide(self, policy: Policy, title: Title, year: int, ballots: Mapping[tuple[str, str | None], Any]) -> bool:
        """Run the title's checks; True when all pass (the quota, if any, is filled afterwards)."""
        person = self.person
        if self.held is not None:
            self.outcomes.append(TitleOutcome(title=title.id, status=self.held.check, checks=(self.held,)))
            return False
        ballot = council_ballot(ballots, title.id, person)
        view = TitleView(unit=person.id, title=title.id, env=MappingProxyType(self.env()),
                         won=frozenset(self.won), pending=frozenset(self.pending), ballot=ballot,
                         eval_context=self.context, unit_data=None)
        checks = []
        for check in title.checks:
            try:
                ok, reason, seen = _run_check(policy, title, check, view)
            except EvaluationError as exc:  # a plugin function's fault names no one: the member
                raise with_unit(exc, person.id) from None
            checks.append(CheckOutcome(check=check.name, plugin=check.plugin, passed=ok, reason=reason,
                                       seen=MappingProxyType(dict(seen))))
            if not ok:
                break
        self.checks = tuple(checks)
        passed = all(c.passed for c in checks)
        hold = self.hold
        if hold is not None and (passed or (ballot is None and _no_ballot(checks[-1]))):
            self.checks = (*checks, transfer_check(hold))  # earned, but the previous unit's opinion decides
            if hold.status != "failed":
                self.pending.append(title.id)
            self.outcomes.append(TitleOutcome(title=title.id, status=hold.status, checks=self.checks))
            return False
        if passed:
            return True
        if ballot is None and _no_ballot(checks[-1]):
            self.pending.append(title.id)  # ND98 Art. 30 k7: the council has not voted yet
            status = "awaiting_vote"
        else:
            status = "failed"
        self.outcomes.append(TitleOutcome(title=title.id, status=status, checks=self.checks))
        return False

    def win(self, title: Title, **quota: Any) -> None:
        self.won.append(title.id)
        self.outcomes.append(TitleOutcome(title=title.id, status="won", checks=self.checks, **quota))

    def stop(self, title: Title, status: str, **quota: Any) -> None:
        if status == "undecided":
            self.pending.append(title.id)
        self.outcomes.append(TitleOutcome(title=title.id, status=status, checks=self.checks, **quota))


def _fill_person_quota(title: Title, members: Sequence[_PersonState], passed: Sequence[_PersonState],
                       preference: Sequence[PreferenceStep] = ()) -> None:
    """Fill a person title's quota among the unit's members who passed its checks.

    The limit is the quota's share of the unit's members holding ``of`` this year (all its
    members without ``of``), rounded as the policy says (no national rounding rule: domain.md
    §6.3). Candidates are placed by the quota's ``order`` keys (each descending); without
    ``order``, by the declared ``[people.ranking]`` preference steps (ND152 Art. 4 k6: women
    first among candidates of equal merit; ``councils.preference_groups``); with neither, they
    all share one place. Members sharing a place across the cut are all left ``undecided`` for
    the council, as units are (the engine never splits them by an arbitrary order); below the
    cut, ``over_quota``. When the preference steps placed a quota that binds, every candidate's
    outcome ends with a ``preference`` check giving its place and the step behind it.
    """
    quota = title.quota
    assert quota is not None
    base = len(members) if quota.of is None else sum(1 for m in members if quota.of in m.won)
    limit, raw = quota_limit(quota, base)
    by_steps = not quota.order and bool(preference)
    separated: dict[str, str | None] = {}
    if by_steps:
        place_of_id: dict[str, int] = {}
        for group in preference_groups(passed, preference, lambda m: m.person.values, lambda m: m.person.id):
            for state in group.items:
                place_of_id[state.person.id] = group.place
                separated[state.person.id] = group.separated_by
        places = [place_of_id[m.person.id] for m in passed]
    else:
        keys = [tuple(_order_value(expr, m) for expr in quota.order) for m in passed]
        distinct = sorted(set(keys), reverse=True)
        place_of = {key: 1 + sum(1 for k in keys if k > key) for key in distinct}
        places = [place_of[key] for key in keys]
    if len(passed) <= limit:
        for state, place in zip(passed, places, strict=True):
            state.win(title, quota_limit=limit, quota_raw=raw, place=place)
        return
    ordered = sorted(places)
    cut = ordered[limit]                  # the place of the first member left out
    straddles = limit > 0 and ordered[limit - 1] == cut
    for state, place in zip(passed, places, strict=True):
        if place < cut:
            status = "won"
        elif place == cut and straddles:
            status = "undecided"
        else:
            status = "over_quota"
        if by_steps:
            state.checks = (*state.checks, preference_check(
                status, place=place, candidates=len(passed), limit=limit, step=separated[state.person.id],
                values={step.key: state.person.values.get(step.key) for step in preference}))
        if status == "won":
            state.win(title, quota_limit=limit, quota_raw=raw, place=place)
        else:
            state.stop(title, status, quota_limit=limit, quota_raw=raw, place=place)


def _order_value(expression: Any, state: _PersonState) -> Decimal:
    value = expression.evaluate(state.env())
    return Decimal(value)


def person_quota_ties(people: Sequence[PersonResult]) -> list[CouncilItem]:
    """Per unit and person title, the members sharing a place across its quota, for the council."""
    tied: dict[tuple[str, str], list[tuple[str, TitleOutcome]]] = {}
    for result in people:
        for outcome in result.titles:
            if outcome.status == "undecided":
                tied.setdefault((result.person.unit, outcome.title), []).append((result.person.id, outcome))
    items = []
    for (unit, title), members in tied.items():
        first = members[0][1]
        won = sum(1 for r in people if r.person.unit == unit
                  for o in r.titles if o.title == title and o.status in ("won", "proposed", "held"))
        items.append(CouncilItem(
            title=title, units=tuple(m for m, _ in members), kind="quota_tie",
            reason=Reason("person_quota_tie", {"members": len(members), "unit": unit, "place": first.place,
                                               "limit": first.quota_limit,
                                               "left": (first.quota_limit or 0) - won})))
    return items


def with_implied(titles: Sequence[str], implied: Mapping[str, tuple[str, ...]]) -> tuple[str, ...]:
    """A year's recorded titles with those they imply on their ladder (see ``implied_titles``)."""
    if not any(implied.get(t) for t in titles):
        return tuple(titles)
    return tuple(sorted({*titles, *(i for t in titles for i in implied.get(t, ()))}))


def derive_units(policy: Policy, cluster: Cluster, people: Sequence[PersonResult]
                 ) -> tuple[tuple[Unit, ...], Mapping[str, tuple[MemberCount, ...]]]:
    """The cluster's units with their member-derived inputs filled in, and how each was counted."""
    aggregates = [f for f in policy.inputs if f.members is not None]
    by_unit: dict[str, list[PersonResult]] = {}
    for result in people:
        by_unit.setdefault(result.person.unit, []).append(result)
    if not aggregates or not by_unit:
        return cluster.units, {}
    units = []
    counts: dict[str, tuple[MemberCount, ...]] = {}
    for unit in cluster.units:
        members = by_unit.get(unit.id)
        if not members:
            units.append(unit)
            continue
        values = dict(unit.values)
        made = []
        for field in aggregates:
            assert field.members is not None
            total = Decimal(0)
            behind = []
            for result in members:
                env = {**result.person.values, "year": Decimal(cluster.year), "titles": result.won}
                value = field.members.expression.evaluate(env)
                if field.members.kind == "count":
                    if value:
                        total += 1
                        behind.append(result.person.id)
                elif value:
                    total += value
                    behind.append(result.person.id)
            values[field.id] = total
            made.append(MemberCount(input=field.id, kind=field.members.kind, value=total, members=tuple(behind)))
        units.append(attrs.evolve(unit, values=frozen_mapping(values)))
        counts[unit.id] = tuple(made)
    return tuple(units), counts


def _coded(reason: str, value: Any) -> dict[str, Any]:
    code, params = reason_code(reason)
    return {"code": code, "params": value(params)}


def people_document(results: Sequence[PersonResult], value: Any) -> list[dict[str, Any]]:
    """The people part of the result document."""
    return [
        {
            "id": r.person.id, "name": r.person.name, "unit": r.person.unit, **transfer_document(r.person),
            "proposed": list(r.proposed),
            "titles": [{"id": t.title, "status": t.status,
                        "checks": [{"check": c.check, "passed": c.passed, "reason": c.reason, **_coded(c.reason, value),
                                    "seen": value(c.seen)}
                                   for c in t.checks]} for t in r.titles],
        }
        for r in results
    ]
