"""A small, safe expression language for policy files: parse, type-check, compile to Python functions."""

from __future__ import annotations

from .compiler import CompiledExpression, EvalContext, FunctionSpec, NameInfo, compile_expression

__all__ = ["CompiledExpression", "EvalContext", "FunctionSpec", "NameInfo", "compile_expression"]
