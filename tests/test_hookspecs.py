"""Every hook is documented in its docstring and in docs/plugins.md, and has a test_hook_<name>."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from thidua_rules import make_plugin_manager

ROOT = Path(__file__).resolve().parent.parent
DOCS = (ROOT / "docs" / "plugins.md").read_text(encoding="utf-8")
TEST_SOURCES = "\n".join(p.read_text(encoding="utf-8") for p in sorted((ROOT / "tests").rglob("*.py")))
PM = make_plugin_manager()
HOOKS = sorted(name for name in dir(PM.hook) if not name.startswith("_"))


def test_the_hooks_are_the_documented_set():
    """The manager knows exactly the ten hooks of version 0.3 (0.3 added register_messages)."""
    assert HOOKS == [
        "cap_band", "derive_inputs", "register_criterion_methods", "register_functions",
        "register_messages", "register_title_checks", "score_criterion", "validate_plugin_data",
        "validate_policy_section", "veto_title",
    ]


@pytest.mark.parametrize("hook", HOOKS)
def test_hook_has_a_docs_heading_with_its_signature(hook):
    """docs/plugins.md has a heading with the hook's exact signature."""
    args = ", ".join(getattr(PM.hook, hook).spec.argnames)
    assert f"\n### `{hook}({args})`\n" in DOCS


@pytest.mark.parametrize("hook", HOOKS)
def test_hook_docstring_documents_every_argument(hook):
    """The hookspec's docstring has :param x: for each argument, :returns: and versionadded."""
    spec = getattr(PM.hook, hook).spec
    doc = spec.function.__doc__ or ""
    missing = [a for a in spec.argnames if f":param {a}:" not in doc]
    assert missing == []
    assert [":returns:" in doc, ".. versionadded::" in doc, "Example::" in doc] == [True, True, True]


@pytest.mark.parametrize("hook", HOOKS)
def test_hook_has_a_test(hook):
    """Somewhere under tests/ there is a test named test_hook_<name>."""
    assert re.search(rf"def test_hook_{hook}\(", TEST_SOURCES)


def test_firstresult_only_where_the_policy_declares_ownership():
    """Only score_criterion stops at the first result (the policy names its owner per criterion)."""
    first = [h for h in HOOKS if getattr(PM.hook, h).spec.opts.get("firstresult")]
    assert first == ["score_criterion"]


@pytest.mark.parametrize("hook", HOOKS)
def test_hook_is_in_the_fault_matrix(hook):
    """Every hook is a target of the faulty-plugin matrix, with every fault that applies to it."""
    from tests.test_plugin_faults import ACTIONS, TARGETS

    assert hook in TARGETS
    assert set(ACTIONS) <= set(TARGETS[hook][1])


def test_docs_state_the_fault_contract():
    """docs/plugins.md says what each fault becomes and documents the time limit's key."""
    faults = DOCS.split("## Faults", 1)[1].split("\n## ", 1)[0]
    for text in ("sys.exit", "SystemExit", "KeyboardInterrupt", "Infinity", "float", "plugin_timeout",
                 "SIGALRM", "main thread", "claim the [[titles]] key"):
        assert text in faults, text
