"""Rules of the law as it was: a title's ``[[titles.versions]]`` chosen by the evaluation date.

A rule (a title of ``[[titles]]`` or ``[[people.titles]]``) may list the versions the law gave it,
each with the period it was in force and its legal basis::

    [[people.titles]]
    id = "chien_si_thi_dua_co_so"
    requires = ["chien_si_tien_tien"]

      [[people.titles.versions]]
      id = "law2003"
      in_force = { until = 2023-12-31 }
      instrument = "Luật Thi đua, khen thưởng 2003; Nghị định 91/2017/NĐ-CP"
      articles = ["Nghị định 91/2017/NĐ-CP Điều 9 k3"]
      when = "initiative != 'none'"

      [[people.titles.versions]]
      id = "law2022"
      in_force = { from = 2024-01-01 }
      ...

The policy that is loaded picks one version of every such rule: the one in force on its
evaluation date (``[policy] evaluation_date``, else 31 December of ``[policy] year``), or the one
its file (or a file between it and the rule) pins with ``{ id = "...", version = "law2022" }``.
A rule with no version in force that day is an error naming the rule and the periods. Without a
date the latest version is taken. The version's keys are laid over the rule's own, in the file
that defines it, before the files are merged, so a policy extending the rule still overrides any
key. The chosen version's legal basis travels to the compiler as the entry's ``law`` table,
which no file may write itself. A file's ``[catalogue] { id, version }`` names the catalogue
edition its rules come from; it is taken out here and recorded in each of its rules' ``law``.
"""

from __future__ import annotations

import datetime
import itertools
import re
from collections.abc import Iterator
from typing import Any

from ..errors import Issue, did_you_mean
from ..extensions import type_name

#: The sections whose entries may have versions.
SECTIONS = ("titles", "people.titles")
#: Keys of a version that are its legal basis (the rest are rule keys laid over the rule's).
LEGAL_KEYS = ("id", "in_force", "instrument", "articles", "note", "source")
#: Rule keys a version may set.
RULE_KEYS = ("name", "ladder", "requires", "when", "votes", "quota")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def read_date(value: Any) -> datetime.date | str:
    """A date from TOML (``2024-01-01``, or the string ``"2024-01-01"``), or what is wrong."""
    if isinstance(value, datetime.datetime):
        return "expected a date (2024-01-01), got a date and time"
    if isinstance(value, datetime.date):
        return value
    if isinstance(value, str) and _DATE.match(value):
        try:
            return datetime.date.fromisoformat(value)
        except ValueError:
            pass
    return f"expected a date such as 2024-01-01, got {type_name(value) if not isinstance(value, str) else repr(value)}"


def evaluation_date(raw: Any) -> tuple[datetime.date | None, str, list[tuple[str, str]]]:
    """The date that picks the versions: ``(date, how it was chosen, problems)``.

    ``[policy] evaluation_date`` when given, else 31 December of ``[policy] year`` (the end of
    the year whose achievements are reviewed: the law in force then judges them), else None.
    """
    meta = raw.get("policy") if isinstance(raw, dict) else None
    if not isinstance(meta, dict):
        return None, "", []
    if "evaluation_date" in meta:
        got = read_date(meta["evaluation_date"])
        if isinstance(got, str):
            return None, "", [("policy.evaluation_date", got)]
        return got, "policy.evaluation_date", []
    year = meta.get("year")
    if isinstance(year, int) and not isinstance(year, bool) and 1 <= year <= 9999:
        return datetime.date(year, 12, 31), f"policy.year = {year}", []
    return None, "", []


def entries(raw: dict[str, Any]) -> Iterator[tuple[str, int, dict[str, Any]]]:
    """``(section, index, entry)`` of every table in the sections that may have versions."""
    titles = raw.get("titles")
    if isinstance(titles, list):
        for i, item in enumerate(titles):
            if isinstance(item, dict):
                yield "titles", i, item
    people = raw.get("people")
    if isinstance(people, dict) and isinstance(people.get("titles"), list):
        for i, item in enumerate(people["titles"]):
            if isinstance(item, dict):
                yield "people.titles", i, item


def entry_path(section: str, index: int, item: dict[str, Any]) -> str:
    item_id = item.get("id")
    return f"{section}[{index}]" + (f"(id={item_id})" if isinstance(item_id, str) else "")


def period_text(law: dict[str, Any]) -> str:
    start, end = law["in_force"].get("from"), law["in_force"].get("until")
    if start and end:
        return f"{start} – {end}"
    if start:
        return f"from {start}"
    if end:
        return f"until {end}"
    return "always"


