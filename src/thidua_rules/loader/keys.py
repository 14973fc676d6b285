"""The keys of the policy format, table by table: ``name -> (kind, required)``.

One place for what :mod:`.policy` accepts and what ``thidua schema`` describes, so that an
editor's completion and the loader's "unknown key" can never disagree. Kinds are those of
:data:`.common.KINDS`. Where the loader decides a key's requirement from the rest of the file
(``group`` when the policy has groups; a bonus's ``formula`` or ``max`` by its method), the
table says ``False`` and :mod:`.policy` sets it.

Keys a plugin contributes (a criterion method's keys, a title check's keys) are not here: they
come from the plugins the policy loads.
"""

from __future__ import annotations

Keys = dict[str, tuple[str, bool]]

#: ``source`` (where a rule comes from: a plan, an article) and ``note``: for people, kept as written.
DOC_KEYS: Keys = {"source": ("str", False), "note": ("str", False)}

TOP_LEVEL = {
    "policy": "table", "inputs": "table", "checks": "table_list", "groups": "table_list",
    "criteria": "table_list", "scoring": "table", "bonuses": "table_list",
    "deductions": "table_list", "bands": "table_list", "ranking": "table",
    "titles": "table_list", "leadership": "table", "plugin": "table", "people": "table",
}
POLICY: Keys = {
    "id": ("str", True), "name": ("str", True), "year": ("int", False),
    "precision": ("int", False), "plugins": ("str_list", False),
    "plugin_timeout": ("number", False), "description": ("str", False),
    "evaluation_date": ("any", False), **DOC_KEYS,
}
INPUT_TYPES = ("integer", "decimal", "boolean", "enum", "text")
#: One ``[inputs.<id>]`` (and ``[people.inputs.<id>]``, which has no ``members``).
INPUT: Keys = {
    "type": ("str", True), "label": ("str", False), "min": ("number", False),
    "max": ("number", False), "values": ("str_list", False),
    "required": ("bool", False), "default": ("any", False), "plugin": ("str", False),
    "members": ("any", False), **DOC_KEYS,
}
CHECK: Keys = {"id": ("str", True), "rule": ("str", True), "message": ("str", False), **DOC_KEYS}
GROUP: Keys = {"id": ("str", True), "name": ("str", False), "max": ("number", False), **DOC_KEYS}
CRITERION: Keys = {
    "id": ("str", True), "group": ("str", False), "name": ("str", False),
    "points": ("number", True), "method": ("str", True), "gate": ("str", False),
    "override": ("str", False), **DOC_KEYS,
}
SCORING: Keys = {"bonus_max": ("number", False), "deduction_max": ("number", False), "total_max": ("number", False),
                 "layers": ("table_list", False)}
#: One ``[[scoring.layers]]`` entry and its ``reconcile`` rule (see docs/layers.md).
LAYER: Keys = {"id": ("str", True), "name": ("str", False), "kind": ("str", False),
               "reconcile": ("table", False), **DOC_KEYS}
LAYER_KINDS = ("change", "claim")
RECONCILE: Keys = {"within": ("number", True), "use": ("str", False), "otherwise": ("str", True)}
RECONCILE_USE = ("mean", "min", "max")
RECONCILE_OTHERWISE = ("third", "council")
ADJUSTMENT: Keys = {
    "id": ("str", True), "name": ("str", False), "formula": ("str", False),
    "method": ("str", False), "max": ("number", False), "when": ("str", False), **DOC_KEYS,
}
BAND: Keys = {"id": ("str", True), "name": ("str", False), "min": ("number", True),
              "when": ("str", False), **DOC_KEYS}
RANKING: Keys = {"order": ("array", False), "ties": ("str", False)}
RANK_KEY: Keys = {"key": ("str", True), "direction": ("str", False)}
TITLE: Keys = {"id": ("str", True), "name": ("str", False), "ladder": ("str", False),
               "quota": ("table", False), "law": ("table", False), **DOC_KEYS}
#: Keys only a unit title has: the ministry-level stage over every cluster (thidua_rules.across).
UNIT_TITLE_ONLY: Keys = {"across_clusters": ("table", False)}
QUOTA: Keys = {"count": ("int", False), "share": ("any", False), "rounding": ("str", False)}
#: Keys only a person title's quota has: the person title it is a share of, and its tie-break order.
PERSON_QUOTA: Keys = {"of": ("str", False), "order": ("str_list", False)}
QUOTA_ROUNDING = ("floor", "ceil", "half_up")
LEADERSHIP: Keys = {"method": ("str", True), "rotation": ("str_list", False), **DOC_KEYS}
LEADERSHIP_METHODS = ("rotation", "rank")
PEOPLE: Keys = {"inputs": ("table", False), "titles": ("table_list", False), "ranking": ("table", False)}
