"""Plugin order and unnamed installed plugins never change the output bytes; plugins import only the API."""

from __future__ import annotations

import importlib.metadata
import re
import sys
import types
from decimal import Decimal
from pathlib import Path

from thidua_rules import evaluate, hookimpl, load_data, load_policy, render
from thidua_rules.testing import evaluate_inline

ROOT = Path(__file__).resolve().parent.parent

POLICY = """\
[policy]
id = "t"
name = "Test"
year = 2023
plugins = ["alpha", "beta"]

[inputs]
done = { type = "integer", min = 0 }
a_bonus = { type = "decimal", plugin = "alpha" }
b_bonus = { type = "decimal", plugin = "beta" }

[[criteria]]
id = "c1"
points = 20
method = "formula"
formula = "done + a_bonus + b_bonus"

[[bands]]
id = "tot"
min = 10

[[bands]]
id = "hoan_thanh"
min = 0

[[titles]]
id = "tien_tien"
when = "band == 'tot'"
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
done = 12
"""


class Alpha:
    @hookimpl
    def derive_inputs(self, unit, env, names, data, config):
        return {"a_bonus": Decimal(1)}

    @hookimpl
    def cap_band(self, unit, env, bands, config):
        return ("hoan_thanh", "alpha says so") if unit.id == "b" else None


class Beta:
    @hookimpl
    def derive_inputs(self, unit, env, names, data, config):
        # sees alpha's value: derived inputs run in plugin-name order, not registration order
        return {"b_bonus": env["a_bonus"] / 2}

    @hookimpl
    def veto_title(self, unit, title, env, config):
        return "beta veto" if unit.id == "a" else None


def test_reverse_registration_order_gives_identical_bytes():
    """Registering the same plugins in reverse order leaves every output format byte-identical."""
    for fmt in ("json", "toml", "markdown", "table"):
        forward = evaluate_inline(POLICY, DATA, [("alpha", Alpha()), ("beta", Beta())], format=fmt)
        backward = evaluate_inline(POLICY, DATA, [("beta", Beta()), ("alpha", Alpha())], format=fmt)
        assert forward == backward
    result = evaluate_inline(POLICY, DATA, [("beta", Beta()), ("alpha", Alpha())])
    assert [(u.id, str(u.total), u.band, u.proposed) for u in result.clusters[0].units] == [
        ("b", "13.50", "hoan_thanh", ()), ("a", "10.50", "tot", ())]


class Evil:
    """An installed plugin that would change every band, if it were ever loaded."""

    @hookimpl
    def cap_band(self, unit, env, bands, config):
        return bands[-1], "evil"


def install_evil(monkeypatch):
    module = types.ModuleType("evil_plugin_module")
    module.PLUGIN = Evil()
    monkeypatch.setitem(sys.modules, "evil_plugin_module", module)
    ep = importlib.metadata.EntryPoint(name="evil", value="evil_plugin_module:PLUGIN", group="thidua_rules")
    real = importlib.metadata.entry_points

    def entry_points(**params):
        found = list(real(**params))
        return [*found, ep] if params.get("group") == "thidua_rules" else found

    monkeypatch.setattr(importlib.metadata, "entry_points", entry_points)


def example_json():
    policy = load_policy(ROOT / "policies" / "cum8-2022.toml", display="policies/cum8-2022.toml")
    data = load_data(ROOT / "examples" / "cum8-2022" / "units.toml", policy, display="units.toml")
    return render(evaluate(policy, data), "json")


def test_installed_but_unnamed_plugin_changes_nothing(monkeypatch):
    """An extra installed plugin the policy does not name leaves the output bytes unchanged."""
    before_example = example_json()
    before_inline = evaluate_inline(POLICY, DATA, [("alpha", Alpha()), ("beta", Beta())], format="json")
    install_evil(monkeypatch)
    assert example_json() == before_example
    assert evaluate_inline(POLICY, DATA, [("alpha", Alpha()), ("beta", Beta())], format="json") == before_inline
    named = POLICY.replace('plugins = ["alpha", "beta"]', 'plugins = ["alpha", "beta", "evil"]')
    result = evaluate_inline(named, DATA, [("alpha", Alpha()), ("beta", Beta())])
    assert [u.band for u in result.clusters[0].units] == ["hoan_thanh", "hoan_thanh"]


def test_plugins_import_only_the_top_level_package():
    """Nothing under plugins/ imports a thidua_rules submodule; only the package's public API."""
    offenders = []
    for path in sorted((ROOT / "plugins").rglob("*.py")):
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            if re.search(r"^\s*(from|import)\s+thidua_rules\.", line):
                offenders.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()}")
    assert offenders == []
