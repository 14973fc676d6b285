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

:func:`unit_line` runs the policy's generated writer (:mod:`.unitgen`: the same texts, with the
loops unrolled and the constant text merged); :func:`unit_line_loop` is the straightforward
writer it falls back on.
"""

from __future__ import annotations

from decimal import Decimal
from functools import partial
from json.encoder import encode_basestring  # C accelerated
from operator import itemgetter
from types import MappingProxyType
from typing import Any

from ..decimals import figure
from ..engine import UnitResult
from ..messages import reason_code
from ..model import Policy
from ..plans import plan_for
from .document import _PLAIN_TEXTS, _plain_cached, _plan, coded, value
from .jsontext import compact
from .unitgen import build_writer

_DICTS = (dict, MappingProxyType)
_SEQUENCES = (list, tuple)


def _enc(v: Any) -> str:
    """``compact(value(v))`` for the values documents hold, without the intermediate copy."""
    kind = type(v)
    if kind is Decimal:
        text = _PLAIN_TEXTS.get(v) if v else None  # _plain_cached, inlined for the common hit
        return f'"{text if text is not None else _plain_cached(v)}"'
    if kind is str:
        return encode_basestring(v)
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
        self.group_ids = tuple(g.id for g in policy.groups)
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
            _memo(spec.reads)
            if spec.method_plugin.startswith("thidua_rules.") and spec.override is None else None
            for spec in policy.criteria)
        # Formula adjustments likewise: the formula's and the condition's names, and ``year``.
        self.bonus_memo = tuple(_adjustment_memo(a) for a in policy.bonuses)
        self.deduction_memo = tuple(_adjustment_memo(a) for a in policy.deductions)
        #: The text of a title or check outcome by the outcome object (:func:`_title`), and
        #: check texts by what they are made of (:func:`_check`): this policy's own memories.
        self.by_object: dict[int, tuple[Any, str]] = {}
        self.check_texts: dict[tuple[Any, ...], str] = {}
        #: A title outcome's text (what generated writers call).
        self.title = partial(_title, self)


#: A remembered text's names (without ``year``, which every key ends with), the getter of its key
#: values and the texts by key.
Memo = tuple[tuple[str, ...], Any, dict[Any, str]]


def _memo(names: tuple[str, ...]) -> Memo:
    return names, _getter(names), {}


def _adjustment_memo(item: Any) -> Memo | None:
    """The memory of a formula adjustment's texts; None for a method's."""
    if item.method != "formula" or item.formula is None:
        return None
    names = set(item.formula.names) | (set(item.when.names) if item.when is not None else set())
    return _memo(tuple(sorted(names - {"year"})))


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


def _zero_key(v: Any) -> Any:
    """A falsy value as a memory key: a zero with its sign, which equality ignores but ``-0``
    shows; other values as they are."""
    return (v, v.is_signed()) if type(v) is Decimal else v


def _memo_key(getter: Any, env: Any) -> tuple[Any, ...] | None:
    """The values a remembered text depends on, as a key: equal values print alike, except a
    zero, whose sign shows (``-0``), so zeros carry their sign. None: a value is missing (a
    gated criterion's unread input, say), so the text is made, not remembered."""
    try:
        key = getter(env)
    except KeyError:
        return None
    if not all(key):
        key = tuple([v if v else _zero_key(v) for v in key])
    return key


def _line_plan(policy: Policy) -> _LinePlan:
    return plan_for("unit-line", policy, _LinePlan)


def _mapping_text(prefixed: tuple[tuple[str, str], ...], env: Any, only_present: bool) -> str:
    """``"name":value,…`` of ``env``'s values under the precomputed sorted names."""
    parts: list[str] = []
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


def _criterion_text(piece: Any, row: Any, env: Any, f: Any) -> str:
    """The text of one criterion's outcome (``piece``: its part of ``_LinePlan.criteria``)."""
    before_inputs, inputs, before_override, after_override, spec_id = piece
    c_id, raw, c_score, gated, capped, facts, c_override = row
    if c_id != spec_id:  # never: scoring names each criterion after its spec
        raise AssertionError(c_id)
    raw_text = _PLAIN_TEXTS.get(raw) if raw else None
    if raw_text is None:
        raw_text = _plain_cached(raw)
    override = "" if c_override is None else f',"override":{_enc(c_override)}'
    return (f'{{"capped":{_BOOL[capped]},"facts":{_enc(facts)},"gated":{_BOOL[gated]}'
            f'{before_inputs}{_mapping_text(inputs, env, False)}{before_override}{override}'
            f'{after_override}{raw_text}","score":"{f(c_score)}"}}')


def _adjustment_text(piece: Any, row: Any, env: Any, f: Any) -> str:
    """The text of one bonus or deduction (``piece``: its part of ``_LinePlan.bonuses``…)."""
    names, max_raw = piece
    a_id, applies, raw, a_score, capped = row
    return (f'{{"applies":{_BOOL[applies]},"capped":{_BOOL[capped]},"id":{encode_basestring(a_id)},'
            f'"inputs":{{{_mapping_text(names, env, True)}}}{max_raw}{_plain_cached(raw)}",'
            f'"score":"{f(a_score)}"}}')


def _remembered(memo: Memo | None, env: Any, make: Any, *args: Any) -> str:
    """``make(*args)``, remembered in ``memo`` by the values it depends on (None: not at all)."""
    if memo is None:
        return make(*args)
    key = _memo_key(memo[1], env)
    text = memo[2].get(key)
    if text is None:
        text = make(*args)
        if key is not None:
            _keep(memo[2], key, text)
    return text


def _adjustments(specs: Any, rows: Any, memos: Any, env: Any, f: Any) -> str:
    return ",".join([_remembered(memo, env, _adjustment_text, piece, row, env, f)
                     for piece, row, memo in zip(specs, rows, memos, strict=True)])


def _band_text(plan: _LinePlan, band: Any, skipped: Any, caps: Any) -> str:
    """The explanation's ``band`` object: the band, its minimum, the bands skipped, plugin caps."""
    caps_text = ""
    if caps:
        caps_text = '"caps":' + _enc([{"plugin": c.plugin, "ceiling": c.band, "reason": c.reason, **coded(c.reason)}
                                      for c in caps]) + ","
    skipped_text = _enc([{"band": b, "failed": src} for b, src in skipped]) if skipped else "[]"
    band_min = "null" if band is None else plan.band_min.get(band, "null")
    return f'{{{caps_text}"id":{_enc(band)},"min":{band_min},"skipped":{skipped_text}}}'


_BOOL = {True: "true", False: "false"}


def _bool_text(v: Any) -> str:
    return _BOOL[v] if type(v) is bool else _enc(v)


def _check(plan: _LinePlan, c: Any) -> str:
    hit = plan.by_object.get(id(c))
    if hit is not None and hit[0] is c:
        return hit[1]
    key = _check_key(c)
    text = None if key is None else plan.check_texts.get(key)
    if text is None:
        plugin = "" if c.plugin.startswith("thidua_rules.") else f',"plugin":{_enc(c.plugin)}'
        reason = c.reason
        code = coded(reason)
        reason = encode_basestring(reason) if isinstance(reason, str) else _enc(reason)
        text = (f'{{"check":{_enc(c.check)},"code":{_enc(code["code"])},"params":{_enc(code["params"])},'
                f'"passed":{_bool_text(c.passed)}{plugin},"reason":{reason},"seen":{_enc(c.seen)}}}')
        if key is not None:
            _keep(plan.check_texts, key, text)
    _remember(plan, c, text)
    return text


def _check_key(c: Any) -> tuple[Any, ...] | None:
    """What a check's text is made of, as a key, when it holds only texts, booleans, numbers and
    lists of texts (None otherwise): equal keys give equal texts. Each number keeps its sign
    (``-0``) and each value is tagged with its kind, since ``Decimal(1) == True``."""
    seen = c.seen
    if type(c.check) is not str or type(c.plugin) is not str or type(c.passed) is not bool \
            or not isinstance(c.reason, str) or type(seen) not in _DICTS:
        return None
    code, params = reason_code(c.reason)
    key: list[Any] = [c.check, c.plugin, c.passed, c.reason, code]
    for name, v in params.items():  # (what seen holds, and ints: a vote count)
        kind = type(v)
        if kind is str or kind is int:
            key.append((name, v, kind))
        elif kind is Decimal:
            key.append((name, v, v.is_signed()))
        elif kind is list and all(type(x) is str for x in v):
            key.append((name, tuple(v), None))
        else:
            return None
    key.append(None)  # the end of the params
    append = key.append
    for name, v in seen.items():
        kind = type(v)
        if type(name) is not str:
            return None
        if kind is str:
            append((name, v))
        elif kind is Decimal:
            append((name, v, v.is_signed()))
        elif kind is list and all(type(x) is str for x in v):
            append((name, tuple(v), None))
        else:
            return None
    return tuple(key)


def _title(plan: _LinePlan, outcome: Any) -> str:
    """A title outcome's text. Check texts are remembered by what they are made of: most checks
    are made per unit, but many units' checks read alike (a ``requires`` met, a condition on a
    count failed at the same value)."""
    hit = plan.by_object.get(id(outcome))
    if hit is not None and hit[0] is outcome:
        return hit[1]
    quota = ""
    if outcome.quota_limit is not None:
        runoff = "" if outcome.runoff_yes is None else f',"runoff_yes":{_enc(outcome.runoff_yes)}'
        quota = (f',"quota":{{"limit":{_enc(outcome.quota_limit)},"place":{_enc(outcome.place)},'
                 f'"raw":{_enc(figure(outcome.quota_raw or Decimal(0)))}{runoff}}}')
    checks = ",".join([_check(plan, c) for c in outcome.checks])
    text = f'{{"checks":[{checks}],"id":{_enc(outcome.title)}{quota},"status":{_enc(outcome.status)}}}'
    _remember(plan, outcome, text)
    return text


def _remember(plan: _LinePlan, outcome: Any, text: str) -> None:
    """Remember an outcome's text by the outcome object: awards give one shared outcome to every
    unit in the same state (a failed ``requires``, say), whose text is then made once. Outcomes
    are frozen, so an object's text never changes; the entry holds the object, so its id cannot
    be reused by another object while the entry lives."""
    _keep(plan.by_object, id(outcome), (outcome, text), limit=4096)


def unit_line(policy: Policy, unit: UnitResult) -> str:
    """Exactly ``compact({"record": "unit", **document._unit(policy, unit)})``."""
    return plan_for("unit-writer", policy, _writer)(unit)


def _writer(policy: Policy) -> Any:
    """The policy's generated writer, or the straightforward one if it cannot be generated."""
    loop = partial(unit_line_loop, policy)
    writer = build_writer(policy, _line_plan(policy), loop, _WRITER_HELPERS)
    return loop if writer is None else writer


def unit_line_loop(policy: Policy, unit: UnitResult) -> str:
    """:func:`unit_line`, the straightforward way: the policy's criteria, groups and adjustments
    in loops. The generated writer's fallback, for any unit it does not write itself."""
    plan = _line_plan(policy)
    f = plan.doc.fmt
    score = unit.score
    env = score.env
    criteria = ",".join([_remembered(memo, env, _criterion_text, piece, row, env, f)
                         for piece, row, memo in zip(plan.criteria, score.criterion_rows, plan.criterion_memo,
                                                     strict=True)])
    groups = ",".join([
        f'{{"capped":{_bool_text(capped)},"id":{encode_basestring(g_id)}{max_score}{f(g_score)}","sum":"{f(g_sum)}"}}'
        for max_score, (g_id, g_sum, g_score, capped) in zip(plan.groups, score.group_rows, strict=True)])
    placed = unit.placed
    titles = ",".join([_title(plan, outcome) for outcome in unit.titles])
    derived = ""
    if score.derived:
        derived = ',"derived":' + compact([{"input": d.input, "plugin": d.plugin, "value": value(d.value)}
                                           for d in score.derived])
    tied = _bool_text(unit.tied)
    rank = _enc(unit.rank)
    return (
        f'{{"band":{_enc(unit.band)},"cluster":{_enc(unit.cluster)},'
        f'"explanation":{{"band":{_band_text(plan, score.band, score.band_skipped, score.band_caps)},'
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


#: What generated writers call: the shared texts and memories, and the writers of the parts
#: they leave to the straightforward code (see :func:`.unitgen.build_writer`).
_WRITER_HELPERS = MappingProxyType({
    "enc": _enc, "criterion_text": _criterion_text, "adjustment_text": _adjustment_text,
    "band_text": _band_text, "keep": _keep,
    "zero_key": _zero_key, "plain_texts": _PLAIN_TEXTS, "plain": _plain_cached,
})
