"""Third-party plugin hooks: each hook works, and each plugin fault is one exact error line."""

from __future__ import annotations

import importlib.metadata
import json
from decimal import Decimal

import pytest

from thidua_rules import (
    FunctionSpec,
    MethodSpec,
    PluginError,
    PolicyError,
    Reason,
    TitleCheckSpec,
    hookimpl,
    make_plugin_manager,
)
from thidua_rules.cli import main
from thidua_rules.plugins import plugin_info

POLICY = """\
[policy]
id = "t"
name = "Test"
year = 2023
plugins = ["fake"]

[inputs]
done = { type = "integer", min = 0 }
share = { type = "decimal", min = 0, max = 1, plugin = "fake" }

[[criteria]]
id = "c1"
points = 10
method = "formula"
formula = "done"

[[criteria]]
id = "c2"
points = 5
method = "formula"
formula = "5 * share"
override = "fake"

[[bands]]
id = "xuat_sac"
min = 12

[[bands]]
id = "tot"
min = 8

[[bands]]
id = "hoan_thanh"
min = 0

[[titles]]
id = "tien_tien"
when = "band != 'hoan_thanh'"

[plugin.fake]
share = 0.5
"""

DATA = """\
[cluster]
id = "c"
name = "C"
year = 2023

[[units]]
id = "a"
name = "A"
done = 9

[[units]]
id = "b"
name = "B"
done = 7

[plugin_data.fake]
exempt = ["b"]
"""


class Fake:
    """A well-behaved plugin implementing every run-time hook."""

    @hookimpl
    def validate_policy_section(self, section, policy, report):
        if "share" not in section:
            report("", "missing key 'share'")

    @hookimpl
    def validate_plugin_data(self, section, cluster, config, report):
        ids = {u.id for u in cluster.units}
        for i, unit_id in enumerate(section.get("exempt", ())):
            if unit_id not in ids:
                report(f"exempt[{i}]", f"unknown unit '{unit_id}'")

    @hookimpl
    def derive_inputs(self, unit, env, names, data, config):
        return {"share": config["share"]}

    @hookimpl
    def score_criterion(self, unit, criterion, env, config):
        if unit.id in config.get("full", ()):
            return criterion.points, {"reason": "full by config"}
        return None

    @hookimpl
    def cap_band(self, unit, env, bands, config):
        return None

    @hookimpl
    def veto_title(self, unit, title, env, config):
        return None


def run(policy=POLICY, data=DATA, plugins=None, fmt="document"):
    from thidua_rules.testing import evaluate_inline

    return evaluate_inline(policy, data, plugins or [("fake", Fake())], format=fmt)


def errors(policy=POLICY, data=DATA, plugin=None):
    from thidua_rules.testing import error_lines

    return error_lines(policy, data, [("fake", plugin or Fake())])


def unit_doc(doc, unit_id):
    return next(u for u in doc["units"] if u["id"] == unit_id)


# ---------------------------------------------------------------- one test per hook


def test_hook_register_criterion_methods():
    """A plugin's criterion method with its own key scores, and the explanation names the plugin."""
    class Methods(Fake):
        @hookimpl
        def register_criterion_methods(self, register):
            def compile_twice(table, ctx):
                value = ctx.expr("twice_of", table.get("twice_of"))
                return lambda env: (2 * value.evaluate(env), {"doubled": value.evaluate(env)})
            register(MethodSpec(name="twice", keys={"twice_of": True}, compile=compile_twice))

    policy = POLICY.replace('formula = "done"', 'twice_of = "done"').replace(
        'method = "formula"\ntwice_of', 'method = "twice"\ntwice_of')
    c1 = unit_doc(run(policy, plugins=[("fake", Methods())]), "b")["explanation"]["criteria"][0]
    assert (c1["method"], c1["plugin"], c1["facts"], c1["score"]) == ("twice", "fake", {"doubled": "7"}, "10.00")


