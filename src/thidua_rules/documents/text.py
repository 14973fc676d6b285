"""The documents' two text functions: numbers in Vietnamese format and the decision wording.

Every number a document shows goes through :func:`number`, and every fixed phrase the engine
(not the template) writes goes through :func:`decision`; when ``thidua_rules.messages`` lands,
these two bodies become ``messages.format_number(value, places, "vi")`` and
``messages.render(code, params, "vi")`` and nothing else changes.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

LANG = "vi"


def number(value: Decimal | int, places: int | None = None) -> str:
    """``102,00``, ``1.234``, ``-3,50``: decimal comma, ``.`` between thousands (TCVN usage).

    ``places`` fixes the decimals (rounded half-up, as the engine rounds); None keeps the
    value's own (``Decimal("0.5")`` → ``0,5``, ``14`` → ``14``).
    """
    amount = Decimal(value)
    if places is not None:
        amount = amount.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)
    sign, text = ("-", format(-amount, "f")) if amount < 0 else ("", format(amount, "f"))
    whole, _, fraction = text.partition(".")
    groups: list[str] = []
    while len(whole) > 3:
        groups.insert(0, whole[-3:])
        whole = whole[:-3]
    groups.insert(0, whole)
    return sign + ".".join(groups) + ("," + fraction if fraction else "")


#: The phrases :func:`decision` writes, by code (Vietnamese only, until ``messages`` takes them).
_PHRASES: Mapping[str, str] = {
    "vote.passed": "Đạt",
    "vote.failed": "Không đạt",
    "vote.no_quorum": "Không đủ số thành viên dự họp theo quy định ({present}/{members})",
    "vote.quorum_met": "Đủ số thành viên dự họp theo quy định ({present}/{members}, tối thiểu {quorum})",
    "vote.quorum_none": "Quy chế không quy định tỷ lệ tối thiểu thành viên dự họp",
    "vote.share": "{share} % tổng số thành viên (ngưỡng {threshold} %)",
    "method.proportional": "Theo tỷ lệ hoàn thành",
    "method.bands": "Theo mức",
    "method.lookup": "Theo xếp loại",
    "method.formula": "Theo công thức",
    "method.per_item": "Theo số lượng",
    "method.full_if": "Đạt điều kiện: đủ điểm",
    "method.other": "Phương pháp {method}",
    "criterion.gated": "không đạt điều kiện: 0 điểm",
    "criterion.capped": "tính tối đa bằng điểm chuẩn",
    "group.capped": "tính tối đa {max} điểm",
    "adjustment.capped": "tổng tính tối đa {max} điểm",
    "total.capped": "tính tối đa {max} điểm",
    "status.proposed": "Đề nghị",
    "status.held": "Đạt (đề nghị danh hiệu cao hơn)",
    "status.failed": "Không đạt",
    "status.over_quota": "Vượt số lượng",
    "status.undecided": "Hội đồng quyết định",
    "status.awaiting_vote": "Chờ biểu quyết",
    "status.excluded": "Không xét (đang thi hành kỷ luật)",
    "status.deferred": "Chưa xét",
    "kind.collective": "Tập thể",
    "kind.individual": "Cá nhân",
    "date.line": "{place}, ngày {day} tháng {month} năm {year}",
    "row.bonus": "Điểm thưởng",
    "row.deduction": "Điểm trừ",
    "row.total": "Tổng điểm",
    "row.band": "Xếp loại",
    "value.true": "Có",
    "value.false": "Không",
    "blank": "…………",
    "none": "Không",
}


def decision(code: str, params: Mapping[str, Any] | None = None) -> str:
    """The phrase for ``code`` with ``params`` filled in (numbers already through :func:`number`)."""
    return _PHRASES[code].format(**(params or {}))
