"""Python functions generated once per policy (or per data shape) from its shape only: the
scoring kernel, the loader's row readers, the digest's unit text (each expression's function is
written by ``expressions/codegen.py``).

Only positions, counts and generated names reach the source; every id, text, number and helper
is bound in the function's namespace under a generated name, never spliced into the source.
"""

from __future__ import annotations

from typing import Any


def define(source: str, filename: str, name: str, names: dict[str, Any]) -> Any:
    """The function ``name`` defined by ``source``, its free names bound to ``names`` (copied), or
    None when the source is too large to compile (the caller then keeps its loops)."""
    try:
        code = compile(source, filename, "exec")
    except (SyntaxError, RecursionError, MemoryError):
        return None
    namespace = dict(names)
    exec(code, namespace)  # noqa: S102 - source generated from a shape only (see the module)
    made = namespace[name]
    made.source = source  # for debugging and the tests
    return made


class Source:
    """Lines of generated code with the constants they refer to."""

    #: the indentation of a line added without one: the body of the generated function
    indent = 1

    def __init__(self) -> None:
        self.lines: list[str] = []
        self.names: dict[str, Any] = {}

    def const(self, prefix: str, index: int | str, value: Any) -> str:
        name = f"{prefix}{index}"
        if name in self.names:  # every constant has its own name
            raise AssertionError(f"generated constant {name} named twice")
        self.names[name] = value
        return name

    def add(self, line: str, indent: int | None = None) -> None:
        self.lines.append("    " * (self.indent if indent is None else indent) + line)

    def function(self, source: str, filename: str, name: str) -> Any:
        """:func:`define` with this source's constants."""
        return define(source, filename, name, self.names)
