"""The ``unit`` record of the JSON-lines output, written straight to text.

``unit_line(policy, unit)`` is exactly ``compact({"record": "unit", **_unit(policy, unit)})``
(``document._unit``, ``jsontext.compact``: sorted keys, no spaces, UTF-8), without building the
unit's document (about a thousand values for the example policy) and then encoding it again: the
per-policy constant pieces (criterion ids, groups, methods, points, maxima, key names) are JSON
text worked out once, and only the unit's own values are encoded, in sorted-key order. Compact
JSON is compositional (a value's text does not depend on where it sits), so each piece is the
text the encoder would give it. Values of a shape this writer does not know (a plugin's facts
holding a set, a float, a non-string key…) go through ``compact(value(x))``, the straightforward
path. ``tests/test_fastpath.py`` checks the identity record by record.
"""

from __future__ import annotations

from decimal import Decimal
from operator import itemgetter
from json.encoder import encode_basestring  # type: ignore[attr-defined]  # C accelerated
from types import MappingProxyType
from typing import Any

from ..engine import UnitResult
from ..model import Policy
from ..plans import plan_for
from .document import _PLAIN_TEXTS, _plain_cached, _plan, value
from .jsontext import compact

_DICTS = (dict, MappingProxyType)
_SEQUENCES = (list, tuple)


def _enc(v: Any) -> str:
    """``compact(value(v))`` for the values documents hold, without the intermediate copy."""
    kind = type(v)
    if kind is Decimal:
        text = _PLAIN_TEXTS.get(v) if v else None  # _plain_cached, inlined for the common hit
        return f'"{text if text is not None else _plain_cached(v)}"'
    if kind is str:
        return encode_basestring(v)  # type: ignore[no-any-return]
    if kind is bool:
        return "true" if v else "false"
    if v is None:
        return "null"
    if kind is int:
        return int.__repr__(v)
    if kind in _DICTS:
        if not v:
            return "{}"
        try:
            keys = sorted(v)
        except TypeError:  # keys of mixed types
            return compact(value(v))
        parts = []
        for k in keys:
            if type(k) is not str:
                return compact(value(v))
            x = v[k]
            t = type(x)  # the common scalars inline, the rest by recursion
            if t is str:
                parts.append(f"{encode_basestring(k)}:{encode_basestring(x)}")
            elif t is Decimal and x and (text := _PLAIN_TEXTS.get(x)) is not None:
                parts.append(f'{encode_basestring(k)}:"{text}"')
            else:
                parts.append(f"{encode_basestring(k)}:{_enc(x)}")
        return f"{{{','.join(parts)}}}"
    if kind in _SEQUENCES:
        return f"[{','.join([_enc(x) for x in v])}]"
    return compact(value(v))


def _quoted(text: str | None) -> str:
    return "null" if text is None else '"' + text + '"'


def _inputs(names: Any) -> tuple[tuple[str, str], ...]:
    """Sorted, distinct names with their ``"name":`` prefixes (the first one without a comma)."""
    ordered = sorted(set(names))
    return tuple((("," if i else "") + encode_basestring(n) + ":", n) for i, n in enumerate(ordered))


class _LinePlan:
    """JSON text of what every unit record under one policy shares, worked out once."""

    def __init__(self, policy: Policy) -> None:
        doc = _plan(policy)
        self.doc = doc
        # Per criterion: the text between "gated" and "inputs", the inputs, the text between
        # "inputs" and "override" and the text between "override" and "raw".
        self.criteria = tuple(
            (',"group":' + _enc(group) + ',"id":' + encode_basestring(spec.id) + ',"inputs":{',
             _inputs(reads), '},"method":' + encode_basestring(method),
             ("" if plugin is None else ',"plugin":' + encode_basestring(plugin))
             + ',"points":"' + points + '","raw":"', spec.id)
            for spec, (group, method, points, reads, plugin) in zip(policy.criteria, doc.criteria, strict=True))
        self.groups = tuple(',"max":' + _quoted(group_max) + ',"score":"' for group_max in doc.groups)
        self.bonuses = tuple((_inputs(names), ',"max":' + _quoted(item_max) + ',"raw":"')
                             for item_max, names in doc.bonuses)
        self.deductions = tuple((_inputs(names), ',"max":' + _quoted(item_max) + ',"raw":"')
                                for item_max, names in doc.deductions)
        self.bonus_max = ',"max":' + _quoted(doc.bonus_max) + ',"sum":"'
        self.deduction_max = ',"max":' + _quoted(doc.deduction_max) + ',"sum":"'
        self.total_max = '{"max":' + _quoted(doc.total_max) + ',"raw":"'
        self.band_min = {band: _quoted(text) for band, text in doc.band_min.items()}
        # A built-in method's outcome, and so its whole text, is a function of the values the
        # criterion reads (its inputs and ``year``, all that criteria can see): the text made for
        # one unit is the text of every unit with the same values. Plugin methods and overridden
        # criteria may read more, so they are written every time (None).
        self.criterion_memo = tuple(
            (_getter(spec.reads), {})
            if spec.method_plugin.startswith("thidua_rules.") and spec.override is None else None
            for spec in policy.criteria)
        # Formula adjustments likewise: the formula's and the condition's names, and ``year``.
        self.bonus_memo = tuple(_adjustment_memo(a) for a in policy.bonuses)
        self.deduction_memo = tuple(_adjustment_memo(a) for a in policy.deductions)


