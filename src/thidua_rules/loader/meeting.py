"""The data's optional ``[meeting]`` section → a checked :class:`~thidua_rules.model.Meeting`.

The facts of the council's meeting (time, venue, chair, secretary, members present and absent,
written opinions) go into the documents (``thidua documents``) and nowhere else: no score, rank or
decision reads them, so the result document does not change with them.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Iterable
from typing import Any

from ..errors import did_you_mean
from ..extensions import type_name
from ..model import RANKING_BALLOT, Ballot, Meeting, MeetingMember
from ..tomlfmt import join_path
from .common import UNIT_ID, Issues, item_path, non_printing, take

MEETING_KEYS = {
    "date": ("any", False), "start": ("any", False), "end": ("any", False),
    "venue": ("str", False), "place": ("str", False),
    "chair": ("str", False), "secretary": ("str", False),
    "authority": ("str", False), "recipient": ("str", False),
    "minutes_number": ("str", False), "proposal_number": ("str", False),
    "content": ("str", False), "members": ("table_list", False),
}
MEMBER_KEYS = {
    "id": ("str", True), "name": ("str", True), "position": ("str", False),
    "unit": ("str", False), "present": ("bool", True), "written": ("str", False),
}
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_TIME = re.compile(r"\d{2}:\d{2}")


def check_meeting(issues: Issues, path: str, raw: Any, *, unit_ids: Iterable[str], year: int,
                  ballots: tuple[Ballot, ...], unit_titles: Iterable[str]) -> Meeting | None:
    """The checked ``[meeting]`` of a cluster (``path`` is ``meeting`` or ``clusters[i].meeting``).

    Every problem is one issue at its key path: unknown keys, wrong types, a date or time not
    written as ``YYYY-MM-DD`` / ``HH:MM``, a date outside the review's year and the next, a
    member id given twice, a chair or secretary not among the members or absent, a unit not in
    the cluster, a written opinion of a member who was present, and a ballot on a unit title
    whose council size (``voters``/``members``) or ``present`` contradicts the members listed.
    """
    values = take(issues, path, raw, MEETING_KEYS)
    if values is None:
        return None
    known_units = set(unit_ids)
    fields: dict[str, Any] = {}
    date = _date(issues, join_path(path, "date"), values["date"], year) if "date" in values else None
    if date is not None:
        fields["date"] = date
    for key in ("start", "end"):
        if key in values and (text := _time(issues, join_path(path, key), values[key])) is not None:
            fields[key] = text
    for key in ("venue", "place", "authority", "recipient", "minutes_number", "proposal_number", "content"):
        if key in values:
            fields[key] = values[key]
    members, named = _members(issues, join_path(path, "members"), values.get("members", []), known_units)
    by_id = {m.id: m for m in members}
    for key in ("chair", "secretary"):
        if key not in values:
            continue
        member_id = values[key]
        member = by_id.get(member_id)
        if member is None and member_id in named:  # a member with a problem of its own: one message
            continue
        if member is None:
            issues.add(join_path(path, key), f"'{member_id}' is not one of the meeting's members"
                       f"{did_you_mean(member_id, by_id)}; list them in [[meeting.members]]")
        elif not member.present:
            issues.add(join_path(path, key), f"'{member_id}' is recorded absent (present = false); "
                       f"the {key} of a meeting attends it")
        else:
            fields[key] = member_id
    if members:
        _against_ballots(issues, path, members, ballots, set(unit_titles))
    return Meeting(members=members, **fields)


def _date(issues: Issues, path: str, value: Any, year: int) -> str | None:
    """A TOML local date (``2022-12-20``) or the same as a string (JSON has no dates)."""
    if isinstance(value, datetime.datetime) or not isinstance(value, datetime.date | str):
        issues.add(path, f"expected a date (2022-12-20, or \"2022-12-20\"), got {type_name(value)}")
        return None
    if isinstance(value, str):
        try:
            if not _DATE.fullmatch(value):
                raise ValueError(value)
            value = datetime.date.fromisoformat(value)
        except ValueError:
            issues.add(path, f"expected a date written YYYY-MM-DD, got \"{value}\"")
            return None
    # The year-end meeting reviews the year; it may be held early in the next one.
    if value.year not in (year, year + 1):
        issues.add(path, f"the meeting of the {year} review is dated {value.isoformat()}; "
                   f"expected a date in {year} or {year + 1}")
        return None
    return value.isoformat()


def _time(issues: Issues, path: str, value: Any) -> str | None:
    """A TOML local time (``08:00:00``) or a string ``"08:00"``, kept as ``HH:MM``."""
    if isinstance(value, datetime.time):
        return f"{value.hour:02d}:{value.minute:02d}"
    if not isinstance(value, str):
        issues.add(path, f"expected a time (\"08:00\"), got {type_name(value)}")
        return None
    try:
        if not _TIME.fullmatch(value):
            raise ValueError(value)
        datetime.time.fromisoformat(value)
    except ValueError:
        issues.add(path, f"expected a time written HH:MM, got \"{value}\"")
        return None
    return value


def _members(issues: Issues, path: str, items: list[Any], unit_ids: set[str]
             ) -> tuple[tuple[MeetingMember, ...], set[str]]:
    """The well-formed members, and the ids of every member item (bad ones included)."""
    named = {item["id"] for item in items if isinstance(item.get("id"), str)}
    members: list[MeetingMember] = []
    seen: set[str] = set()
    for i, item in enumerate(items):
        where = item_path(path, i, item)
        values = take(issues, where, item, MEMBER_KEYS)
        if values is None or {"id", "name", "present"} - set(values):
            continue
        member_id = values["id"]
        if non_printing(issues, f"{where}.id", member_id, "member"):
            continue
        if not UNIT_ID.fullmatch(member_id):
            issues.add(f"{where}.id", f"member id '{member_id}' must be lower-case letters, digits, '-', '_' and '.'")
            continue
        if member_id in seen:
            issues.add(f"{where}.id", f"duplicate member id '{member_id}'")
            continue
        seen.add(member_id)
        unit = values.get("unit")
        if unit is not None and unit not in unit_ids:
            issues.add(f"{where}.unit", f"unknown unit '{unit}'{did_you_mean(unit, unit_ids)}")
            continue
        if values["present"] and values.get("written"):
            issues.add(f"{where}.written", "a written opinion is for a member who is absent "
                       "(present = false); a member present speaks in the meeting")
            continue
        members.append(MeetingMember(id=member_id, name=values["name"], position=values.get("position", ""),
                                     unit=unit, present=values["present"], written=values.get("written", "")))
    return tuple(members), named


def _against_ballots(issues: Issues, path: str, members: tuple[MeetingMember, ...],
                     ballots: tuple[Ballot, ...], unit_titles: set[str]) -> None:
    """The minutes state one council: a ballot on a unit title (or the ranking) counts the same
    members and, when it says, the same members present (ND98 Art. 30 k7: the share is of all
    the council's members). Ballots on members' titles may be a unit council's and are not compared."""
    total = len(members)
    present = sum(1 for m in members if m.present)
    wrote = sum(1 for m in members if not m.present and m.written)
    for ballot in ballots:
        if ballot.title not in unit_titles and ballot.title != RANKING_BALLOT:
            continue
        name = f"ballot '{ballot.title}'" + (f" round {ballot.round}" if ballot.round != 1 else "")
        if ballot.voters != total:
            issues.add(join_path(path, "members"), f"{total} members listed, but the {name} counts "
                       f"{ballot.voters} entitled to vote; the minutes must state one council")
        if ballot.present is not None and ballot.present != present:
            issues.add(join_path(path, "members"), f"{present} members present, but the {name} "
                       f"records present = {ballot.present}")
        for unit, yes in ballot.yes.items():
            if yes > present:
                issues.add(join_path(path, "members"), f"{present} members present, but the {name} "
                           f"records {yes} yes-votes in the meeting for '{unit}'")
        for unit, count in ballot.written.items():
            if count > wrote:
                issues.add(join_path(path, "members"), f"{wrote} absent members gave a written opinion, "
                           f"but the {name} counts {count} written yes-votes for '{unit}'")
