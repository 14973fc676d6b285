"""pytest plugin for plugin authors: build a plugin manager and evaluate a small policy inline.

Shipped with thidua_rules and registered through the ``pytest11`` entry point, so every test
session in an environment where thidua_rules is installed has these fixtures::

    def test_cap(thidua_evaluate):
        result = thidua_evaluate(POLICY, DATA, plugins=[("cand", thidua_cand)])
        assert result.unit("ca-a").band == "tot"

* ``thidua_evaluate(policy_toml, data_toml, plugins=(), format=None)`` compiles the policy with
  ``plugins`` registered as if installed (a plugin given here stands in for an installed entry
  point of the same name), loads the data and evaluates. ``format=None`` returns the
  :class:`~thidua_rules.Result`, ``"document"`` the plain-data document, and ``"json"``,
  ``"toml"``, ``"markdown"`` or ``"table"`` the rendered text.
* ``thidua_errors(policy_toml, data_toml, plugins=())`` runs the same steps and returns the
  error lines the command line would print (an empty list when all went well).
* ``thidua_plugin_manager(*plugins)`` is a fresh manager with the built-ins and ``plugins``
  (``(name, module)`` pairs) registered, checked with ``check_pending()``.
* ``thidua_install(name, plugin)`` makes ``plugin`` (a module or any object with ``@hookimpl``
  methods) the installed entry point ``name`` for the rest of the test, so that the command
  line (``thidua_rules.cli.main``) loads it as it would load an installed distribution.

Policy and data text is dedented, so it can be written indented in a test. The policy is shown
as ``policy.toml`` and the data as ``data.toml`` in messages.
"""

from __future__ import annotations

import textwrap
from collections.abc import Callable, Iterable
from typing import Any

import pytest

Plugins = Iterable[tuple[str, object]]


def evaluate_inline(policy_toml: str, data_toml: str, plugins: Plugins = (), *,
                    format: str | None = None) -> Any:
    """Compile ``policy_toml`` with ``plugins``, load ``data_toml`` and evaluate it."""
    from . import build_document, evaluate, parse_data, parse_policy, render

    policy = parse_policy(textwrap.dedent(policy_toml).encode("utf-8"), file="policy.toml",
                          extra_plugins=tuple(plugins))
    data = parse_data(textwrap.dedent(data_toml).encode("utf-8"), policy, file="data.toml")
    result = evaluate(policy, data)
    if format is None:
        return result
    if format == "document":
        return build_document(result)
    return render(result, format)


def error_lines(policy_toml: str, data_toml: str, plugins: Plugins = ()) -> list[str]:
    """The error lines :func:`evaluate_inline` would make the command line print."""
    from . import ThiduaError

    try:
        evaluate_inline(policy_toml, data_toml, plugins, format="json")
    except ThiduaError as exc:
        return exc.lines()
    return []


@pytest.fixture
def thidua_evaluate() -> Callable[..., Any]:
    """``thidua_evaluate(policy_toml, data_toml, plugins=(), format=None)``: see the module."""
    return evaluate_inline


@pytest.fixture
def thidua_errors() -> Callable[..., list[str]]:
    """``thidua_errors(policy_toml, data_toml, plugins=())``: the error lines, or ``[]``."""
    return error_lines


def install_entry_points(monkeypatch: pytest.MonkeyPatch, plugins: dict[str, object]) -> None:
    """Make ``plugins`` (name → plugin object) the entry points of group ``thidua_rules`` seen by
    :func:`importlib.metadata.entry_points`, on top of the really installed ones."""
    import importlib.metadata
    import sys
    import types

    from .plugins import ENTRY_POINT_GROUP

    module = types.ModuleType("thidua_rules_test_plugins")
    module.__dict__.update({f"plugin_{i}": p for i, p in enumerate(plugins.values())})
    monkeypatch.setitem(sys.modules, module.__name__, module)
    fake = {name: importlib.metadata.EntryPoint(name=name, value=f"{module.__name__}:plugin_{i}",
                                                group=ENTRY_POINT_GROUP)
            for i, name in enumerate(plugins)}
    real = importlib.metadata.entry_points

    def entry_points(**params: Any) -> Any:
        found: Any = real(**params)
        if params.get("group") != ENTRY_POINT_GROUP:
            return found
        return [ep for ep in found if ep.name not in fake] + list(fake.values())

    monkeypatch.setattr(importlib.metadata, "entry_points", entry_points)


@pytest.fixture
def thidua_install(monkeypatch: pytest.MonkeyPatch) -> Callable[[str, object], None]:
    """``thidua_install(name, plugin)``: ``plugin`` is the installed entry point ``name`` for the
    rest of the test (the command line loads it)."""
    installed: dict[str, object] = {}

    def install(name: str, plugin: object) -> None:
        installed[name] = plugin
        install_entry_points(monkeypatch, dict(installed))

    return install


@pytest.fixture
def thidua_plugin_manager() -> Callable[..., Any]:
    """``thidua_plugin_manager(*plugins)``: a fresh, checked manager with these plugins."""
    from . import make_plugin_manager

    def make(*plugins: tuple[str, object]) -> Any:
        return make_plugin_manager(extra=plugins)

    return make
