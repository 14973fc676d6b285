"""Warnings about a policy that loads but may not do what its author meant (``thidua lint``)."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from decimal import Decimal
from pathlib import Path
from typing import IO, Any

import attrs

from .awards import quota_limit
from .errors import Issue, PolicyError, ThiduaError, did_you_mean
from .model import Adjustment, Cluster, Dataset, Policy, Quota, Title
from .tomlfmt import toml_key

#: Every warning's stable code, with what it means in short (docs/lint.md's table says more).
CODES: Mapping[str, str] = {
    "input-unused": "an input that nothing in the policy reads",
    "group-max": "a group whose criteria's points do not add up to its max",
    "bands-order": "a criterion band that an earlier band always takes first",
    "band-points": "a criterion band worth more than the criterion's points",
    "lookup-missing": "a lookup table that leaves out values of the enum it reads",
    "lookup-points": "a lookup value worth more than the criterion's points",
    "total-max": "a total_max the table can never reach, or one that cuts the criteria's own points",
    "item-max": "a bonus or deduction item whose max is above the section's cap",
    "band-unreachable": "a classification band no total can get",
    "title-unreachable": "a title no unit can ever win",
    "rotation-missing": "a unit of the data that is not in the leadership rotation",
    "vote-missing": "a title that needs the council's vote, with no ballot in the data",
}

#: Without data, a quota is checked for clusters of 1 to this many units.
QUOTA_SIZES = 100

#: Keys whose strings are documentation, never read as names.
_DOC_KEYS = frozenset({"id", "name", "label", "source", "note", "description", "message"})
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


@attrs.frozen(kw_only=True)
class LintWarning:
    """One warning: where (file and key path), its stable code and what it means."""

    file: str
    path: str
    code: str
    message: str

    def format(self) -> str:
        """``file: key.path: warning: message [code]``, in the error lines' style."""
        return Issue(file=self.file, path=self.path, message=f"warning: {self.message} [{self.code}]").format()


def lint_file(path: str | Path, policy: Policy, dataset: Dataset | None = None, *,
              display: str | None = None) -> list[LintWarning]:
    """The warnings of the policy file at ``path`` (already loaded as ``policy``), and of
    ``dataset`` against it; in the policy's key order, then the data's (clusters and units by id)."""
    from .loader.common import read_bytes
    from .loader.extends import resolve_with_origins

    shown = display or policy.file
    raw, digest, origins = resolve_with_origins(read_bytes(path, shown), file=shown, path=path)
    if digest != policy.sha256:  # read again (the compiled policy keeps no TOML): the same bytes?
        raise PolicyError([Issue(file=shown, message="the file changed while it was read; run again")])
    return lint(policy, raw, dataset, origins=origins)


def lint(policy: Policy, raw: Mapping[str, Any], dataset: Dataset | None = None, *,
         origins: Mapping[tuple[str, str], list[str]] | None = None) -> list[LintWarning]:
    """The warnings of a compiled ``policy`` whose TOML (bases merged in) is ``raw``."""
    from .loader.policy import attribute

    found: list[LintWarning] = []
    checks = _PolicyChecks(policy, raw, dataset)
    for section in raw:  # the policy's own key order: tomllib keeps the document's
        found.extend(checks.section(section))
    if origins:
        # An entry that comes from a base says so, as the loader's errors do.
        issues = attribute(tuple(Issue(file=w.file, path=w.path, message=w.message) for w in found),
                           origins, policy.file)
        found = [attrs.evolve(w, message=i.message) for w, i in zip(found, issues, strict=True)]
    if dataset is not None:
        found.extend(_capped(_data_warnings(policy, dataset), dataset.file))
    return found


#: At most this many data warnings of one code are shown; one more line counts the rest.
DATA_LINES_PER_CODE = 10


