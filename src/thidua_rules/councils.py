"""Councils per unit, transferred members, and preference chains among persons.

* **A unit's own council.** A person's title that needs a vote (CSTĐCS, CSTĐ: ND98 Art. 30 k7,
  at least 80 % / 90 % of ALL members of the council) is voted on by the council of the person's
  unit (hội đồng thi đua – khen thưởng of the unit), not by the cluster's. A ballot may name
  ``unit``: it is that council's, its ``voters`` are that council's members and its ``yes`` names
  members of that unit. A cluster-wide ballot (no ``unit``) still counts for every member.
* **Transfers.** A member transferred during the year is reviewed by the new unit (the person's
  ``unit``); with 6 months or more at the previous unit, that unit's written opinion is needed
  (TT 01/2024/TT-TANDTC Art. 29; the same rule in TT 40/2014/TT-BCA for the CAND). Without it the
  titles the person would win wait (``awaiting_opinion``, listed for the council); with an
  unfavourable one they are not proposed.
* **Preference chains.** Persons that a quota or a ranking must put in order are sorted by a
  declared chain of steps (Decree 152/2025 Art. 4 k6: women are preferred among candidates of
  equal merit); persons equal on every step share a place, and the council decides between them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from decimal import Decimal
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, TypeVar

import attrs

from .messages import Reason
from .model import Ballot, Person, PreferenceStep, Value

if TYPE_CHECKING:
    from .awards import CheckOutcome, CouncilItem
    from .people import PersonResult

#: TT 01/2024/TT-TANDTC Art. 29 (TT 40/2014/TT-BCA): from this many whole months at the previous
#: unit in the year, its written opinion is needed.
OPINION_MONTHS = 6

#: The status of a title that waits for the previous unit's written opinion.
AWAITING_OPINION = "awaiting_opinion"

T = TypeVar("T")


# -- councils per unit ---------------------------------------------------------------------------

def person_ballots(ballots: Iterable[Ballot]) -> Mapping[tuple[str, str | None], Ballot]:
    """The round-1 ballots by (title, unit): ``unit`` None for the cluster's council."""
    return MappingProxyType({(b.title, b.unit): b for b in sorted(ballots, key=lambda b: (b.title, b.unit or ""))
                             if b.round == 1})


def council_ballot(ballots: Mapping[tuple[str, str | None], Ballot], title_id: str, person: Person) -> Ballot | None:
    """The ballot a person's title is checked against: their unit's council's, else the
    cluster's (ND98 Art. 30 k7: the share is of all members of the council that voted)."""
    return ballots.get((title_id, person.unit)) or ballots.get((title_id, None))


def foreign_members(counts: Mapping[str, int], unit: str, unit_of: Mapping[str, str]) -> list[tuple[str, str]]:
    """The members named in a unit council's ballot who belong to another unit, with that unit."""
    return [(person, unit_of[person]) for person in sorted(counts) if person in unit_of and unit_of[person] != unit]


# -- transfers -----------------------------------------------------------------------------------

@attrs.frozen(kw_only=True)
class TransferHold:
    """Why a transferred member's earned titles cannot be proposed yet (or at all)."""

    status: str   # AWAITING_OPINION, or "failed" for an unfavourable opinion
    reason: Reason
    seen: Mapping[str, Any]


def transfer_hold(person: Person) -> TransferHold | None:
    """What the previous unit's opinion does to a transferred member's titles, or None (not
    transferred, fewer than 6 months there, or a favourable written opinion).

    TT 01/2024/TT-TANDTC Art. 29 and TT 40/2014/TT-BCA: the new unit reviews a member transferred
    during the year; with 6 months or more at the previous unit, its written opinion is needed."""
    if person.transferred_from is None or person.months_at_previous is None:
        return None
    if person.months_at_previous < OPINION_MONTHS or person.previous_unit_opinion is True:
        return None
    seen = {"transferred_from": person.transferred_from, "months_at_previous": person.months_at_previous,
            "previous_unit_opinion": person.previous_unit_opinion}
    params = {"months": person.months_at_previous, "unit": person.transferred_from}
    if person.previous_unit_opinion is None:
        return TransferHold(status=AWAITING_OPINION, seen=MappingProxyType(seen),
                            reason=Reason("transfer_awaiting_opinion", params))
    return TransferHold(status="failed", seen=MappingProxyType(seen),
                        reason=Reason("transfer_opinion_against", params))


