"""thidua_rules: exact, explainable scoring, ranking and title proposals for emulation clusters."""

from __future__ import annotations

# Not `from typing import ...`: typing costs milliseconds, and a Ctrl-C before _console's handler
# is in place would be a traceback (type checkers read the constant as True).
TYPE_CHECKING = False

# The public names, imported from their modules when first used (PEP 562): `import thidua_rules`
# and the `thidua` command start without loading the engine, and a Ctrl-C while the command
# starts is the command's to report (see _console.py) instead of a traceback from an import.
_EXPORTS = {
    "ClusterResult": "engine", "Result": "engine", "UnitResult": "engine", "evaluate": "engine",
    "EvaluationError": "errors", "ExpressionError": "errors", "Issue": "errors", "PluginError": "errors",
    "PolicyError": "errors", "ThiduaError": "errors",
    "EvalContext": "expressions", "FunctionSpec": "expressions", "NameInfo": "expressions",
    "CompileContext": "extensions", "MethodSpec": "extensions", "PolicyContext": "extensions",
    "TitleCheckSpec": "extensions", "TitleView": "extensions",
    "hookimpl": "hookspecs",
    "Reason": "messages", "format_number": "messages", "render_message": "messages",
    "load_data": "loader", "load_policy": "loader", "parse_data": "loader", "parse_policy": "loader",
    "Cluster": "model", "Criterion": "model", "Dataset": "model", "InputField": "model", "Policy": "model",
    "Unit": "model",
    "engine_version": "version", "make_plugin_manager": "plugins",
    "build_document": "report", "render": "report", "write_atomic": "report",
}

if TYPE_CHECKING:
    from typing import Any

    from .engine import ClusterResult, Result, UnitResult, evaluate
    from .errors import EvaluationError, ExpressionError, Issue, PluginError, PolicyError, ThiduaError
    from .expressions import EvalContext, FunctionSpec, NameInfo
    from .extensions import CompileContext, MethodSpec, PolicyContext, TitleCheckSpec, TitleView
    from .hookspecs import hookimpl
    from .loader import load_data, load_policy, parse_data, parse_policy
    from .messages import Reason, format_number, render_message
    from .model import Cluster, Criterion, Dataset, InputField, Policy, Unit
    from .plugins import make_plugin_manager
    from .report import build_document, render, write_atomic
    from .version import engine_version

    __version__: str


def __getattr__(name: str) -> Any:
    import importlib

    if name == "__version__":
        value: Any = importlib.import_module(".version", __name__).engine_version()
    elif name in _EXPORTS:
        value = getattr(importlib.import_module(f".{_EXPORTS[name]}", __name__), name)
    elif name == "legal":  # thidua_rules.legal.basis(policy): the submodule, on first use
        value = importlib.import_module(".legal", __name__)
    else:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))


__all__ = [
    "Cluster",
    "ClusterResult",
    "CompileContext",
    "Criterion",
    "Dataset",
    "EvalContext",
    "EvaluationError",
    "ExpressionError",
    "FunctionSpec",
    "InputField",
    "Issue",
    "MethodSpec",
    "NameInfo",
    "PluginError",
    "Policy",
    "PolicyContext",
    "PolicyError",
    "Reason",
    "Result",
    "ThiduaError",
    "TitleCheckSpec",
    "TitleView",
    "Unit",
    "UnitResult",
    "__version__",
    "build_document",
    "engine_version",
    "evaluate",
    "format_number",
    "hookimpl",
    "load_data",
    "load_policy",
    "make_plugin_manager",
    "parse_data",
    "parse_policy",
    "render",
    "render_message",
    "write_atomic",
]