def test_hook_register_functions():
    """A plugin's expression function can be called from a policy formula."""
    class Functions(Fake):
        @hookimpl
        def register_functions(self, register):
            register(FunctionSpec(name="half", impl=lambda x: x / 2, params=("number",), returns="number"))

    policy = POLICY.replace('formula = "done"', 'formula = "half(done)"')
    doc = run(policy, plugins=[("fake", Functions())])
    assert [u["explanation"]["criteria"][0]["score"] for u in doc["units"]] == ["4.50", "3.50"]


def test_hook_register_title_checks():
    """A plugin's title check owns a [[titles]] key and its failure reason is explained."""
    class Checks(Fake):
        @hookimpl
        def register_title_checks(self, register):
            def compile_min_done(table, ctx):
                if "min_done" not in table:
                    return None
                floor = table["min_done"]
                return lambda view: (view.env["done"] >= floor, f"done below {floor}", {"done": view.env["done"]})
            register(TitleCheckSpec(name="min_done", stage=35, keys={"min_done": "integer"},
                                    compile=compile_min_done))

    policy = POLICY.replace("when = \"band != 'hoan_thanh'\"", "min_done = 8")
    doc = run(policy, plugins=[("fake", Checks())])
    checks = unit_doc(doc, "b")["explanation"]["titles"][0]["checks"]
    assert checks == [{"check": "min_done", "passed": False, "plugin": "fake", "reason": "done below 8",
                       "code": "plugin_text", "params": {"text": "done below 8"}, "seen": {"done": "7"}}]


def test_hook_validate_policy_section():
    """Every problem the plugin reports in its [plugin.<name>] section is one line at its key path."""
    class Strict(Fake):
        @hookimpl
        def validate_policy_section(self, section, policy, report):
            for key in sorted(set(section) - {"share"}):
                report(key, f"unknown key '{key}'")
            if policy.bands[0] != "xuat_sac":
                report("", "needs band 'xuat_sac' first")

    policy = POLICY.replace("share = 0.5\n", "share = 0.5\nshaer = 1\nzeta = 2\n")
    assert errors(policy, plugin=Strict()) == [
        "policy.toml: plugin.fake.shaer: unknown key 'shaer'",
        "policy.toml: plugin.fake.zeta: unknown key 'zeta'",
    ]


def test_hook_validate_plugin_data():
    """Problems in a [plugin_data.<name>] section of the data are reported at their key path."""
    data = DATA.replace('exempt = ["b"]', 'exempt = ["b", "x", "y"]')
    assert errors(data=data) == [
        "data.toml: plugin_data.fake.exempt[1]: unknown unit 'x'",
        "data.toml: plugin_data.fake.exempt[2]: unknown unit 'y'",
    ]


def test_hook_derive_inputs():
    """A derived input is visible to expressions and listed with its plugin in the explanation."""
    ex = unit_doc(run(), "a")["explanation"]
    assert ex["derived"] == [{"input": "share", "plugin": "fake", "value": "0.5"}]
    assert ex["criteria"][1]["score"] == "2.50"


def test_hook_score_criterion():
    """The owning plugin overrides a criterion for some units and defers for the others."""
    policy = POLICY.replace("share = 0.5\n", 'share = 0.5\nfull = ["a"]\n')
    doc = run(policy)
    a, b = (unit_doc(doc, u)["explanation"]["criteria"][1] for u in "ab")
    assert (a["score"], a["override"], a["facts"]) == ("5.00", "fake", {"reason": "full by config"})
    assert (b["score"], "override" in b) == ("2.50", False)


class CapTot(Fake):
    @hookimpl
    def cap_band(self, unit, env, bands, config):
        return ("tot", "head reprimanded") if unit.id == "a" else None


class CapHoanThanh:
    @hookimpl
    def cap_band(self, unit, env, bands, config):
        return ("hoan_thanh", "head warned") if unit.id == "a" else None