def transfer_check(hold: TransferHold) -> CheckOutcome:
    from .awards import CheckOutcome

    return CheckOutcome(check="transfer_opinion", plugin="thidua_rules.councils", passed=False,
                        reason=hold.reason, seen=hold.seen)


def awaiting_opinion(people: Sequence[PersonResult]) -> list[CouncilItem]:
    """Per person title, the transferred members whose previous unit's opinion is awaited."""
    from .awards import CouncilItem

    waiting: dict[str, list[str]] = {}
    for result in people:
        for outcome in result.titles:
            if outcome.status == AWAITING_OPINION:
                waiting.setdefault(outcome.title, []).append(result.person.id)
    return [CouncilItem(title=title, units=tuple(members), kind=AWAITING_OPINION,
                        reason=Reason("council_awaiting_opinion", {"months": OPINION_MONTHS}))
            for title, members in waiting.items()]


def transfer_document(person: Person) -> dict[str, Any]:
    """The ``transfer`` entry of a person in the result document (empty: not transferred)."""
    if person.transferred_from is None:
        return {}
    return {"transfer": {"from": person.transferred_from, "months_at_previous": person.months_at_previous,
                         "previous_unit_opinion": person.previous_unit_opinion}}


# -- preference chains ---------------------------------------------------------------------------

@attrs.frozen(kw_only=True)
class PreferencePlace:
    """A place in a preference order: the items sharing it (the council decides between them when
    more than one), and the step that put it below the place above (None: the first place, or
    no step separates it)."""

    place: int
    items: tuple[Any, ...]
    separated_by: str | None


def preference_key(steps: Sequence[PreferenceStep], values: Mapping[str, Value]) -> tuple[Any, ...]:
    """The sort key of one person under ``steps``: smaller is preferred. A boolean counts as 1/0,
    a number as itself; a step a person has no value for sorts them last for that step."""
    key: list[Any] = []
    for step in steps:
        value = values.get(step.key)
        if isinstance(value, bool):
            number: Decimal | None = Decimal(int(value))
        elif isinstance(value, Decimal):
            number = value
        else:
            number = None
        if number is None:
            key.append((1, Decimal(0)))
        else:
            key.append((0, -number if step.descending else number))
    return tuple(key)


def preference_groups(items: Sequence[T], steps: Sequence[PreferenceStep],
                      values_of: Callable[[T], Mapping[str, Value]], id_of: Callable[[T], str]
                      ) -> tuple[PreferencePlace, ...]:
    """``items`` in preference order, grouped by shared place (1, 2, 2, 4 as for units).

    The order is the chain's alone: items equal on every step share a place (ties left to the
    council), and inside a place they are listed by id, so the input order never matters. A
    quota on a person title fills its places in this order and, where a place straddles the cut,
    leaves the tied persons to the council, as ``awards._apply_quota`` does for units."""
    keyed = sorted(((preference_key(steps, values_of(item)), id_of(item), item) for item in items),
                   key=lambda k: (k[0], k[1]))
    places: list[PreferencePlace] = []
    for index, (key, _, item) in enumerate(keyed):
        if places and keyed[index - 1][0] == key:
            last = places[-1]
            places[-1] = attrs.evolve(last, items=(*last.items, item))
            continue
        separated_by = None
        if places:
            before = keyed[index - 1][0]
            separated_by = next(step.key for step, a, b in zip(steps, before, key, strict=True) if a != b)
        places.append(PreferencePlace(place=index + 1, items=(item,), separated_by=separated_by))
    return tuple(places)


def preference_check(status: str, *, place: int, candidates: int, limit: int, step: str | None,
                     values: Mapping[str, Value | None]) -> CheckOutcome:
    """The ``preference`` check closing a candidate's outcome when the preference steps placed a
    person title's quota that binds: its place among the candidates, the step that put its place
    below the one above (None for the first place), and its values on the steps.

    ND152 Art. 4 k6: among candidates of equal merit the declared preference decides; candidates
    equal on every step across the cut are left to the council (``undecided``)."""
    from .awards import CheckOutcome

    params: dict[str, Any] = {"place": place, "candidates": candidates, "limit": limit}
    if status == "won":
        code = "preference_within"
    elif status == "undecided":
        code = "preference_tied"
    else:
        code, params["step"] = "preference_beyond", step
    seen = {"place": place, "candidates": candidates, "limit": limit, "separated_by": step, **values}
    return CheckOutcome(check="preference", plugin="thidua_rules.councils", passed=status == "won",
                        reason=Reason(code, params), seen=MappingProxyType(seen))