def _adjustment_memo(item: Any) -> tuple[Any, dict[Any, str]] | None:
    """(values getter, remembered texts) of a formula adjustment; None for a method's."""
    if item.method != "formula" or item.formula is None:
        return None
    names = set(item.formula.names) | (set(item.when.names) if item.when is not None else set())
    return _getter(tuple(sorted(names - {"year"}))), {}


#: Remembered texts per criterion or adjustment, at most this many (then forgotten all at once).
_MEMO_MAX = 1 << 14


def _keep(texts: dict[Any, Any], key: Any, text: Any, limit: int = _MEMO_MAX) -> None:
    """Remember ``text`` under ``key``; a memory at ``limit`` entries is forgotten all at once."""
    if len(texts) >= limit:
        texts.clear()
    texts[key] = text


def _getter(names: tuple[str, ...]) -> Any:
    """``env`` → the values of ``names`` and ``year`` as a tuple (KeyError if one is missing)."""
    return itemgetter(*names, "year") if names else lambda env: (env["year"],)


def _memo_key(getter: Any, env: Any) -> tuple[Any, ...] | None:
    """The values a remembered text depends on, as a key: equal values print alike, except a
    zero, whose sign shows (``-0``), so zeros carry their sign. None: a value is missing (a
    gated criterion's unread input, say), so the text is made, not remembered."""
    try:
        key = getter(env)
    except KeyError:
        return None
    if not all(key):
        key = tuple([(v, v.is_signed()) if type(v) is Decimal and not v else v for v in key])
    return key


def _line_plan(policy: Policy) -> _LinePlan:
    return plan_for("unit-line", policy, _LinePlan)


def _mapping_text(prefixed: tuple[tuple[str, str], ...], env: Any, only_present: bool) -> str:
    """``"name":value,…`` of ``env``'s values under the precomputed sorted names."""
    parts = []
    append = parts.append
    for prefix, name in prefixed:
        if only_present and name not in env:
            continue
        v = env[name]
        text = _PLAIN_TEXTS.get(v) if type(v) is Decimal and v else None
        append(f'{prefix}"{text}"' if text is not None else f"{prefix}{_enc(v)}")
    text = "".join(parts)
    return text[1:] if text[:1] == "," else text  # the first name present takes no comma


def _separation(sep: Any, f: Any) -> str:
    if sep is None:
        return "null"
    other = "null" if sep.other is None else f'"{f(sep.other)}"'
    this = "null" if sep.this is None else f'"{f(sep.this)}"'
    return f'{{"key":{_enc(sep.key)},"other":{other},"this":{this},"unit":{_enc(sep.unit)}}}'


def _adjustments(specs: Any, rows: Any, memos: Any, env: Any, f: Any) -> str:
    parts = []
    for (names, max_raw), (a_id, applies, raw, a_score, capped), memo in zip(specs, rows, memos, strict=True):
        if memo is not None:
            key = _memo_key(memo[0], env)
            text = memo[1].get(key)
            if text is not None:
                parts.append(text)
                continue
        text = (f'{{"applies":{_BOOL[applies]},"capped":{_BOOL[capped]},"id":{encode_basestring(a_id)},'
                f'"inputs":{{{_mapping_text(names, env, True)}}}{max_raw}{_plain_cached(raw)}",'
                f'"score":"{f(a_score)}"}}')
        if memo is not None and key is not None:
            _keep(memo[1], key, text)
        parts.append(text)
    return ",".join(parts)


_BOOL = {True: "true", False: "false"}


def _check(c: Any) -> str:
    hit = _BY_OBJECT.get(id(c))
    if hit is not None and hit[0] is c:
        return hit[1]
    plugin = "" if c.plugin.startswith("thidua_rules.") else f',"plugin":{_enc(c.plugin)}'
    reason = c.reason
    reason = encode_basestring(reason) if type(reason) is str else _enc(reason)
    passed = c.passed
    passed = _BOOL[passed] if type(passed) is bool else _enc(passed)
    text = (f'{{"check":{_enc(c.check)},"passed":{passed}{plugin},"reason":{reason},'
            f'"seen":{_enc(c.seen)}}}')
    _remember(c, text)
    return text


