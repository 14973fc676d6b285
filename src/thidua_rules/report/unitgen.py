"""A policy's ``unit`` record writer as one generated Python function.

:func:`.unitline.unit_line_loop` walks the policy's criteria, groups and adjustments in loops and
joins small texts made by helper calls. The generated writer makes the same text for one policy
in straight-line code, generated once per policy: the loops are unrolled, every constant piece
of text (key names, ids, maxima, JSON punctuation) is merged with its neighbours into one
string, the remembered criterion and adjustment texts are looked up directly, and numbers are
formatted through a memory of their texts read inline. Everything it does not write itself (a
criterion or adjustment text not remembered yet, a title outcome, a value of an unusual type)
it leaves to the helpers of :mod:`.unitline`, so the texts are theirs.

The writer does not handle unusual units itself: a unit with plugin-derived inputs or band
caps, or one on which anything in the writer raises (a missing value, a row that does not fit
the policy, a value of a type it does not expect), is written again by the straightforward
writer, which gives the text or raises the error (writing is pure, so trying twice changes
nothing).

Only the policy's shape reaches the generated source: positions and counts. Every text, id and
helper is bound in the writer's namespace under a generated name (``T3``, ``M0``…); the source
holds no string literal at all (``tests/test_unitline_speed.py`` checks it).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from json.encoder import encode_basestring  # C accelerated
from typing import Any

from ..codegen import Source
from ..model import Policy


class _Source(Source):
    """Lines of generated code, the constants they name and the record's text being assembled:
    constant text merges with the text before it, so each run of it is one constant."""

    indent = 2  # the writer's body sits inside a ``try``

    def __init__(self) -> None:
        super().__init__()
        self.pieces: list[str] = []  # the record: names of constants and inline expressions
        self.text = ""  # constant text not yet given a name

    def put(self, text: str) -> None:
        """Constant text of the record."""
        self.text += text

    def put_expr(self, expr: str) -> None:
        """An expression giving text of the record, evaluated when the record is written."""
        self._flush()
        self.pieces.append(expr)

    def record(self) -> str:
        """The expression of the whole record: an f-string of names and expressions only."""
        self._flush()
        return "f" + repr("".join(f"{{{piece}}}" for piece in self.pieces))

    def _flush(self) -> None:
        if self.text:
            self.pieces.append(self.const("T", len(self.pieces), self.text))
            self.text = ""


def _number(local: str) -> str:
    """The inline expression of a number's formatted text: its remembered text, else made."""
    return f"(FT.get({local}) or FM({local}))"


def _bool(local: str) -> str:
    return f"(JT if {local} is True else JF if {local} is False else ENC({local}))"


def _remembered(src: _Source, out: str, memo: Any, slot: dict[str, str], kind: str, i: int,
                make: str, piece: Any, row: str) -> None:
    """``out = make(piece, row, env, F)``, looked up first in the texts remembered by ``memo``
    (keyed as ``unitline._memo_key`` keys them: the values read, then ``year``)."""
    piece_name = src.const(f"{kind}P", i, piece)
    call = f"{make}({piece_name}, {row}, env, F)"
    if memo is None:
        src.add(f"{out} = {call}")
        return
    names, _getter, texts = memo
    texts_name = src.const(f"{kind}M", i, texts)
    key = "(" + "".join(f"{slot[n]}, " for n in (*names, "year")) + ")"
    src.add(f"key = {key}")
    src.add(f"{out} = {texts_name}.get(key)")
    src.add(f"if {out} is None:")
    src.add(f"{out} = {call}", 3)
    src.add(f"KEEP({texts_name}, key, {out})", 3)


def _read_values(src: _Source, plan: Any) -> dict[str, str]:
    """Each name a remembered text depends on, read once: its value and its key (a zero with
    its sign). A missing one raises KeyError, and the unit goes to the straightforward writer."""
    names: dict[str, None] = {}
    for memo in (*plan.criterion_memo, *plan.bonus_memo, *plan.deduction_memo):
        if memo is not None:
            names.update(dict.fromkeys(memo[0]))
    slot = {}
    for n, name in enumerate((*names, "year")):
        if name in slot:
            continue
        slot[name] = f"k{n}"
        src.add(f"v{n} = env[{src.const('N', n, name)}]")
        src.add(f"k{n} = v{n} if v{n} else ZK(v{n})")
    return slot


def _rows(src: _Source, out: str, locals_: list[str]) -> None:
    """Unpack a tuple of rows (ValueError when their number is not the policy's)."""
    src.add(f"({''.join(name + ', ' for name in locals_)}) = {out}")


