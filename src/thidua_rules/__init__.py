"""thidua_rules: exact, explainable scoring, ranking and title proposals for emulation clusters."""

from __future__ import annotations

from .engine import ClusterResult, Result, UnitResult, evaluate
from .errors import (
    EvaluationError,
    ExpressionError,
    Issue,
    PluginError,
    PolicyError,
    ThiduaError,
)
from .expressions import EvalContext, FunctionSpec, NameInfo
from .extensions import CompileContext, MethodSpec, PolicyContext, TitleCheckSpec, TitleView
from .hookspecs import hookimpl
from .loader import load_data, load_policy, parse_data, parse_policy
from .model import Cluster, Criterion, Dataset, InputField, Policy, Unit
from .plugins import engine_version, make_plugin_manager
from .report import build_document, render, write_atomic

__version__ = engine_version()

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
    "Result",
    "ThiduaError",
    "TitleCheckSpec",
    "TitleView",
    "Unit",
    "UnitResult",
    "__version__",
    "build_document",
    "evaluate",
    "hookimpl",
    "load_data",
    "load_policy",
    "make_plugin_manager",
    "parse_data",
    "parse_policy",
    "render",
    "write_atomic",
]