def test_hook_cap_band():
    """The lowest ceiling of all plugins wins, every ceiling is explained, in either registration order."""
    forward = run(plugins=[("fake", CapTot()), ("other", CapHoanThanh())])
    backward = run(plugins=[("other", CapHoanThanh()), ("fake", CapTot())])
    band = unit_doc(forward, "a")["explanation"]["band"]
    assert band["id"] == "hoan_thanh"
    assert band["caps"] == [{"ceiling": "tot", "plugin": "fake", "reason": "head reprimanded",
                             "code": "plugin_text", "params": {"text": "head reprimanded"}},
                            {"ceiling": "hoan_thanh", "plugin": "other", "reason": "head warned",
                             "code": "plugin_text", "params": {"text": "head warned"}}]
    assert json.dumps(forward, sort_keys=True) == json.dumps(backward, sort_keys=True)


class CapCoded(Fake):
    """A band cap and a veto whose reasons are codes with texts from ``register_messages``."""

    @hookimpl
    def register_messages(self, register):
        register({"en": {"fake.capped": "head reprimanded: at most {ceiling}", "fake.vetoed": "vetoed ({why})"},
                  "vi": {"fake.capped": "thủ trưởng bị khiển trách: xếp loại tối đa {ceiling}",
                         "fake.vetoed": "không xét ({why})"}})

    @hookimpl
    def cap_band(self, unit, env, bands, config):
        return ("tot", Reason("fake.capped", {"ceiling": "tot"})) if unit.id == "a" else None

    @hookimpl
    def veto_title(self, unit, title, env, config):
        return Reason("fake.vetoed", {"why": "thanh tra"}) if unit.id == "a" else None


def test_hook_register_messages():
    """The texts a plugin registers give its cap's and veto's reasons their English text (the
    result's reason) and their Vietnamese text (the report's), with the policy's names."""
    from thidua_rules.testing import evaluate_inline

    policy = POLICY.replace('id = "tot"\n', 'id = "tot"\nname = "Tốt"\n')
    doc = run(policy, plugins=[("fake", CapCoded())])
    assert unit_doc(doc, "a")["explanation"]["band"]["caps"] == [
        {"ceiling": "tot", "plugin": "fake", "reason": "head reprimanded: at most tot",
         "code": "fake.capped", "params": {"ceiling": "tot"}}]
    veto = unit_doc(doc, "a")["explanation"]["titles"][0]["checks"][-1]
    assert (veto["reason"], veto["code"], veto["params"]) == ("vetoed (thanh tra)", "fake.vetoed", {"why": "thanh tra"})
    text = evaluate_inline(policy, DATA, [("fake", CapCoded())], format="markdown")
    assert "  - Giới hạn xếp loại (plugin fake): thủ trưởng bị khiển trách: xếp loại tối đa Tốt" in text.splitlines()
    assert "không xét (thanh tra)" in text


@pytest.mark.parametrize(("messages", "problem"), [
    ({"fr": {}}, "messages has the language str 'fr', expected one of en, vi"),
    ({"en": {"passed": "ok"}}, "the code 'passed' is one of the engine's; give the plugin's codes a prefix "
                               "of its own ('fake.passed')"),
])
def test_registered_messages_are_checked(messages, problem):
    """Texts in an unknown language, or for a code of the engine, are one error naming the hook."""
    from thidua_rules.testing import error_lines

    class Bad(Fake):
        @hookimpl
        def register_messages(self, register):
            register(messages)

    assert error_lines(POLICY, DATA, [("fake", Bad())]) == [
        f"policy.toml: policy.plugins: plugin 'fake' hook 'register_messages': {problem}"]


def test_two_plugins_cannot_register_one_code():
    """A code registered by two plugins is an error naming both."""
    from thidua_rules.testing import error_lines

    class One(Fake):
        @hookimpl
        def register_messages(self, register):
            register({"en": {"shared.code": "x"}})

    assert error_lines(POLICY, DATA, [("fake", One()), ("other", One())]) == [
        "policy.toml: policy.plugins: plugin 'other' hook 'register_messages': the code 'shared.code' is "
        "registered by both 'fake' and 'other'"]