def _criteria(src: _Source, plan: Any, slot: dict[str, str]) -> None:
    rows = [f"cr{i}" for i in range(len(plan.criteria))]
    _rows(src, "score.criterion_rows", rows)
    src.put(',"criteria":[')
    for i, (piece, memo) in enumerate(zip(plan.criteria, plan.criterion_memo, strict=True)):
        _remembered(src, f"c{i}", memo, slot, "C", i, "CT", piece, rows[i])
        src.put("," if i else "")
        src.put_expr(f"c{i}")
    src.put("]")


def _adjustments(src: _Source, kind: str, key: str, pieces: Any, memos: Any, slot: dict[str, str]) -> None:
    """The bonuses (``kind`` B, ``key`` "bonuses") or the deductions (D, "deductions")."""
    rows = [f"{kind.lower()}r{k}" for k in range(len(pieces))]
    _rows(src, "score.bonus_rows" if kind == "B" else "score.deduction_rows", rows)
    src.put(f',"{key}":[')
    for k, (piece, memo) in enumerate(zip(pieces, memos, strict=True)):
        _remembered(src, f"{kind.lower()}{k}", memo, slot, kind, k, "AT", piece, rows[k])
        src.put("," if k else "")
        src.put_expr(f"{kind.lower()}{k}")
    src.put("]")


def _groups(src: _Source, plan: Any) -> None:
    """The groups, ids checked against the policy's (a row that does not fit falls back)."""
    rows = [f"(gi{j}, gs{j}, gv{j}, gc{j})" for j in range(len(plan.groups))]
    _rows(src, "score.group_rows", rows)
    for j, group_id in enumerate(plan.group_ids):
        src.add(f"if gi{j} != {src.const('GID', j, group_id)}:")
        src.add("return LOOP(unit)", 3)
    src.put(',"groups":[')
    for j, (group_id, max_score) in enumerate(zip(plan.group_ids, plan.groups, strict=True)):
        src.put(("," if j else "") + '{"capped":')
        src.put_expr(_bool(f"gc{j}"))
        src.put(',"id":' + encode_basestring(group_id) + max_score)
        src.put_expr(_number(f"gv{j}"))
        src.put('","sum":"')
        src.put_expr(_number(f"gs{j}"))
        src.put('"}')
    src.put("]")


def _separation(src: _Source, side: str) -> None:
    """``sep_{side}``: the text of the unit's separation from its neighbour on ``side``."""
    src.add(f"s = placed.{side}")
    src.add("if s is None:")
    src.add(f"sep_{side} = JNULL", 3)
    src.add("else:")
    for field in ("other", "this"):
        src.add(f"x = s.{field}", 3)
        src.add(f"{field} = JNULL if x is None else f'{{QT}}{{{_number('x')}}}{{QT}}'", 3)
    src.add(f"sep_{side} = f'{{SEP0}}{{ENC(s.key)}}{{SEP1}}{{other}}{{SEP2}}{{this}}{{SEP3}}{{EB(s.unit)}}{{SEP4}}'", 3)


def _head(src: _Source, plan: Any) -> dict[str, str]:
    """The statements before the record's text: values, rows, remembered texts, small parts."""
    src.add("placed = unit.placed")
    src.add("score = placed.score")
    src.add("if score.band_caps or score.derived:")  # plugins' parts: the straightforward writer
    src.add("return LOOP(unit)", 3)
    src.add("env = score.env")
    slot = _read_values(src, plan)
    src.add("band = score.band")
    src.add("band_text = None if score.band_skipped else BANDS.get(band)")
    src.add("if band_text is None:")
    src.add("band_text = BT(PLAN, band, score.band_skipped, ())", 3)
    _separation(src, "above")
    _separation(src, "below")
    src.add("titles = []")
    src.add("for t in unit.titles:")  # a title's text by its (often shared) outcome object
    src.add("hit = BY_OBJECT.get(id(t))", 3)
    src.add("titles.append(hit[1] if hit is not None and hit[0] is t else TITLE(t))", 3)
    src.add("rank = unit.rank")
    src.add("rank = int_repr(rank) if type(rank) is int else ENC(rank)")
    src.add("tied = unit.tied")
    src.add(f"tied = {_bool('tied')}")
    src.add("proposed = unit.proposed")
    src.add("proposed_text = PROPOSED.get(proposed)")
    src.add("if proposed_text is None:")
    src.add("proposed_text = ENC(proposed)", 3)
    src.add("KEEP(PROPOSED, proposed, proposed_text)", 3)
    for name, attribute in (("bonus", "bonus"), ("bonus_sum", "bonus_sum"), ("deduction", "deduction"),
                            ("deduction_sum", "deduction_sum"), ("total_raw", "total_raw"),
                            ("total", "total"), ("score_", "score")):
        src.add(f"{name} = score.{attribute}")
    src.add("unit_total = unit.total")
    src.add("unit_band = unit.band")
    return slot


