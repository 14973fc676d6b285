"""Policy TOML → a compiled, checked :class:`~thidua_rules.model.Policy`."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from decimal import Decimal
from fractions import Fraction
from functools import partial
from pathlib import Path
from typing import Any

import attrs
import pluggy

from ..builtin.titles import WhenCheck, read_share
from ..decimals import number_problem
from ..errors import ExpressionError, Issue, PluginError, PolicyError, did_you_mean
from ..expressions import FunctionSpec, NameInfo, compile_expression
from ..expressions.nodes import Call, Name, Node
from ..expressions.parser import parse
from ..extensions import (
    CompileContext,
    MethodSpec,
    PolicyContext,
    TitleCheckSpec,
    deep_freeze,
    type_name,
)
from ..model import (
    Adjustment,
    Band,
    Check,
    Criterion,
    Group,
    InputField,
    Leadership,
    LegalRule,
    Policy,
    Quota,
    RankKey,
    Title,
    TitleCheck,
)
from ..plugins import (
    DEFAULT_LIMIT,
    PluginFault,
    PluginRuntime,
    claimed_twice,
    collect,
    collect_messages,
    implementers,
    invoke_checker,
    loaded_plugins,
    make_plugin_manager,
    plugin_info,
    plugin_time_limit,
)
from ..tomlfmt import join_path, toml_key
from . import keys as policy_keys
from .common import UNIT_ID, Issues, check_id, item_path, read_bytes, take
from .extends import resolve_with_origins as resolve_extends
from .layers import compile_layers
from .people import compile_member_aggregates, compile_people

#: Names the engine computes; an input may not take one of them.
RESERVED = frozenset({
    "year", "score", "bonus", "deduction", "total", "zero_criteria", "band", "rank",
    "cluster_size", "tied", "titles", "group", "criterion", "input",
})


def load_policy(path: str | Path, *, display: str | None = None,
                extra_plugins: tuple[tuple[str, object], ...] = ()) -> Policy:
    """Read and compile a policy file; raise :class:`PolicyError` with every problem found."""
    shown = display or str(path)
    data = read_bytes(path, shown)
    return parse_policy(data, file=shown, extra_plugins=extra_plugins, path=path)


def parse_policy(data: bytes, *, file: str = "<policy>",
                 extra_plugins: tuple[tuple[str, object], ...] = (),
                 path: str | Path | None = None) -> Policy:
    """Compile policy bytes; ``path`` (where they came from) resolves relative ``extends``."""
    raw, digest, origins = resolve_extends(data, file=file, path=path)
    try:
        return PolicyCompiler(file, digest, extra_plugins).compile(raw)
    except PolicyError as exc:
        if not origins:
            raise
        raise PolicyError(attribute(exc.issues, origins, file)) from None


def _evaluation_day(raw: Mapping[str, Any]) -> str | None:
    from .lawversions import evaluation_date

    day = evaluation_date(raw)[0]
    return None if day is None else day.isoformat()


def _legal_rule(law: Any) -> LegalRule | None:
    """The ``law`` table the version picker (loader/lawversions.py) left on a rule, as a value."""
    if not isinstance(law, dict):
        return None
    catalogue = law.get("catalogue")
    return LegalRule(
        version=law["version"], in_force_from=law["in_force"]["from"], in_force_until=law["in_force"]["until"],
        instrument=law.get("instrument"), articles=tuple(law.get("articles", ())), chosen=law["chosen"],
        pinned=law["pinned"],
        catalogue=f"{catalogue['id']} {catalogue['version']}" if catalogue else None,
        catalogue_file=catalogue["file"] if catalogue else None,
    )


def numbers_out_of_bounds(issues: Issues, raw: Mapping[str, Any]) -> None:
    """Report, in document order, every number of ``raw`` that breaks the bounds of
    :func:`~thidua_rules.decimals.number_problem`."""
    stack: list[tuple[str, Any]] = [("", raw)]
    while stack:
        path, value = stack.pop()
        if type(value) is int or isinstance(value, Decimal):
            if problem := number_problem(value):
                issues.add(path, problem)
        elif isinstance(value, dict):
            stack.extend(reversed([(join_path(path, k) if path else toml_key(k), v) for k, v in value.items()]))
        elif isinstance(value, list):
            stack.extend(reversed([(item_path(path, i, v), v) for i, v in enumerate(value)]))


_ENTRY = re.compile(r"^(?P<section>[a-z_.]+)\[\d+\]\(id=(?P<id>[^)]*)\)")


def attribute(issues: tuple[Issue, ...], origins: Mapping[tuple[str, str], list[str]],
              file: str) -> list[Issue]:
    """Say which base file an entry with a problem comes from: the error is reported on the policy
    that was loaded (its key paths address the merged policy), with the file to edit."""
    result = []
    for issue in issues:
        match = _ENTRY.match(issue.path)
        files = origins.get((match["section"], match["id"])) if match else None
        if files and files != [file]:
            where = f"defined in {files[0]}" + (", changed in this file" if file in files[1:] else "")
            if files[0] == file:
                where = f"changed in {', '.join(f for f in files if f != file)}"
            issue = attrs.evolve(issue, message=f"{issue.message} ({where})")
        result.append(issue)
    return result


def _raw_points(scorer: Any) -> Any:
    """A method's scorer as an adjustment's ``raw(env, ctx)``: the points, without the facts."""
    def raw(env: Mapping[str, Any], ctx: Any) -> Any:
        return scorer(env)[0]
    raw.scorer = scorer  # type: ignore[attr-defined]  # what it reads: see kernel._adjustment_memo_names
    return raw


def name_info_of(field: InputField) -> NameInfo:
    if field.type in ("integer", "decimal"):
        return NameInfo("number")
    if field.type == "boolean":
        return NameInfo("bool")
    return NameInfo("text", field.values or None)


class PolicyCompiler:
    """One use: walks the TOML tables in document order, compiling as it goes."""

    def __init__(self, file: str, digest: str, extra_plugins: tuple[tuple[str, object], ...]) -> None:
        self.issues = Issues(file)
        self.file = file
        self.digest = digest
        self.extra_plugins = extra_plugins
        self.functions: dict[str, FunctionSpec] = {}
        self.methods: dict[str, MethodSpec] = {}
        self.checks: dict[str, TitleCheckSpec] = {}
        self.messages: dict[str, dict[str, dict[str, str]]] = {}
        self.pm: pluggy.PluginManager | None = None
        self.runtime: PluginRuntime | None = None
        self.plugin_timeout = DEFAULT_LIMIT
        #: ids that appear in the file even where their entry has errors, so that a reference to
        #: them is not reported a second time as unknown.
        self.declared: dict[str, set[str]] = {}
        #: raw ``members = {...}`` derivations of unit inputs, compiled once [people] is known
        self.member_aggregates: dict[str, Any] = {}

    def declare(self, section: str, item: Any) -> None:
        # An id with a control character is reported once (check_id) and never offered as a
        # "did you mean" (which would print the character raw).
        if isinstance(item, dict) and isinstance(item.get("id"), str) and item["id"].isprintable():
            self.declared.setdefault(section, set()).add(item["id"])

    # -- helpers --------------------------------------------------------------------------

    def compile_at(self, names: Mapping[str, NameInfo], history: Mapping[str, NameInfo] | None,
                   source: str, *, expect: str) -> Any:
        return compile_expression(source, names=names, functions=self.functions,
                                  history_names=history, expect=expect)

    def expr(self, path: str, source: Any, names: Mapping[str, NameInfo], *, expect: str,
             history: Mapping[str, NameInfo] | None = None) -> Any:
        if not isinstance(source, str):
            return None
        try:
            return self.compile_at(names, history, source, expect=expect)
        except ExpressionError as exc:
            self.issues.add(path, exc.message, exc.caret_lines())
            return None

    def context(self, path: str, names: Mapping[str, NameInfo], inputs: Mapping[str, InputField],
                titles: tuple[str, ...] = (),
                history: Mapping[str, NameInfo] | None = None) -> CompileContext:
        return CompileContext(
            path=path,
            report=self.issues.add,
            compile_expression=partial(self.compile_at, names, history),
            inputs=inputs,
            titles=titles,
        )

    def number_at_least(self, path: str, value: Decimal | int | None, minimum: int) -> Decimal | None:
        if value is None:
            return None
        number = Decimal(value)
        if number < minimum:
            self.issues.add(path, f"expected a number >= {minimum}, got {number}")
            return None
        return number

    # -- the whole file -------------------------------------------------------------------

    def compile(self, raw: dict[str, Any]) -> Policy:
        # A number out of bounds (infinite, huge, or with too many decimals) could crash or hang
        # whatever reads it, a plugin's method too: they are found first, in the whole file.
        numbers_out_of_bounds(self.issues, raw)
        self.issues.raise_if_any()
        top = take(self.issues, "", raw, {k: (kind, False) for k, kind in policy_keys.TOP_LEVEL.items()})
        assert top is not None
        meta = take(self.issues, "policy", raw.get("policy", {}), policy_keys.POLICY) if "policy" in raw else None
        if "policy" not in raw:
            self.issues.add("", "missing table [policy] (with id and name)")
            meta = {}
        meta = meta or {}
        policy_id = check_id(self.issues, "policy", meta.get("id"), set(), "policy", UNIT_ID)
        precision = meta.get("precision", 2)
        if not 0 <= precision <= 10:
            self.issues.add("policy.precision", f"expected a whole number from 0 to 10, got {precision}")
            precision = 2
        plugin_names = tuple(meta.get("plugins", ()))
        self.plugin_timeout = plugin_time_limit(self.issues, meta.get("plugin_timeout"))
        self.load_plugins(plugin_names)

        people = compile_people(self, top.get("people"))
        inputs = self.compile_inputs(top.get("inputs", {}))
        compile_member_aggregates(self, self.member_aggregates, inputs, people)
        input_names = {f.id: name_info_of(f) for f in inputs.values()}
        for broken in sorted(self.declared.get("inputs", set()) - set(inputs)):
            input_names[broken] = NameInfo("number")  # reported already; keep later names quiet
        unit_names = {**input_names, "year": NameInfo("number")}
        # [[checks]] run while the data loads, before plugins derive their inputs.
        check_names = {n: i for n, i in unit_names.items() if n not in inputs or not inputs[n].plugin}

        checks = self.compile_checks(top.get("checks", []), check_names)
        groups = self.compile_groups(top.get("groups", []))
        criteria = self.compile_criteria(top.get("criteria", []), groups, unit_names, inputs)
        scoring = take(self.issues, "scoring", top.get("scoring", {}), policy_keys.SCORING) or {}
        layers = compile_layers(self.issues, scoring.get("layers", []))
        bonuses = self.compile_adjustments("bonuses", "bonus", top.get("bonuses", []), unit_names)
        deductions = self.compile_adjustments("deductions", "deduction", top.get("deductions", []), unit_names)

        score_names = dict(unit_names)
        for name in ("score", "bonus", "deduction", "total", "zero_criteria"):
            score_names[name] = NameInfo("number")
        for prefix, section, items in (("group", "groups", groups), ("criterion", "criteria", criteria),
                                       ("bonus", "bonuses", bonuses), ("deduction", "deductions", deductions)):
            for item_id in sorted({*items, *self.declared.get(section, set())}):
                score_names[f"{prefix}.{item_id}"] = NameInfo("number")
        bands = self.compile_bands(top.get("bands", []), score_names)
        plugin_config = self.plugin_sections(top.get("plugin", {}))
        self.runtime = PluginRuntime(
            self.pm, file=self.file, config=plugin_config, bands=tuple(b.id for b in bands),
            limit=self.plugin_timeout, messages=self.messages,
            derived={name: tuple(f for f in inputs.values() if f.plugin == name)
                     for name in sorted({f.plugin for f in inputs.values() if f.plugin})},
        ) if self.pm is not None else None
        band_ids = tuple(b.id for b in bands) + tuple(sorted(self.declared.get("bands", set()) - {b.id for b in bands}))
        title_names = {
            **score_names,
            "band": NameInfo("text", band_ids or None),
            "rank": NameInfo("number"),
            "cluster_size": NameInfo("number"),
            "tied": NameInfo("bool"),
            # this year's titles won among those declared above, as for a person's titles
            "titles": NameInfo("list"),
        }
        history_names = {
            **input_names,
            "band": NameInfo("text", band_ids or None),
            "titles": NameInfo("list"),
            "total": NameInfo("number"),
            "rank": NameInfo("number"),
        }
        ranking = self.compile_ranking(top.get("ranking"), groups, criteria, bonuses, deductions, inputs)
        titles = self.compile_titles(top.get("titles", []), title_names, history_names, inputs)
        leadership = self.compile_leadership(top.get("leadership"))
        self.validate_plugin_sections(plugin_config, inputs, criteria, bands, titles)

        self.issues.raise_if_any()
        assert self.pm is not None
        return Policy(
            id=policy_id or "",
            name=meta.get("name", ""),
            year=meta.get("year"),
            precision=precision,
            file=self.file,
            sha256=self.digest,
            plugins=tuple(sorted(set(plugin_names))),
            inputs=tuple(inputs.values()),
            checks=checks,
            groups=tuple(groups.values()),
            criteria=tuple(criteria.values()),
            bonuses=tuple(bonuses.values()),
            deductions=tuple(deductions.values()),
            bonus_max=self.number_at_least("scoring.bonus_max", scoring.get("bonus_max"), 0),
            deduction_max=self.number_at_least("scoring.deduction_max", scoring.get("deduction_max"), 0),
            total_max=self.number_at_least("scoring.total_max", scoring.get("total_max"), 0),
            layers=layers,
            bands=bands,
            ranking=ranking,
            titles=titles,
            leadership=leadership,
            people=people,
            evaluation_date=_evaluation_day(raw),
            plugin_info=plugin_info(self.pm),
            plugin_config=plugin_config,
            runtime=self.runtime,
        )

    def load_plugins(self, names: tuple[str, ...]) -> None:
        try:
            self.pm = make_plugin_manager(names=names, extra=self.extra_plugins)
            file, limit = self.file, self.plugin_timeout
            self.functions = collect(self.pm, "register_functions", "function", file=file, limit=limit)
            self.methods = collect(self.pm, "register_criterion_methods", "criterion method",
                                   file=file, limit=limit)
            self.checks = collect(self.pm, "register_title_checks", "title check", file=file, limit=limit)
            self.messages = collect_messages(self.pm, limit=limit)
        except PluginError as exc:
            self.issues.add("policy.plugins", str(exc))
            self.issues.raise_if_any()

    def plugin_named(self, path: str, name: str, hook: str, key: str) -> bool:
        """Whether ``name`` is a loaded plugin implementing ``hook``; report it if not."""
        assert self.pm is not None
        loaded = loaded_plugins(self.pm)
        if name not in loaded:
            self.issues.add(path, f"unknown plugin '{name}'{did_you_mean(name, loaded)}; "
                            f"name it in [policy] plugins to use it in '{key}'")
            return False
        if name not in implementers(self.pm, hook):
            self.issues.add(path, f"plugin '{name}' does not implement hook '{hook}', "
                            f"which '{key}' needs")
            return False
        return True

    def plugin_sections(self, table: Mapping[str, Any]) -> Mapping[str, Any]:
        """The ``[plugin.<name>]`` tables, one per loaded plugin, deeply read-only."""
        assert self.pm is not None
        loaded = loaded_plugins(self.pm)
        sections: dict[str, Any] = {}
        for name, section in table.items():
            path = f"plugin.{toml_key(name)}"
            if name not in loaded:
                self.issues.add(path, f"unknown plugin '{name}'{did_you_mean(name, loaded)}; "
                                "a [plugin.<name>] section needs the plugin in [policy] plugins")
            elif not isinstance(section, dict):
                self.issues.add(path, f"expected a table, got {type_name(section)}")
            else:
                sections[name] = section
        return deep_freeze(sections)

    def validate_plugin_sections(self, config: Mapping[str, Any], inputs: Mapping[str, InputField],
                                 criteria: Mapping[str, Criterion], bands: tuple[Band, ...],
                                 titles: tuple[Title, ...]) -> None:
        """Offer each loaded plugin its own section; every problem becomes an issue."""
        assert self.pm is not None
        for name, impl in implementers(self.pm, "validate_policy_section").items():
            if name not in loaded_plugins(self.pm):
                continue
            base = f"plugin.{toml_key(name)}"

            def report(key: str, message: str, _base: str = base) -> None:
                self.issues.add(f"{_base}.{key}" if key else _base, str(message))

            context = PolicyContext(
                plugin=name, inputs=deep_freeze(inputs),
                derived=tuple(sorted(f.id for f in inputs.values() if f.plugin == name)),
                criteria=tuple(criteria), bands=tuple(b.id for b in bands),
                titles=tuple(t.id for t in titles),
            )
            try:
                invoke_checker(impl, {"section": config.get(name, deep_freeze({})), "policy": context,
                              "report": report}, limit=self.plugin_timeout)
            except PluginFault as exc:
                self.issues.add(base, f"plugin '{name}' hook 'validate_policy_section': {exc.message}")

    # -- sections --------------------------------------------------------------------------

    def compile_inputs(self, table: Mapping[str, Any], section: str = "inputs") -> dict[str, InputField]:
        fields: dict[str, InputField] = {}
        input_keys = policy_keys.INPUT if section == "inputs" else \
            {k: v for k, v in policy_keys.INPUT.items() if k != "members"}
        for field_id, spec in table.items():
            path = f"{section}.{toml_key(field_id)}"
            if not check_id(self.issues, path, field_id, set(), "input") or field_id in RESERVED:
                if field_id in RESERVED:
                    self.issues.add(path, f"'{field_id}' is computed by the engine; choose another name")
                continue
            values = take(self.issues, path, spec, input_keys)  # [people.inputs] derive nothing from members
            self.declared.setdefault(section, set()).add(field_id)
            if values is not None and "members" in values:
                self.member_aggregates[field_id] = values["members"]
            if values is None or "type" not in values:
                continue
            derived_by = values.get("plugin")
            if derived_by is not None:
                if not self.plugin_named(f"{path}.plugin", derived_by, "derive_inputs", path):
                    derived_by = None
                for key_name in ("required", "default"):
                    if key_name in values:
                        self.issues.add(f"{path}.{key_name}", f"a derived input (computed by plugin "
                                        f"'{values['plugin']}') takes no '{key_name}'")
            kind = values["type"]
            if kind not in policy_keys.INPUT_TYPES:
                self.issues.add(f"{path}.type", f"unknown type '{kind}'{did_you_mean(kind, policy_keys.INPUT_TYPES)};"
                                f" expected one of {', '.join(policy_keys.INPUT_TYPES)}")
                continue
            if kind == "enum" and not values.get("values"):
                self.issues.add(path, "an enum needs 'values', e.g. values = [\"tot\", \"kha\"]")
            if kind != "enum" and "values" in values:
                self.issues.add(f"{path}.values", f"only an enum has 'values', this input is {kind}")
            if kind not in ("integer", "decimal"):
                for bound in ("min", "max"):
                    if bound in values:
                        self.issues.add(f"{path}.{bound}", f"only a number has '{bound}', this input is {kind}")
            elif kind == "integer":
                for bound in ("min", "max"):
                    if bound in values and not isinstance(values[bound], int):
                        self.issues.add(f"{path}.{bound}", f"expected a whole number for an integer input, got {values[bound]}")
            if "min" in values and "max" in values and values["min"] > values["max"]:
                self.issues.add(path, f"min {values['min']} is greater than max {values['max']}")
            fields[field_id] = InputField(
                id=field_id, type=kind, label=values.get("label", ""),
                min=Decimal(values["min"]) if "min" in values else None,
                max=Decimal(values["max"]) if "max" in values else None,
                values=tuple(values.get("values", ())), required=values.get("required", True),
                default=values.get("default"), plugin=derived_by,
            )
        return fields

    def compile_checks(self, items: list[Any], names: Mapping[str, NameInfo]) -> tuple[Check, ...]:
        checks, seen = [], set[str]()
        for i, item in enumerate(items):
            path = item_path("checks", i, item)
            values = take(self.issues, path, item, policy_keys.CHECK)
            if values is None:
                continue
            check_id_ = check_id(self.issues, path, values.get("id"), seen, "check")
            rule = self.expr(f"{path}.rule", values.get("rule"), names, expect="bool")
            if check_id_ and rule is not None:
                checks.append(Check(id=check_id_, rule=rule, message=values.get("message", "")))
        return tuple(checks)

    def compile_groups(self, items: list[Any]) -> dict[str, Group]:
        groups: dict[str, Group] = {}
        seen: set[str] = set()
        for i, item in enumerate(items):
            path = item_path("groups", i, item)
            self.declare("groups", item)
            values = take(self.issues, path, item, policy_keys.GROUP)
            if values is None:
                continue
            group_id = check_id(self.issues, path, values.get("id"), seen, "group")
            maximum = self.number_at_least(f"{path}.max", values.get("max"), 0)
            if group_id:
                groups[group_id] = Group(id=group_id, name=values.get("name", group_id), max=maximum)
        return groups

    def compile_criteria(self, items: list[Any], groups: Mapping[str, Group],
                         names: Mapping[str, NameInfo],
                         inputs: Mapping[str, InputField]) -> dict[str, Criterion]:
        criteria: dict[str, Criterion] = {}
        seen: set[str] = set()
        common = {**policy_keys.CRITERION, "group": ("str", bool(groups))}
        for i, item in enumerate(items):
            path = item_path("criteria", i, item)
            raw_method = item.get("method") if isinstance(item, dict) else None
            method = self.methods.get(raw_method) if isinstance(raw_method, str) else None
            self.declare("criteria", item)
            # With no known method, any method's keys are allowed: the method is what is wrong.
            method_keys = method.keys if method else {k for m in self.methods.values() for k in m.keys}
            values = take(self.issues, path, item, common, extra=method_keys)
            if values is None:
                continue
            criterion_id = check_id(self.issues, path, values.get("id"), seen, "criterion")
            group_id = values.get("group", "")
            if group_id and group_id not in groups and group_id not in self.declared.get("groups", set()):
                self.issues.add(f"{path}.group", f"unknown group '{group_id}'{did_you_mean(group_id, groups)}")
            points = self.number_at_least(f"{path}.points", values.get("points"), 0)
            method_name = values.get("method")
            if method_name is not None and method is None:
                self.issues.add(f"{path}.method", f"unknown method '{method_name}'"
                                f"{did_you_mean(method_name, self.methods)}; "
                                f"expected one of {', '.join(self.methods)}")
                continue
            if method is None:
                continue
            for key_name, required in method.keys.items():
                if required and key_name not in item:
                    self.issues.add(path, f"missing key '{key_name}' (method '{method.name}')")
            gate = self.expr(f"{path}.gate", values.get("gate"), names, expect="bool")
            override = values.get("override")
            if override is not None and not self.plugin_named(f"{path}.override", override,
                                                              "score_criterion", f"{path}.override"):
                override = None
            ctx = self.context(path, names, inputs)
            scorer = method.compile(dict(item), ctx) if not ctx.failed else None
            reads = set(gate.names) if gate else set()
            if not ctx.failed:
                reads |= self.names_read(item, method.keys, names)
            if criterion_id and points is not None and scorer is not None:
                criteria[criterion_id] = Criterion(
                    id=criterion_id, group=group_id, name=values.get("name", criterion_id),
                    points=points, method=method.name, scorer=scorer, gate=gate,
                    reads=tuple(sorted(n for n in reads if n in inputs)),
                    method_plugin=method.plugin, source=values.get("source", ""),
                    override=override,
                )
        return criteria

    def compile_adjustments(self, section: str, kind: str, items: list[Any],
                            names: Mapping[str, NameInfo]) -> dict[str, Adjustment]:
        adjustments: dict[str, Adjustment] = {}
        seen: set[str] = set()
        for i, item in enumerate(items):
            path = item_path(section, i, item)
            self.declare(section, item)
            # An item is a formula, or any criterion method (e.g. a banded bonus: method = "bands").
            raw_method = item.get("method", "formula") if isinstance(item, dict) else "formula"
            method = self.methods.get(raw_method) if isinstance(raw_method, str) else None
            # With an unknown method, any method's keys pass: the method is what is wrong.
            method_keys: Iterable[str] = (
                {k for m in self.methods.values() for k in m.keys} if method is None
                else () if method.name == "formula" else method.keys)
            values = take(self.issues, path, item, {
                **policy_keys.ADJUSTMENT,
                "formula": ("str", method is not None and method.name == "formula"),
                "max": ("number", method is not None and method.name != "formula")}, extra=method_keys)
            if values is None:
                continue
            item_id = check_id(self.issues, path, values.get("id"), seen, kind)
            if method is None:
                if isinstance(raw_method, str):
                    self.issues.add(f"{path}.method", f"unknown method '{raw_method}'"
                                    f"{did_you_mean(raw_method, self.methods)}; expected one of {', '.join(self.methods)}")
                continue
            when = self.expr(f"{path}.when", values.get("when"), names, expect="bool")
            maximum = self.number_at_least(f"{path}.max", values.get("max"), 0)
            formula = raw = None
            reads: set[str] = set()
            if method.name == "formula":
                formula = self.expr(f"{path}.formula", values.get("formula"), names, expect="number")
                if formula is not None:
                    raw, reads = formula._fn, set(formula.names)
            else:
                for key_name, required in method.keys.items():
                    if required and key_name not in item:
                        self.issues.add(path, f"missing key '{key_name}' (method '{method.name}')")
                ctx = self.context(path, names, {})
                scorer = method.compile({**item, "points": maximum or 0}, ctx) if not ctx.failed else None
                if scorer is not None:
                    raw = _raw_points(scorer)
                    reads = self.names_read(item, method.keys, names)
            if item_id and raw is not None:
                adjustments[item_id] = Adjustment(id=item_id, kind=kind, name=values.get("name", item_id),
                                                  formula=formula, max=maximum, when=when, method=method.name,
                                                  raw=raw, reads=frozenset(reads))
        return adjustments

    def names_read(self, item: Mapping[str, Any], keys: Iterable[str], names: Mapping[str, NameInfo]) -> set[str]:
        """The names the expressions under ``keys`` of ``item`` read."""
        reads: set[str] = set()
        for key_name in keys:
            if isinstance(item.get(key_name), str):
                try:
                    reads |= set(compile_expression(item[key_name], names=names, functions=self.functions).names)
                except ExpressionError:
                    pass
        return reads

    def compile_bands(self, items: list[Any], names: Mapping[str, NameInfo]) -> tuple[Band, ...]:
        bands: list[Band] = []
        seen: set[str] = set()
        for i, item in enumerate(items):
            path = item_path("bands", i, item)
            self.declare("bands", item)
            values = take(self.issues, path, item, policy_keys.BAND)
            if values is None:
                continue
            band_id = check_id(self.issues, path, values.get("id"), seen, "band")
            when = self.expr(f"{path}.when", values.get("when"), names, expect="bool")
            if band_id and "min" in values:
                minimum = Decimal(values["min"])
                if bands and minimum > bands[-1].min:
                    self.issues.add(f"{path}.min", f"bands are tried in order, so list them from the highest "
                                    f"minimum down: {minimum} is above the {bands[-1].min} of '{bands[-1].id}'")
                bands.append(Band(id=band_id, name=values.get("name", band_id), min=minimum, when=when))
        return tuple(bands)

    def compile_ranking(self, table: Any, groups: Mapping[str, Any], criteria: Mapping[str, Any],
                        bonuses: Mapping[str, Any], deductions: Mapping[str, Any],
                        inputs: Mapping[str, InputField]) -> tuple[RankKey, ...]:
        if table is None:
            return (RankKey("total"),)
        values = take(self.issues, "ranking", table, policy_keys.RANKING)
        if values is None:
            return (RankKey("total"),)
        if values.get("ties", "shared") != "shared":
            self.issues.add("ranking.ties", f"unknown tie rule '{values['ties']}'; expected 'shared' "
                            "(units still equal after the chain share a rank and are flagged)")
        # "vote": the yes-votes of the cluster's ranking ballot ([[votes]] title = "ranking"),
        # the last resort of published tie-break chains (Cần Thơ KH 157/KH-UBND 2025).
        known = {"total": True, "score": True, "bonus": True, "deduction": True, "vote": True}
        known |= {f"group.{g}": True for g in {*groups, *self.declared.get("groups", set())}}
        known |= {f"criterion.{c}": True for c in {*criteria, *self.declared.get("criteria", set())}}
        known |= {f"bonus.{b}": True for b in bonuses} | {f"deduction.{d}": True for d in deductions}
        known |= {f"input.{f.id}": True for f in inputs.values() if f.type in ("integer", "decimal")}
        keys: list[RankKey] = []
        for i, entry in enumerate(values.get("order", ["total"])):
            path = f"ranking.order[{i}]"
            if isinstance(entry, dict):
                spec = take(self.issues, path, entry, policy_keys.RANK_KEY)
                if not spec or "key" not in spec:
                    continue
                name, direction = spec["key"], spec.get("direction", "desc")
                if direction not in ("desc", "asc"):
                    self.issues.add(f"{path}.direction", f"expected 'desc' or 'asc', got \"{direction}\"")
                    continue
            elif isinstance(entry, str):
                name, direction = entry, "desc"
            else:
                self.issues.add(path, "expected a key such as \"total\" or { key = \"input.x\", direction = \"asc\" }")
                continue
            if name not in known:
                self.issues.add(path, f"unknown ranking key '{name}'{did_you_mean(name, known)}")
                continue
            keys.append(RankKey(name, direction == "desc"))
        return tuple(keys) or (RankKey("total"),)

    def compile_titles(self, items: list[Any], names: Mapping[str, NameInfo],
                       history: Mapping[str, NameInfo],
                       inputs: Mapping[str, InputField], section: str = "titles") -> tuple[Title, ...]:
        titles: list[Title] = []
        seen: set[str] = set()
        across_titles: set[str] = set()
        check_keys: dict[str, str] = {}
        owners: dict[str, TitleCheckSpec] = {}
        for spec in self.checks.values():
            for key_name in spec.keys:
                if key_name in owners:
                    first = owners[key_name]
                    self.issues.add("policy.plugins", claimed_twice(key_name, first, spec))
                    continue
                owners[key_name] = spec
                check_keys[key_name] = spec.name
        for i, item in enumerate(items):
            path = item_path(section, i, item)
            values = take(self.issues, path, item, {
                **policy_keys.TITLE, **(policy_keys.UNIT_TITLE_ONLY if section == "titles" else {})},
                extra=check_keys)
            if values is None:
                continue
            title_id = check_id(self.issues, path, values.get("id"), seen, "title")
            quota = (self.compile_quota(f"{path}.quota", values["quota"],
                                        person=(inputs, names, tuple(t.id for t in titles))
                                        if section == "people.titles" else None)
                     if "quota" in values else None)
            across = (self.compile_across(f"{path}.across_clusters", values["across_clusters"], names)
                      if "across_clusters" in values else None)
            for required in item.get("requires", []) if isinstance(item.get("requires"), list) else []:
                if required in across_titles:
                    self.issues.add(f"{path}.requires", f"'{required}' is decided across clusters after every "
                                    "cluster's titles, so no title may require it")
            if across is not None and title_id:
                across_titles.add(title_id)
            runners: list[TitleCheck] = []
            declared = tuple(t.id for t in titles)
            for spec in sorted(self.checks.values(), key=lambda s: (s.stage, s.plugin, s.name)):
                ctx = self.context(path, names, inputs, declared, history)
                run = spec.compile(dict(item), ctx)
                if run is not None and not ctx.failed:
                    runners.append(TitleCheck(name=spec.name, stage=spec.stage, plugin=spec.plugin, run=run,
                                              messages=spec.messages))
            for runner in runners:
                if isinstance(runner.run, WhenCheck):
                    runner.run.history_reads = self.history_reads(runner.run.source)
            if self.runtime is not None:
                for plugin, impl in self.runtime.vetoers:
                    runners.append(TitleCheck(name="veto", stage=40, plugin=plugin,
                                              run=self.runtime.veto_check(plugin, impl)))
            if title_id:
                titles.append(Title(
                    id=title_id, name=values.get("name", title_id), ladder=values.get("ladder"),
                    quota=quota, takes_vote="votes" in item, checks=tuple(runners),
                    source=values.get("source", ""), law=_legal_rule(values.get("law")), across=across,
                ))
        return tuple(titles)

    def history_reads(self, source: str) -> tuple[str, ...]:
        """The names the conditions of history functions in ``source`` read (in earlier years)."""
        found: set[str] = set()

        def walk(node: Any, inside: bool) -> None:
            if isinstance(node, Name) and inside:
                found.add(node.name)
            elif isinstance(node, Call):
                spec = self.functions.get(node.name)
                for i, arg in enumerate(node.args):
                    walk(arg, inside or (i == 0 and spec is not None and spec.history is not None))
            elif isinstance(node, Node):
                for field in attrs.fields(type(node)):
                    child = getattr(node, field.name)
                    for item in child if isinstance(child, tuple) else (child,):
                        if isinstance(item, Node):
                            walk(item, inside)

        walk(parse(source), False)
        return tuple(sorted(found))

    def compile_quota(self, path: str, table: Mapping[str, Any],
                      person: tuple[Mapping[str, InputField], Mapping[str, NameInfo], tuple[str, ...]] | None = None,
                      ) -> Quota | None:
        """A title's quota. ``person`` (the people inputs, the names a person condition reads and
        the person titles declared above) allows a person title's ``of`` and ``order``."""
        values = take(self.issues, path, table, {
            **policy_keys.QUOTA, **(policy_keys.PERSON_QUOTA if person is not None else {})})
        if values is None:
            return None
        of: str | None = None
        order: tuple[Any, ...] = ()
        if person is not None:
            _, names, above = person
            of = values.get("of")
            if of is not None and of not in above:
                self.issues.add(f"{path}.of", f"'of' names a person title declared above this one, got "
                                f"'{of}'{did_you_mean(of, above)}")
                return None
            compiled = [self.expr(f"{path}.order[{n}]", source, names, expect="number")
                        for n, source in enumerate(values.get("order", ()))]
            if any(c is None for c in compiled):
                return None
            order = tuple(compiled)
            if "count" in values and of is not None:
                self.issues.add(f"{path}.of", "'of' goes with 'share', not 'count'")
        if ("count" in values) == ("share" in values):
            self.issues.add(path, "give exactly one of 'count' or 'share'")
            return None
        if "count" in values:
            if values["count"] < 0:
                self.issues.add(f"{path}.count", f"expected a count >= 0, got {values['count']}")
                return None
            if "rounding" in values:
                self.issues.add(f"{path}.rounding", "'rounding' goes with 'share', not 'count'")
            return Quota(count=values["count"], order=order)
        # A number stays the Decimal the policy wrote (its raw figure is computed as before); a
        # fraction such as "1/3" stays exact, since 1/3 has no decimal form.
        fraction, problem = read_share(values["share"])
        if fraction is None:
            self.issues.add(f"{path}.share", problem or "")
            return None
        share: Decimal | Fraction = fraction if isinstance(values["share"], str) else Decimal(values["share"])
        rounding = values.get("rounding", "floor")
        if rounding not in policy_keys.QUOTA_ROUNDING:
            self.issues.add(f"{path}.rounding", f"unknown rounding '{rounding}'"
                            f"{did_you_mean(rounding, policy_keys.QUOTA_ROUNDING)}; expected floor, ceil or half_up")
            return None
        return Quota(share=share, rounding=rounding, of=of, order=order)

    def compile_across(self, path: str, table: Mapping[str, Any], names: Mapping[str, NameInfo]) -> Quota | None:
        """``across_clusters = { share | count, rounding, order }`` of a unit title (thidua_rules.across)."""
        if not isinstance(table, dict):
            return None
        order_raw = table.get("order", ["total"])
        base = self.compile_quota(path, {k: v for k, v in table.items() if k != "order"})
        if base is None:
            return None
        if not isinstance(order_raw, list) or not order_raw:
            self.issues.add(f"{path}.order", "expected an array of ranking keys, e.g. [\"total\"]")
            return None
        keys: list[RankKey] = []
        for i, entry in enumerate(order_raw):
            where = f"{path}.order[{i}]"
            name, direction = (entry, "desc") if isinstance(entry, str) else (
                (entry.get("key"), entry.get("direction", "desc")) if isinstance(entry, dict) else (None, None))
            known = name in names and names[name].type == "number" if isinstance(name, str) else False
            if isinstance(name, str) and name.startswith("input."):
                known = name[len("input."):] in names and names[name[len("input."):]].type == "number"
            if not known or direction not in ("desc", "asc"):
                self.issues.add(where, f"expected a ranking key (total, score, group.<id>, criterion.<id>, "
                                f"input.<number input>), maybe {{ key = ..., direction = \"asc\" }}, got "
                                f"{toml_key(str(name)) if name is not None else type_name(entry)}")
                continue
            keys.append(RankKey(str(name), direction == "desc"))
        return attrs.evolve(base, order=tuple(keys))

    def compile_leadership(self, table: Any) -> Leadership | None:
        if table is None:
            return None
        values = take(self.issues, "leadership", table, policy_keys.LEADERSHIP)
        if values is None or "method" not in values:
            return None
        method = values["method"]
        if method not in ("rotation", "rank"):
            self.issues.add("leadership.method", f"unknown method '{method}'"
                            f"{did_you_mean(method, ['rotation', 'rank'])}; expected 'rotation' or 'rank'")
            return None
        rotation = tuple(values.get("rotation", ()))
        if len(set(rotation)) != len(rotation):
            dup = sorted({u for u in rotation if rotation.count(u) > 1})
            self.issues.add("leadership.rotation", f"unit '{dup[0]}' appears twice")
        return Leadership(method=method, rotation=rotation)
