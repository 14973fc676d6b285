"""The documents' two text functions: numbers as the language writes them and the phrases the
engine (not the template) writes.

Every number a document shows goes through :func:`number` (``messages.format_number``), and
every fixed phrase through :func:`decision`: the message catalogue's ``doc_*`` codes
(``locale/vi.po``, ``en.po``) and, for a title's status, ``title_<status>``, as in every report.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from ..messages import format_number, render, template

#: The documents' language unless told otherwise: the shipped templates are Vietnamese.
LANG = "vi"


def number(value: Decimal | int, places: int | None = None, lang: str = LANG) -> str:
    """``102,00``, ``1.234``, ``-3,50``: decimal comma, ``.`` between thousands (TCVN usage),
    through the message catalogue's :func:`~thidua_rules.messages.format_number`.

    ``places`` fixes the decimals (rounded half-up, as the engine rounds); None keeps the
    value's own (``Decimal("0.5")`` → ``0,5``, ``14`` → ``14``).
    """
    amount = Decimal(value)
    if places is None:
        exponent = amount.as_tuple().exponent
        places = -exponent if isinstance(exponent, int) and exponent < 0 else 0
    return format_number(amount, places, lang)


def decision(code: str, params: Mapping[str, Any] | None = None, lang: str = LANG) -> str:
    """The phrase for ``code`` (``vote.passed`` → the catalogue's ``doc_vote_passed``) with
    ``params`` filled in as given (numbers already through :func:`number`). A title's status
    (``status.<status>``) is the catalogue's ``title_<status>``."""
    if code.startswith("status."):
        return render("title_" + code.removeprefix("status."), {}, lang)
    return template("doc_" + code.replace(".", "_"), lang).format(**(params or {}))
