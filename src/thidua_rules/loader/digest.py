"""The data's canonical content and its SHA-256: the same data gives the same digest whatever
the order of its file or the file's format (TOML, JSON, CSV, JSON lines)."""

from __future__ import annotations

import decimal
import hashlib
import json
from collections.abc import Iterable, Mapping
from decimal import Decimal
from types import MappingProxyType
from typing import Any

from ..codegen import define
from ..model import Cluster


def content_digest(clusters: tuple[Cluster, ...]) -> str:
    """SHA-256 of the data's canonical content: the same units, ballots and history give the same
    digest whatever their order in the file or the file's format (TOML, JSON, CSV).

    The digested text is ``[``, the :func:`canonical_cluster_text` of each cluster joined by
    ``,``, then ``]`` (exactly ``json.dumps`` of the list), so a streamed run can digest one
    cluster at a time and get the same hash. So does this function: the text is never joined.
    """
    digest = hashlib.sha256(b"[")
    separator = b""
    for cluster in clusters:
        digest.update(separator + canonical_cluster_text(cluster).encode("utf-8"))
        separator = b","
    digest.update(b"]")
    return digest.hexdigest()


class _Memory:
    """What :func:`canonical_cluster_text` remembers under one decimal context (``normalize``
    rounds to the context's precision): per key the whole ``"key":"text"`` pair of each number
    (equal numbers have the same canonical text, so ``Decimal("5")`` and ``Decimal("5.0")``
    share an entry; only numbers are stored there), at most 100,000 pairs, and the unit text
    functions made per shape of a unit's values (:func:`_unit_text_maker`)."""

    def __init__(self, precision: int) -> None:
        self.pairs: dict[tuple[str, str], dict[Decimal, str]] = {}
        self.shapes: dict[tuple[tuple[Any, ...], tuple[type, ...]], Any] = {}
        self.last: Any = None  # the unit text function used last
        #: pairs stored, over every key (the memory is replaced when it is full)
        self.stored = [0]
        # a function, not a method: the unit text functions hold it, and no cycle is made
        self.pair = _pair_function(self.stored, precision)

    def pairs_of(self, key: str, tail: str = "") -> dict[Decimal, str]:
        """Number → the ``"key":"text"`` pair followed by ``tail`` (``","`` before another pair)."""
        by_key = self.pairs.get((key, tail))
        if by_key is None:
            by_key = {} if len(self.pairs) < 4096 else _FULL
            if by_key is not _FULL:
                self.pairs[(key, tail)] = by_key
        return by_key


def _pair_function(stored: list[int], precision: int) -> Any:
    def pair(by_key: dict[Decimal, str], key_text: str, x: Decimal, tail: str = "") -> str:
        """``"key":"text"`` of number ``x`` (``key_text`` is ``"key":``) then ``tail``, remembered
        in ``by_key`` (that of ``pairs_of(key, tail)``)."""
        text = str(x)
        # A whole number written with its digits alone (what the loader makes of a whole-number
        # cell) is its canonical text when the precision holds every digit; zero is "0".
        if not x:
            text = "0"
        elif not (text.lstrip("-").isdigit() and len(text) <= precision):
            text = f"{x.normalize():f}"
        # a canonical number's text is digits, '-' and '.': nothing to escape
        part = f'{key_text}"{text}"{tail}'
        if stored[0] < 100_000 and by_key is not _FULL:
            stored[0] += 1
            by_key[x] = part
        return part

    return pair


#: A pair memory that is never written to (too many keys remembered already).
_FULL: dict[Decimal, str] = {}

#: Per decimal context: its memory. Bounded; a memory is replaced when full.
_TEXTS: dict[tuple[Any, ...], _Memory] = {}


def _memory() -> _Memory:
    """The memory of the current decimal context."""
    ctx = decimal.getcontext()
    key = (ctx.prec, ctx.rounding, ctx.Emin, ctx.Emax, ctx.clamp)
    memory = _TEXTS.get(key)
    if memory is None or memory.stored[0] >= 100_000:
        if len(_TEXTS) > 8:
            _TEXTS.clear()
        memory = _TEXTS[key] = _Memory(ctx.prec)
    return memory


def _canonical(v: Any) -> Any:
    if isinstance(v, Decimal):
        return f"{v.normalize():f}" if v else "0"
    if isinstance(v, tuple):
        return [_canonical(x) for x in v]
    if isinstance(v, Mapping):
        return {k: _canonical(x) for k, x in sorted(v.items())}
    return v


#: Value types a unit text function writes itself (every value the loader makes is one).
_SHAPE_TYPES = (Decimal, str, bool)