def _capped(warnings: Iterable[LintWarning], file: str) -> Iterator[LintWarning]:
    """The data's warnings, at most :data:`DATA_LINES_PER_CODE` of each code (a file of a thousand
    clusters with no ballots must not give a thousand lines), then how many more there are."""
    shown: dict[str, int] = {}
    for warning in warnings:
        shown[warning.code] = shown.get(warning.code, 0) + 1
        if shown[warning.code] <= DATA_LINES_PER_CODE:
            yield warning
    for code, count in shown.items():
        if count > DATA_LINES_PER_CODE:
            yield LintWarning(file=file, path="", code=code,
                              message=f"… and {count - DATA_LINES_PER_CODE} more like the ones above")


def _show(value: Any) -> str:
    return f"{value:f}" if isinstance(value, Decimal) else str(value)


def _items(raw: Mapping[str, Any], section: str) -> list[tuple[str, dict[str, Any]]]:
    from .loader.common import item_path

    items = raw.get(section, [])
    return [(item_path(section, i, item), item) for i, item in enumerate(items) if isinstance(item, dict)]


class _PolicyChecks:
    def __init__(self, policy: Policy, raw: Mapping[str, Any], dataset: Dataset | None) -> None:
        self.policy = policy
        self.raw = raw
        self.dataset = dataset
        self.file = policy.file

    def warn(self, path: str, code: str, message: str) -> LintWarning:
        return LintWarning(file=self.file, path=path, code=code, message=message)

    def section(self, name: str) -> Iterator[LintWarning]:
        check = getattr(self, f"check_{name}", None)
        if check is not None:
            yield from check()

    # -- inputs ----------------------------------------------------------------------------

    def check_inputs(self) -> Iterator[LintWarning]:
        if self.policy.plugins:
            return  # a plugin's code may read any input by name, which no policy string shows
        read = _names_in(self.raw)
        for field in self.policy.inputs:
            if field.plugin is None and field.id not in read:
                yield self.warn(f"inputs.{toml_key(field.id)}", "input-unused",
                                f"no criterion, check, bonus, deduction, band, title, ranking key or plugin "
                                f"section reads '{field.id}': every unit must supply it for nothing; "
                                "remove it or use it")

    # -- scoring table -----------------------------------------------------------------------

    def check_groups(self) -> Iterator[LintWarning]:
        by_id = {g.id: g for g in self.policy.groups}
        for path, item in _items(self.raw, "groups"):
            group = by_id.get(item.get("id", ""))
            if group is None or group.max is None:
                continue
            members = [c for c in self.policy.criteria if c.group == group.id]
            total = sum((c.points for c in members), Decimal(0))
            parts = " + ".join(f"{c.id} {_show(c.points)}" for c in members)
            if total > group.max:
                yield self.warn(f"{path}.max", "group-max",
                                f"its criteria give up to {_show(total)} points ({parts}), above the group's "
                                f"max {_show(group.max)}: a unit loses {_show(total - group.max)} of the "
                                "points it earned; make the points add up to the max")
            elif total < group.max:
                given = f"only {_show(total)} points ({parts})" if members else "no points (no criterion is in it)"
                yield self.warn(f"{path}.max", "group-max",
                                f"max {_show(group.max)} can never be reached: its criteria give {given}; "
                                "make the points add up to the max")

    def check_criteria(self) -> Iterator[LintWarning]:
        by_id = {c.id: c for c in self.policy.criteria}
        for path, item in _items(self.raw, "criteria"):
            criterion = by_id.get(item.get("id", ""))
            if criterion is not None:  # (method names are unique: "bands" is always the built-in)
                yield from self.method_keys(path, item, criterion.method, criterion.points, "the criterion's points")

    def method_keys(self, path: str, item: Mapping[str, Any], method: str, cap: Decimal | None,
                    cap_name: str) -> Iterator[LintWarning]:
        """The warnings of a ``bands`` or ``lookup`` method's keys, for a criterion or an item."""
        if method == "bands":
            yield from self.bands(path, item.get("bands", []), cap, cap_name)
        elif method == "lookup":
            yield from self.lookup(path, item, cap, cap_name)

    def bands(self, path: str, bands: Sequence[Any], cap: Decimal | None, cap_name: str) -> Iterator[LintWarning]:
        earlier: list[tuple[int, str, Any]] = []
        for i, band in enumerate(bands):
            if not isinstance(band, dict):
                continue
            kind = "at_least" if "at_least" in band else "above"
            bound = band.get(kind)
            here = f"{path}.bands[{i}]"
            shown = f"{{ {kind} = {_show(bound)}, points = {_show(band.get('points'))} }}"
            taker = next((e for e in earlier if _covers(e[1], e[2], kind, bound)), None)
            if taker is not None:
                yield self.warn(here, "bands-order",
                                f"band {shown} can never be reached: bands[{taker[0]}] ({taker[1]} = "
                                f"{_show(taker[2])}) comes first and takes every value it would; "
                                "list the bands from the highest bound down")
            points = band.get("points")
            if cap is not None and isinstance(points, int | Decimal) and points > cap:
                yield self.warn(f"{here}.points", "band-points",
                                f"{_show(points)} points is above {cap_name} ({_show(cap)}): the score is "
                                f"capped at {_show(cap)}")
            earlier.append((i, kind, bound))

    def lookup(self, path: str, item: Mapping[str, Any], cap: Decimal | None, cap_name: str) -> Iterator[LintWarning]:
        table = item.get("table", {})
        value = item.get("value")
        field = next((f for f in self.policy.inputs if isinstance(value, str) and f.id == value.strip()), None)
        if field is not None and field.type == "enum" and "default" not in item:
            missing = [v for v in field.values if v not in table]
            if missing:
                one = len(missing) == 1
                listed = _and([f"'{v}'" for v in missing])
                zeros = ", ".join(f"{toml_key(v)} = 0" for v in missing)
                yield self.warn(f"{path}.table", "lookup-missing",
                                f"no points for {listed} of '{field.id}': {'it scores' if one else 'they score'} "
                                f"the default 0; list {'it' if one else 'them'} ({zeros}) or set 'default'")
        for key, points in table.items():
            if cap is not None and isinstance(points, int | Decimal) and points > cap:
                yield self.warn(f"{path}.table.{toml_key(key)}", "lookup-points",
                                f"{_show(points)} points is above {cap_name} ({_show(cap)}): the score is "
                                f"capped at {_show(cap)}")

    def check_scoring(self) -> Iterator[LintWarning]:
        total_max = self.policy.total_max
        if total_max is None:
            return
        criteria = _criteria_max(self.policy)
        bonus = _adjustments_max(self.policy.bonuses, self.policy.bonus_max)
        if criteria > total_max:
            yield self.warn("scoring.total_max", "total-max",
                            f"the criteria alone give up to {_show(criteria)} points (after group caps), above "
                            f"total_max {_show(total_max)}: a unit loses points it earned; make them add up")
        elif bonus is not None and criteria + bonus < total_max:
            yield self.warn("scoring.total_max", "total-max",
                            f"total_max {_show(total_max)} can never be reached: the criteria give up to "
                            f"{_show(criteria)} points (after group caps) and the bonuses up to {_show(bonus)}; "
                            "make them add up")

    def check_bonuses(self) -> Iterator[LintWarning]:
        yield from self.adjustments("bonuses", self.policy.bonuses, self.policy.bonus_max, "bonus_max")

    def check_deductions(self) -> Iterator[LintWarning]:
        yield from self.adjustments("deductions", self.policy.deductions, self.policy.deduction_max, "deduction_max")

    def adjustments(self, section: str, items: Sequence[Adjustment], cap: Decimal | None,
                    cap_key: str) -> Iterator[LintWarning]:
        by_id = {a.id: a for a in items}
        for path, item in _items(self.raw, section):
            adjustment = by_id.get(item.get("id", ""))
            if adjustment is None:
                continue
            if cap is not None and adjustment.max is not None and adjustment.max > cap:
                yield self.warn(f"{path}.max", "item-max",
                                f"max {_show(adjustment.max)} is above [scoring] {cap_key} {_show(cap)}: "
                                f"the item can never give more than {_show(cap)}")
            yield from self.method_keys(path, item, adjustment.method, adjustment.max, "the item's max")

    # -- classification and titles ------------------------------------------------------------

    def check_bands(self) -> Iterator[LintWarning]:
        for _, warning in self.unreachable_bands():
            yield warning

    def unreachable_bands(self) -> list[tuple[str, LintWarning]]:
        """The bands no total can get, each with its warning, in the policy's order."""
        by_id = {b.id: b for b in self.policy.bands}
        # A building block with no scoring table (a catalogue) gets its criteria from the policy
        # that extends it: only the order of its bands is checked.
        highest = _total_max(self.policy) if self.policy.criteria else None
        earlier: list[tuple[str, Decimal, bool]] = []
        found = []
        for path, item in _items(self.raw, "bands"):
            band = by_id.get(item.get("id", ""))
            if band is None:
                continue
            taker = next((e for e in earlier if e[1] <= band.min and not e[2]), None)
            if taker is not None:
                found.append((band.id, self.warn(
                    f"{path}.min", "band-unreachable",
                    f"band '{band.id}' can never be given: '{taker[0]}' comes first with the same "
                    f"minimum {_show(taker[1])} and no 'when'; raise its min or give it a 'when'")))
            elif highest is not None and band.min > highest:
                found.append((band.id, self.warn(
                    f"{path}.min", "band-unreachable",
                    f"band '{band.id}' can never be given: its min {_show(band.min)} is above the "
                    f"highest total the table allows ({_show(highest)})")))
            earlier.append((band.id, band.min, band.when is not None))
        return found

    def check_titles(self) -> Iterator[LintWarning]:
        by_id = {t.id: t for t in self.policy.titles}
        sizes = (sorted({len(c.units) for c in self.dataset.clusters}) if self.dataset is not None
                 else list(range(1, QUOTA_SIZES + 1)))
        # A plugin may move a unit's band (cap_band), so only a policy without plugins is read for
        # the bands its titles' conditions need.
        no_band = set() if self.policy.plugins else {b for b, _ in self.unreachable_bands()}
        never: set[str] = set()
        for path, item in _items(self.raw, "titles"):
            title = by_id.get(item.get("id", ""))
            if title is None:
                continue
            reason = _zero_quota(title.quota, sizes, from_data=self.dataset is not None)
            if reason is not None:
                never.add(title.id)
                yield self.warn(f"{path}.quota", "title-unreachable",
                                f"title '{title.id}' can never be won: {reason}")
                continue
            needed = _bands_needed(item.get("when"))
            if needed is not None and (not needed or needed <= no_band):
                never.add(title.id)
                quoted = _and(["'" + b + "'" for b in sorted(needed)]) if needed else ""
                why = f"needs band {quoted}, which can never be given" if needed else \
                    "asks for bands that exclude each other"
                yield self.warn(f"{path}.when", "title-unreachable",
                                f"title '{title.id}' can never be won: its 'when' {why}")
                continue
            required = _required(title)
            blocked = next((i for i, t in enumerate(required) if t in never), None)
            if blocked is not None:
                never.add(title.id)
                yield self.warn(f"{path}.requires[{blocked}]", "title-unreachable",
                                f"title '{title.id}' can never be won: it requires '{required[blocked]}', "
                                "which can never be won")