def test_hook_veto_title():
    """A veto fails the title with the plugin's reason, named as a 'veto' check of the plugin."""
    class Veto(Fake):
        @hookimpl
        def veto_title(self, unit, title, env, config):
            return "under inspection" if unit.id == "a" else None

    doc = run(plugins=[("fake", Veto())])
    a = unit_doc(doc, "a")
    assert a["proposed"] == []
    assert a["explanation"]["titles"][0]["checks"][-1] == {
        "check": "veto", "passed": False, "plugin": "fake", "reason": "under inspection",
        "code": "plugin_text", "params": {"text": "under inspection"}, "seen": {}}
    assert unit_doc(doc, "b")["proposed"] == ["tien_tien"]


# ---------------------------------------------------------------- loading and provenance


def test_missing_plugin_is_one_line_naming_it_and_how_to_install():
    """A policy naming a plugin that is not installed fails with one line saying how to install it."""
    from thidua_rules.testing import error_lines

    assert error_lines(POLICY.replace('["fake"]', '["nope"]'), DATA) == [
        "policy.toml: policy.plugins: plugin 'nope': the policy needs it but it is not installed; "
        "install the distribution that provides entry point 'nope' in group 'thidua_rules' "
        "(for example: pip install thidua-nope, or pip install -e plugins/thidua-nope from a source tree)"
    ]


def test_misspelt_hook_fails_check_pending():
    """A @hookimpl whose name matches no hookspec is rejected when the manager is built."""
    class Typo:
        @hookimpl
        def derive_input(self, unit):
            return {}

    with pytest.raises(PluginError) as info:
        make_plugin_manager(extra=[("typo", Typo())])
    assert str(info.value).startswith("unknown hook 'derive_input' in plugin")


def test_policy_keys_must_name_a_loaded_plugin_with_the_hook():
    """'plugin', 'override' and [plugin.x] must name a plugin the policy loads and that has the hook."""
    class Bare:
        @hookimpl
        def cap_band(self, unit, env, bands, config):
            return None

    policy = POLICY.replace("[plugin.fake]", "[plugin.fak]")
    assert errors(policy, plugin=Bare()) == [
        "policy.toml: inputs.share.plugin: plugin 'fake' does not implement hook 'derive_inputs', "
        "which 'inputs.share' needs",
        "policy.toml: criteria[1](id=c2).override: plugin 'fake' does not implement hook "
        "'score_criterion', which 'criteria[1](id=c2).override' needs",
        "policy.toml: plugin.fak: unknown plugin 'fak' (did you mean 'fake'?); a [plugin.<name>] "
        "section needs the plugin in [policy] plugins",
    ]


def test_derived_input_cannot_come_from_the_data():
    """Data that supplies a derived input is told which plugin computes it."""
    assert errors(data=DATA.replace("done = 9", "done = 9\nshare = 0.1")) == [
        "data.toml: units[0](id=a).share: 'share' is computed by plugin 'fake'; remove it from the data"
    ]


def test_plugin_data_for_an_unloaded_plugin_is_an_error():
    """A [plugin_data.<name>] section for a plugin the policy does not load is rejected."""
    assert errors(data=DATA + "\n[plugin_data.cand]\nx = 1\n") == [
        "data.toml: plugin_data.cand: unknown plugin 'cand'; the policy's [policy] plugins must name it"
    ]


def test_provenance_lists_plugin_hooks():
    """The result's provenance names each plugin with its distribution, version and hooks."""
    plugins = run()["provenance"]["plugins"]
    assert plugins[0] == {"distribution": "unversioned", "hooks": [
        "cap_band", "derive_inputs", "score_criterion", "validate_plugin_data",
        "validate_policy_section", "veto_title"], "name": "fake", "version": "0"}
    assert [p["name"] for p in plugins[1:]] == [
        "thidua_rules.builtin.functions", "thidua_rules.builtin.methods", "thidua_rules.builtin.titles"]