def _unit_text_maker(memory: _Memory, values: Mapping[Any, Any]) -> Any:
    """The unit text function for units whose values have the keys and value types of
    ``values`` (sorted string keys; numbers, strings and booleans), or ``None``.

    ``unit_text(u)`` is the unit's text in :func:`canonical_cluster_text` (``None`` for a unit
    of another shape, or whose id or name is not a string), in straight-line code: one test of
    the keys, one of the value types, then each pair with the comma after it remembered
    (numbers), or encoded (strings), or one of two texts (booleans). Only the number of values
    and their types reach the generated source; the keys' texts and the memories are bound in
    its namespace under generated names (``P0``, ``KT0``…).
    """
    keys = tuple(values)
    types = tuple(map(type, values.values()))
    if not keys or any(type(k) is not str for k in keys) or list(keys) != sorted(keys) \
            or not all(t in _SHAPE_TYPES for t in types):
        return None
    shape = (keys, types)
    made = memory.shapes.get(shape)
    if made is not None:
        return made
    names: dict[str, Any] = {"KEYS": keys, "TYPES": types, "enc": _encode_string, "pair": memory.pair}
    lines = ["    v = u.values",
             "    if tuple(v) != KEYS:",
             "        return None",
             f"    {', '.join(f'x{i}' for i in range(len(keys)))}, = v.values()",
             f"    if ({', '.join(f'type(x{i})' for i in range(len(keys)))},) != TYPES:",
             "        return None",
             "    i, n = u.id, u.name",
             "    if type(i) is not str or type(n) is not str:",
             "        return None"]
    pieces = []  # of the f-string that writes the values
    for i, (key, kind) in enumerate(zip(keys, types, strict=True)):
        key_text = _encode_string(key) + ":"
        tail = "," if i < len(keys) - 1 else ""
        if kind is Decimal:
            names[f"P{i}"], names[f"KT{i}"], names[f"TL{i}"] = memory.pairs_of(key, tail), key_text, tail
            lines.append(f"    p{i} = P{i}.get(x{i}) or pair(P{i}, KT{i}, x{i}, TL{i})")
            pieces.append(f"{{p{i}}}")
        elif kind is str:
            names[f"KT{i}"] = key_text
            pieces.append(f"{{KT{i}}}{{enc(x{i})}}{tail}")
        else:
            names[f"KT{i}"], names[f"KF{i}"] = key_text + "true" + tail, key_text + "false" + tail
            pieces.append(f"{{KT{i} if x{i} else KF{i}}}")
    parts = "".join(pieces)
    lines.append(f"    return f'{{{{\"id\":{{enc(i)}},\"name\":{{enc(n)}},\"values\":{{{{{parts}}}}}}}}}'")
    source = "def unit_text(u):\n" + "\n".join(lines) + "\n"
    made = define(source, "<canonical unit text>", "unit_text", names)
    if made is None:  # too many values to compile: the loop instead
        return None
    if len(memory.shapes) >= 64:
        memory.shapes.clear()
    memory.shapes[shape] = made
    return made


def _cluster_head(c: Cluster) -> str:
    """``json.dumps`` of the cluster's canonical content without ``units`` and ``year``, written
    straight for the usual cluster (no ballots, history, rotation or other sections)."""
    leader, deputy = c.leader, c.deputy
    if (type(c.id) is str and type(c.name) is str and (leader is None or type(leader) is str)
            and (deputy is None or type(deputy) is str) and not c.rotation and not c.ballots
            and not c.history and not c.plugin_data and not c.discipline and not c.deferrals
            and not c.people):
        return (f'{{"ballots":[],"deputy":{"null" if deputy is None else _encode_string(deputy)},'
                f'"history":[],"id":{_encode_string(c.id)},'
                f'"leader":{"null" if leader is None else _encode_string(leader)},'
                f'"name":{_encode_string(c.name)},"rotation":[]}}')
    return _dumps(_canonical_cluster(c, units=False))


def canonical_cluster_text(c: Cluster) -> str:
    """One cluster's canonical content as compact JSON: exactly ``json.dumps`` (sorted keys,
    ``ensure_ascii=False``, no spaces) of the cluster's content, with each number as its
    normalised text (``Decimal("1.50")`` and ``Decimal("15E-1")`` both ``"1.5"``).

    The units, the bulk of it, are written straight to text (compact JSON is compositional: a
    unit's text is ``{"id":…,"name":…,"values":{…}}``, the pairs in key order): a unit whose
    values have the shape of the last unit's goes through that shape's generated function
    (:func:`_unit_text_maker`); any other, value by value (:func:`_values_text`). The rest of
    the cluster goes through ``json.dumps`` unless it is the usual one (:func:`_cluster_head`).
    """
    memory = _memory()
    unit_text = memory.last
    units = []
    in_order: list[Any] = []  # keys of the last unit whose values had to be sorted, in order
    for u in c.units:
        if unit_text is not None:
            try:
                text = unit_text(u)
            except TypeError:  # a number without a hash (a signalling NaN): the loop says so
                text = None
            if text is not None:
                units.append(text)
                continue
        values: Mapping[Any, Any] = u.values  # a value's exact type picks its text below
        made = _unit_text_maker(memory, values) if type(values) is MappingProxyType else None
        if made is not None and made is not unit_text:
            unit_text = memory.last = made
            try:
                text = unit_text(u)
            except TypeError:
                text = None
            if text is not None:
                units.append(text)
                continue
        # Values made by the loader are in key order already (``frozen_mapping``): the same keys
        # in the same order as a sorted unit need no sorting.
        keys = list(values)
        if keys != in_order and all(type(k) is str for k in keys):
            in_order = sorted(keys)
        text = _values_text(memory, values, keys == in_order)
        units.append(f'{{"id":{_json_text(u.id)},"name":{_json_text(u.name)},"values":{text}}}')
    # ``units`` and ``year`` sort after every other key: the rest of the cluster, then them.
    head = _cluster_head(c)
    year = str(c.year) if type(c.year) is int else _dumps(c.year)
    return f'{head[:-1]},"units":[{",".join(units)}],"year":{year}}}'