def _bands_needed(source: Any) -> set[str] | None:
    """The bands a condition allows, when it says so at its top level (``band == 'x' and ...``,
    ``band in ['x', 'y']``); None when it does not restrict the band that way."""
    from .expressions.nodes import BoolOp, Compare, ListLiteral, Name, String
    from .expressions.parser import parse

    if not isinstance(source, str):
        return None
    try:
        node = parse(source)
    except ThiduaError:
        return None
    parts = node.operands if isinstance(node, BoolOp) and node.op == "and" else (node,)
    allowed: set[str] | None = None
    for part in parts:
        if not (isinstance(part, Compare) and len(part.ops) == 1 and isinstance(part.operands[0], Name)
                and part.operands[0].name == "band"):
            continue
        right = part.operands[1]
        if part.ops[0] == "==" and isinstance(right, String):
            these = {right.value}
        elif part.ops[0] == "in" and isinstance(right, ListLiteral) and all(isinstance(i, String) for i in right.items):
            these = {i.value for i in right.items if isinstance(i, String)}
        else:
            continue
        allowed = these if allowed is None else allowed & these
    return allowed


def _covers(kind: str, bound: Any, later_kind: str, later_bound: Any) -> bool:
    """Whether a band ``kind bound`` takes every value the later band ``later_kind later_bound``
    would: ``at_least 5`` takes ``at_least 8``, ``above 5`` and ``at_least 5`` after it; ``above 5``
    takes ``above 5`` but not ``at_least 5`` (the value 5 itself)."""
    if not isinstance(bound, int | Decimal) or not isinstance(later_bound, int | Decimal):
        return False
    if bound < later_bound:
        return True
    return bound == later_bound and (kind == "at_least" or later_kind == "above")


