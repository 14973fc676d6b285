"""Recursive-descent parser of policy expressions.

Grammar (EBNF; NAME may be dotted, e.g. ``criterion.chi_tieu``, and is one identifier)::

    expr       = or_expr [ "if" or_expr "else" expr ] ;
    or_expr    = and_expr { "or" and_expr } ;
    and_expr   = not_expr { "and" not_expr } ;
    not_expr   = "not" not_expr | comparison ;
    comparison = sum { comp_op sum } ;
    comp_op    = "==" | "!=" | "<" | "<=" | ">" | ">=" | "in" | "not" "in" ;
    sum        = product { ( "+" | "-" ) product } ;
    product    = unary { ( "*" | "/" ) unary } ;
    unary      = ( "-" | "+" ) unary | atom ;
    atom       = NUMBER | STRING | bool | NAME | call | list | "(" expr ")" ;
    bool       = "true" | "false" | "True" | "False" ;
    call       = NAME "(" [ items ] ")" ;
    list       = "[" [ items ] "]" ;
    items      = expr { "," expr } [ "," ] ;
"""

from __future__ import annotations

from typing import Any

import attrs

from ..errors import ExpressionSyntaxError
from .lexer import Token, tokenize
from .nodes import (
    Binary,
    Bool,
    BoolOp,
    Call,
    Compare,
    IfElse,
    ListLiteral,
    Name,
    Node,
    Number,
    String,
    Unary,
)

MAX_LENGTH = 2000
MAX_DEPTH = 32
MAX_NODES = 500

_COMPARE_OPS = frozenset({"==", "!=", "<", "<=", ">", ">="})
_HINTS = {"=": " (use '==' to compare)", "&&": " (use 'and')", "||": " (use 'or')",
          "!": " (use 'not')"}


class ExpressionTooLong(ExpressionSyntaxError):
    """An expression longer than :data:`MAX_LENGTH`: its message says how long, and it shows
    no source (which may be megabytes)."""

    def caret_lines(self) -> tuple[str, ...]:
        return ()


def parse(source: str) -> Node:
    """Parse ``source`` into a tree; raise :class:`ExpressionSyntaxError` at the offending span."""
    if len(source) > MAX_LENGTH:
        raise ExpressionTooLong(f"expression is longer than {MAX_LENGTH} characters (got {len(source)})",
                                source, MAX_LENGTH, len(source))
    if not source.strip():
        raise ExpressionSyntaxError("empty expression", source, 0, max(1, len(source)))
    return _Parser(source).parse()