class VersionPicker:
    """One load: the date, the pins seen so far (outer files first), and the problems found."""

    def __init__(self, root_file: str, raw_root: Any) -> None:
        self.root_file = root_file
        self.on, self.how, problems = evaluation_date(raw_root)
        self.issues: list[Issue] = [Issue(file=root_file, path=p, message=m) for p, m in problems]
        #: (section, id) → (version id, file that pins it as errors show it, as results name it)
        self.pins: dict[tuple[str, str], tuple[str, str, str]] = {}
        self.used_pins: set[tuple[str, str]] = set()
        #: (section, id) of entries some file removes: their versions are not checked
        self.removed: set[tuple[str, str]] = set()

    def add(self, file: str, path: str, message: str) -> None:
        issue = Issue(file=file, path=path, message=message)
        if issue not in self.issues:
            self.issues.append(issue)

    def note_pins(self, raw: dict[str, Any], display: str, name: str) -> None:
        """Record the pins and removals of a file before its bases are read (outer files win).

        ``name`` is the file as results name it (relative to the loaded policy's folder, or
        ``thidua:catalogue/…``), so that a result does not depend on where the files are."""
        for section, i, item in entries(raw):
            item_id = item.get("id")
            if not isinstance(item_id, str):
                continue
            if item.get("remove") is True:
                self.removed.add((section, item_id))
            if "version" in item and "versions" not in item:
                version = item["version"]
                if not isinstance(version, str):
                    self.add(display, f"{entry_path(section, i, item)}.version",
                             f"expected a version id (a string), got {type_name(version)}")
                    continue
                self.pins.setdefault((section, item_id), (version, display, name))

    def apply(self, raw: dict[str, Any], display: str) -> dict[str, Any]:
        """``raw`` with each versioned entry resolved, pins taken out and ``[catalogue]`` read."""
        catalogue = self.catalogue(raw, display)
        out = {k: v for k, v in raw.items() if k != "catalogue"}
        for section, i, item in list(entries(out)):
            path = entry_path(section, i, item)
            if "law" in item:
                self.add(display, f"{path}.law", "'law' is set from the entry's [[versions]]; "
                         "write the legal basis in a version (id, in_force, instrument, articles)")
            resolved = {k: v for k, v in item.items() if k not in ("version", "law")}
            if "versions" in item:
                resolved = self.pick(section, path, resolved, display, catalogue)
            self.replace(out, section, i, resolved)
        return out

    @staticmethod
    def replace(raw: dict[str, Any], section: str, index: int, item: dict[str, Any]) -> None:
        if section == "titles":
            raw["titles"] = [*raw["titles"][:index], item, *raw["titles"][index + 1:]]
        else:
            people = dict(raw["people"])
            people["titles"] = [*people["titles"][:index], item, *people["titles"][index + 1:]]
            raw["people"] = people

    def catalogue(self, raw: dict[str, Any], display: str) -> dict[str, str] | None:
        table = raw.get("catalogue")
        if table is None:
            return None
        if (not isinstance(table, dict) or set(table) - {"id", "version", "note"}
                or not isinstance(table.get("id"), str) or not isinstance(table.get("version"), str)):
            self.add(display, "catalogue", 'expected { id = "...", version = "..." } naming the catalogue '
                     "edition the file's rules come from")
            return None
        return {"file": display, "id": table["id"], "version": table["version"]}

    def pick(self, section: str, path: str, item: dict[str, Any], display: str,
             catalogue: dict[str, str] | None) -> dict[str, Any]:
        item_id = item.get("id")
        versions = self.read_versions(path, item.pop("versions"), display)
        if versions is None or not isinstance(item_id, str):
            return item
        key = (section, item_id)
        pin = self.pins.get(key)
        ids = [v["id"] for v in versions]
        if pin is not None:
            self.used_pins.add(key)
            chosen = next((v for v in versions if v["id"] == pin[0]), None)
            if chosen is None:
                self.add(pin[1], f"{section}(id={item_id}).version",
                         f"no version '{pin[0]}' of rule '{item_id}'{did_you_mean(pin[0], ids)}; "
                         f"{display} has {', '.join(ids)}")
                return item
            how = f"pinned in {pin[2]}"
        elif self.on is None:
            chosen = max(versions, key=lambda v: (v["in_force"].get("until") or "9999-12-31",
                                                  v["in_force"].get("from") or ""))
            how = "the latest version: the policy gives no year or evaluation_date"
        else:
            day = self.on.isoformat()
            chosen = next((v for v in versions
                           if (v["in_force"].get("from") or "") <= day <= (v["in_force"].get("until") or "9999-12-31")),
                          None)
            if chosen is None:
                if key not in self.removed:
                    periods = "; ".join(f"'{v['id']}' {period_text(v)}" for v in versions)
                    self.add(self.root_file, path,
                             f"not in force on {day} ({self.how}): versions {periods} in {display}; "
                             f"pin one (version = \"{ids[-1]}\") or remove the rule")
                return item
            how = f"in force on {day} ({self.how})"
        merged = {**item, **{k: v for k, v in chosen["keys"].items()}}
        merged["law"] = {
            "version": chosen["id"], "in_force": chosen["in_force"], "instrument": chosen.get("instrument"),
            "articles": chosen.get("articles", []), "chosen": how, "pinned": pin is not None,
            "catalogue": catalogue,
        }
        if chosen.get("source") is not None:
            merged["source"] = chosen["source"]
        return merged

    def read_versions(self, path: str, value: Any, display: str) -> list[dict[str, Any]] | None:
        if not isinstance(value, list) or not value or not all(isinstance(v, dict) for v in value):
            self.add(display, f"{path}.versions", f"expected an array of tables (versions), got {type_name(value)}")
            return None
        found: list[dict[str, Any]] = []
        seen: set[str] = set()
        ok = True
        for n, version in enumerate(value):
            where = f"{path}.versions[{n}]"
            unknown = sorted(set(version) - set(LEGAL_KEYS) - set(RULE_KEYS))
            for key in unknown:
                self.add(display, f"{where}.{key}", f"unknown key '{key}'"
                         f"{did_you_mean(key, (*LEGAL_KEYS, *RULE_KEYS))}")
            version_id = version.get("id")
            if not isinstance(version_id, str) or not version_id:
                self.add(display, f"{where}.id", "a version needs an id (a string), e.g. \"law2022\"")
                ok = False
                continue
            if version_id in seen:
                self.add(display, f"{where}.id", f"version '{version_id}' appears twice")
                ok = False
            seen.add(version_id)
            in_force = self.read_period(f"{where}.in_force", version.get("in_force"), display)
            articles = version.get("articles", [])
            if not isinstance(articles, list) or not all(isinstance(a, str) for a in articles):
                self.add(display, f"{where}.articles", f"expected an array of strings, got {type_name(articles)}")
                articles = []
            instrument = version.get("instrument")
            if instrument is not None and not isinstance(instrument, str):
                self.add(display, f"{where}.instrument", f"expected a string, got {type_name(instrument)}")
                instrument = None
            if in_force is None:
                ok = False
                continue
            found.append({"id": version_id, "in_force": in_force, "instrument": instrument,
                          "articles": list(articles), "source": version.get("source"),
                          "keys": {k: v for k, v in version.items() if k in RULE_KEYS}})
        ordered = sorted(found, key=lambda v: v["in_force"].get("from") or "")
        for earlier, later in itertools.pairwise(ordered):
            if (earlier["in_force"].get("until") or "9999-12-31") >= (later["in_force"].get("from") or ""):
                self.add(display, f"{path}.versions", f"versions '{earlier['id']}' ({period_text(earlier)}) and "
                         f"'{later['id']}' ({period_text(later)}) overlap: one day, one version")
                ok = False
        return found if ok and found else None

    def read_period(self, path: str, value: Any, display: str) -> dict[str, str | None] | None:
        if not isinstance(value, dict) or not value or set(value) - {"from", "until"}:
            self.add(display, path, "expected { from = 2024-01-01, until = 2025-06-30 } (either may be left out "
                     "for an open end; both dates are included)")
            return None
        period: dict[str, str | None] = {"from": None, "until": None}
        for end in ("from", "until"):
            if end in value:
                got = read_date(value[end])
                if isinstance(got, str):
                    self.add(display, f"{path}.{end}", got)
                    return None
                period[end] = got.isoformat()
        if period["from"] and period["until"] and period["from"] > period["until"]:
            self.add(display, path, f"the period ends ({period['until']}) before it starts ({period['from']})")
            return None
        return period

    def finish(self) -> None:
        """A pin that met no versioned rule is a mistake (a misspelt id, or a rule without versions)."""
        for key, (version, file, _) in sorted(self.pins.items()):
            if key not in self.used_pins:
                section, item_id = key
                self.add(file, f"{section}(id={item_id}).version",
                         f"pins version '{version}', but no base gives versions of rule '{item_id}'")