def _values_text(memory: _Memory, values: Mapping[Any, Any], in_order: bool) -> str:
    """The JSON text of a unit's values: each number's ``"key":"text"`` pair remembered per key
    (equal numbers have the same canonical text, and only numbers are stored there), each key's
    text (``"id":``) made once, strings through the JSON encoder's own string encoder, booleans
    as one of two texts, and only values of other types through ``json.dumps``. ``in_order``:
    the keys are strings in sorted order already. Keys of other types: ``json.dumps``."""
    if in_order:
        items: Iterable[tuple[Any, Any]] = values.items()
    elif all(type(k) is str for k in values):
        items = sorted(values.items())
    else:
        return _dumps(_canonical(values))
    pair = memory.pair
    keys = _KEY_TEXTS
    parts = []
    for k, x in items:
        kind = type(x)
        if kind is Decimal:
            by_key = memory.pairs_of(k)
            part = by_key.get(x)
            parts.append(part if part is not None else pair(by_key, _key_text(keys, k), x))
        elif kind is str:
            parts.append(_key_text(keys, k) + _encode_string(x))
        elif kind is bool:
            parts.append(_key_text(keys, k) + ("true" if x else "false"))
        else:
            parts.append(_key_text(keys, k) + _dumps(_canonical(x)))
    return f'{{{",".join(parts)}}}'


def _key_text(keys: dict[str, str], k: str) -> str:
    """``"k":``, made once per key."""
    key = keys.get(k)
    if key is None:
        if len(keys) > 4096:
            keys.clear()
        key = keys[k] = _encode_string(k) + ":"
    return key


def _json_text(value: Any) -> str:
    """``json.dumps`` of a unit's id or name (a string: its JSON string, made straight)."""
    return _encode_string(value) if type(value) is str else _dumps(value)


_KEY_TEXTS: dict[str, str] = {}

_encode_string = json.encoder.encode_basestring  # what json.dumps(ensure_ascii=False) uses


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def _canonical_cluster(c: Cluster, *, units: bool) -> dict[str, Any]:
    canonical = {
        "id": c.id, "name": c.name, "leader": c.leader, "deputy": c.deputy,
        "rotation": list(c.rotation),
        "ballots": [{"title": b.title, "voters": b.voters, "yes": _canonical(b.yes),
                     # council details only when given, so older data keeps its digest
                     **({"written": _canonical(b.written)} if b.written else {}),
                     **({"present": b.present} if b.present is not None else {}),
                     **({"round": b.round} if b.round != 1 else {}),
                     **({"unit": b.unit} if b.unit is not None else {})} for b in c.ballots],
        "history": [{"unit": h.unit, "year": h.year, "band": h.band, "titles": list(h.titles),
                     "fields": _canonical(h.fields)} for h in c.history],
        # only when present, so the digest of data without plugin sections is unchanged
        **({"plugin_data": _canonical(c.plugin_data)} if c.plugin_data else {}),
        **({"discipline": [[d.unit, d.level, d.start, d.until, d.note] for d in c.discipline]}
           if c.discipline else {}),
        **({"deferrals": [[d.unit, d.reason, list(d.titles)] for d in c.deferrals]} if c.deferrals else {}),
        # only when present, so the digest of data without scoring layers is unchanged
        **({"scores": [[s.layer, s.unit, s.criterion, _canonical(s.score), s.scorer, s.reason, s.third]
                       for s in c.scores]}
           if c.scores else {}),
        # the members decide individual titles and member-counted inputs, so they are data too
        **({"people": [{"id": p.id, "name": p.name, "unit": p.unit, "values": _canonical(p.values),
                        "earlier": {str(y): list(t) for y, t in sorted(p.earlier.items())},
                        "deferred": p.deferred, "discipline_until": p.discipline_until,
                        # a transfer only when given, so older members files keep their digest
                        **({"transfer": [p.transferred_from, p.months_at_previous, p.previous_unit_opinion]}
                           if p.transferred_from is not None else {})}
                       for p in c.people]} if c.people else {}),
    }
    if units:
        canonical["units"] = [{"id": u.id, "name": u.name, "values": _canonical(u.values)} for u in c.units]
        canonical["year"] = c.year
    return canonical