class _Parser:
    def __init__(self, source: str) -> None:
        self.source = source
        self.tokens = tokenize(source)
        self.pos = 0
        self.depth = 0
        self.count = 0

    # ------------------------------------------------------------ helpers

    def peek(self, ahead: int = 0) -> Token:
        return self.tokens[min(self.pos + ahead, len(self.tokens) - 1)]

    def advance(self) -> Token:
        token = self.tokens[self.pos]
        self.pos += 1
        return token

    def at(self, kind: str, text: str) -> bool:
        token = self.tokens[self.pos]
        return token.kind == kind and token.text == text

    def unexpected(self, token: Token, expected: str = "") -> ExpressionSyntaxError:
        if token.kind == "end":
            what = "end of expression"
        elif token.kind == "string":
            what = f"string {token.text}"
        else:
            what = f"'{token.text}'"
        suffix = f", expected {expected}" if expected else _HINTS.get(token.text, "")
        return ExpressionSyntaxError(f"unexpected {what}{suffix}", self.source, token.start,
                                     token.end)

    def expect(self, kind: str, text: str, expected: str = "") -> Token:
        if not self.at(kind, text):
            raise self.unexpected(self.peek(), expected or f"'{text}'")
        return self.advance()

    def enter(self, token: Token) -> None:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise ExpressionSyntaxError(f"expression is nested deeper than {MAX_DEPTH} levels",
                                        self.source, token.start, token.end)

    def leave(self) -> None:
        self.depth -= 1

    def make(self, cls: type[Node], **fields: Any) -> Any:
        self.count += 1
        if self.count > MAX_NODES:
            raise ExpressionSyntaxError(f"expression has more than {MAX_NODES} parts", self.source,
                                        fields["start"], fields["end"])
        return cls(**fields)

    # ------------------------------------------------------------ grammar

    def parse(self) -> Node:
        node = self.expr()
        if self.peek().kind != "end":
            raise self.unexpected(self.peek())
        return node

    def expr(self) -> Node:
        body = self.or_expr()
        if not self.at("keyword", "if"):
            return body
        self.advance()
        condition = self.or_expr()
        else_token = self.expect("keyword", "else")
        self.enter(else_token)
        orelse = self.expr()
        self.leave()
        return self.make(IfElse, body=body, condition=condition, orelse=orelse, start=body.start,
                         end=orelse.end)

    def or_expr(self) -> Node:
        return self.bool_op("or", self.and_expr)

    def and_expr(self) -> Node:
        return self.bool_op("and", self.not_expr)

    def bool_op(self, op: str, operand: Any) -> Node:
        operands = [operand()]
        while self.at("keyword", op):
            self.advance()
            operands.append(operand())
        if len(operands) == 1:
            return operands[0]
        return self.make(BoolOp, op=op, operands=tuple(operands), start=operands[0].start,
                         end=operands[-1].end)

    def not_expr(self) -> Node:
        if not self.at("keyword", "not"):
            return self.comparison()
        token = self.advance()
        self.enter(token)
        operand = self.not_expr()
        self.leave()
        return self.make(Unary, op="not", operand=operand, start=token.start, end=operand.end)

    def comparison(self) -> Node:
        operands = [self.sum()]
        ops: list[str] = []
        while True:
            token = self.peek()
            if token.kind == "op" and token.text in _COMPARE_OPS:
                self.advance()
                ops.append(token.text)
            elif token.kind == "keyword" and token.text == "in":
                self.advance()
                ops.append("in")
            elif token.kind == "keyword" and token.text == "not" and self.peek(1).text == "in" \
                    and self.peek(1).kind == "keyword":
                self.advance()
                self.advance()
                ops.append("not in")
            else:
                break
            operands.append(self.sum())
        if not ops:
            return operands[0]
        return self.make(Compare, operands=tuple(operands), ops=tuple(ops),
                         start=operands[0].start, end=operands[-1].end)

    def sum(self) -> Node:
        return self.binary(("+", "-"), self.product)

    def product(self) -> Node:
        return self.binary(("*", "/"), self.unary)

    def binary(self, ops: tuple[str, ...], operand: Any) -> Node:
        left = operand()
        while self.peek().kind == "op" and self.peek().text in ops:
            op = self.advance().text
            right = operand()
            left = self.make(Binary, op=op, left=left, right=right, start=left.start,
                             end=right.end)
        return left

    def unary(self) -> Node:
        token = self.peek()
        if token.kind != "op" or token.text not in ("-", "+"):
            return self.atom()
        self.advance()
        self.enter(token)
        operand = self.unary()
        self.leave()
        return self.make(Unary, op=token.text, operand=operand, start=token.start, end=operand.end)

    def atom(self) -> Node:
        token = self.advance()
        if token.kind == "number":
            return self.make(Number, value=token.value, start=token.start, end=token.end)
        if token.kind == "string":
            return self.make(String, value=token.value, start=token.start, end=token.end)
        if token.kind == "keyword" and token.text in ("true", "false", "True", "False"):
            return self.make(Bool, value=token.text.lower() == "true", start=token.start,
                             end=token.end)
        if token.kind == "name":
            if self.at("op", "("):
                opening = self.advance()
                args, closing = self.items(opening, ")")
                return self.make(Call, name=token.text, args=args, start=token.start,
                                 end=closing.end)
            return self.make(Name, name=token.text, start=token.start, end=token.end)
        if token.kind == "op" and token.text == "(":
            self.enter(token)
            inner = self.expr()
            closing = self.expect("op", ")")
            self.leave()
            return attrs.evolve(inner, start=token.start, end=closing.end)
        if token.kind == "op" and token.text == "[":
            items, closing = self.items(token, "]")
            return self.make(ListLiteral, items=items, start=token.start, end=closing.end)
        raise self.unexpected(token)

    def items(self, opening: Token, close: str) -> tuple[tuple[Node, ...], Token]:
        """Comma-separated expressions up to ``close``; a trailing comma is allowed."""
        self.enter(opening)
        items: list[Node] = []
        while not self.at("op", close):
            items.append(self.expr())
            if self.at("op", ","):
                self.advance()
            elif not self.at("op", close):
                raise self.unexpected(self.peek(), f"',' or '{close}'")
        closing = self.advance()
        self.leave()
        return tuple(items), closing
