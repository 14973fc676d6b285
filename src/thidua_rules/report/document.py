"""The canonical result document: plain data, decimals as strings, lists in decision order."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from decimal import ROUND_HALF_UP, Decimal
from operator import itemgetter
from types import MappingProxyType
from typing import Any

from ..decimals import ENGINE_CONTEXT, figure, fmt, plain, quantum
from ..engine import ClusterResult, Result, UnitResult
from ..environment import FrozenEnvironment
from ..layers import layers_document
from ..legal import basis_document
from ..messages import reason_code
from ..model import Policy
from ..people import people_document
from ..plans import plan_for
from .shared import Shared

FORMAT_VERSION = "thidua-result/1"


def _plain_cached(v: Decimal) -> str:
    """``plain(v)``, remembered per nonzero number: equal nonzero numbers have the same plain
    text (only trailing zeros of the fraction differ, and ``plain`` strips them); zero is never
    remembered, because ``-0`` and ``0`` are equal but print differently."""
    text = _PLAIN_TEXTS.get(v) if v else None
    if text is None:
        text = plain(v)
        if v:
            if len(_PLAIN_TEXTS) >= _TEXTS_MAX:
                _PLAIN_TEXTS.clear()
            _PLAIN_TEXTS[v] = text
    return text


_PLAIN_TEXTS: dict[Decimal, str] = {}
_TEXTS_MAX = 1 << 16


def value(v: Any) -> Any:
    """A fact as the document holds it: Decimal → exact string, tuples → lists, rest as is."""
    kind = type(v)
    if kind is Decimal:  # the common exact types first, by identity: same result, less work
        text = _PLAIN_TEXTS.get(v) if v else None  # _plain_cached's memory, read without a call
        return text if text is not None else _plain_cached(v)
    if kind is str or kind is bool or kind is int or v is None:
        return v
    if kind is dict or kind is MappingProxyType:  # before the abstract Mapping check below
        return {str(k): value(x) for k, x in v.items()}
    if isinstance(v, bool) or v is None or isinstance(v, int | str):
        return v
    if isinstance(v, Decimal):
        return plain(v)
    if isinstance(v, list | tuple | frozenset | set):
        items = sorted(v) if isinstance(v, frozenset | set) else v
        return [value(x) for x in items]
    if isinstance(v, Mapping):
        return {str(k): value(x) for k, x in v.items()}
    return str(v)


def coded(reason: str) -> dict[str, Any]:
    """The ``code`` and ``params`` keys that stand beside a ``reason`` (``messages.reason_code``):
    the reason as a message code with its parameters, plain data as the document holds it."""
    code, params = reason_code(reason)
    return {"code": code, "params": value(params)}


def build_document(result: Result) -> dict[str, Any]:
    policy = result.policy
    return {
        "format": FORMAT_VERSION,
        "provenance": {
            "engine": "thidua_rules",
            "engine_version": result.engine_version,
            "policy": {"id": policy.id, "name": policy.name, "year": policy.year,
                       "sha256": policy.sha256},
            "data": {"sha256": result.data_sha256},
            # Added within thidua-result/1: the law each rule applies (thidua_rules.legal).
            "legal_basis": basis_document(policy),
            "plugins": [
                {"name": p.name, "distribution": p.distribution, "version": p.version,
                 "hooks": list(p.hooks)}
                for p in result.plugins
            ],
        },
        "clusters": [_cluster(policy, c) for c in result.clusters],
        "units": [_unit(policy, u, c.member_counts.get(u.id)) for c in result.clusters for u in c.units],
        "leadership": [
            {"cluster": c.id, **_leadership(c)} for c in result.clusters if c.leadership is not None
        ],
        # Only with a members file, so that documents without people keep their shape.
        **({"people": [p for c in result.clusters for p in people_document(c.people, value)]}
           if any(c.people for c in result.clusters) else {}),
    }


def _leadership(cluster: ClusterResult) -> dict[str, Any]:
    lead = cluster.leadership
    assert lead is not None
    return {"year": lead.year, "leader": lead.leader, "deputy": lead.deputy, "method": lead.method,
            "reason": lead.reason, **coded(lead.reason), "previous_leader": lead.previous_leader}


def _cluster(policy: Policy, cluster: ClusterResult) -> dict[str, Any]:
    return {
        "id": cluster.id,
        "name": cluster.name,
        "year": cluster.year,
        "size": len(cluster.units),
        "ranking": [u.id for u in cluster.units],
        "leadership": _leadership(cluster) if cluster.leadership else None,
        "council": [{"title": item.title, "units": list(item.units), "reason": item.reason,
                     **coded(item.reason), "kind": item.kind} for item in cluster.council],
    }


class _Plan:
    """What the document of every unit under one policy shares, formatted once per policy."""

    def __init__(self, policy: Policy) -> None:
        p = policy.precision
        self.policy = policy
        q = quantum(p)
        # Half-up to the policy precision in a private copy of the engine context: the same
        # digits as decimals.fmt, without entering a local context for every number.
        context = ENGINE_CONTEXT.copy()
        quantize = Decimal.quantize

        texts: dict[Decimal, str] = {}
        zero, negative_zero = (f"{quantize(Decimal(z), q, ROUND_HALF_UP, context):f}" for z in ("0", "-0"))

        def fmt_fast(v: Decimal) -> str:
            # Remembered per nonzero number (per policy precision): equal nonzero numbers round
            # to the same digits and sign. A zero is not (equal zeros print with their sign:
            # -0 rounds to "-0.00"), and prints as one of two texts, whatever its exponent.
            if not v:
                return negative_zero if v.is_signed() else zero
            text = texts.get(v)
            if text is None:
                text = f"{quantize(v, q, ROUND_HALF_UP, context):f}"
                if len(texts) >= _TEXTS_MAX:
                    texts.clear()
                texts[v] = text
            return text

        self.fmt = fmt_fast
        #: ``fmt``'s memory of nonzero numbers: ``texts(v) or fmt(v)`` is ``fmt(v)``, a call less
        self.texts = texts.get
        self.criteria = tuple(
            (spec.group or None, spec.method, fmt_fast(spec.points), spec.reads,
             None if spec.method_plugin.startswith("thidua_rules.") else spec.method_plugin)
            for spec in policy.criteria)
        self.groups = tuple(fmt_fast(spec.max) if spec.max is not None else None for spec in policy.groups)
        self.bonuses = tuple((fmt_fast(s.max) if s.max is not None else None, tuple(sorted(s.reads)))
                             for s in policy.bonuses)
        self.deductions = tuple((fmt_fast(s.max) if s.max is not None else None, tuple(sorted(s.reads)))
                                for s in policy.deductions)
        self.band_min = {b.id: fmt_fast(b.min) for b in reversed(policy.bands)}
        self.bonus_max = _opt(policy.bonus_max, p)
        self.deduction_max = _opt(policy.deduction_max, p)
        self.total_max = _opt(policy.total_max, p)
        # What many units share, made once: each band's entry when no band was skipped or capped,
        # and the memories of the entries that are functions of a few values (see _scored,
        # _titles), each keyed by those values.
        self.bands = {b: Shared(id=b, min=self.band_min.get(b) if b is not None else None, skipped=[])
                      for b in (*self.band_min, None)}
        self.criterion_memos = tuple(
            _memo(spec.reads)
            if spec.method_plugin.startswith("thidua_rules.") and spec.override is None else None
            for spec in policy.criteria)
        self.bonus_memos = tuple(_adjustment_memo(a) for a in policy.bonuses)
        self.deduction_memos = tuple(_adjustment_memo(a) for a in policy.deductions)
        self.adjustments = self.bonuses + self.deductions
        #: units written so far, up to the probe of the memories (_forget_varied)
        self.units = 0
        self.sizes = (len(policy.criteria), len(policy.bonuses), len(policy.deductions))
        self.unremembered = (_UNREAD,) * len(policy.criteria)
        #: per names table of frozen environments, how the memories' keys are read (_readers)
        self.readers: dict[int, tuple[Any, Any, Any]] = {}
        self.readers_by_names: dict[tuple[str, ...], tuple[Any, Any]] = {}
        #: title and check entries by the outcome object (awards give one shared outcome to every
        #: unit in the same state), and check entries by what they are made of (_check_key)
        self.by_object: dict[int, tuple[Any, Any]] = {}
        self.title_lists: dict[int, tuple[Any, Any]] = {}
        self.check_entries: dict[tuple[Any, ...], dict[str, Any]] = {}


def _plan(policy: Policy) -> _Plan:
    return plan_for("document", policy, _Plan)


def _unit(policy: Policy, unit: UnitResult, member_counts: Any = None) -> dict[str, Any]:
    """The unit's entry of the document: its place, total, band and proposals, with the
    explanation of each. Parts equal to another unit's are made once, and are the same objects
    in both entries (see :class:`_Plan`): the document is read, never changed in place."""
    plan = _plan(policy)
    if plan.units < _PROBE:
        plan.units += 1
        if plan.units == _PROBE:
            _forget_varied(plan)
    f, t = plan.fmt, plan.texts  # a number's text: t(v) or f(v), see _Plan
    score = unit.score
    keys, readers = _keys(plan, score.env)
    scored = _scored(plan, score, keys, readers)
    nc, nb = plan.sizes[:2]
    explanation = {
        "criteria": scored[:nc],
        "groups": [{"id": g_id, "sum": (t(g_sum) or f(g_sum)), "max": group_max, "score": (t(g_score) or f(g_score)), "capped": capped}
                   for group_max, (g_id, g_sum, g_score, capped) in zip(plan.groups, score.group_rows, strict=True)],
        "score": (t(score.score) or f(score.score)),
        "bonuses": scored[nc:nc + nb],
        "bonus": {"sum": (t(score.bonus_sum) or f(score.bonus_sum)), "max": plan.bonus_max, "applied": (t(score.bonus) or f(score.bonus))},
        "deductions": scored[nc + nb:],
        "deduction": {"sum": (t(score.deduction_sum) or f(score.deduction_sum)), "max": plan.deduction_max, "applied": (t(score.deduction) or f(score.deduction))},
        "total": {"raw": (t(score.total_raw) or f(score.total_raw)), "max": plan.total_max, "total": (t(score.total) or f(score.total))},
        "band": _band(plan, score),
        "ranking": {"rank": unit.rank, "tied": unit.tied,
                    "above": _separation(unit.placed.above, t, f),
                    "below": _separation(unit.placed.below, t, f)},
        "titles": _titles(plan, unit.titles),
    }
    if score.derived:  # first, and only with plugin-derived inputs
        explanation = {"derived": [{"input": d.input, "plugin": d.plugin, "value": value(d.value)}
                                   for d in score.derived], **explanation}
    if member_counts:  # the members behind each member-derived input (only with a members file)
        explanation["members"] = {m.input: {"kind": m.kind, "value": plain(m.value), "members": list(m.members)}
                                  for m in member_counts}
    return {
        "id": unit.id,
        "name": unit.name,
        "cluster": unit.cluster,
        "rank": unit.rank,
        "tied": unit.tied,
        "total": (t(unit.total) or f(unit.total)),
        "band": unit.band,
        "proposed": list(unit.proposed),
        "explanation": explanation,
    }


def _scored(plan: _Plan, score: Any, keys: tuple[Any, ...], readers: Any) -> list[dict[str, Any]]:
    """The criterion, bonus and deduction entries, in one list (in that order).

    A built-in method's outcome, and so a criterion's whole entry, is a function of the values
    the criterion reads (its inputs and ``year``, all that criteria can see): the entry made for
    one unit is the entry of every unit with the same values. A formula adjustment's likewise,
    by the values its formula and condition read. Plugin methods, overridden criteria and, in a
    unit with scoring layers, every criterion may depend on more: those entries are made every
    time."""
    sizes = (len(score.criterion_rows), len(score.bonus_rows), len(score.deduction_rows))
    if sizes != plan.sizes:  # never: scoring makes one row per item of the policy
        raise ValueError(f"rows {sizes} for the policy's items {plan.sizes}")
    rows = score.criterion_rows + score.bonus_rows + score.deduction_rows
    layers = getattr(score, "layers", ())
    layered = {item.criterion: item for item in layers} if layers else {}
    if layered:
        readers = plan.unremembered + readers[len(plan.unremembered):]
    out = [get(key(keys)) for get, key, _memo in readers]
    if dict in map(type, out):  # met for the second time: shared from now on
        for k, entry in enumerate(out):
            if type(entry) is dict:
                _get, key, memo = readers[k]
                out[k] = memo[key(keys)] = Shared(entry)
    if None in out:  # made for the first time, or never remembered
        for k, entry in enumerate(out):
            if entry is None:
                _get, key, memo = readers[k]
                out[k] = entry = _made(plan, k, rows[k], score.env, layered)
                if memo is not None:
                    _keep(memo, key(keys), entry)
    return out


def _made(plan: _Plan, k: int, row: Any, env: Any, layered: Any) -> dict[str, Any]:
    """The entry of the ``k``-th item (criteria, then bonuses, then deductions)."""
    if k < len(plan.criteria):
        return _criterion(plan.criteria[k], row, env, plan.fmt, layered)
    item_max, names = plan.adjustments[k - len(plan.criteria)]
    a_id, applies, raw, a_score, capped = row
    # plain, not _plain_cached: a raw value is printed once per entry made (the entries of
    # equal values are remembered), and often never again (a ratio), so remembering its text
    # would only crowd out the inputs' texts, which recur.
    return {"id": a_id, "applies": applies, "raw": plain(raw), "score": plan.fmt(a_score),
            "max": item_max, "capped": capped, "inputs": {n: value(env[n]) for n in names if n in env}}


def _criterion(piece: Any, row: Any, env: Any, f: Any, layered: Any) -> dict[str, Any]:
    group, method, points, reads, plugin = piece
    c_id, raw, c_score, gated, capped, facts, override = row
    entry = {
        "id": c_id, "group": group, "method": method, "points": points,
        "inputs": {name: value(env[name]) for name in reads},
        "facts": value(facts), "raw": plain(raw), "score": f(c_score),  # plain: see _made
        "gated": gated, "capped": capped,
    }
    if plugin is not None:
        entry["plugin"] = plugin
    if override is not None:
        entry["override"] = override  # the plugin whose score_criterion gave the points
    if c_id in layered:  # only with [[scores]], so that other documents keep their shape
        entry["layers"] = layers_document(layered[c_id], f)
    return entry


def _band(plan: _Plan, score: Any) -> dict[str, Any]:
    """The explanation's ``band``: its id and minimum, the bands skipped, plugins' caps."""
    if not score.band_skipped and not score.band_caps:
        entry = plan.bands.get(score.band)
        if entry is not None:
            return entry
    band = {
        "id": score.band,
        "min": plan.band_min.get(score.band) if score.band is not None else None,
        "skipped": [{"band": b, "failed": src} for b, src in score.band_skipped],
    }
    if score.band_caps:
        band["caps"] = [{"plugin": c.plugin, "ceiling": c.band, "reason": c.reason, **coded(c.reason)}
                        for c in score.band_caps]
    return band


def _titles(plan: _Plan, outcomes: tuple[Any, ...]) -> list[dict[str, Any]]:
    """The title entries, remembered by the tuple of outcomes (units with the same outcomes
    share one tuple of them)."""
    hit = plan.title_lists.get(id(outcomes))
    if hit is not None and hit[0] is outcomes and dict not in map(type, hit[1]):
        return hit[1]
    by_object = plan.by_object  # a shared outcome's entry looked up here, the rest by _title
    entries = [hit[1] if (hit := by_object.get(id(o))) is not None and hit[0] is o and type(hit[1]) is Shared
               else _title(plan, o) for o in outcomes]
    _keep(plan.title_lists, id(outcomes), (outcomes, entries), limit=4096)
    return entries


def _title(plan: _Plan, outcome: Any) -> dict[str, Any]:
    """A title outcome's entry, remembered by the outcome object."""
    hit = plan.by_object.get(id(outcome))
    if hit is not None and hit[0] is outcome:
        return _shared(plan, outcome, hit[1])
    entry: dict[str, Any] = {"id": outcome.title, "status": outcome.status,
                             "checks": [_check(plan, c) for c in outcome.checks]}
    if outcome.quota_limit is not None:
        entry["quota"] = {"limit": outcome.quota_limit, "raw": figure(outcome.quota_raw or Decimal(0)),
                          "place": outcome.place}
        if outcome.runoff_yes is not None:
            entry["quota"]["runoff_yes"] = outcome.runoff_yes
    _remember(plan, outcome, entry)
    return entry


