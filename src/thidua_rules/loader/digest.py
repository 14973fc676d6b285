"""The data's canonical content and its SHA-256: the same data gives the same digest whatever
the order of its file or the file's format (TOML, JSON, CSV, JSON lines)."""

from __future__ import annotations

import decimal
import json
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from ..model import Cluster
from .common import sha256


def content_digest(clusters: tuple[Cluster, ...]) -> str:
    """SHA-256 of the data's canonical content: the same units, ballots and history give the same
    digest whatever their order in the file or the file's format (TOML, JSON, CSV).

    The digested text is ``[``, the :func:`canonical_cluster_text` of each cluster joined by
    ``,``, then ``]`` (exactly ``json.dumps`` of the list), so a streamed run can digest one
    cluster at a time and get the same hash.
    """
    text = "[" + ",".join(canonical_cluster_text(c) for c in clusters) + "]"
    return sha256(text.encode("utf-8"))


#: Canonical number texts already worked out, per decimal context (``normalize`` rounds to the
#: context's precision): equal numbers have the same canonical text, so ``Decimal("5")`` and
#: ``Decimal("5.0")`` share an entry; beside them, (key, number) → the ``"key":"text"`` pair.
#: Bounded; cleared when full.
_TEXTS: dict[tuple[Any, ...], tuple[dict[Decimal, str], dict[tuple[str, Decimal], str]]] = {}


def _texts() -> tuple[dict[Decimal, str], dict[tuple[str, Decimal], str]]:
    """The number texts and pair texts of the current decimal context."""
    ctx = decimal.getcontext()
    key = (ctx.prec, ctx.rounding, ctx.Emin, ctx.Emax, ctx.clamp)
    memory = _TEXTS.get(key)
    if memory is None or len(memory[0]) > 100_000:
        if len(_TEXTS) > 8:
            _TEXTS.clear()
        memory = _TEXTS[key] = ({}, {})
    return memory


def _canonical(v: Any) -> Any:
    if isinstance(v, Decimal):
        return f"{v.normalize():f}" if v else "0"
    if isinstance(v, tuple):
        return [_canonical(x) for x in v]
    if isinstance(v, Mapping):
        return {k: _canonical(x) for k, x in sorted(v.items())}
    return v


def canonical_cluster_text(c: Cluster) -> str:
    """One cluster's canonical content as compact JSON (sorted keys, exact decimals).

    Exactly :func:`canonical_cluster_json`'s text. The units, the bulk of it, are written
    straight to text: each value's key text (``"id":``) made once, each number's canonical text
    remembered (``_texts``), strings through the JSON encoder's own string encoder, and only the
    rest (the cluster's other keys, values of other types) through ``json.dumps``.
    """
    if not c.units:
        return canonical_cluster_json(c)
    texts, pairs = _texts()
    keys = _KEY_TEXTS
    units = []
    in_order: list[Any] = []  # keys of the last unit whose values had to be sorted, in order
    for u in c.units:
        if type(u.id) is not str or type(u.name) is not str:
            return canonical_cluster_json(c)
        parts = []
        values = u.values
        # Values made by the loader are in key order already (``frozen_mapping``): the same keys
        # in the same order as a sorted unit need no sorting.
        if list(values) == in_order:
            items = values.items()
        else:
            items = sorted(values.items())
            in_order = [k for k, _ in items]
        for k, x in items:
            if type(x) is Decimal:
                # the whole ``"key":"number"`` text, remembered per key and number: equal
                # numbers have the same canonical text (and only numbers are stored here)
                part = pairs.get((k, x))
                if part is not None:
                    parts.append(part)
                    continue
            key = keys.get(k)
            if key is None:
                if type(k) is not str:
                    return canonical_cluster_json(c)  # json.dumps words other keys its own way
                if len(keys) > 4096:
                    keys.clear()
                key = keys[k] = _encode_string(k) + ":"
            kind = type(x)
            if kind is Decimal:
                text = texts.get(x)
                if text is None:
                    text = texts[x] = f"{x.normalize():f}" if x else "0"
                # a canonical number's text is digits, '-' and '.': nothing to escape
                part = f'{key}"{text}"'
                if len(pairs) < 100_000:
                    pairs[(k, x)] = part
                parts.append(part)
            elif kind is str:
                parts.append(key + _encode_string(x))
            elif kind is bool:
                parts.append(key + ("true" if x else "false"))
            else:
                parts.append(key + _dumps(_canonical(x)))
        units.append(f'{{"id":{_encode_string(u.id)},"name":{_encode_string(u.name)},'
                     f'"values":{{{",".join(parts)}}}}}')
    # ``units`` and ``year`` sort after every other key: the rest of the cluster, then them.
    head = _dumps(_canonical_cluster(c, units=False))
    return f'{head[:-1]},"units":[{",".join(units)}],"year":{_dumps(c.year)}}}'


def canonical_cluster_json(c: Cluster) -> str:
    """:func:`canonical_cluster_text` the straightforward way: the whole cluster's canonical
    content through ``json.dumps``."""
    return _dumps(_canonical_cluster(c, units=True))


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
                     **({"round": b.round} if b.round != 1 else {})} for b in c.ballots],
        "history": [{"unit": h.unit, "year": h.year, "band": h.band, "titles": list(h.titles),
                     "fields": _canonical(h.fields)} for h in c.history],
        # only when present, so the digest of data without plugin sections is unchanged
        **({"plugin_data": _canonical(c.plugin_data)} if c.plugin_data else {}),
        **({"discipline": [[d.unit, d.level, d.start, d.until, d.note] for d in c.discipline]}
           if c.discipline else {}),
        **({"deferrals": [[d.unit, d.reason, list(d.titles)] for d in c.deferrals]} if c.deferrals else {}),
        # the members decide individual titles and member-counted inputs, so they are data too
        **({"people": [{"id": p.id, "name": p.name, "unit": p.unit, "values": _canonical(p.values),
                        "earlier": {str(y): list(t) for y, t in sorted(p.earlier.items())},
                        "deferred": p.deferred, "discipline_until": p.discipline_until}
                       for p in c.people]} if c.people else {}),
    }
    if units:
        canonical["units"] = [{"id": u.id, "name": u.name, "values": _canonical(u.values)} for u in c.units]
        canonical["year"] = c.year
    return canonical
