"""The ``[people]`` section of a policy (individual titles) and unit inputs derived from members."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import attrs

from ..errors import did_you_mean
from ..expressions import NameInfo
from ..model import InputField, MemberAggregate, People
from ..tomlfmt import toml_key
from .common import take
from .councils import compile_preference
from .keys import PEOPLE

if TYPE_CHECKING:
    from .policy import PolicyCompiler

def person_names(inputs: Mapping[str, InputField]) -> dict[str, NameInfo]:
    """What a person condition can read: the person's fields, the year, and the titles the person
    won this year among those declared above (``'cstt' in titles``)."""
    from .policy import name_info_of

    return {**{f.id: name_info_of(f) for f in inputs.values()}, "year": NameInfo("number"),
            "titles": NameInfo("list")}


def compile_people(compiler: PolicyCompiler, table: Any) -> People | None:
    if table is None:
        return None
    values = take(compiler.issues, "people", table, PEOPLE)
    if values is None:
        return None
    inputs = compiler.compile_inputs(values.get("inputs", {}), section="people.inputs")
    names = person_names(inputs)
    items = values.get("titles", [])
    titles = compiler.compile_titles(items, names, {"titles": NameInfo("list")}, inputs, section="people.titles")
    preference = compile_preference(compiler.issues, values.get("ranking"), inputs)  # councils.py
    return People(inputs=tuple(inputs.values()), titles=titles, preference=preference)


def compile_member_aggregates(compiler: PolicyCompiler, raw: Mapping[str, Any],
                              inputs: dict[str, InputField], people: People | None) -> None:
    """Attach ``members = { count = "..." }`` derivations to the unit inputs that declare one."""
    for field_id, spec in sorted(raw.items()):
        path = f"inputs.{toml_key(field_id)}.members"
        if people is None:
            compiler.issues.add(path, "derives from members, but the policy has no [people] section")
            continue
        if not isinstance(spec, dict) or len(spec) != 1 or next(iter(spec)) not in ("count", "sum"):
            compiler.issues.add(path, 'expected { count = "<condition>" } or { sum = "<number>" }')
            continue
        kind, source = next(iter(spec.items()))
        if kind not in ("count", "sum"):
            compiler.issues.add(path, f"unknown key '{kind}'{did_you_mean(kind, ['count', 'sum'])}")
            continue
        field = inputs.get(field_id)
        if field is None:
            continue
        if field.type not in ("integer", "decimal"):
            compiler.issues.add(path, f"a member {kind} is a number, but this input is {field.type}")
            continue
        expression = compiler.expr(f"{path}.{kind}", source, person_names({f.id: f for f in people.inputs}),
                                   expect="bool" if kind == "count" else "number")
        if expression is not None:
            inputs[field_id] = attrs.evolve(field, members=MemberAggregate(kind=kind, expression=expression))