def _check(plan: _Plan, c: Any) -> dict[str, Any]:
    """A check's entry, remembered by the outcome object and by what it is made of: most checks
    are made per unit, but many units' checks read alike (a ``requires`` met, a condition on a
    count failed at the same value)."""
    hit = plan.by_object.get(id(c))
    if hit is not None and hit[0] is c:
        return _shared(plan, c, hit[1])
    key = _check_key(c)
    entry = None if key is None else plan.check_entries.get(key)
    if type(entry) is dict and key is not None:  # met for the second time: shared from now on
        entry = plan.check_entries[key] = Shared(entry)
    elif entry is None:
        entry = {"check": c.check, "passed": c.passed, "reason": c.reason, **coded(c.reason), "seen": value(c.seen)}
        if not c.plugin.startswith("thidua_rules."):
            entry["plugin"] = c.plugin
        if key is not None:
            _keep(plan.check_entries, key, entry)
    _remember(plan, c, entry)
    return entry


def _check_key(c: Any) -> tuple[Any, ...] | None:
    """What a check's entry is made of, as a key, when it holds only texts, booleans, numbers
    and lists of texts (None otherwise): equal keys give equal entries. Each number keeps its
    sign (``-0``) and each value is tagged with its kind, since ``Decimal(1) == True``."""
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


