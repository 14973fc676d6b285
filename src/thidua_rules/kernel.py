"""A policy's scoring as one generated Python function: the scoring kernel.

Scoring a unit means walking the policy's criteria, groups, adjustments and bands: at every
step a test for a gate, a plugin's override, a group maximum, a ``when``, a band cap. The kernel
does that walk once per policy, while generating: every branch that depends only on the policy
is decided then, and what is left is straight-line code where every value is a local variable.
It is the one code that scores units (``scoring.score_units`` calls it for every unit); the
readable statement of the same rules is ``reference.py``, and ``tests/test_conformance.py``
compares the two.

The kernel reports errors itself: each rule it runs (a criterion's gate and scorer, an
adjustment's ``when`` and formula, a band's ``when``) sits in its own ``try`` (free in Python
3.11 and later until something raises), whose handler turns a rule's run-time failure into the
:class:`~thidua_rules.EvaluationError` naming the policy file, the rule and the unit.

Only policy-derived values reach the generated source as text: positions and the shape of the
table. Every id, number, string and function is bound in the kernel's namespace under a
generated name (``P0``, ``SC3``…), never spliced into the source.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import ROUND_HALF_UP, Decimal
from functools import partial
from typing import Any

from .builtin.methods import zero_target
from .codegen import Source
from .errors import EvaluationError, ExpressionRuntimeError
from .expressions.compiler import _outer_calls
from .expressions.parser import parse
from .model import Policy


def _value(src: Source, expr: Any, name: str) -> str:
    """The text that evaluates a compiled expression: ``env[key]`` for a bare name, else a call."""
    if expr.names == {expr.source.strip()}:  # the expression is the name itself
        return f"env[{src.const(name + 'K', '', expr.source.strip())}]"
    return f"{src.const(name, '', expr._fn)}(env, None)"


def _method(src: Source, criterion: Any, i: int, indent: int) -> None:
    """``raw{i}, facts{i}`` of criterion ``i``: a built-in method written out (the same steps as
    its scorer in ``builtin/methods.py``, whose ``inline`` describes it), else its scorer called."""
    inline = getattr(criterion.scorer, "inline", None)
    if inline is None or not criterion.method_plugin.startswith("thidua_rules."):
        src.add(f"raw{i}, facts{i} = {src.const('SC', i, criterion.scorer)}(env)", indent)
        return
    kind, *parts = inline
    add = src.add
    if kind == "proportional":
        value, target, target_const, points = parts
        add(f"v{i} = {_value(src, value, f'V{i}_')}", indent)
        add(f"t{i} = " + (src.const("TC", i, target_const) if target is None else _value(src, target, f"T{i}_")),
            indent)
        add(f"if t{i} == 0:", indent)
        # the scorer's own error (builtin/methods.py), which the rule's handler names
        message = src.const("TZ", i, zero_target(value.source))
        add(f"raise EvaluationError({message})", indent + 1)
        add(f"raw{i} = {src.const('MP', i, points)} * v{i} / t{i}", indent)
        add(f"facts{i} = {{'value': v{i}, 'target': t{i}}}", indent)
    elif kind == "bands":
        value, steps = parts
        add(f"v{i} = {_value(src, value, f'V{i}_')}", indent)
        for index, (bound_kind, bound, band_points) in enumerate(steps):
            b, bp, bk = (src.const(f"BB{i}_", index, bound), src.const(f"BP{i}_", index, band_points),
                         src.const(f"BK{i}_", index, bound_kind))
            op = ">=" if bound_kind == "at_least" else ">"
            add(f"{'if' if index == 0 else 'elif'} v{i} {op} {b}:", indent)
            add(f"raw{i}, facts{i} = {bp}, {{'value': v{i}, 'band': {index}, {bk}: {b}}}", indent + 1)
        add("else:", indent)
        add(f"raw{i}, facts{i} = Z, {{'value': v{i}, 'band': 'none'}}", indent + 1)
    elif kind == "lookup":
        value, table, default = parts
        table_name, default_name = src.const("TBL", i, table), src.const("DEF", i, default)
        add(f"v{i} = {_value(src, value, f'V{i}_')}", indent)
        add(f"listed{i} = v{i} in {table_name}", indent)
        add(f"raw{i} = {table_name}[v{i}] if listed{i} else {default_name}", indent)
        add(f"facts{i} = {{'value': v{i}, 'listed': listed{i}}}", indent)
    elif kind == "formula":
        (formula,) = parts
        add(f"raw{i}, facts{i} = {_value(src, formula, f'F{i}_')}, NOFACTS", indent)  # as its scorer
    elif kind == "per_item":
        value, each = parts
        add(f"v{i} = {_value(src, value, f'V{i}_')}", indent)
        add(f"raw{i} = {src.const('EACH', i, each)} * v{i}", indent)
        add(f"facts{i} = {{'value': v{i}, 'each': EACH{i}}}", indent)
    elif kind == "full_if":
        condition, points = parts
        add(f"held{i} = {_value(src, condition, f'C{i}_')}", indent)
        add(f"raw{i} = {src.const('FP', i, points)} if held{i} else Z", indent)
        add(f"facts{i} = {{'condition': held{i}}}", indent)
    else:  # a method this kernel does not know how to write: its scorer
        add(f"raw{i}, facts{i} = {src.const('SC', i, criterion.scorer)}(env)", indent)


#: The most outcomes a criterion's or an adjustment's memo keeps (it starts afresh when full).
MEMO_MAX = 2048


def _call_free(expr: Any) -> bool:
    """Whether a compiled expression is arithmetic, comparisons and names only: no function call
    (a plugin's function is not known to be pure), so that its value is one of its names' values."""
    return expr is not None and not _outer_calls(parse(expr.source))


def _inline_exprs(scorer: Any) -> list[Any] | None:
    """The expressions a built-in method's scorer evaluates (from its ``inline``), when every one
    is call-free; ``None`` otherwise (a plugin's method, or an expression with a call)."""
    inline = getattr(scorer, "inline", None)
    if inline is None or getattr(scorer, "__module__", "") != "thidua_rules.builtin.methods":
        return None
    kind, *parts = inline
    exprs = {"proportional": parts[:2], "bands": parts[:1], "lookup": parts[:1], "formula": parts[:1],
             "per_item": parts[:1], "full_if": parts[:1]}.get(kind)
    if exprs is None:
        return None
    exprs = [e for e in exprs if e is not None]  # a proportional's target may be a constant
    return exprs if exprs and all(_call_free(e) for e in exprs) else None


def _memo_names(criterion: Any) -> tuple[str, ...] | None:
    """The names a built-in criterion's outcome is a function of (sorted), when it is one of
    them only: every expression of its method call-free, and no plugin's override (a plugin is
    not known to be pure). ``None``: not remembered."""
    if criterion.override is not None or not criterion.method_plugin.startswith("thidua_rules."):
        return None
    exprs = _inline_exprs(criterion.scorer)
    return None if exprs is None else tuple(sorted(frozenset().union(*(e.names for e in exprs))))


def _adjustment_memo_names(item: Any) -> tuple[str, ...] | None:
    """As :func:`_memo_names`, for a bonus or deduction: a formula or a built-in method, and its
    ``when``, all call-free."""
    if item.formula is not None:
        exprs = [item.formula] if _call_free(item.formula) else None
    else:
        exprs = _inline_exprs(getattr(item.raw, "scorer", None))
    if exprs is None or (item.when is not None and not _call_free(item.when)):
        return None
    names = frozenset().union(*(e.names for e in exprs)) | (item.when.names if item.when is not None else frozenset())
    return tuple(sorted(names))


def _memoized(src: Source, names: tuple[str, ...], prefix: str, indent: int, body: Callable[[int], None],
              row: str, *, values: tuple[str, ...] | None = None) -> None:
    """``row`` looked up in a memo by the identity of the values of ``names`` in ``env`` (or of
    the local variables ``values``), and made by ``body`` (then remembered) when not found.

    Units with the same input objects (the loader makes one object per distinct cell text) get
    the same row, the same numbers and the same facts: equal outcomes are held once, however
    many units share them. Keys are identities, not values, because equal numbers may print
    differently (``1.0`` and ``1.00``); an entry holds the objects it is keyed by, so that no
    key names a freed object. A row is immutable and made only of immutable values and
    read-only facts, so sharing it is invisible to every reader."""
    memo = src.const(prefix, "MEMO", {})
    src.names[memo + "_clear"] = src.names[memo].clear
    if values is None:
        objects = tuple(f"{prefix}o{n}" for n in range(len(names)))
        for n, name in enumerate(names):
            src.add(f"{objects[n]} = env[{src.const(prefix, f'K{n}', name)}]", indent)
    else:
        objects = values
    key = f"{prefix}key"
    src.add(f"{key} = ({''.join(f'id({o}), ' for o in objects)})", indent)
    src.add(f"{prefix}hit = {memo}.get({key})", indent)
    src.add(f"if {prefix}hit is None:", indent)
    body(indent + 1)
    src.add(f"if len({memo}) >= MEMO_MAX:", indent + 1)
    src.add(f"{memo}_clear()", indent + 2)
    src.add(f"{memo}[{key}] = (({''.join(o + ', ' for o in objects)}), {row})", indent + 1)
    src.add("else:", indent)
    src.add(f"{row} = {prefix}hit[1]", indent + 1)


#: The run-time failures of a rule that the kernel names (anything else is a bug, and propagates).
RULE_ERRORS = (ExpressionRuntimeError, EvaluationError)

#: Terms per generated sum expression: a longer sum is continued in a further statement, so that
#: no expression nests deeply enough to exhaust the compiler's recursion (a policy of thousands
#: of criteria), and every sum still adds left to right.
_TERMS_PER_LINE = 64


def _sum(src: Source, target: str, start: str, terms: list[str], indent: int) -> None:
    """``target = start + t0 + t1 + …``, added left to right as one expression would."""
    for n in range(0, max(len(terms), 1), _TERMS_PER_LINE):
        first = start if n == 0 else target
        src.add(f"{target} = {' + '.join([first, *terms[n:n + _TERMS_PER_LINE]])}", indent)


def _guarded(src: Source, what: str, indent: int, body: Callable[[int], None]) -> None:
    """``body`` in a ``try`` whose handler raises the rule's error: ``FAIL`` (``fail`` of
    :func:`build_kernel`) names the policy file, the rule ``what`` and the unit; an error that
    names its unit already (a plugin hook's fault) is raised as it is."""
    name = src.const("W", len(src.names), what)
    src.add("try:", indent)
    body(indent + 1)
    src.add("except RULE_ERRORS as exc:", indent)
    src.add(f"error = FAIL(exc, {name}, unit)", indent + 1)
    src.add("if error is None:", indent + 1)
    src.add("raise", indent + 2)
    src.add("raise error from None", indent + 1)


def _group(src: Source, group: Any, j: int, terms: list[str], indent: int) -> None:
    """``grow{j}``: group ``j``'s row, its criteria's scores summed (in policy order, to 0,
    as the reference adds them) and capped at its maximum."""
    gid = src.const("GID", j, group.id)
    _sum(src, f"gsum{j}", "Z", terms, indent)
    if group.max is None:
        src.add(f"grow{j} = ({gid}, gsum{j}, gsum{j}, False)", indent)
    else:
        gmax = src.const("GM", j, group.max)
        src.add(f"g{j} = {gmax} if {gmax} < gsum{j} else gsum{j}", indent)
        src.add(f"grow{j} = ({gid}, gsum{j}, g{j}, g{j} is not gsum{j})", indent)  # (as for criteria)


def _criterion(src: Source, criterion: Any, i: int, cid: str, points: str, indent: int) -> None:
    """``row{i}``: criterion ``i``'s outcome, scored (by its owner plugin's ``score_criterion``
    when it has one and the plugin does not defer, else by its method), clamped to [0, points]
    and rounded."""
    if criterion.override is None:
        _method(src, criterion, i, indent)
        overridden = "None"
    else:
        # The owner plugin's ``score_criterion`` (hookspecs): ``None`` defers to the method.
        src.add(f"found{i} = OVERRIDE(unit, {src.const('CRIT', i, criterion)}, env)", indent)
        src.add(f"if found{i} is None:", indent)
        _method(src, criterion, i, indent + 1)
        src.add(f"ov{i} = None", indent + 1)
        src.add("else:", indent)
        src.add(f"(raw{i}, facts{i}), ov{i} = found{i}, {src.const('OWNER', i, criterion.override)}", indent + 1)
        overridden = f"ov{i}"
    # min(max(raw, 0), points), then half-up to the policy precision
    # (a raw of at most 0 becomes the unsigned 0, so that a formula's -0 scores 0.00)
    src.add(f"c{i} = Z if raw{i} <= Z else raw{i}", indent)
    src.add(f"if c{i} > {points}:", indent)
    src.add(f"c{i} = {points}", indent + 1)
    # capped: the value changed (``is not`` first: the clamp mostly keeps raw itself; a zero
    # raw replaced by Z is the same value, not capped)
    src.add(f"row{i} = ({cid}, raw{i}, quantize(c{i}, Q, HU, CTX), False, c{i} is not raw{i} and c{i} != raw{i}, "
            f"facts{i}, {overridden})", indent)


def _gated_row(criterion_id: str, points: Decimal, quantum: Decimal, context: Any, zero: Decimal,
               no_facts: Any) -> tuple[Any, ...]:
    """The row of a criterion whose gate failed: raw 0, clamped and rounded as any raw value."""
    clamped = points if zero > points else zero
    return (criterion_id, zero, clamped.quantize(quantum, ROUND_HALF_UP, context), True, clamped is not zero,
            no_facts, None)


def _adjustment_sum(src: Source, kind: str, terms: tuple[str, ...], cap: Decimal | None, indent: int) -> None:
    """``sums_{kind}``: the bonuses' (or deductions') scores summed to 0 in policy order, and the
    sum applied, capped at the policy's maximum."""
    _sum(src, f"sum_{kind}", "Z", list(terms), indent)
    if cap is None:
        src.add(f"applied_{kind} = sum_{kind}", indent)
    else:
        name = src.const("CAP_", kind, cap)
        src.add(f"applied_{kind} = {name} if {name} < sum_{kind} else sum_{kind}", indent)
    src.add(f"sums_{kind} = (sum_{kind}, applied_{kind})", indent)


#: An adjustment's kind as its errors name it, by the prefix of its generated names.
_KINDS = {"BON_": "bonus", "DED_": "deduction"}


def _adjustment(src: Source, item: Any, v: str, prefix: str, k: int, indent: int) -> None:
    """``row_{v}``: a bonus's or deduction's outcome, its raw points clamped and rounded."""
    aid, raw_fn = src.const(f"{prefix}ID", k, item.id), src.const(f"{prefix}F", k, item.raw)
    kind = _KINDS[prefix]
    formula = f"{kind} '{item.id}' formula"
    if item.when is None:
        _guarded(src, formula, indent, partial(src.add, f"raw_{v} = {raw_fn}(env, None)"))
        applies = "True"
    else:
        when = src.const(f"{prefix}W", k, item.when._fn)
        _guarded(src, f"{kind} '{item.id}' when", indent, partial(src.add, f"applies_{v} = bool({when}(env, None))"))
        src.add(f"if applies_{v}:", indent)
        _guarded(src, formula, indent + 1, partial(src.add, f"raw_{v} = {raw_fn}(env, None)"))
        src.add("else:", indent)
        src.add(f"raw_{v} = Z", indent + 1)
        applies = f"applies_{v}"
    src.add(f"c_{v} = Z if raw_{v} <= Z else raw_{v}", indent)
    if item.max is not None:
        amax = src.const(f"{prefix}M", k, item.max)
        src.add(f"if c_{v} > {amax}:", indent)
        src.add(f"c_{v} = {amax}", indent + 1)
    # (capped as for criteria)
    src.add(f"row_{v} = ({aid}, {applies}, raw_{v}, quantize(c_{v}, Q, HU, CTX), "
            f"c_{v} is not raw_{v} and c_{v} != raw_{v})", indent)


def _ceiling(bands: tuple[str, ...], caps: tuple[Any, ...]) -> int:
    """The position of the best band the plugins' caps leave (0: every band)."""
    return max((bands.index(c.band) for c in caps), default=0) if caps else 0


def _criteria(src: Source, policy: Policy, layered: bool, quantum: Decimal, context: Any, zero: Decimal,
              no_facts: Any) -> tuple[list[str], list[str], dict[str, list[str]]]:
    """Each criterion's row ``row{i}`` and score ``s{i}`` (after the unit's scoring layers when
    ``layered``): the rows, the zero tests and the scores by group."""
    crit_rows = []
    zero_terms = []
    by_group: dict[str, list[str]] = {}
    for i, c in enumerate(policy.criteria):
        cid, points = src.const("ID", i, c.id), src.const("P", i, c.points)
        indent = 1
        if c.gate is not None:
            gate = src.const("GT", i, c.gate._fn)
            _guarded(src, f"criterion '{c.id}' gate", 1, partial(src.add, f"open{i} = {gate}(env, None)"))
            src.add(f"if open{i}:")
            indent = 2
        memo = _memo_names(c)
        if memo is None:
            body = partial(_criterion, src, c, i, cid, points)
        else:
            body = partial(_memoized, src, memo, f"M{i}_", body=partial(_criterion, src, c, i, cid, points),
                           row=f"row{i}")
        _guarded(src, f"criterion '{c.id}'", indent, body)
        if c.gate is not None:
            # A gated criterion scores 0 (raw 0, rounded), the same row for every unit.
            src.add("else:")
            src.add(f"row{i} = {src.const('GROW', i, _gated_row(c.id, c.points, quantum, context, zero, no_facts))}",
                    2)
        src.add(f"s{i} = row{i}[2]")
        if layered:  # the unit's layers give the final score (docs/layers.md); the row tells it
            src.add(f"if {cid} in LAYERED:")
            src.add(f"s{i} = apply_layers({cid}, s{i})", 2)
            src.add(f"row{i} = (row{i}[0], row{i}[1], s{i}, row{i}[3], row{i}[4], row{i}[5], row{i}[6])", 2)
        crit_rows.append(f"row{i}")
        zero_terms.append(f"(not s{i})")
        by_group.setdefault(c.group, []).append(f"s{i}")
    return crit_rows, zero_terms, by_group


def _groups(src: Source, policy: Policy, by_group: dict[str, list[str]]) -> list[str]:
    """``score``: the ungrouped criteria's scores and each group's capped sum, added in policy
    order to 0; each group's row ``grow{j}``."""
    group_rows = []
    _sum(src, "score", "Z", by_group.get("", []), 1)
    for j, g in enumerate(policy.groups):
        terms = by_group.get(g.id, [])
        if terms:  # remembered by its criteria's scores (shared objects when their rows are)
            _memoized(src, (), f"MG{j}_", 1, partial(_group, src, g, j, terms), f"grow{j}", values=tuple(terms))
        else:
            _group(src, g, j, terms, 1)
        src.add(f"g{j} = grow{j}[2]")
        group_rows.append(f"grow{j}")
        src.add(f"score += g{j}")
    return group_rows


def _adjustments(src: Source, policy: Policy) -> dict[str, list[str]]:
    """Each bonus's and deduction's row, their sums and the capped amounts applied."""
    adjustment_rows: dict[str, list[str]] = {}
    prefixes = {"b": "BON_", "d": "DED_"}
    for kind, items in (("b", policy.bonuses), ("d", policy.deductions)):
        rows = adjustment_rows[kind] = []
        prefix = prefixes[kind]
        for k, a in enumerate(items):
            v = f"{kind}{k}"
            memo = _adjustment_memo_names(a)
            if memo is None:
                _adjustment(src, a, v, prefix, k, 1)
            else:
                _memoized(src, memo, f"M_{v}_", 1, partial(_adjustment, src, a, v, prefix, k), f"row_{v}")
            src.add(f"s_{v} = row_{v}[3]")
            rows.append(f"row_{v}")
    for kind, cap, items in (("b", policy.bonus_max, policy.bonuses), ("d", policy.deduction_max, policy.deductions)):
        scores = tuple(f"s_{kind}{k}" for k in range(len(items)))
        if scores:  # remembered by the items' scores, as a group's sum is
            _memoized(src, (), f"MS{kind}_", 1, partial(_adjustment_sum, src, kind, scores, cap), f"sums_{kind}",
                      values=scores)
        else:
            _adjustment_sum(src, kind, scores, cap, 1)
        src.add(f"sum_{kind}, applied_{kind} = sums_{kind}")
    return adjustment_rows


def _bands(src: Source, policy: Policy, capped: bool) -> None:
    """``band``: the first band whose minimum the total reaches, that no plugin's cap rules out
    (``capped``: the policy has plugins that cap bands) and whose ``when`` holds; ``skipped``:
    the bands passed over for their ``when``."""
    src.add("band = None")
    src.add("skipped = []")
    if capped:
        src.add("caps = CAPS(unit, env)")
        src.add("ceiling = CEILING(caps)")
    for b_index, b in enumerate(policy.bands):
        indent = 1
        if b_index:
            src.add("if band is None:")
            indent = 2
        bmin, bid = src.const("BAND_MIN", b_index, b.min), src.const("BAND_ID", b_index, b.id)
        src.add(f"if not total < {bmin}{f' and ceiling <= {b_index}' if capped else ''}:", indent)
        if b.when is None:
            src.add(f"band = {bid}", indent + 1)
        else:
            bwhen, bsource = src.const("BAND_WHEN", b_index, b.when._fn), src.const("BAND_SRC", b_index, b.when.source)
            _guarded(src, f"band '{b.id}' when", indent + 1, partial(src.add, f"held = {bwhen}(env, None)"))
            src.add("if held:", indent + 1)
            src.add(f"band = {bid}", indent + 2)
            src.add("else:", indent + 1)
            src.add(f"skipped.append(({bid}, {bsource}))", indent + 2)


def build_kernel(policy: Policy, *, keys: tuple[tuple[str, ...], ...], quantum: Decimal, context: Any,
                 make_score: Callable[..., Any], no_facts: Any, small: tuple[Decimal, ...], zero: Decimal,
                 fail: Callable[[BaseException, str, Any], BaseException | None],
                 layered: bool = False) -> Callable[..., Any]:
    """``kernel(unit, env, data)`` → the unit's ``UnitScore`` (``make_score`` builds it); with
    ``layered``, ``kernel(unit, env, data, layers)``, the criteria's scores passed through the
    unit's :class:`~thidua_rules.layers.UnitLayers` ``layers``.

    ``env`` is the unit's environment (inputs and ``year``); the kernel adds the plugins'
    derived inputs (``data``: the cluster's plugin data) and the scores to it, under the names
    ``keys`` (those of the criteria, groups, bonuses and deductions), in that order.
    ``fail(exc, what, unit)`` is the error a rule's failure becomes (``None``: ``exc`` itself).
    """
    src = Source()
    runtime = policy.runtime
    src.names.update(Z=zero, Q=quantum, CTX=context, HU=ROUND_HALF_UP, quantize=Decimal.quantize,
                     EvaluationError=EvaluationError, RULE_ERRORS=RULE_ERRORS, FAIL=fail,
                     NOFACTS=no_facts, SMALL=small, N_SMALL=len(small), Decimal=Decimal,
                     make_score=make_score, MEMO_MAX=MEMO_MAX, id=id, len=len)
    deriving = runtime is not None and bool(runtime.derivers)
    capped = runtime is not None and bool(runtime.cappers)
    if runtime is not None:
        src.names.update(DERIVE=runtime.derive, OVERRIDE=runtime.override, CAPS=runtime.caps,
                         CEILING=partial(_ceiling, runtime.bands))
    if layered:
        src.add("LAYERED = layers.by_criterion")
        src.add("apply_layers = layers.apply")
    # Derived inputs first: every rule may read them (the plugins' contract, hookspecs.derive_inputs).
    src.add("derived = DERIVE(unit, env, data)" if deriving else "derived = ()")
    crit_rows, zero_terms, by_group = _criteria(src, policy, layered, quantum, context, zero, no_facts)
    group_rows = _groups(src, policy, by_group)
    adjustment_rows = _adjustments(src, policy)
    src.add("total_raw = score + applied_b - applied_d")
    if policy.total_max is None:
        src.add("total = total_raw")
    else:
        tmax = src.const("TMAX", "", policy.total_max)
        src.add(f"total = {tmax} if {tmax} < total_raw else total_raw")
    # The scores enter env in policy order: criteria, groups, bonuses, deductions, then the totals.
    values = ([f"s{i}" for i in range(len(policy.criteria))], [f"g{j}" for j in range(len(policy.groups))],
              [f"s_b{k}" for k in range(len(policy.bonuses))], [f"s_d{k}" for k in range(len(policy.deductions))])
    for prefix, names, locals_ in zip(("CK", "GK", "BON_K", "DED_K"), keys, values, strict=True):
        for n, (name, local) in enumerate(zip(names, locals_, strict=True)):
            src.add(f"env[{src.const(prefix, n, name)}] = {local}")
    _sum(src, "zero", "0", zero_terms, 1)
    src.add("env['score'] = score")
    src.add("env['bonus'] = applied_b")
    src.add("env['deduction'] = applied_d")
    src.add("env['total'] = total")
    src.add("env['zero_criteria'] = SMALL[zero] if zero < N_SMALL else Decimal(zero)")
    _bands(src, policy, capped)
    src.add("env['band'] = band or ''")
    src.add(f"return make_score(unit, ({''.join(r + ', ' for r in crit_rows)}), "
            f"({''.join(r + ', ' for r in group_rows)}), ({''.join(r + ', ' for r in adjustment_rows['b'])}), "
            f"({''.join(r + ', ' for r in adjustment_rows['d'])}), score, sum_b, applied_b, sum_d, applied_d, "
            f"total_raw, total, band, tuple(skipped), env, derived, {'caps' if capped else '()'})")
    source = f"def kernel(unit, env, data{', layers' if layered else ''}):\n" + "\n".join(src.lines) + "\n"
    made = src.function(source, f"<scoring kernel of {policy.id}>", "kernel")
    if made is None:  # only when Python itself cannot compile it (out of memory)
        raise EvaluationError("the policy's scoring cannot be compiled: it is too large", where=policy.file)
    return made