def _criteria_max(policy: Policy) -> Decimal:
    """The most the criteria can give: each at its points, each group capped at its max."""
    by_group: dict[str, Decimal] = {}
    for criterion in policy.criteria:
        by_group[criterion.group] = by_group.get(criterion.group, Decimal(0)) + criterion.points
    caps = {g.id: g.max for g in policy.groups}
    total = Decimal(0)
    for group_id, points in by_group.items():
        cap = caps.get(group_id)
        total += points if cap is None else min(points, cap)
    return total


def _adjustments_max(items: Sequence[Adjustment], cap: Decimal | None) -> Decimal | None:
    """The most the bonuses (or deductions) can give, or None when nothing bounds them."""
    if any(item.max is None for item in items):
        return cap
    total = sum((item.max for item in items if item.max is not None), Decimal(0))
    return total if cap is None else min(total, cap)


def _total_max(policy: Policy) -> Decimal | None:
    """The highest total a unit can get, or None when an unbounded bonus or a plugin leaves it open."""
    if any(c.override is not None for c in policy.criteria):
        return None
    bonus = _adjustments_max(policy.bonuses, policy.bonus_max)
    if bonus is None:
        return policy.total_max
    highest = _criteria_max(policy) + bonus
    return highest if policy.total_max is None else min(highest, policy.total_max)


