"""A policy expression as a reader reads it: names by their labels, band and title ids by their
names, operators as written in a document (``≥``, ``×``) and the language's words (``và``)."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from .expressions.lexer import tokenize
from .messages import catalogue, number_text, plugin_messages, render, title_names

if TYPE_CHECKING:
    from .model import Policy

_OPERATORS = {"==": "=", "!=": "≠", "<=": "≤", ">=": "≥", "*": "×"}
_KEYWORDS = {"and": "word_and", "or": "word_or", "not": "word_not", "in": "word_in", "if": "word_if",
             "else": "word_else", "true": "word_true", "True": "word_true", "false": "word_false",
             "False": "word_false"}
_NO_SPACE_AFTER = ("(", "[")
_NO_SPACE_BEFORE = (")", "]", ",")


def names(policy: Policy, lang: str) -> dict[str, str]:
    """Every name an expression may read, by what the policy calls it (``label`` / ``name``)."""
    found = {f.id: f.label or f.id for f in policy.inputs}
    for prefix, items in (("group", policy.groups), ("criterion", policy.criteria),
                          ("bonus", policy.bonuses), ("deduction", policy.deductions)):
        for item in items:
            found[f"{prefix}.{item.id}"] = item.name
    words = catalogue(lang)
    for code, text in words.items():
        if code.startswith("name_"):
            found.setdefault(code[len("name_"):], text)
    return found


def describe(source: str, policy: Policy, lang: str = "vi", *, values: Mapping[str, Any] | None = None) -> str:
    """``source`` written for a reader. With ``values``, each name is replaced by its value
    instead of its label (the arithmetic of a formula: ``15 × 112 / (120 × 0,9)``)."""
    try:
        tokens = tokenize(source)
    except Exception:  # noqa: BLE001 - a text that is no expression is shown as it is
        return source
    labels = names(policy, lang)
    bands = {b.id: b.name for b in policy.bands}
    titles = title_names(policy)
    functions = {**{c[3:]: t for c, t in plugin_messages(policy, lang).items() if c.startswith("fn_")},
                 **{c[3:]: t for c, t in catalogue(lang).items() if c.startswith("fn_")}}
    words: list[str] = []
    for index, token in enumerate(tokens):
        kind, text = token.kind, token.text
        if kind == "end":
            break
        following = tokens[index + 1]
        if kind == "name" and following.kind == "op" and following.text == "(":
            word = functions.get(text, text)
        elif kind == "name":
            if values is not None and text in values:
                word = show_value(values[text], lang, policy)
            else:
                word = labels.get(text, text)
        elif kind == "string":
            value = str(token.value)
            word = f"“{bands.get(value) or titles.get(value) or value}”"
        elif kind == "number":
            assert isinstance(token.value, Decimal)
            word = number_text(token.value, lang)
        elif kind == "keyword":
            if text == "not" and following.kind == "keyword" and following.text == "in":
                continue
            previous = tokens[index - 1] if index else None
            code = _KEYWORDS.get(text, "")
            if text == "in" and previous is not None and previous.text == "not":
                code = "word_not_in"
            word = render(code, {}, lang) if code else text
        else:
            word = _OPERATORS.get(text, text)
        if words and ((kind == "op" and text in _NO_SPACE_BEFORE) or words[-1].endswith(_NO_SPACE_AFTER)
                      or (kind == "op" and text == "(" and tokens[index - 1].kind == "name"
                          and " " not in words[-1])):  # ``abs(x)``, but ``số năm liên tục (…)``
            words[-1] += word
        else:
            words.append(word)
    return " ".join(words)


def show_value(value: Any, lang: str, policy: Policy | None = None, name: str = "") -> str:
    """A value an expression read, for a reader: numbers in the language, a band by its name."""
    from .messages import show

    if isinstance(value, str) and policy is not None:
        bands = {b.id: b.name for b in policy.bands}
        if value in bands and (name == "band" or _on_band_scale(policy, name)):
            return bands[value]
    if isinstance(value, list | tuple) and policy is not None and name == "titles":
        titles = title_names(policy)
        return ", ".join(titles.get(str(v), str(v)) for v in value) or "—"
    return show(value, lang)


def _on_band_scale(policy: Policy, name: str) -> bool:
    """Whether input ``name`` is an enum whose values are all band ids (a rating on the same
    scale, such as the party organisation's): its values are then shown by the band names."""
    field = next((f for f in policy.inputs if f.id == name), None)
    bands = {b.id for b in policy.bands}
    return field is not None and field.type == "enum" and bool(field.values) and set(field.values) <= bands