_DICTS = (dict, MappingProxyType)


def _shared(plan: _Plan, outcome: Any, entry: dict[str, Any]) -> dict[str, Any]:
    """The entry remembered for ``outcome``, which is met again: a :class:`.shared.Shared`
    from now on (made at the second meeting, so that an entry of one unit only stays a dict)."""
    if type(entry) is dict:
        entry = Shared(entry)
        _remember(plan, outcome, entry)
    return entry


def _remember(plan: _Plan, outcome: Any, entry: Any) -> None:
    """Remember an outcome's entry by the outcome object. Outcomes are frozen, so an object's
    entry never changes; the memory holds the object, so its id cannot be reused by another
    object while the entry lives."""
    _keep(plan.by_object, id(outcome), (outcome, entry), limit=4096)


#: A memory of entries: the names of the values they depend on (``year`` last), and the entries
#: by those values.
Memo = tuple[tuple[str, ...], dict[Any, dict[str, Any]]]

#: Remembered entries per criterion, adjustment or kind, at most this many (then forgotten all at once).
_MEMO_MAX = 1 << 14


def _memo(names: Iterable[str]) -> Memo:
    """The memory of entries that depend on the values of ``names`` and ``year``."""
    return (*names, "year"), {}


def _keys(plan: _Plan, env: Any) -> tuple[tuple[Any, ...], Any]:
    """The values this unit's entries are remembered by, as one tuple, and the readers of the
    criteria, bonuses and deductions (see :func:`_scored`). Equal values print alike, except a
    zero, whose sign shows (``-0``): a negative zero is tagged."""
    if type(env) is FrozenEnvironment:
        index, values = env._index, env._values
        hit = plan.readers.get(id(index))
        if hit is None or hit[0] is not index:  # a new table (each evaluation makes its own)
            found = plan.readers_by_names.get(env._names)
            if found is None:
                found = _readers(plan, index)
                _keep(plan.readers_by_names, env._names, found, limit=64)
            hit = (index, *found)
            _keep(plan.readers, id(index), hit, limit=64)  # the entry holds the table: its id stays its own
    else:  # a plain mapping (made by hand): its names table made for this unit
        names = tuple(env)
        index, values = {name: at for at, name in enumerate(names)}, tuple(env[name] for name in names)
        hit = (index, *_readers(plan, index))
    keys = hit[1](values)
    if not all(keys):
        keys = tuple([v if v or type(v) is not Decimal or not v.is_signed() else (v, "-0") for v in keys])
    return keys, hit[2]


