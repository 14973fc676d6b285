"""Tokenizer of policy expressions: numbers, strings, qualified names, keywords and operators."""

from __future__ import annotations

import re
from decimal import Decimal

import attrs

from ..decimals import number_problem
from ..errors import ExpressionSyntaxError

#: Words that are never names; ``True``/``False`` are accepted as spellings of ``true``/``false``.
KEYWORDS = frozenset({"and", "or", "not", "in", "if", "else", "true", "false", "True", "False"})

#: Operators, longest first. Some are lexed only so the parser can reject them by name
#: (``**``, ``//``, ``%``, ``=``, ``.``...); the grammar never accepts them.
OPERATORS = (
    "==", "!=", "<=", ">=", "**", "//", "&&", "||",
    "<", ">", "+", "-", "*", "/", "(", ")", "[", "]", ",",
    "=", "!", "%", ".", "{", "}", ":", ";", "&", "|", "^", "~", "@",
)

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_QUALIFIER = re.compile(r"\.[A-Za-z_][A-Za-z0-9_]*")
_NUMBER = re.compile(r"[0-9]+(?:\.[0-9]+)?")
_EXPONENT = re.compile(r"[eE][+-]?([0-9]+)")
_WORD_TAIL = re.compile(r"[A-Za-z0-9_.]+")
_ESCAPES = {"\\": "\\", "'": "'", '"': '"'}
_SPACE = " \t\r\n"


@attrs.frozen
class Token:
    """One token: ``kind`` is number, string, name, keyword, op or end; ``text`` its source."""

    kind: str
    text: str
    start: int
    end: int
    value: Decimal | str | None = None


def tokenize(source: str) -> list[Token]:
    """Split ``source`` into tokens ending with an ``end`` token; raise on a malformed token."""
    tokens: list[Token] = []
    pos, size = 0, len(source)
    while True:
        while pos < size and source[pos] in _SPACE:
            pos += 1
        if pos >= size:
            tokens.append(Token("end", "", size, size))
            return tokens
        char = source[pos]
        if char.isascii() and (char.isalpha() or char == "_"):
            token = _name(source, pos)
        elif "0" <= char <= "9":
            token = _number(source, pos)
        elif char in "'\"":
            token = _string(source, pos)
        else:
            op = next((op for op in OPERATORS if source.startswith(op, pos)), None)
            if op is None:
                raise ExpressionSyntaxError(f"unexpected character '{char}'", source, pos, pos + 1)
            token = Token("op", op, pos, pos + len(op))
        tokens.append(token)
        pos = token.end


def _name(source: str, pos: int) -> Token:
    match = _NAME.match(source, pos)
    assert match is not None
    end = match.end()
    if match.group() in KEYWORDS:
        return Token("keyword", match.group(), pos, end)
    while (part := _QUALIFIER.match(source, end)) is not None:
        end = part.end()
    return Token("name", source[pos:end], pos, end)


def _number(source: str, pos: int) -> Token:
    match = _NUMBER.match(source, pos)
    assert match is not None
    end = match.end()
    exponent = _EXPONENT.match(source, end)
    if exponent is not None:
        text = source[pos : exponent.end()]
        hint = ""
        if len(exponent.group(1)) <= 3 and not number_problem(Decimal(text)):  # never a huge hint
            hint = f": write {_plain(Decimal(text))}"
        raise ExpressionSyntaxError(f"exponent notation is not allowed{hint}", source, pos,
                                    exponent.end())
    follower = source[end : end + 1]
    if follower and follower.isascii() and (follower.isalnum() or follower == "_"):
        tail = _WORD_TAIL.match(source, end)
        assert tail is not None
        raise ExpressionSyntaxError(f"invalid number '{source[pos:tail.end()]}'", source, pos,
                                    tail.end())
    value = Decimal(source[pos:end])
    if problem := number_problem(value):
        raise ExpressionSyntaxError(problem, source, pos, end)
    return Token("number", source[pos:end], pos, end, value)


def _plain(value: Decimal) -> str:
    text = f"{value:f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text


def _string(source: str, pos: int) -> Token:
    quote = source[pos]
    chars: list[str] = []
    i, size = pos + 1, len(source)
    while i < size:
        char = source[i]
        if char == quote:
            return Token("string", source[pos : i + 1], pos, i + 1, "".join(chars))
        if char == "\\":
            if i + 1 >= size:
                break
            escaped = source[i + 1]
            if escaped not in _ESCAPES:
                raise ExpressionSyntaxError(
                    f"unsupported escape '\\{escaped}' in string "
                    "(only \\\\, \\' and \\\" are allowed)",
                    source, i, i + 2,
                )
            chars.append(_ESCAPES[escaped])
            i += 2
            continue
        chars.append(char)
        i += 1
    raise ExpressionSyntaxError("unterminated string", source, pos, size)
