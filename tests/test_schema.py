"""`thidua schema` (issue #13): a JSON Schema of the policy format, made from the loader's key
tables and the installed plugins, that every shipped policy passes and that catches the mistakes
the loader reports as unknown keys, wrong types and unknown methods."""

from __future__ import annotations

import json
import tomllib

import jsonschema
import pytest

from thidua_rules.cli import main
from thidua_rules.schema import installed_schema, schema_text

from .conftest import ROOT

SHIPPED = sorted([*(ROOT / "policies").rglob("*.toml"), *(ROOT / "src" / "thidua_rules" / "catalogue").glob("*.toml"),
                  *(ROOT / "plugins").glob("*/policies/*.toml"), *(ROOT / "plugins").glob("*/examples/**/*.toml")])
POLICIES = [p for p in SHIPPED if not p.name.endswith(".tests.toml") and "policy" in tomllib.loads(p.read_text("utf-8"))]


@pytest.fixture(scope="module")
def validator():
    schema = installed_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


def test_schema_golden(golden, capsys):
    assert main(["schema"]) == 0
    golden.check(ROOT / "tests" / "golden" / "schema" / "policy.schema.json", capsys.readouterr().out)


def test_schema_to_file_is_the_same_text(tmp_path, capsys):
    target = tmp_path / "s.json"
    assert main(["schema", "-o", str(target)]) == 0
    assert capsys.readouterr().out == ""
    assert target.read_text(encoding="utf-8") == schema_text(installed_schema())


def test_there_are_shipped_policies():
    assert len(POLICIES) >= 8


@pytest.mark.parametrize("path", POLICIES, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_shipped_policy_passes(validator, path):
    doc = tomllib.loads(path.read_text(encoding="utf-8"))
    assert [e.message for e in validator.iter_errors(doc)] == []


BASE = """
[policy]
id = "p"
name = "P"

[[groups]]
id = "g"

[[criteria]]
id = "c"
group = "g"
points = 10
method = "proportional"
value = "done"
target = "assigned"

[[titles]]
id = "t"
when = "total >= 5"
"""


def _errors(validator, text: str) -> list[str]:
    doc = tomllib.loads(BASE + text)
    return sorted(f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(doc))


def test_base_passes(validator):
    assert _errors(validator, "") == []


@pytest.mark.parametrize(("extra", "expected"), [
    ("[scoring]\nbonus_maks = 5\n",
     ["scoring: Additional properties are not allowed ('bonus_maks' was unexpected)"]),
    ("[[criteria]]\nid = 'd'\npoints = 'ten'\nmethod = 'formula'\nformula = '1'\n",
     ["criteria/1/points: 'ten' is not of type 'number'"]),
    ("[[criteria]]\nid = 'd'\npoints = 1\nmethod = 'propotional'\n",
     ["criteria/1/method: 'propotional' is not one of ['bands', 'formula', 'full_if', 'lookup', 'per_item', "
      "'proportional', 'research_output']"]),
    # a key of another method
    ("[[criteria]]\nid = 'd'\npoints = 1\nmethod = 'formula'\nformula = '1'\ntarget = 'x'\n",
     ["criteria/1: 'target' is not one of ['formula', 'gate', 'group', 'id', 'method', 'name', 'note', "
      "'override', 'points', 'remove', 'source']"]),
    ("[[titles]]\nname = 'no id'\n", ["titles/1: 'id' is a required property"]),
    ("[[titles]]\nid = 'x'\nquota = { share = 0.5, rounding = 'down' }\n",
     ["titles/1/quota/rounding: 'down' is not one of ['floor', 'ceil', 'half_up']"]),
    ("[inputs.done]\ntype = 'number'\n",
     ["inputs/done/type: 'number' is not one of ['integer', 'decimal', 'boolean', 'enum', 'text']"]),
    ("[leadership]\nmethod = 'vote'\n", ["leadership/method: 'vote' is not one of ['rotation', 'rank']"]),
    ("[plugin.nobody]\nx = 1\n",
     ["plugin: Additional properties are not allowed ('nobody' was unexpected)"]),
])
def test_mistakes_the_loader_refuses_are_caught(validator, extra, expected):
    assert _errors(validator, extra) == expected


def test_keys_come_from_the_loader():
    """A key the loader accepts is in the schema, so the two cannot drift apart."""
    from thidua_rules.loader import keys

    schema = json.loads(schema_text(installed_schema()))
    props = schema["properties"]
    assert set(props["policy"]["properties"]) == {*keys.POLICY, "extends"}
    assert set(keys.CRITERION) <= set(props["criteria"]["items"]["properties"])
    assert set(props["scoring"]["properties"]) == set(keys.SCORING)
    assert set(props) == {*keys.TOP_LEVEL, "catalogue"}  # [catalogue] is read by loader/lawversions.py


def test_plugin_keys_are_in(validator):
    extra = ("[[criteria]]\nid = 'r'\npoints = 10\nmethod = 'research_output'\n"
             "topics = 'topics_done'\nper_topic = 2\n")
    assert _errors(validator, extra) == []
