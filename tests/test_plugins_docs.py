"""The complete plugin in docs/plugins.md runs and gives the outcome the docs state."""

from __future__ import annotations

import re
import sys
import types
from pathlib import Path

from thidua_rules.testing import evaluate_inline

DOCS = (Path(__file__).resolve().parent.parent / "docs" / "plugins.md").read_text(encoding="utf-8")


def test_complete_example_in_docs_runs():
    """The docs' complete plugin, policy and data evaluate to the bands and totals the docs state."""
    tail = DOCS.split("## A complete plugin, runnable", 1)[1]
    python, policy, data = re.findall(r"```(?:python|toml)\n(.*?)```", tail, flags=re.DOTALL)
    module = types.ModuleType("docs_example_plugin")
    exec(compile(python, "docs/plugins.md", "exec"), module.__dict__)  # noqa: S102 - the docs' own example, run as written
    sys.modules.pop("docs_example_plugin", None)
    result = evaluate_inline(policy, data, [("example", module)])
    assert [(u.id, str(u.total), u.band) for u in result.clusters[0].units] == [
        ("cuc-a", "100.00", "hoan_thanh"), ("cuc-b", "100.00", "xuat_sac")]
