"""Deterministic pure-Python Vietnamese sort key following the CLDR/ICU "vi" standard collation."""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable

__all__ = ["vi_sort_key", "vi_sorted"]

# Primary weight bands: space < digits < letters < everything else (by code point).
_SPACE = 1
_DIGIT_BASE = 10
_LETTER_BASE = 100
_OTHER_BASE = 1000

# Vietnamese alphabet with loanword letters f, j, w, z at their Latin positions.
_ALPHABET = (
    "a", "ă", "â", "b", "c", "d", "đ", "e", "ê", "f", "g", "h", "i", "j", "k", "l", "m",
    "n", "o", "ô", "ơ", "p", "q", "r", "s", "t", "u", "ư", "v", "w", "x", "y", "z",
)
_LETTER_WEIGHT = {letter: _LETTER_BASE + i for i, letter in enumerate(_ALPHABET)}

# Letter-forming marks: (base, mark) -> letter. These are part of the letter (primary).
_BREVE, _CIRCUMFLEX, _HORN = "\u0306", "\u0302", "\u031b"
_SHAPED = {
    ("a", _BREVE): "ă",
    ("a", _CIRCUMFLEX): "â",
    ("e", _CIRCUMFLEX): "ê",
    ("o", _CIRCUMFLEX): "ô",
    ("o", _HORN): "ơ",
    ("u", _HORN): "ư",
}

# Tone marks (secondary): no tone (0) < huyền < hỏi < ngã < sắc < nặng.
_TONE_WEIGHT = {"\u0300": 1, "\u0309": 2, "\u0303": 3, "\u0301": 4, "\u0323": 5}
_OTHER_MARK_BASE = 100  # any other combining mark: secondary weight after all tones


def _clusters(nfd: str) -> list[tuple[str, list[str]]]:
    """Split an NFD string into (base character, following combining marks) pairs."""
    clusters: list[tuple[str, list[str]]] = []
    for ch in nfd:
        if unicodedata.combining(ch) and clusters:
            clusters[-1][1].append(ch)
        else:
            clusters.append((ch, []))
    return clusters


def vi_sort_key(text: str) -> tuple[tuple[int, ...], tuple[int, ...], tuple[int, ...], str]:
    """Return (primary, secondary, tertiary, nfc_text) so that tuple order is Vietnamese order."""
    nfc = unicodedata.normalize("NFC", text)
    nfd = unicodedata.normalize("NFD", nfc)
    primary: list[int] = []
    secondary: list[int] = []
    tertiary: list[int] = []
    for base, marks in _clusters(nfd):
        lower = base.lower()
        if len(lower) != 1:
            lower = base
        upper = 1 if lower != base else 0
        tone = 0
        extra: list[int] = []
        letter = lower
        for mark in marks:
            shaped = _SHAPED.get((letter, mark))
            if shaped is not None:
                letter = shaped
            elif mark in _TONE_WEIGHT and tone == 0:
                tone = _TONE_WEIGHT[mark]
            else:
                extra.append(_OTHER_MARK_BASE + ord(mark))
        if letter in _LETTER_WEIGHT:
            weight = _LETTER_WEIGHT[letter]
        elif base == " ":
            weight = _SPACE
        elif unicodedata.decimal(base, None) is not None:
            weight = _DIGIT_BASE + unicodedata.decimal(base)
        else:
            weight = _OTHER_BASE + ord(lower)
        primary.append(weight)
        secondary.append(tone)
        secondary.extend(extra)
        tertiary.append(upper)
    return (tuple(primary), tuple(secondary), tuple(tertiary), nfc)


def vi_sorted(texts: Iterable[str]) -> list[str]:
    """Return the texts sorted in Vietnamese alphabetical order."""
    return sorted(texts, key=vi_sort_key)