def _zero_quota(quota: Quota | None, sizes: Sequence[int], *, from_data: bool) -> str | None:
    """Why ``quota`` admits no unit in any of the cluster sizes, or None when it admits one."""
    if quota is None or not sizes:
        return None
    if quota.count is not None:
        return "its quota count is 0" if quota.count == 0 else None
    if any(quota_limit(quota, size)[0] > 0 for size in sizes):
        return None
    where = (f"in the data's clusters ({_sizes_text(sizes)} units)" if from_data
             else f"in any cluster of up to {QUOTA_SIZES} units")
    return f"its quota (share {_show(quota.share)}, rounding {quota.rounding}) admits no unit {where}"


def _sizes_text(sizes: Sequence[int]) -> str:
    return _and([str(s) for s in sizes])


def _and(words: Sequence[str]) -> str:
    """``a``, ``a and b``, ``a, b and c``."""
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]


def _required(title: Title) -> tuple[str, ...]:
    for check in title.checks:
        required = getattr(check.run, "required", None)
        if check.plugin == "thidua_rules.builtin.titles" and isinstance(required, tuple):
            return required
    return ()


def _names_in(raw: Mapping[str, Any]) -> set[str]:
    """Every name any string of the policy could read (expressions, plugin sections, ranking
    keys), leaving out documentation and the declarations in ``[inputs]``."""
    names: set[str] = set()

    def walk(value: Any, key: str | None) -> None:
        if isinstance(value, str):
            if key not in _DOC_KEYS:
                names.update(_NAME.findall(value))
        elif isinstance(value, dict):
            for k, v in value.items():
                walk(v, k)
        elif isinstance(value, list):
            for v in value:
                walk(v, key)

    for section, value in raw.items():
        if section == "inputs" and isinstance(value, dict):
            # An input's own spec declares it; only a member count reads names (the members').
            for spec in value.values():
                if isinstance(spec, dict) and "members" in spec:
                    walk(spec["members"], None)
        else:
            walk(value, section)
    return names


