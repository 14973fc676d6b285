"""The documents' two text functions: numbers in Vietnamese format and the decision wording.

Every number a document shows goes through :func:`number`, and every fixed phrase the engine
(not the template) writes goes through :func:`decision`;
numbers are written by ``messages.format_number`` and titles' statuses by the catalogue.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from ..messages import format_number, render

LANG = "vi"


def number(value: Decimal | int, places: int | None = None) -> str:
    """``102,00``, ``1.234``, ``-3,50``: decimal comma, ``.`` between thousands (TCVN usage),
    through the message catalogue's :func:`~thidua_rules.messages.format_number`.

    ``places`` fixes the decimals (rounded half-up, as the engine rounds); None keeps the
    value's own (``Decimal("0.5")`` → ``0,5``, ``14`` → ``14``).
    """
    amount = Decimal(value)
    if places is None:
        exponent = amount.as_tuple().exponent
        places = -exponent if isinstance(exponent, int) and exponent < 0 else 0
    return format_number(amount, places, LANG)


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
    "layer.step": "{layer}: {score} điểm",
    "layer.council": "{layer}: chênh lệch {spread} điểm, chưa thống nhất, chờ Hội đồng quyết định",
    "group.capped": "tính tối đa {max} điểm",
    "adjustment.capped": "tổng tính tối đa {max} điểm",
    "total.capped": "tính tối đa {max} điểm",
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
    """The phrase for ``code`` with ``params`` filled in (numbers already through :func:`number`).
    A title's status is the message catalogue's (``title_<status>``), as in every report; the
    other phrases are the documents' own layout words."""
    if code.startswith("status."):
        return render("title_" + code.removeprefix("status."), {}, LANG)
    return _PHRASES[code].format(**(params or {}))
