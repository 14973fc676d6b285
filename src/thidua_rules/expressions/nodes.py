"""Syntax tree of policy expressions: frozen nodes, each with the offsets of its source text."""

from __future__ import annotations

from decimal import Decimal

import attrs


@attrs.frozen(kw_only=True)
class Node:
    """Base of every node: ``source[start:end]`` is the node's text (parentheses included)."""

    start: int
    end: int


@attrs.frozen(kw_only=True)
class Number(Node):
    """A decimal literal such as ``12`` or ``0.9``."""

    value: Decimal


@attrs.frozen(kw_only=True)
class String(Node):
    """A quoted text literal; ``value`` has its escapes resolved."""

    value: str


@attrs.frozen(kw_only=True)
class Bool(Node):
    """``true`` or ``false``."""

    value: bool


@attrs.frozen(kw_only=True)
class Name(Node):
    """A (possibly dotted) variable name, looked up as one key of the environment."""

    name: str


@attrs.frozen(kw_only=True)
class ListLiteral(Node):
    """``[a, b, ...]``."""

    items: tuple[Node, ...]


@attrs.frozen(kw_only=True)
class Unary(Node):
    """``-x``, ``+x`` or ``not x``."""

    op: str
    operand: Node


@attrs.frozen(kw_only=True)
class Binary(Node):
    """Arithmetic: ``+``, ``-``, ``*`` or ``/``."""

    op: str
    left: Node
    right: Node


@attrs.frozen(kw_only=True)
class BoolOp(Node):
    """``a and b and ...`` or ``a or b or ...`` with the operands flattened."""

    op: str
    operands: tuple[Node, ...]


@attrs.frozen(kw_only=True)
class Compare(Node):
    """A comparison chain: ``operands[i] ops[i] operands[i + 1]`` for every ``i``, all must hold."""

    operands: tuple[Node, ...]
    ops: tuple[str, ...]


@attrs.frozen(kw_only=True)
class IfElse(Node):
    """``body if condition else orelse``."""

    body: Node
    condition: Node
    orelse: Node


@attrs.frozen(kw_only=True)
class Call(Node):
    """``name(args...)``: a call of a registered function."""

    name: str
    args: tuple[Node, ...]