# -- data ---------------------------------------------------------------------------------------


def _data_warnings(policy: Policy, dataset: Dataset) -> Iterator[LintWarning]:
    prefix_of: Callable[[Cluster], str] = (
        (lambda c: f"clusters(id={c.id}).") if len(dataset.clusters) > 1 else (lambda c: ""))
    for cluster in dataset.clusters:
        prefix = prefix_of(cluster)
        yield from _rotation(policy, cluster, dataset.file, prefix)
        yield from _ballots(policy, cluster, dataset.file, prefix)


def _rotation(policy: Policy, cluster: Cluster, file: str, prefix: str) -> Iterator[LintWarning]:
    if policy.leadership is None or policy.leadership.method != "rotation":
        return
    rotation = cluster.rotation or policy.leadership.rotation
    where = "the cluster's rotation" if cluster.rotation else "[leadership] rotation"
    if not any(unit.id in rotation for unit in cluster.units):
        # One line for the cluster rather than one per unit: its rotation is what is missing.
        yield LintWarning(file=file, path=f"{prefix}cluster" if not prefix else prefix.rstrip("."),
                          code="rotation-missing",
                          message=f"no unit of cluster '{cluster.id}' is in {where}: none can lead it; "
                                  "give the cluster its own rotation")
        return
    for unit in cluster.units:
        if unit.id not in rotation:
            yield LintWarning(file=file, path=f"{prefix}units(id={unit.id})", code="rotation-missing",
                              message=f"unit '{unit.id}' is not in {where}: it can never lead the cluster; "
                                      "add it where its turn comes")


def _ballots(policy: Policy, cluster: Cluster, file: str, prefix: str) -> Iterator[LintWarning]:
    voted = {b.title for b in cluster.ballots}
    titles: list[Title] = list(policy.titles)
    if policy.people is not None and cluster.people:
        titles += policy.people.titles
    for title in titles:
        if title.takes_vote and title.id not in voted:
            yield LintWarning(file=file, path=f"{prefix}votes", code="vote-missing",
                              message=f"no ballot for title '{title.id}', which needs the council's vote: "
                                      "no unit can be proposed for it until a [[votes]] ballot is recorded")


# -- command line -------------------------------------------------------------------------------


def check_codes(codes: Iterable[str]) -> None:
    """Refuse an unknown code given to ``--allow``, with a suggestion."""
    issues = [Issue(file="--allow", message=f"unknown warning code '{code}'{did_you_mean(code, list(CODES))}")
              for code in codes if code not in CODES]
    if issues:
        raise PolicyError(issues)


def kept(warnings: Iterable[LintWarning], allow: Iterable[str] = ()) -> list[LintWarning]:
    allowed = set(allow)
    return [w for w in warnings if w.code not in allowed]



def lint_command(path: str | Path, policy: Policy, dataset: Dataset | None, err: IO[str], *,
                 strict: bool = False, allow: Iterable[str] = ()) -> int:
    """Write the warnings to ``err``, one line each; 1 when ``strict`` and there is one, else 0."""
    allow = tuple(allow)
    check_codes(allow)
    warnings = kept(lint_file(path, policy, dataset), allow)
    for warning in warnings:
        err.write(warning.format() + "\n")
    return 1 if strict and warnings else 0