def _readers(plan: _Plan, index: Mapping[str, int]) -> tuple[Any, Any]:
    """For environments with the names table ``index`` (name → position of its value): the
    getter of every value a memory's key holds, and the readers of each memory's entries (see
    :func:`_scored`). A memory with a name missing from the table (a gated criterion's unread
    input) is not read: its entries are made, not remembered."""
    kinds = (plan.criterion_memos, plan.bonus_memos, plan.deduction_memos)
    read = sorted({index[name] for memos in kinds for memo in memos if memo is not None and _present(memo, index)
                   for name in memo[0]})
    at = {position: k for k, position in enumerate(read)}
    readers = tuple((memo[1].get, _getter([at[index[name]] for name in memo[0]]), memo[1])
                    if memo is not None and _present(memo, index) else _UNREAD for memos in kinds for memo in memos)
    return _getter(read), readers


#: After this many units, the memories of criteria and adjustments that were rarely met again are
#: dropped (see _forget_varied).
_PROBE = 4096


def _forget_varied(plan: _Plan) -> None:
    """Stop remembering the entries of an item whose values are nearly always new (a ratio of
    two counts, say: the members-ratio criterion): after :data:`_PROBE` units its memory holds
    more than half as many entries as units, so most lookups missed, and keeping the entries
    (holding them, then forgetting them all at once) costs more than the few hits save. Such an
    entry is then made every time, by the same code: the output is the same either way."""
    def varied(memo: Memo | None) -> bool:
        return memo is not None and len(memo[1]) > _PROBE // 2

    if not any(varied(memo) for memo in (*plan.criterion_memos, *plan.bonus_memos, *plan.deduction_memos)):
        return
    plan.criterion_memos = tuple(None if varied(m) else m for m in plan.criterion_memos)
    plan.bonus_memos = tuple(None if varied(m) else m for m in plan.bonus_memos)
    plan.deduction_memos = tuple(None if varied(m) else m for m in plan.deduction_memos)
    plan.readers.clear()  # made again from the memories kept
    plan.readers_by_names.clear()


