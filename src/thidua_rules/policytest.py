"""`thidua test`: test cases that policy authors keep beside a policy, with a pass/fail summary and coverage.

A test file ``<policy stem>.tests.toml`` sits beside its policy::

    policy = "cum8-2022.toml"              # optional; default: the file name without ".tests"

    [[cases]]
    name = "the 2022 outcome"
    data = "../examples/cum8-2022/units.toml"   # a data file (relative to this file) …
    # members = "../examples/cum8-2022/members.csv"   # … with a members file, optionally
    # … or the data inline, in the data-file shape: [cases.inline.cluster], [[cases.inline.units]]

    [cases.expect.units.cuc-cntt]
    total = "102.00"                       # the totals as the outputs print them
    rank = 1
    band = "xuat_sac"
    proposed = ["co_thi_dua_chinh_phu", "bang_khen_bo_truong"]
    titles = { co_thi_dua_bca = "held" }   # status of single titles

    [cases.expect.leadership.cum8]
    leader = "vien-khcn"
    deputy = "cuc-vt-cy"

    [cases.expect]
    council = [{ title = "co", units = ["b", "c"] }]   # items left to the council

A case may instead expect an error: ``error = "check 'x' failed"`` passes when evaluating the
case fails with a message containing that text.

``thidua test --update`` writes what the engine now gives as the expectations (:func:`update_file`).

Coverage counts what the cases exercised: each criterion scoring above 0 for some unit, each
band given to some unit, each title won by some unit, and each title check deciding a failure
for some unit (so every condition was seen to matter).
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import attrs
import tomli_w

from .engine import Result, evaluate
from .errors import Issue, PolicyError, ThiduaError, did_you_mean
from .extensions import type_name
from .loader import load_policy, parse_data
from .loader.common import DATA_MAX_BYTES, Issues, parse_toml, read_bytes, take
from .loader.data import FORMATS, read_member_rows
from .model import Policy
from .report import build_document, write_atomic
from .tomlfmt import join_path, toml_key, toml_value
from .tomlspans import SpanError, scan

# What a case may expect, with the kind of each value (the loader's ``take`` kinds). An expectation of
# the wrong kind is an error in the test file (exit 2), not a failing case: it could never pass.
EXPECT_KEYS = {"units": ("table", False), "people": ("table", False), "leadership": ("table", False),
               "council": ("table_list", False)}
UNIT_KEYS = {"total": ("str", False), "rank": ("int", False), "band": ("str", False),
             "proposed": ("str_list", False), "titles": ("table", False), "tied": ("bool", False)}
PERSON_KEYS = {"proposed": ("str_list", False), "titles": ("table", False)}
LEADERSHIP_KEYS = {"year": ("int", False), "leader": ("str", False), "deputy": ("str", False),
                   "method": ("str", False), "reason": ("str", False), "previous_leader": ("str", False)}
COUNCIL_KEYS = {"title": ("str", True), "units": ("str_list", True)}
#: Longest case name shown in a key path (``cases[2](name="…")``); the index alone is the address.
NAME_SHOWN = 40


@attrs.frozen
class CaseResult:
    file: str
    name: str
    failures: tuple[str, ...]

    @property
    def passed(self) -> bool:
        return not self.failures


#: Methods whose score can fall anywhere in [0, points] (and beyond, before clamping): for them
#: "scores part of the points" and "capped" are branches a case can reach. Other methods (bands,
#: lookup, full_if, a plugin's) score fixed amounts, which their own branches would need to name.
_CONTINUOUS = frozenset({"formula", "proportional", "per_item"})
#: Of those, the methods whose raw value may leave [0, points] (proportional never exceeds its points).
_UNBOUNDED = frozenset({"formula", "per_item"})


@attrs.define
class Coverage:
    """Which parts of a policy the cases exercised.

    ``items`` are the summary every run prints: each criterion scored, each band reached, each
    title won, each title check failed once. ``branches`` (``thidua test --coverage``) add the other
    side of every decision: a criterion at 0 and at full points (in between and capped, for methods
    that score a range), a closed gate, a bonus or deduction applied and not, a band whose minimum
    is reached but whose ``when`` fails, a title not won, each check passed, a unit over a quota
    or tied at its cut, a person's title not won.
    """

    items: dict[str, bool] = attrs.Factory(dict)
    branches: dict[str, bool] = attrs.Factory(dict)

    @classmethod
    def of(cls, policy: Policy) -> Coverage:
        items = {f"criterion {c.id}": False for c in policy.criteria}
        items |= {f"band {b.id}": False for b in policy.bands}
        items |= {f"title {t.id}": False for t in policy.titles}
        items |= {f"title {t.id} check {c.name}": False for t in policy.titles for c in t.checks}
        if policy.people is not None:
            items |= {f"person title {t.id}": False for t in policy.people.titles}
        return cls(items, _branches(policy))

    def record(self, result: Result) -> None:
        hit = self._hit
        points = {c.id: c.points for c in result.policy.criteria}
        for cluster in result.clusters:
            for unit in cluster.units:
                for c in unit.score.criteria:
                    if c.score > 0:
                        hit(f"criterion {c.id}")
                    hit(f"criterion {c.id} scores 0" if c.score == 0 else
                        f"criterion {c.id} full points" if c.score == points[c.id] else
                        f"criterion {c.id} part of the points")
                    if c.gated:
                        hit(f"criterion {c.id} gate closed")
                    elif c.capped:
                        hit(f"criterion {c.id} capped")
                for kind, rows in (("bonus", unit.score.bonuses), ("deduction", unit.score.deductions)):
                    for a in rows:
                        hit(f"{kind} {a.id} applies" if a.applies and a.score != 0 else f"{kind} {a.id} does not apply")
                if unit.band:
                    hit(f"band {unit.band}")
                for band_id, _why in unit.score.band_skipped:
                    hit(f"band {band_id} minimum reached, when false")
                for outcome in unit.titles:
                    won = outcome.status in ("proposed", "held")
                    hit(f"title {outcome.title}" if won else f"title {outcome.title} not won")
                    if outcome.status in ("over_quota", "undecided"):
                        hit(f"title {outcome.title} over quota or tied at the cut")
                    for check in outcome.checks:
                        hit(f"title {outcome.title} check {check.check}" if not check.passed
                            else f"title {outcome.title} check {check.check} passes")
            for person in cluster.people:
                for title in person.won:
                    hit(f"person title {title}")
                for outcome in person.titles:
                    if outcome.title not in person.won:
                        hit(f"person title {outcome.title} not won")

    def _hit(self, name: str) -> None:
        if name in self.items:
            self.items[name] = True
        if name in self.branches:
            self.branches[name] = True

    @property
    def percent(self) -> str:
        return _percent(self.items)

    @property
    def branch_percent(self) -> str:
        return _percent(self.branches)

    def missed(self) -> list[str]:
        return [name for name, hit in self.items.items() if not hit]

    def missed_branches(self) -> list[str]:
        return [name for name, hit in self.branches.items() if not hit]


def _percent(items: Mapping[str, bool]) -> str:
    """The share exercised, rounded down to 0.1 % (never 100.0 with one missed)."""
    if not items:
        return "100.0"
    share = 1000 * sum(items.values()) // len(items)
    return f"{share // 10}.{share % 10}"


def _branches(policy: Policy) -> dict[str, bool]:
    """Every branch of ``--coverage``, in the policy's order, each entity's branches together."""
    names: list[str] = []
    for c in policy.criteria:
        names += [f"criterion {c.id}", f"criterion {c.id} scores 0", f"criterion {c.id} full points"]
        if c.method in _CONTINUOUS:
            names.append(f"criterion {c.id} part of the points")
        if c.method in _UNBOUNDED:
            names.append(f"criterion {c.id} capped")
        if c.gate is not None:
            names.append(f"criterion {c.id} gate closed")
    for kind, adjustments in (("bonus", policy.bonuses), ("deduction", policy.deductions)):
        for a in adjustments:
            names += [f"{kind} {a.id} applies", f"{kind} {a.id} does not apply"]
    for b in policy.bands:
        names.append(f"band {b.id}")
        if b.when is not None:
            names.append(f"band {b.id} minimum reached, when false")
    for t in policy.titles:
        names += [f"title {t.id}", f"title {t.id} not won"]
        for check in t.checks:
            names += [f"title {t.id} check {check.name}", f"title {t.id} check {check.name} passes"]
        if t.quota is not None:
            names.append(f"title {t.id} over quota or tied at the cut")
    if policy.people is not None:
        for t in policy.people.titles:
            names += [f"person title {t.id}", f"person title {t.id} not won"]
    return dict.fromkeys(names, False)


def discover(paths: Sequence[str]) -> list[Path]:
    """Test files named on the command line, or found in the folders named (sorted)."""
    found: list[Path] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            found.extend(sorted(path.rglob("*.tests.toml")))
        elif path.name.endswith(".tests.toml"):
            found.append(path)
        elif path.suffix == ".toml":  # a policy: its tests beside it
            found.append(path.with_name(path.stem + ".tests.toml"))
        else:
            found.append(path)
    return found


def run_file(path: Path) -> tuple[list[CaseResult], Coverage]:
    """Run every case of one test file; bad test files raise :class:`PolicyError`."""
    shown = str(path)
    raw = parse_toml(read_bytes(path, shown), shown)
    issues = Issues(shown)
    top = take(issues, "", raw, {"policy": ("str", False), "cases": ("table_list", True)}) or {}
    issues.raise_if_any()
    policy_name = top.get("policy", path.name.removesuffix(".tests.toml") + ".toml")
    policy = load_policy(path.parent / policy_name, display=str(path.parent / policy_name))
    coverage = Coverage.of(policy)
    results = []
    for i, case in enumerate(top["cases"]):
        results.append(_run_case(path, policy, case_path(i, case), case, issues, coverage))
    issues.raise_if_any()
    return results, coverage


def case_path(index: int, case: Any) -> str:
    """``cases[2](name="wrong total")``: the index for position, the name to find the case by."""
    path = f"cases[{index}]"
    if isinstance(case, dict) and isinstance(case.get("name"), str):
        name = case["name"]
        if len(name) > NAME_SHOWN:
            name = name[: NAME_SHOWN - 1] + "…"
        path += f"(name={toml_value(name)})"
    return path


def check_expect(issues: Issues, where: str, expect: Any) -> dict[str, Any] | None:
    """The ``expect`` table of a case with every value of the right kind, or ``None`` (issues added)."""
    before = len(issues.items)
    top = take(issues, where, expect, EXPECT_KEYS) or {}
    for section, value in top.items():  # document order, as the loader reports
        if section == "council":
            for i, item in enumerate(value):
                take(issues, f"{where}.council[{i}]", item, COUNCIL_KEYS)
            continue
        fields = {"units": UNIT_KEYS, "people": PERSON_KEYS, "leadership": LEADERSHIP_KEYS}[section]
        for name, wanted in value.items():
            item = join_path(f"{where}.{section}", name)
            if isinstance(wanted, dict) and "total" in wanted and not isinstance(wanted["total"], str):
                # The usual slip: a number, where the outputs print the total at the policy's precision.
                issues.add(f"{item}.total", "expected a string, the total as the outputs print it "
                           f"(e.g. \"90.00\"), got {type_name(wanted['total'])}")
                wanted = {k: v for k, v in wanted.items() if k != "total"}
            values = take(issues, item, wanted, fields) or {}
            for title_id, status in values.get("titles", {}).items():
                if not isinstance(status, str):
                    issues.add(join_path(f"{item}.titles", title_id),
                               f"expected a string (a title status such as \"proposed\"), got {type_name(status)}")
    return top if len(issues.items) == before else None


def _run_case(path: Path, policy: Policy, where: str, case: dict[str, Any], issues: Issues,
              coverage: Coverage) -> CaseResult:
    name, expect, outcome = _evaluate_case(path, policy, where, case, issues)
    if not isinstance(outcome, Result):
        return CaseResult(str(path), name, outcome)
    coverage.record(outcome)
    assert expect is not None
    return CaseResult(str(path), name, tuple(_compare(build_document(outcome), expect)))


def _evaluate_case(path: Path, policy: Policy, where: str, case: dict[str, Any],
                   issues: Issues) -> tuple[str, dict[str, Any] | None, Result | tuple[str, ...]]:
    """A case's name, its checked ``expect`` and the result to compare with it; or, in place of the
    result, the case's failures when there is nothing to compare (an error expected or not,
    problems of the test file: those are added to ``issues``)."""
    values = take(issues, where, case, {
        "name": ("str", True), "data": ("str", False), "inline": ("table", False), "members": ("str", False),
        "expect": ("any", False), "error": ("str", False), "note": ("str", False)}) or {}
    name = values.get("name", where)
    if ("data" in values) == ("inline" in values):
        issues.add(where, "give exactly one of 'data' (a file) or 'inline' (the data itself)")
        return name, None, ()
    expect = check_expect(issues, f"{where}.expect", case.get("expect", {}))
    if expect is None:
        return name, None, ()
    try:
        if "data" in values:
            data_path = path.parent / values["data"]
            kind = FORMATS.get(data_path.suffix.lower())
            if kind is None:
                issues.add(f"{where}.data", f"unknown data format of {toml_value(values['data'])}; "
                           "use a .toml, .json, .csv or .jsonl file")
                return name, None, ()
            members = read_member_rows(path.parent / values["members"]) if "members" in values else None
            dataset = parse_data(read_bytes(data_path, str(data_path), limit=DATA_MAX_BYTES), policy,
                                 file=str(data_path), format=kind, members=members)
        else:
            dataset = parse_data(tomli_w.dumps(values["inline"]).encode("utf-8"), policy,
                                 file=f"{path}: {where}.inline")
        result = evaluate(policy, dataset)
    except ThiduaError as exc:
        text = "\n".join(exc.lines())
        if "error" in values and values["error"] in text:
            return name, expect, ()
        return name, expect, (f"evaluation failed: {text}",)
    if "error" in values:
        return name, expect, ((f"expected an error containing {values['error']!r}, "
                               "but the evaluation succeeded"),)
    return name, expect, result


def _show(value: Any) -> str:
    return "nothing" if value is None else toml_value(value)


def _compare(doc: dict[str, Any], expect: dict[str, Any]) -> Iterable[str]:
    """Readable differences between what a case expects (checked by :func:`check_expect`) and what
    the engine gave."""
    units = {u["id"]: u for u in doc["units"]}
    for unit_id, wanted in sorted(expect.get("units", {}).items()):
        got = units.get(unit_id)
        if got is None:
            yield f"{join_path('units', unit_id)}: no such unit in the result{did_you_mean(unit_id, units)}"
            continue
        for key, value in sorted(wanted.items()):
            if key == "titles":
                statuses = {t["id"]: t["status"] for t in got["explanation"]["titles"]}
                yield from _titles(join_path("units", unit_id), statuses, value)
            elif got[key] != value:
                yield f"{join_path('units', unit_id)}.{key}: expected {_show(value)}, got {_show(got[key])}"
    people = {p["id"]: p for p in doc.get("people", [])}
    for person_id, wanted in sorted(expect.get("people", {}).items()):
        got = people.get(person_id)
        if got is None:
            yield f"{join_path('people', person_id)}: no such person in the result{did_you_mean(person_id, people)}"
            continue
        for key, value in sorted(wanted.items()):
            if key == "proposed" and got["proposed"] != value:
                yield (f"{join_path('people', person_id)}.proposed: expected {_show(value)}, "
                       f"got {_show(got['proposed'])}")
            elif key == "titles":
                statuses = {t["id"]: t["status"] for t in got["titles"]}
                yield from _titles(join_path("people", person_id), statuses, value)
    leadership = {x["cluster"]: x for x in doc["leadership"]}
    for cluster_id, wanted in sorted(expect.get("leadership", {}).items()):
        got = leadership.get(cluster_id)
        if got is None:
            yield (f"{join_path('leadership', cluster_id)}: no such cluster with a leadership in the result"
                   f"{did_you_mean(cluster_id, leadership)}")
            continue
        for key, value in sorted(wanted.items()):
            if got.get(key) != value:
                yield (f"{join_path(join_path('leadership', cluster_id), key)}: expected {_show(value)}, "
                       f"got {_show(got.get(key))}")
    if "council" in expect:
        got_items = [{"title": i["title"], "units": i["units"]} for c in doc["clusters"] for i in c["council"]]
        if got_items != expect["council"]:
            yield f"council: expected {_show(expect['council'])}, got {_show(got_items)}"


def _titles(where: str, statuses: dict[str, str], wanted: dict[str, str]) -> Iterable[str]:
    for title_id, status in sorted(wanted.items()):
        if title_id not in statuses:
            yield f"{join_path(where + '.titles', title_id)}: no such title{did_you_mean(title_id, statuses)}"
        elif statuses[title_id] != status:
            yield f"{join_path(where + '.titles', title_id)}: expected {_show(status)}, got {_show(statuses[title_id])}"


#: What ``--update`` gives a case without ``expect``, per unit (the summary table's columns), besides
#: ``council`` (the items left to the council; ``[]`` when there is none).
DEFAULT_UNIT_KEYS = ("total", "rank", "band", "proposed")
_MISSING = object()


def update_file(path: Path) -> int:
    """Write what the engine now gives as the expectations of every case of one test file, and
    return how many values changed (0: the file is left untouched).

    Only the values a case already expects are replaced, each where it is written, so comments,
    layout and every other key stay byte for byte; a case without ``expect`` gets
    :data:`DEFAULT_UNIT_KEYS` for each unit and ``council``, as ``[cases.expect…]`` tables at the end
    of the case. A case expecting an error, one whose evaluation fails, and a value the result does
    not have (a unit or title no longer there, a band that is none) are left as they are, for the
    run after the update to report. The file is written atomically.
    """
    shown = str(path)
    data = read_bytes(path, shown)
    raw = parse_toml(data, shown)  # reports a file that is not UTF-8 TOML
    text = data.decode("utf-8")
    issues = Issues(shown)
    top = take(issues, "", raw, {"policy": ("str", False), "cases": ("table_list", True)}) or {}
    issues.raise_if_any()
    policy_name = top.get("policy", path.name.removesuffix(".tests.toml") + ".toml")
    policy = load_policy(path.parent / policy_name, display=str(path.parent / policy_name))
    try:
        spans = scan(text)
    except SpanError:  # tomllib read it: a construct this scanner does not know
        raise PolicyError([Issue(file=shown, message="cannot edit this file in place (a TOML construct "
                                 "--update does not read); update its expectations by hand")]) from None
    nl = "\r\n" if "\r\n" in text else "\n"
    edits: list[tuple[int, int, str]] = []
    intended = copy.deepcopy(raw)
    changed = 0
    for i, case in enumerate(top["cases"]):
        where = case_path(i, case)
        _name, expect, outcome = _evaluate_case(path, policy, where, case, issues)
        if not isinstance(outcome, Result) or expect is None:
            continue
        doc = build_document(outcome)
        if "expect" not in case:
            added = _default_expect(doc)
            end = spans.ends.get(("cases", i))
            if end is None:
                issues.add(where, "written inside an array; write it as a [[cases]] table for --update "
                           "to add its expectations")
                continue
            edits.append((end, end, _expect_text(added, nl)))
            intended["cases"][i]["expect"] = added
            changed += sum(1 for _ in _leaves(added))
            continue
        for sub, wanted in _leaves(expect):
            got = _got(doc, sub)
            if got is _MISSING or got is None or got == wanted:
                continue
            span = spans.values.get(("cases", i, "expect", *sub))
            if span is None:
                issues.add(f"{where}.expect", "cannot find where a value is written; update it by hand")
                continue
            edits.append((span[0], span[1], toml_value(got)))
            _set(intended["cases"][i]["expect"], sub, got)
            changed += 1
    issues.raise_if_any()
    if not edits:
        return 0
    for start, end, new in sorted(edits, reverse=True):
        text = text[:start] + new + text[end:]
    # The edit is checked against its intent before anything is written.
    if parse_toml(text.encode("utf-8"), shown) != intended:
        raise PolicyError([Issue(file=shown, message="cannot edit this file in place (the edited text "
                                 "does not read back as intended); update its expectations by hand")])
    write_atomic(path, text)
    return changed


def _leaves(expect: dict[str, Any]) -> Iterable[tuple[tuple[str, ...], Any]]:
    """Each expected value with its path in ``expect``: a unit's key, a title's status, the council."""
    for section in ("units", "people", "leadership"):
        for item_id, wanted in expect.get(section, {}).items():
            for key, value in wanted.items():
                if key == "titles" and section != "leadership":
                    for title_id, status in value.items():
                        yield (section, item_id, "titles", title_id), status
                else:
                    yield (section, item_id, key), value
    if "council" in expect:
        yield ("council",), expect["council"]


def _got(doc: dict[str, Any], sub: tuple[str, ...]) -> Any:
    """What the result gives at ``sub`` (a path of :func:`_leaves`), or ``_MISSING``."""
    if sub == ("council",):
        return [{"title": i["title"], "units": i["units"]} for c in doc["clusters"] for i in c["council"]]
    section, item_id, key = sub[:3]
    if section == "leadership":
        got = {x["cluster"]: x for x in doc["leadership"]}.get(item_id)
        return _MISSING if got is None else got.get(key, _MISSING)
    got = {x["id"]: x for x in doc.get(section, [])}.get(item_id)
    if got is None:
        return _MISSING
    if key == "titles":
        titles = got["explanation"]["titles"] if section == "units" else got["titles"]
        return {t["id"]: t["status"] for t in titles}.get(sub[3], _MISSING)
    return got.get(key, _MISSING)


def _set(table: dict[str, Any], sub: tuple[str, ...], value: Any) -> None:
    for key in sub[:-1]:
        table = table[key]
    table[sub[-1]] = value


def _default_expect(doc: dict[str, Any]) -> dict[str, Any]:
    units = {u["id"]: {k: u[k] for k in DEFAULT_UNIT_KEYS if u.get(k) is not None} for u in doc["units"]}
    return {"council": _got(doc, ("council",)), "units": units}


def _expect_text(expect: dict[str, Any], nl: str) -> str:
    """``expect`` as ``[cases.expect]`` tables, to go at the end of its case."""
    lines = ["", "[cases.expect]", f"council = {toml_value(expect['council'])}"]
    for unit_id, wanted in expect["units"].items():
        lines += ["", f"[cases.expect.units.{toml_key(unit_id)}]"]
        lines += [f"{key} = {toml_value(value)}" for key, value in wanted.items()]
    return nl.join(lines) + nl


def run(paths: Sequence[str], out: Any, *, update: bool = False, branches: bool = False) -> int:
    """Run the test files and print results; 0 if all pass, 1 if any fails. With ``update``, first
    write the current results as the cases' expectations (:func:`update_file`), one line per file.
    With ``branches``, each file's coverage line counts every branch (see :class:`Coverage`) and
    the branches no case exercised follow it, one per line."""
    files = discover(paths)
    if not files:
        raise PolicyError([Issue(file=", ".join(paths) or ".", message="no *.tests.toml files found")])
    if update:
        for path in files:
            changed = update_file(path)
            out.write(f"updated {path}: {changed} expectation{'' if changed == 1 else 's'} changed\n"
                      if changed else f"up to date {path}\n")
    passed = failed = 0
    for path in files:
        results, coverage = run_file(path)
        for case in results:
            if case.passed:
                passed += 1
                out.write(f"PASS {case.file}: {case.name}\n")
            else:
                failed += 1
                out.write(f"FAIL {case.file}: {case.name}\n")
                for line in case.failures:
                    out.write(f"    {line}\n")
        if branches:
            missed = coverage.missed_branches()
            out.write(f"coverage {path}: {coverage.branch_percent}% of {len(coverage.branches)} branches"
                      + (f"; not exercised ({len(missed)}):" if missed else "") + "\n")
            out.writelines(f"    {name}\n" for name in missed)
            continue
        missed = coverage.missed()
        out.write(f"coverage {path}: {coverage.percent}% of {len(coverage.items)} items"
                  + (f"; not exercised: {', '.join(missed)}" if missed else "") + "\n")
    out.write(f"policy tests: {passed} passed, {failed} failed\n")
    return 0 if failed == 0 else 1
