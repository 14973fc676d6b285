"""`thidua schema`: a JSON Schema (draft 2020-12) of the policy format, for editors.

Made from the tables the loader itself reads (:mod:`.loader.keys`) and from the plugins'
contributions: each criterion method's keys (built-in and installed plugins' methods), each
title check's keys, and a ``[plugin.<name>]`` section per installed plugin. So an editor with a
TOML language server (taplo, *Even Better TOML*) completes and checks the same keys the loader
accepts::

    #:schema ./thidua-policy.schema.json

The schema describes one file. A policy that ``extends`` others may leave out what a base gives
(a title overridden by id with only its ``when``), so a key is ``required`` in the schema only
where every file must write it: ``[policy] id`` and ``name``, and the ``id`` of every entry of
an array of tables. The loader still checks the merged policy in full; the schema is for
completion and early mistakes (unknown keys, wrong types, unknown methods), not a second loader.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from .loader import keys as policy_keys

SCHEMA_ID = "urn:thidua-rules:policy-schema"

#: JSON Schema of each kind of :data:`.loader.common.KINDS`.
_KIND_SCHEMA: dict[str, dict[str, Any]] = {
    "str": {"type": "string"},
    "int": {"type": "integer"},
    "number": {"type": "number"},
    "bool": {"type": "boolean"},
    "table": {"type": "object"},
    "array": {"type": "array"},
    "str_list": {"type": "array", "items": {"type": "string"}},
    "table_list": {"type": "array", "items": {"type": "object"}},
    "any": {},
}
#: A title check's key type names (free text for messages) that say a JSON type.
_CHECK_KEY_SCHEMA: dict[str, dict[str, Any]] = {
    "array": {"type": "array"}, "expression": {"type": "string"}, "string": {"type": "string"},
    "table": {"type": "object"}, "integer": {"type": "integer"}, "number": {"type": "number"},
    "boolean": {"type": "boolean"},
}

_DESCRIPTIONS = {
    "policy": "The policy's identity and settings.",
    "inputs": "The typed fields every unit supplies, by id.",
    "checks": "Cross-field rules checked while the data loads.",
    "groups": "Groups of criteria (nhóm tiêu chí), each with an optional cap.",
    "criteria": "The scoring table (tiêu chí chấm điểm): one entry per line.",
    "scoring": "Caps on bonus, deduction and total.",
    "bonuses": "Bonus items (điểm thưởng).",
    "deductions": "Deduction items (điểm trừ).",
    "bands": "Classification bands (mức độ hoàn thành nhiệm vụ), highest minimum first.",
    "ranking": "The tie-break chain of the ranking.",
    "titles": "Titles (danh hiệu) and commendations, in ladder order.",
    "leadership": "How next year's cluster leader and deputy are chosen.",
    "plugin": "Settings of the plugins the policy names, one table per plugin.",
    "people": "Individual titles decided from a members file.",
    "extends": "Base policy files this one builds on (relative paths or thidua:catalogue/…).",
    "remove": "In a file that extends others: remove the base's entry with this id.",
    "source": "Where the rule comes from (a plan, an article); kept as written.",
    "note": "A note for people; kept as written.",
    "evaluation_date": "The date whose law applies (YYYY-MM-DD); without it, the policy's year selects the rules.",
    "law": "The legal rule a title follows (set by the catalogue; see docs/catalogue.md).",
    "across_clusters": "A ministry-level quota over every cluster's result (share or count, rounding, order).",
    "versions": "The rule as each version of the law gives it, with the period it is in force (docs/catalogue.md).",
    "version": "Pins one of the rule's versions by id instead of the one in force on the evaluation date.",
    "catalogue": "The catalogue edition this file's rules come from (id and version).",
    "of": "The person title this quota is a share of (declared above this one).",
}


def _table(fields: Mapping[str, tuple[str, bool]], *, required: Sequence[str] = (),
           extra: Mapping[str, dict[str, Any]] | None = None, open_: bool = False) -> dict[str, Any]:
    properties = {name: _with_description(name, _KIND_SCHEMA[kind]) for name, (kind, _) in fields.items()}
    properties.update(extra or {})
    schema: dict[str, Any] = {"type": "object", "properties": dict(sorted(properties.items()))}
    if required:
        schema["required"] = sorted(required)
    if not open_:
        schema["additionalProperties"] = False
    return schema


def _with_description(name: str, schema: dict[str, Any]) -> dict[str, Any]:
    return {**schema, "description": _DESCRIPTIONS[name]} if name in _DESCRIPTIONS else dict(schema)


def _scoring_schema() -> dict[str, Any]:
    """``[scoring]`` with its ``[[scoring.layers]]`` (docs/layers.md)."""
    reconcile = _table(policy_keys.RECONCILE, required=("within", "otherwise"))
    reconcile["properties"]["use"] = {"enum": list(policy_keys.RECONCILE_USE)}
    reconcile["properties"]["otherwise"] = {"enum": list(policy_keys.RECONCILE_OTHERWISE)}
    layer = _table(policy_keys.LAYER, required=("id",))
    layer["properties"]["kind"] = {"enum": list(policy_keys.LAYER_KINDS)}
    layer["properties"]["reconcile"] = reconcile
    scoring = _table(policy_keys.SCORING)
    scoring["properties"]["layers"] = {"type": "array", "items": layer}
    return scoring


def _entries(item: dict[str, Any]) -> dict[str, Any]:
    """An array of tables whose entries have ids (merged by id under ``extends``)."""
    item["properties"]["remove"] = _with_description("remove", {"type": "boolean"})
    item["required"] = ["id"]
    return {"type": "array", "items": item}


def _methods_schema(methods: Mapping[str, Any], base: Mapping[str, tuple[str, bool]],
                    default: str | None = None) -> dict[str, Any]:
    """Entries scored by a method: the base keys, every method's keys, and for each method the
    keys it takes (an ``if method == m then only these keys`` rule per method)."""
    method_keys = sorted({k for m in methods.values() for k in m.keys})
    extra = {k: _with_description(k, {}) for k in method_keys}
    extra["method"] = {"enum": sorted(methods), "description": "How the entry is scored: "
                       + "; ".join(f"{name}: {_method_doc(spec)}" for name, spec in sorted(methods.items()))}
    item = _table(base, extra=extra)
    rules = []
    for name, spec in sorted(methods.items()):
        condition: dict[str, Any] = {"properties": {"method": {"const": name}}}
        if default != name:
            condition["required"] = ["method"]
        allowed = sorted({*base, *spec.keys, "method", "remove"})
        rules.append({"if": condition, "then": {"propertyNames": {"enum": allowed}}})
    item["allOf"] = rules
    return _entries(item)


def _method_doc(spec: Any) -> str:
    plugin = getattr(spec, "plugin", "")
    origin = "" if not plugin or plugin.startswith("thidua_rules.") else f" (plugin {plugin}: name it in [policy] plugins)"
    return (getattr(spec, "doc", "") or "a plugin's method") + origin


def _titles_schema(checks: Mapping[str, Any], *, person: bool) -> dict[str, Any]:
    extra: dict[str, dict[str, Any]] = {}
    for spec in sorted(checks.values(), key=lambda s: s.name):
        for key, type_name in sorted(spec.keys.items()):
            extra[key] = {**_CHECK_KEY_SCHEMA.get(type_name, {}), "description": f"the '{spec.name}' check"}
    fields = {**policy_keys.TITLE, **({} if person else policy_keys.UNIT_TITLE_ONLY)}
    return _entries(_table(fields, extra=extra))


def _with_versions(titles: dict[str, Any]) -> dict[str, Any]:
    """A title entry's ``[[…versions]]`` (the law as it was, loader/lawversions.py) and the
    ``version`` that pins one of them."""
    from .loader.lawversions import RULE_KEYS

    item = titles["items"]
    rule = {k: v for k, v in item["properties"].items() if k in RULE_KEYS}
    period = {"type": "object", "additionalProperties": False,
              "properties": {"from": {"description": "first day in force (a TOML date)"},
                             "until": {"description": "last day in force (a TOML date)"}}}
    version = _table({"id": ("str", True), "instrument": ("str", False), "articles": ("str_list", False),
                      **policy_keys.DOC_KEYS}, required=["id"], extra={**rule, "in_force": period})
    item["properties"]["versions"] = _with_description("versions", {"type": "array", "items": version})
    item["properties"]["version"] = _with_description("version", {"type": "string"})
    item["properties"] = dict(sorted(item["properties"].items()))
    return titles


def _inputs_schema(*, unit: bool) -> dict[str, Any]:
    fields = {k: v for k, v in policy_keys.INPUT.items() if unit or k != "members"}
    field = _table(fields)
    field["properties"]["type"] = {"enum": list(policy_keys.INPUT_TYPES)}
    field["required"] = ["type"]
    return {"type": "object", "additionalProperties": field,
            "propertyNames": {"pattern": "^[a-z][a-z0-9_]*$"}}


def build_schema(methods: Mapping[str, Any], checks: Mapping[str, Any], plugins: Sequence[str]) -> dict[str, Any]:
    """The schema for the given criterion methods and title checks (name → spec, as the loader
    collects them) and the names of the plugins that may have a ``[plugin.<name>]`` section."""
    policy = _table(policy_keys.POLICY, required=["id", "name"])
    policy["properties"]["extends"] = _with_description(
        "extends", {"type": "array", "items": {"type": "string"}})
    policy["properties"]["precision"] = {"type": "integer", "minimum": 0, "maximum": 10}
    # Bonuses and deductions are formulas unless they name a method ("formula" is the default).
    adjustment = _methods_schema(methods, policy_keys.ADJUSTMENT, default="formula")
    ranking = _table(policy_keys.RANKING)
    ranking["properties"]["order"] = {"type": "array", "items": {"anyOf": [
        {"type": "string"},
        _table(policy_keys.RANK_KEY, required=["key"]) | {"properties": {
            "key": {"type": "string"}, "direction": {"enum": ["desc", "asc"]}}},
    ]}}
    ranking["properties"]["ties"] = {"enum": ["shared"]}
    quota = _table(policy_keys.QUOTA)
    quota["properties"]["share"] = {"anyOf": [{"type": "number"}, {"type": "string", "pattern": r"^\s*\d+\s*/\s*\d+\s*$"}]}
    quota["properties"]["rounding"] = {"enum": list(policy_keys.QUOTA_ROUNDING)}
    titles = _with_versions(_titles_schema(checks, person=False))
    titles["items"]["properties"]["quota"] = quota
    titles["items"]["properties"]["across_clusters"] = _with_description(
        "across_clusters", {**quota, "properties": {**quota["properties"], "order": ranking["properties"]["order"]}})
    person_quota = _table({**policy_keys.QUOTA, **policy_keys.PERSON_QUOTA})
    person_quota["properties"].update({k: quota["properties"][k] for k in ("share", "rounding")})
    leadership = _table(policy_keys.LEADERSHIP)
    leadership["properties"]["method"] = {"enum": list(policy_keys.LEADERSHIP_METHODS)}
    people = _table(policy_keys.PEOPLE)
    people["properties"]["inputs"] = _inputs_schema(unit=False)
    people["properties"]["titles"] = _with_versions(_titles_schema(checks, person=True))
    people["properties"]["titles"]["items"]["properties"]["quota"] = person_quota
    sections = {
        "policy": policy,
        "inputs": _inputs_schema(unit=True),
        "checks": _entries(_table(policy_keys.CHECK)),
        "groups": _entries(_table(policy_keys.GROUP)),
        "criteria": _methods_schema(methods, policy_keys.CRITERION),
        "scoring": _scoring_schema(),
        "bonuses": adjustment,
        "deductions": adjustment,
        "bands": _entries(_table(policy_keys.BAND)),
        "ranking": ranking,
        "titles": titles,
        "leadership": leadership,
        "plugin": {"type": "object", "additionalProperties": False,
                   "properties": {name: {"type": "object"} for name in sorted(plugins)}},
        "people": people,
    }
    assert set(sections) == set(policy_keys.TOP_LEVEL)
    sections["catalogue"] = _table({"id": ("str", True), "version": ("str", True)}, required=["id", "version"])
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": SCHEMA_ID,
        "title": "thidua_rules policy",
        "description": "A scoring table and title rules for a thi đua – khen thưởng review "
                       "(see docs/policy-format.md).",
        "type": "object",
        "properties": {name: _with_description(name, schema) for name, schema in sorted(sections.items())},
        "required": ["policy"],
        "additionalProperties": False,
    }


def installed_schema() -> dict[str, Any]:
    """The schema with the built-ins and every installed plugin (entry points of the group
    ``thidua_rules``), as the loader would see them if a policy named them all."""
    from importlib import metadata

    from .plugins import ENTRY_POINT_GROUP, collect, make_plugin_manager

    names = sorted({ep.name for ep in metadata.entry_points(group=ENTRY_POINT_GROUP)})
    pm = make_plugin_manager(names=names)
    methods = collect(pm, "register_criterion_methods", "criterion method")
    checks = collect(pm, "register_title_checks", "title check")
    return build_schema(methods, checks, names)


def schema_text(schema: Mapping[str, Any]) -> str:
    """Stable JSON: sorted keys, two-space indent, UTF-8 text, a final newline."""
    return json.dumps(schema, ensure_ascii=False, indent=2, sort_keys=True) + "\n"
