"""Writing a workbook's cells: text that stays text (never a formula), exact numbers."""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

from .escape import visible

#: Characters an .xlsx file cannot hold (XML 1.0 forbids them): written escaped, as the text
#: outputs show control characters (``\x1b``).
_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")


def put_text(cell: Any, text: str) -> None:
    """``text`` in ``cell`` as a string, even when it starts with ``=`` (openpyxl would make it a
    formula, which the spreadsheet would run)."""
    cell.value = _ILLEGAL.sub(lambda m: visible(m.group()), text)
    cell.data_type = "s"


def put_number(cell: Any, text: str | None) -> None:
    """A canonical decimal text (``"98.50"``) as a number cell showing as many decimals, or an
    empty cell for ``None``. The file holds the decimal's own digits (openpyxl writes a
    Decimal as its text), so nothing is rounded through a binary float."""
    if text is None:
        return
    value = Decimal(text)
    exponent = value.as_tuple().exponent
    places = -exponent if isinstance(exponent, int) else 0
    cell.value = int(value) if places <= 0 else value
    cell.number_format = "0" if places <= 0 else "0." + "0" * places