def _present(memo: Memo, index: Mapping[str, int]) -> bool:
    return all(name in index for name in memo[0])


def _getter(positions: list[int]) -> Any:
    """``values`` → the values at ``positions``, always as a tuple."""
    if len(positions) == 1:
        return lambda values, at=positions[0]: (values[at],)
    return itemgetter(*positions) if positions else lambda values: ()


#: The reader of a row whose entry is not remembered.
_UNREAD: tuple[Any, Any, None] = ({}.get, lambda keys: None, None)


def _adjustment_memo(item: Any) -> Memo | None:
    """The memory of a formula adjustment's entries; None for a method's."""
    if item.method != "formula" or item.formula is None:
        return None
    names = set(item.formula.names) | (set(item.when.names) if item.when is not None else set())
    return _memo(sorted(names - {"year"}))


def _keep(memo: dict[Any, Any], key: Any, entry: Any, limit: int = _MEMO_MAX) -> None:
    """Remember ``entry`` under ``key``; a memory at ``limit`` entries is forgotten all at once."""
    if len(memo) >= limit:
        memo.clear()
    memo[key] = entry


def _opt(v: Decimal | None, places: int) -> str | None:
    return None if v is None else fmt(v, places)


def _separation(sep: Any, t: Any, f: Any) -> dict[str, Any] | None:
    if sep is None:
        return None
    this, other = sep.this, sep.other
    return {"unit": sep.unit, "key": sep.key,
            "this": None if this is None else t(this) or f(this),
            "other": None if other is None else t(other) or f(other)}