def _applied(src: _Source, kind: str, max_text: str) -> None:
    """``,"bonus":{"applied":…,"max":…,"sum":…}`` (or the deduction's)."""
    src.put(f',"{kind}":{{"applied":"')
    src.put_expr(_number(kind))
    src.put('"' + max_text)
    src.put_expr(_number(f"{kind}_sum"))
    src.put('"}')


def _record(src: _Source, plan: Any, slot: dict[str, str]) -> None:
    """The record's text in sorted-key order, as ``unit_line_loop`` writes it."""
    src.put('{"band":')
    src.put_expr("(UB.get(unit_band) or ENC(unit_band))")
    src.put(',"cluster":')
    src.put_expr("EB(unit.cluster)")
    src.put(',"explanation":{"band":')
    src.put_expr("band_text")
    _applied(src, "bonus", plan.bonus_max)
    _adjustments(src, "B", "bonuses", plan.bonuses, plan.bonus_memo, slot)
    _criteria(src, plan, slot)
    _applied(src, "deduction", plan.deduction_max)
    _adjustments(src, "D", "deductions", plan.deductions, plan.deduction_memo, slot)
    _groups(src, plan)
    src.put(',"ranking":{"above":')
    src.put_expr("sep_above")
    src.put(',"below":')
    src.put_expr("sep_below")
    src.put(',"rank":')
    src.put_expr("rank")
    src.put(',"tied":')
    src.put_expr("tied")
    src.put('},"score":"')
    src.put_expr(_number("score_"))
    src.put('","titles":[')
    src.put_expr("COMMA.join(titles)")
    src.put('],"total":' + plan.total_max)
    src.put_expr(_number("total_raw"))
    src.put('","total":"')
    src.put_expr(_number("total"))
    src.put('"}},"id":')
    src.put_expr("EB(unit.id)")
    src.put(',"name":')
    src.put_expr("EB(unit.name)")
    src.put(',"proposed":')
    src.put_expr("proposed_text")
    src.put(',"rank":')
    src.put_expr("rank")
    src.put(',"record":"unit","tied":')
    src.put_expr("tied")
    src.put(',"total":"')
    src.put_expr(_number("unit_total"))
    src.put('"}')


def build_writer(policy: Policy, plan: Any, loop: Callable[[Any], str],
                 helpers: Mapping[str, Any]) -> Callable[[Any], str] | None:
    """``write(unit)`` → the unit's record text, exactly ``loop(unit)``'s, for units of
    ``policy``; None when the writer cannot be compiled (the caller then uses ``loop``).

    ``plan`` is the policy's ``unitline._LinePlan``; ``helpers`` the writers and memories of
    :mod:`.unitline` the generated code calls (``unitline._WRITER_HELPERS``).
    """
    src = _Source()
    enc = helpers["enc"]
    band_ids = (*plan.band_min, None)
    src.names.update(
        LOOP=loop, PLAN=plan, F=plan.doc.fmt, FT=plan.doc.fmt_texts, FM=plan.doc.fmt, ENC=enc, EB=encode_basestring,
        CT=helpers["criterion_text"], AT=helpers["adjustment_text"], BT=helpers["band_text"],
        TITLE=plan.title, BY_OBJECT=plan.by_object, KEEP=helpers["keep"],
        ZK=helpers["zero_key"], int_repr=int.__repr__, PROPOSED={},
        BANDS={b: helpers["band_text"](plan, b, (), ()) for b in band_ids}, UB={b: enc(b) for b in band_ids},
        JT="true", JF="false", JNULL="null", QT='"', COMMA=",",
        SEP0='{"key":', SEP1=',"other":', SEP2=',"this":', SEP3=',"unit":', SEP4="}")
    slot = _head(src, plan)
    _record(src, plan, slot)
    body = "\n".join(src.lines)
    source = (f"def write(unit):\n    try:\n{body}\n        return {src.record()}\n"
              "    except Exception:\n        return LOOP(unit)\n")  # the error, or the text, from the loops
    return src.function(source, f"<unit record writer of {policy.id}>", "write")
