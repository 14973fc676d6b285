"""The scoring layers of a unit's criteria as report lines (Markdown, ``thidua explain``), every
word through the message catalogue (``layer_*``, ``explain_layer_*``) in either language."""

from __future__ import annotations

import re
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from ..messages import format_number, render
from ..model import Policy
from .escape import md_code, md_text

#: A number of the result (``"35.00"``) as the output writes it.
Number = Callable[[str], str]

_DECIMAL = re.compile(r"-?\d+\.\d+")


def digits(value: Any, lang: str) -> Any:
    """A number the result writes as text (``"98.00"``) in ``lang``, with exactly its digits
    (``98,00``); anything else unchanged."""
    if lang == "en" or not isinstance(value, str) or not _DECIMAL.fullmatch(value):
        return value
    return format_number(Decimal(value), len(value) - value.index(".") - 1, lang)


def number_writer(lang: str) -> Number:
    """:func:`digits` in ``lang``, for a number given as text."""
    return lambda value: str(digits(value, lang))


def _within(policy: Policy, layer_id: str) -> str:
    layer = next(layer for layer in policy.layers if layer.id == layer_id)
    return "" if layer.reconcile is None else f"{layer.reconcile.within:f}"


def _signed(text: str) -> str:
    return text if text.startswith("-") else f"+{text}"


def _say(code: str, lang: str, **params: Any) -> str:
    return render(code, params, lang)  # values are shown as given: numbers already written


def applied_text(policy: Policy, step: dict[str, Any], lang: str, num: Number) -> str:
    """How a layer's result was reached (``spread 3.00 over 2: the third scorer's 5.00``)."""
    spread = step.get("spread")
    return _say("layer_applied_" + step["applied"], lang, score=num(step["score"]),
                spread="" if spread is None else num(spread), within=num(_within(policy, step["layer"])))


def layer_blocks(policy: Policy, criteria: list[dict[str, Any]], lang: str, num: Number,
                 code: Callable[[str], str], text: Callable[[str], str]) -> list[tuple[str, list[str]]]:
    """Per criterion with layers: its heading and one line per layer, from the computed score on
    (``code`` and ``text`` escape an id and a user's text for the output format)."""
    names = {c.id: c.name for c in policy.criteria}
    layer_names = {layer.id: layer.name for layer in policy.layers}
    out = []
    for c in criteria:
        if "layers" not in c:
            continue
        lines = []
        for step in c["layers"]:
            if step["kind"] == "computed":
                lines.append(_say("layer_computed", lang, score=num(step["score"])))
                continue
            scores = "; ".join(_entry(e, lang, num, code, text, "layer_third_score", "layer_reason")
                               for e in step["scores"])
            name = text(layer_names[step["layer"]])
            if step["kind"] == "claim":
                lines.append(_say("layer_claim", lang, layer=name, scores=scores,
                                  difference=_signed(num(step["difference"]))))
            else:
                lines.append(_say("layer_change", lang, layer=name, scores=scores,
                                  how=applied_text(policy, step, lang, num)))
        heading = _say("layer_heading", lang, name=text(names[c["id"]]), id=code(c["id"]), score=num(c["score"]))
        out.append((heading, lines))
    return out


def layer_lines(policy: Policy, criteria: list[dict[str, Any]], lang: str, num: Number) -> list[str]:
    """Markdown list items: per criterion with layers, each layer from the computed score on."""
    out = []
    for heading, lines in layer_blocks(policy, criteria, lang, num, md_code, md_text):
        out += ["- " + heading, *("  - " + line for line in lines)]
    return out


def _entry(e: dict[str, Any], lang: str, num: Number, scorer: Callable[[str], str], reason: Callable[[str], str],
           third_code: str, reason_code: str) -> str:
    """One scorer's score, with the scorer, the third-scorer mark and the reason where given."""
    score = num(e["score"])
    if e["reason"]:
        score = _say(reason_code, lang, score=score, reason=reason(e["reason"]))
    if not e["scorer"]:
        return score
    return _say(third_code if e.get("third") else "layer_scorer_score", lang, scorer=scorer(e["scorer"]), score=score)


def layer_lines_explain(policy: Policy, criterion: dict[str, Any], lang: str, num: Number) -> list[str]:
    """``explain`` lines under a criterion with layers, one per layer (layer and scorer ids)."""
    out = []
    for step in criterion.get("layers", ()):
        if step["kind"] == "computed":
            out.append("    " + _say("explain_layer_computed", lang, score=num(step["score"])))
            continue
        scores = ", ".join(_entry(e, lang, num, str, str, "explain_layer_third", "explain_layer_reason")
                           for e in step["scores"])
        if step["kind"] == "claim":
            out.append("    " + _say("explain_layer_claim", lang, layer=step["layer"], scores=scores,
                                     difference=_signed(num(step["difference"]))))
        else:
            out.append("    " + _say("explain_layer_change", lang, layer=step["layer"], scores=scores,
                                     how=applied_text(policy, step, lang, num)))
    return out