def test_entry_point_distribution_and_version_are_recorded(monkeypatch):
    """A plugin loaded from an entry point is recorded with its distribution's name and version."""
    class Dist:
        name, version = "thidua-fake", "1.2.3"

    fake_ep = importlib.metadata.EntryPoint(name="fake", value="tests.test_plugins:FAKE", group="thidua_rules")
    monkeypatch.setattr(type(fake_ep), "dist", property(lambda self: Dist()), raising=False)
    real = importlib.metadata.entry_points
    monkeypatch.setattr(importlib.metadata, "entry_points",
                        lambda **kw: [fake_ep] if kw.get("group") == "thidua_rules" else real(**kw))
    pm = make_plugin_manager(names=["fake"])
    assert plugin_info(pm)[0].name == "fake"
    assert (plugin_info(pm)[0].distribution, plugin_info(pm)[0].version) == ("thidua-fake", "1.2.3")


FAKE = Fake()


# ---------------------------------------------------------------- fault isolation (CLI)


def cli_fault(tmp_path, monkeypatch, capsys, plugin, policy=POLICY):
    """Run `thidua evaluate` with ``plugin`` installed as entry point 'fake'; return (code, err)."""
    import sys

    module = type(sys)("fake_plugin_module")
    module.PLUGIN = plugin
    monkeypatch.setitem(sys.modules, "fake_plugin_module", module)
    ep = importlib.metadata.EntryPoint(name="fake", value="fake_plugin_module:PLUGIN", group="thidua_rules")
    real = importlib.metadata.entry_points
    monkeypatch.setattr(importlib.metadata, "entry_points",
                        lambda **kw: [ep] if kw.get("group") == "thidua_rules" else real(**kw))
    monkeypatch.chdir(tmp_path)
    (tmp_path / "policy.toml").write_text(policy, encoding="utf-8")
    (tmp_path / "data.toml").write_text(DATA, encoding="utf-8")
    code = main(["evaluate", "policy.toml", "data.toml", "-f", "json", "-o", "out.json"])
    captured = capsys.readouterr()
    assert captured.out == ""
    assert not (tmp_path / "out.json").exists(), "no output may be written"
    return code, captured.err


class Raises(Fake):
    @hookimpl
    def derive_inputs(self, unit, env, names, data, config):
        raise ValueError("no inspection record")


class WrongType(Fake):
    @hookimpl
    def derive_inputs(self, unit, env, names, data, config):
        return [("share", Decimal("0.5"))]


class FloatNumber(Fake):
    @hookimpl
    def derive_inputs(self, unit, env, names, data, config):
        return {"share": 0.5}


class IntPoints(Fake):
    @hookimpl
    def score_criterion(self, unit, criterion, env, config):
        return 3, {}


class MutatesEnv(Fake):
    @hookimpl
    def derive_inputs(self, unit, env, names, data, config):
        env["done"] = Decimal(10)
        return {"share": Decimal("0.5")}


class MutatesUnit(Fake):
    @hookimpl
    def cap_band(self, unit, env, bands, config):
        unit.name = "renamed"


class MutatesConfig(Fake):
    @hookimpl
    def veto_title(self, unit, title, env, config):
        config.pop("share")


class UnknownBand(Fake):
    @hookimpl
    def cap_band(self, unit, env, bands, config):
        return ("excellent", "typo")


FAULTS = {
    "raises": (Raises(), "policy.toml: plugin 'fake' hook 'derive_inputs': unit 'a': "
               "raised ValueError: no inspection record"),
    "wrong_type": (WrongType(), "policy.toml: plugin 'fake' hook 'derive_inputs': unit 'a': "
                   "returned list, expected a mapping of input names to values"),
    "float": (FloatNumber(), "policy.toml: plugin 'fake' hook 'derive_inputs': unit 'a': "
              "returned float 0.5 for 'share'; numbers must be Decimal, never float or int"),
    "int_points": (IntPoints(), "policy.toml: plugin 'fake' hook 'score_criterion': unit 'a': "
                   "criterion 'c2': returned points int 3; numbers must be Decimal, never float or int"),
    "mutates_env": (MutatesEnv(), "policy.toml: plugin 'fake' hook 'derive_inputs': unit 'a': tried to "
                    "change its inputs, which are read-only (TypeError: 'mappingproxy' object does not "
                    "support item assignment)"),
    "mutates_unit": (MutatesUnit(), "policy.toml: plugin 'fake' hook 'cap_band': unit 'a': tried to "
                     "change its inputs, which are read-only (FrozenInstanceError: can't set attribute)"),
    "mutates_config": (MutatesConfig(), "policy.toml: plugin 'fake' hook 'veto_title': unit 'a': title 'tien_tien': tried to "
                       "change its inputs, which are read-only (AttributeError: 'mappingproxy' object has "
                       "no attribute 'pop')"),
    "unknown_band": (UnknownBand(), "policy.toml: plugin 'fake' hook 'cap_band': unit 'a': returned tuple, "
                     "expected None or (band id, reason) with a band of the policy (xuat_sac, tot, hoan_thanh)"),
}


