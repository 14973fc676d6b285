"""The legal basis (căn cứ) of a proposal, read from the titles' law, ``source`` and the catalogue.

A title whose rule comes from a version of the law (``[[titles.versions]]``, chosen by the
evaluation date: :mod:`thidua_rules.legal`) cites that version's articles and instruments, so a
2022 review cites the 2003 law its rules follow. Another title's basis is its own ``source``; a
title that gives none takes the ``source`` of the catalogue title with the same id
(``src/thidua_rules/catalogue``). Nothing is typed in a
template. The research marks of the sources (``[V]``, ``[S]``, ``[U: …]``) and English remarks
in parentheses are left out of the documents, and the abbreviations of the catalogue are written
out in full.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterable, Mapping
from functools import cache
from importlib import resources

#: The abbreviations the catalogue's sources use (see the catalogue's header and domain.md §0),
#: each with its full form and how the catalogue's law versions name it (a number, or the 2003
#: law's name), in the order a proposal cites them: laws, then decrees (newest first), then
#: circulars.
DOCUMENTS: tuple[tuple[str, str, str], ...] = (
    ("Law2022", "Luật Thi đua, khen thưởng số 06/2022/QH15 ngày 15/6/2022", "06/2022/QH15"),
    ("Law2003", "Luật Thi đua, khen thưởng năm 2003 (sửa đổi, bổ sung năm 2005, 2013)",
     "Luật Thi đua, khen thưởng 2003"),
    ("ND152", "Nghị định số 152/2025/NĐ-CP ngày 14/6/2025 của Chính phủ", "152/2025/NĐ-CP"),
    ("ND98", "Nghị định số 98/2023/NĐ-CP ngày 31/12/2023 của Chính phủ", "98/2023/NĐ-CP"),
    ("ND91", "Nghị định số 91/2017/NĐ-CP ngày 31/7/2017 của Chính phủ", "91/2017/NĐ-CP"),
    ("TT12-BCA", "Thông tư số 12/2019/TT-BCA ngày 29/5/2019 của Bộ trưởng Bộ Công an", "12/2019/TT-BCA"),
)
_CATALOGUE_FILES = ("law2022.toml", "law2022-people.toml")
_MARK = re.compile(r"\s*\[[^\[\]]*\]")
_REMARK = re.compile(r"\s*\([^()]*\)")
_ARTICLE = re.compile(r"\bArt\.\s*")
_CLAUSE = re.compile(r"\bk(\d+)\b")


@cache
def catalogue_sources() -> Mapping[str, str]:
    """Title id → ``source`` of the packaged catalogue (unit and person titles)."""
    found: dict[str, str] = {}
    folder = resources.files("thidua_rules").joinpath("catalogue")
    for name in _CATALOGUE_FILES:
        data = tomllib.loads(folder.joinpath(name).read_text(encoding="utf-8"))
        titles = list(data.get("titles", [])) + list(data.get("people", {}).get("titles", []))
        for title in titles:
            if isinstance(title.get("source"), str):
                found.setdefault(title["id"], title["source"])
    return found


def plain_basis(source: str) -> str:
    """``Law2022 Art. 26 k1 [S]; ND98 Art. 30 k7 (votes) [V]`` → ``Luật … Điều 26 khoản 1; Nghị định … Điều 30 khoản 7``."""
    text = source
    while (cleaner := _MARK.sub("", text)) != text:  # marks nest: [U: as in Law2003 Art. 28 k2 [V]]
        text = cleaner
    while (cleaner := _REMARK.sub("", text)) != text:
        text = cleaner
    text = _CLAUSE.sub(r"khoản \1", _ARTICLE.sub("Điều ", text))
    for short, full, _marker in DOCUMENTS:
        text = re.sub(rf"\b{re.escape(short)}\b", full, text)
    return "; ".join(part.strip() for part in text.split(";") if part.strip())


def title_basis(title_id: str, source: str) -> str:
    """The basis of one title: its own source, else the catalogue's, in plain words ('' if none)."""
    raw = source or catalogue_sources().get(title_id, "")
    return plain_basis(raw) if raw else ""


def law_basis(articles: Iterable[str]) -> str:
    """A version's articles in plain words (``Nghị định 91/2017/NĐ-CP Điều 9 k3`` → ``… Điều 9 khoản 3``)."""
    return "; ".join(_CLAUSE.sub(r"khoản \1", _ARTICLE.sub("Điều ", a)).strip() for a in articles)


def instruments(instrument: str | None) -> tuple[str, ...]:
    """The instruments a law version names (``Luật …; Nghị định …``), one "Căn cứ" line each."""
    return tuple(part.strip() for part in (instrument or "").split(";") if part.strip())


def _kind(text: str) -> int:
    """Laws, then decrees, then circulars and the rest: the order a proposal cites them."""
    return next((i for i, word in enumerate(("Luật", "Nghị định", "Thông tư")) if text.startswith(word)), 3)


def cited(from_sources: Iterable[str], from_laws: Iterable[str]) -> tuple[str, ...]:
    """The "Căn cứ" lines: the documents the free bases cite and the instruments of the law
    versions, each once; the known documents in the order of :data:`DOCUMENTS` (laws, decrees,
    circulars), then any other instrument by kind, in the order first named."""
    known = set(documents_cited(from_sources))
    others: list[str] = []
    for instrument in from_laws:
        full = next((full for _short, full, marker in DOCUMENTS if marker in instrument), None)
        if full is not None:
            known.add(full)
        elif instrument not in others:
            others.append(instrument)
    ordered = [full for _short, full, _marker in DOCUMENTS if full in known]
    return (*ordered, *sorted(others, key=_kind))  # a stable sort: first named first within a kind


def documents_cited(bases: Iterable[str]) -> tuple[str, ...]:
    """The documents the bases cite, laws first (the order of :data:`DOCUMENTS`): the proposal's
    "Căn cứ" lines."""
    text = "\n".join(bases)
    return tuple(full for _short, full, _marker in DOCUMENTS if full in text)