def _title(outcome: Any) -> str:
    hit = _BY_OBJECT.get(id(outcome))
    if hit is not None and hit[0] is outcome:
        return hit[1]
    quota = ""
    if outcome.quota_limit is not None:
        runoff = "" if outcome.runoff_yes is None else f',"runoff_yes":{_enc(outcome.runoff_yes)}'
        quota = (f',"quota":{{"limit":{_enc(outcome.quota_limit)},"place":{_enc(outcome.place)},'
                 f'"raw":{_enc(outcome.quota_raw or Decimal(0))}{runoff}}}')
    checks = ",".join([_check(c) for c in outcome.checks])
    text = f'{{"checks":[{checks}],"id":{_enc(outcome.title)}{quota},"status":{_enc(outcome.status)}}}'
    _remember(outcome, text)
    return text


#: The text of a title or check outcome, by the outcome object: awards give one shared outcome
#: to every unit in the same state (a failed ``requires``, say), whose text is then made once.
#: Outcomes are frozen, so an object's text never changes; the entry holds the object, so its
#: id cannot be reused by another object while the entry lives.
_BY_OBJECT: dict[int, tuple[Any, str]] = {}


def _remember(outcome: Any, text: str) -> None:
    _keep(_BY_OBJECT, id(outcome), (outcome, text), limit=4096)


def unit_line(policy: Policy, unit: UnitResult) -> str:
    """Exactly ``compact({"record": "unit", **document._unit(policy, unit)})``."""
    plan = _line_plan(policy)
    f = plan.doc.fmt
    score = unit.score
    env = score.env
    parts = []
    append = parts.append
    for (before_inputs, inputs, before_override, after_override, spec_id), (
            c_id, raw, c_score, gated, capped, facts, c_override), memo in zip(
            plan.criteria, score.criterion_rows, plan.criterion_memo, strict=True):
        if c_id != spec_id:  # never: scoring names each criterion after its spec
            raise AssertionError(c_id)
        if memo is not None:
            key = _memo_key(memo[0], env)
            text = memo[1].get(key)
            if text is not None:
                append(text)
                continue
        raw_text = _PLAIN_TEXTS.get(raw) if raw else None
        if raw_text is None:
            raw_text = _plain_cached(raw)
        override = "" if c_override is None else f',"override":{_enc(c_override)}'
        text = (f'{{"capped":{_BOOL[capped]},"facts":{_enc(facts)},"gated":{_BOOL[gated]}'
                f'{before_inputs}{_mapping_text(inputs, env, False)}{before_override}{override}'
                f'{after_override}{raw_text}","score":"{f(c_score)}"}}')
        if memo is not None and key is not None:
            _keep(memo[1], key, text)
        append(text)
    criteria = ",".join(parts)
    groups = ",".join([
        f'{{"capped":{_BOOL[capped]},"id":{encode_basestring(g_id)}{max_score}{f(g_score)}","sum":"{f(g_sum)}"}}'
        for max_score, (g_id, g_sum, g_score, capped) in zip(plan.groups, score.group_rows, strict=True)])
    band = score.band
    caps = ""
    if score.band_caps:
        caps = '"caps":' + _enc([{"plugin": c.plugin, "ceiling": c.band, "reason": c.reason}
                                 for c in score.band_caps]) + ","
    skipped = _enc([{"band": b, "failed": src} for b, src in score.band_skipped]) if score.band_skipped else "[]"
    band_min = "null" if band is None else plan.band_min.get(band, "null")
    placed = unit.placed
    titles = ",".join([_title(outcome) for outcome in unit.titles])
    derived = ""
    if score.derived:
        derived = ',"derived":' + compact([{"input": d.input, "plugin": d.plugin, "value": value(d.value)}
                                           for d in score.derived])
    tied = _BOOL[unit.tied]
    rank = _enc(unit.rank)
    return (
        f'{{"band":{_enc(unit.band)},"cluster":{_enc(unit.cluster)},'
        f'"explanation":{{"band":{{{caps}"id":{_enc(band)},"min":{band_min},"skipped":{skipped}}},'
        f'"bonus":{{"applied":"{f(score.bonus)}"{plan.bonus_max}{f(score.bonus_sum)}"}},'
        f'"bonuses":[{_adjustments(plan.bonuses, score.bonus_rows, plan.bonus_memo, env, f)}],'
        f'"criteria":[{criteria}],'
        f'"deduction":{{"applied":"{f(score.deduction)}"{plan.deduction_max}{f(score.deduction_sum)}"}},'
        f'"deductions":[{_adjustments(plan.deductions, score.deduction_rows, plan.deduction_memo, env, f)}]{derived},'
        f'"groups":[{groups}],'
        f'"ranking":{{"above":{_separation(placed.above, f)},"below":{_separation(placed.below, f)},'
        f'"rank":{rank},"tied":{tied}}},'
        f'"score":"{f(score.score)}","titles":[{titles}],'
        f'"total":{plan.total_max}{f(score.total_raw)}","total":"{f(score.total)}"}}}},'
        f'"id":{_enc(unit.id)},"name":{_enc(unit.name)},"proposed":{_enc(unit.proposed)},'
        f'"rank":{rank},"record":"unit","tied":{tied},"total":"{f(unit.total)}"}}'
    )