@pytest.mark.parametrize("case", sorted(FAULTS))
def test_plugin_fault_is_one_line_exit_2_no_output(case, tmp_path, monkeypatch, capsys):
    """A faulty plugin gives exit 2, one line naming plugin, hook and unit, and writes nothing."""
    plugin, line = FAULTS[case]
    code, err = cli_fault(tmp_path, monkeypatch, capsys, plugin)
    assert (code, err) == (2, line + "\n")


def test_validator_that_raises_is_a_policy_issue(tmp_path, monkeypatch, capsys):
    """A validate_policy_section that raises becomes one issue at the plugin's section."""
    class Broken(Fake):
        @hookimpl
        def validate_policy_section(self, section, policy, report):
            raise KeyError("share")

    code, err = cli_fault(tmp_path, monkeypatch, capsys, Broken())
    assert (code, err) == (2, "policy.toml: plugin.fake: plugin 'fake' hook 'validate_policy_section': "
                              "raised KeyError: 'share'\n")


def test_policy_error_lists_all_problems_at_once():
    """Plugin section problems come with the rest of the file's problems, in one PolicyError."""
    policy = POLICY.replace("share = 0.5\n", "").replace('formula = "done"', 'formula = "dne"')
    with pytest.raises(PolicyError) as info:
        run(policy)
    assert info.value.lines()[0].startswith("policy.toml: criteria[0](id=c1).formula: unknown name 'dne'")
    assert info.value.lines()[-1] == "policy.toml: plugin.fake: missing key 'share'"


def test_thidua_plugins_table_and_json(monkeypatch, capsys):
    """`thidua plugins` prints the built-ins and installed entry points, sorted, as a table and as JSON."""
    import sys

    module = type(sys)("fake_plugin_module")
    module.PLUGIN = Fake()
    monkeypatch.setitem(sys.modules, "fake_plugin_module", module)
    ep = importlib.metadata.EntryPoint(name="fake", value="fake_plugin_module:PLUGIN", group="thidua_rules")
    real = importlib.metadata.entry_points
    monkeypatch.setattr(importlib.metadata, "entry_points",
                        lambda **kw: [ep] if kw.get("group") == "thidua_rules" else real(**kw))
    version = importlib.metadata.version("thidua_rules")
    assert main(["plugins"]) == 0
    assert capsys.readouterr().out.splitlines() == [
        "name                            distribution  version  hooks",
        "------------------------------  ------------  -------  -----",
        "fake                            unversioned   0        cap_band, derive_inputs, score_criterion, "
        "validate_plugin_data, validate_policy_section, veto_title",
        f"thidua_rules.builtin.functions  thidua_rules  {version:<7}  register_functions",
        f"thidua_rules.builtin.methods    thidua_rules  {version:<7}  register_criterion_methods",
        f"thidua_rules.builtin.titles     thidua_rules  {version:<7}  register_title_checks",
    ]
    assert main(["plugins", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [(r["name"], r["distribution"], r["hooks"][0]) for r in rows] == [
        ("fake", "unversioned", "cap_band"),
        ("thidua_rules.builtin.functions", "thidua_rules", "register_functions"),
        ("thidua_rules.builtin.methods", "thidua_rules", "register_criterion_methods"),
        ("thidua_rules.builtin.titles", "thidua_rules", "register_title_checks"),
    ]
