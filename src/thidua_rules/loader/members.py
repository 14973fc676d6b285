"""The members of each unit (cán bộ, chiến sĩ): their year's record, earlier titles and deferrals."""

from __future__ import annotations

import re
from collections.abc import Iterable
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from ..decimals import MAX_WHOLE_DIGITS, number_problem
from ..errors import did_you_mean
from ..extensions import type_name
from ..model import Person, frozen_mapping
from ..tomlfmt import join_path
from .common import UNIT_ID, escaped, item_path, non_printing
from .councils import TRANSFER_KEYS, check_transfer

if TYPE_CHECKING:
    from .data import DataChecker

PERSON_KEYS = ("unit", "id", "name", "earlier", "deferred", "discipline_until", *TRANSFER_KEYS)
_EARLIER_PART = re.compile(r"\s*(\d{4})\s*:\s*([a-z0-9_, ]*)\s*")


def units_with_members(rows: Iterable[Any]) -> set[str]:
    """The units that have at least one member row (their aggregates are derived, not typed)."""
    return {row["unit"] for row in rows if isinstance(row, dict) and isinstance(row.get("unit"), str)}


def check_members(checker: DataChecker, path: str, rows: Any, ids: set[str], year: int,
                  seen: set[str]) -> tuple[Person, ...]:
    """Convert and check member rows against the policy's ``[people.inputs]``."""
    from .data import LINE

    people_policy = checker.policy.people
    if not isinstance(rows, list):
        checker.issues.add(path, f"expected an array of tables, got {type_name(rows)}")
        return ()
    if rows and people_policy is None:
        checker.issues.add(path, "the policy has no [people] section, so it cannot use members")
        return ()
    if people_policy is None:
        return ()
    fields = {f.id: f for f in people_policy.inputs}
    titles = [t.id for t in people_policy.titles]
    people = []
    for i, row in enumerate(rows):
        if isinstance(row, dict) and LINE in row:
            checker.issues.line = row[LINE]
            where = f"members(id={escaped(str(row.get('id')))})"
        else:
            where = item_path(path, i, row)
        if not isinstance(row, dict):
            checker.issues.add(where, f"expected a table, got {type_name(row)}")
            continue
        ok = True
        person_id, unit_id, name = row.get("id"), row.get("unit"), row.get("name")
        if isinstance(person_id, str) and non_printing(checker.issues, f"{where}.id", person_id, "person"):
            ok = False
        elif not isinstance(person_id, str) or not UNIT_ID.fullmatch(person_id):
            checker.issues.add(where, "missing key 'id'" if person_id is None else
                               "a person id must be lower-case letters, digits, '-', '_' and '.'")
            ok = False
        elif person_id in seen:
            checker.issues.add(f"{where}.id", f"duplicate person id '{person_id}'")
            ok = False
        else:
            seen.add(person_id)
        if not isinstance(unit_id, str):
            checker.issues.add(where, "missing key 'unit'")
            ok = False
        elif unit_id not in ids:
            checker.issues.add(f"{where}.unit", checker.unknown_unit(unit_id, ids))
            ok = False
        values, fields_ok = checker.fields(where, row, skip=(LINE, *PERSON_KEYS), require=True, inputs=fields)
        earlier = _earlier(checker, f"{where}.earlier", row.get("earlier", {}), year, titles)
        until = row.get("discipline_until")
        if isinstance(until, str) and _is_year_text(until.strip()):  # a CSV cell
            until = int(until)
        if (type(until) is int or isinstance(until, Decimal)) and (problem := number_problem(until)):
            checker.issues.add(f"{where}.discipline_until", problem)
            ok = False
            until = None
        elif until is not None and (isinstance(until, bool) or not isinstance(until, int)):
            checker.issues.add(f"{where}.discipline_until", f"expected a year, got {type_name(until)}")
            ok = False
            until = None
        deferred = row.get("deferred")
        if deferred is not None and not isinstance(deferred, str):
            checker.issues.add(f"{where}.deferred", f"expected the reason as a string, got {type_name(deferred)}")
            ok = False
        transfer_ok, transfer = check_transfer(checker, where, row, ids, unit_id)
        if ok and fields_ok and transfer_ok and earlier is not None:
            assert isinstance(person_id, str) and isinstance(unit_id, str)  # checked above: ok is False otherwise
            people.append(Person(id=person_id, name=name if isinstance(name, str) else person_id, unit=unit_id,
                                 values=frozen_mapping(values), earlier=frozen_mapping(earlier),
                                 deferred=deferred or None, discipline_until=until, **transfer))
    checker.issues.line = None
    return tuple(sorted(people, key=lambda p: (p.unit, p.id)))


def _earlier(checker: DataChecker, path: str, raw: Any, year: int,
             titles: list[str]) -> dict[int, tuple[str, ...]] | None:
    """Earlier titles: ``{ 2021 = ["cstt"] }`` in TOML/JSON, ``2021:cstt,cstdcs;2020:cstt`` in CSV."""
    by_year: dict[int, tuple[str, ...]] = {}
    if isinstance(raw, str):
        parsed: dict[str, list[str]] = {}
        for part in filter(None, (p.strip() for p in raw.split(";"))):
            match = _EARLIER_PART.fullmatch(part)
            if not match:
                checker.issues.add(path, f'expected "YEAR:title,title;YEAR:title", got "{raw}"')
                return None
            parsed[match[1]] = [t.strip() for t in match[2].split(",") if t.strip()]
        raw = parsed
    if not isinstance(raw, dict):
        checker.issues.add(path, f"expected a table of year = [titles], got {type_name(raw)}")
        return None
    ok = True
    for key, value in raw.items():
        if not (isinstance(key, str) and _is_year_text(key) and int(key) < year):
            checker.issues.add(join_path(path, str(key)), f"expected an earlier year than {year}")
            ok = False
            continue
        if not isinstance(value, list) or not all(isinstance(t, str) for t in value):
            checker.issues.add(join_path(path, key), f"expected an array of title ids, got {type_name(value)}")
            ok = False
            continue
        for title_id in value:
            if title_id not in titles:
                checker.issues.add(join_path(path, key), f"unknown title '{title_id}'{did_you_mean(title_id, titles)}")
                ok = False
        by_year[int(key)] = tuple(sorted(value))
    return by_year if ok else None


def _is_year_text(text: str) -> bool:
    """ASCII digits only (``str.isdigit`` takes ``²`` too, which ``int`` refuses), and few enough
    for ``int`` (a longer one is no year: it is left to the type and bound checks)."""
    return text.isascii() and text.isdigit() and len(text) <= MAX_WHOLE_DIGITS
