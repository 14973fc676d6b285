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

from .awards import CheckOutcome, TitleOutcome, _ladders, _no_ballot, _run_check, proposed_titles
from .builtin.titles import implied_titles
from .councils import council_ballot, person_ballots, transfer_check, transfer_document, transfer_hold
from .expressions import EvalContext
from .extensions import TitleView
from .model import Cluster, Person, Policy, Unit, frozen_mapping


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
    """Every member's titles, in (unit, person id) order."""
    people_policy = policy.people
    if people_policy is None or not cluster.people:
        return ()
    results = []
    ballots = person_ballots(cluster.ballots)  # per unit council, or the cluster's (councils.py)
    implied = implied_titles(people_policy.titles)
    for person in cluster.people:
        awarded: dict[str, int] = {}
        for year, titles in person.earlier.items():
            for title_id in titles:
                awarded[title_id] = max(year, awarded.get(title_id, year))
        context = EvalContext(
            year=cluster.year,
            # A recorded ladder title counts for the titles below it that it implies.
            history=MappingProxyType({y: MappingProxyType({"titles": with_implied(t, implied), "year": Decimal(y)})
                                      for y, t in sorted(person.earlier.items())}),
            awarded=MappingProxyType(dict(sorted(awarded.items()))),
            # ND152 Art. 4 k4: after a discipline period, achievements count from its end.
            counts_from=None if person.discipline_until is None else person.discipline_until + 1,
        )
        hold = transfer_hold(person)  # TT 01/2024/TT-TANDTC Art. 29: the previous unit's opinion
        running = person.discipline_until is not None and person.discipline_until >= cluster.year
        won: list[str] = []
        pending: list[str] = []  # titles awaiting the council's vote
        outcomes = []
        for title in people_policy.titles:
            if running:
                stop = CheckOutcome(check="excluded", plugin="thidua_rules.people", passed=False,
                                    reason=f"discipline runs until {person.discipline_until}",
                                    seen=MappingProxyType({"until": person.discipline_until}))
                outcomes.append(TitleOutcome(title=title.id, status="excluded", checks=(stop,)))
                continue
            if person.deferred:
                stop = CheckOutcome(check="deferred", plugin="thidua_rules.people", passed=False,
                                    reason=person.deferred, seen=MappingProxyType({}))
                outcomes.append(TitleOutcome(title=title.id, status="deferred", checks=(stop,)))
                continue
            env = {**person.values, "year": Decimal(cluster.year), "titles": tuple(won)}
            ballot = council_ballot(ballots, title.id, person)
            view = TitleView(unit=person.id, title=title.id, env=MappingProxyType(env),
                             won=frozenset(won), pending=frozenset(pending), ballot=ballot,
                             eval_context=context, unit_data=None)
            checks = []
            for check in title.checks:
                ok, reason, seen = _run_check(policy, title, check, view)
                checks.append(CheckOutcome(check=check.name, plugin=check.plugin, passed=ok, reason=reason,
                                           seen=MappingProxyType(dict(seen))))
                if not ok:
                    break
            passed = all(c.passed for c in checks)
            if hold is not None and (passed or (ballot is None and _no_ballot(checks[-1]))):
                checks.append(transfer_check(hold))  # earned, but the previous unit's opinion decides
                if hold.status != "failed":
                    pending.append(title.id)
                status = hold.status
            elif passed:
                won.append(title.id)
                status = "won"
            elif ballot is None and _no_ballot(checks[-1]):
                pending.append(title.id)  # ND98 Art. 30 k7: the council has not voted yet
                status = "awaiting_vote"
            else:
                status = "failed"
            outcomes.append(TitleOutcome(title=title.id, status=status, checks=tuple(checks)))
        laddered = _ladders(people_policy, {person.id: outcomes})[person.id]  # type: ignore[arg-type]
        results.append(PersonResult(person=person, proposed=proposed_titles(people_policy, laddered),  # type: ignore[arg-type]
                                    titles=tuple(laddered), won=tuple(won)))
    return tuple(results)


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


def people_document(results: Sequence[PersonResult], value: Any) -> list[dict[str, Any]]:
    """The people part of the result document."""
    return [
        {
            "id": r.person.id, "name": r.person.name, "unit": r.person.unit, **transfer_document(r.person),
            "proposed": list(r.proposed),
            "titles": [{"id": t.title, "status": t.status,
                        "checks": [{"check": c.check, "passed": c.passed, "reason": c.reason, "seen": value(c.seen)}
                                   for c in t.checks]} for t in r.titles],
        }
        for r in results
    ]
