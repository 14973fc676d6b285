"""Vietnamese collation: letter order, tone order, multi-level comparison, normalisation and case."""

from __future__ import annotations

import itertools
import unicodedata

import pytest

from thidua_rules.collation import vi_sort_key, vi_sorted

CUM8_ORDER = [
    "Cục Công nghệ thông tin",
    "Cục Kế hoạch và tài chính",
    "Cục Quản lý xây dựng và doanh trại",
    "Cục Trang bị và kho vận",
    "Cục Viễn thông và cơ yếu",
    "Viện Khoa học và công nghệ",
]


def test_doi_ngoai_sorts_between_cong_nghe_and_vien_thong() -> None:
    """"Cục Đối ngoại" comes after "Cục Công nghệ thông tin" and before "Cục Viễn thông và cơ yếu"."""
    names = ["Cục Viễn thông và cơ yếu", "Cục Đối ngoại", "Cục Công nghệ thông tin"]
    assert sorted(names)[-1] == "Cục Đối ngoại"  # code-point order gets this wrong
    assert vi_sorted(names) == ["Cục Công nghệ thông tin", "Cục Đối ngoại", "Cục Viễn thông và cơ yếu"]


@pytest.mark.parametrize(
    "ordered",
    [
        pytest.param(["a", "ă", "â"], id="a<ă<â"),
        pytest.param(["o", "ô", "ơ"], id="o<ô<ơ"),
        pytest.param(["u", "ư"], id="u<ư"),
        pytest.param(["d", "đ", "e"], id="d<đ<e"),
        pytest.param(["e", "ê", "f", "g"], id="e<ê<f<g"),
        pytest.param(["an", "ăn", "ân", "bn"], id="shaped-letters-in-words"),
        pytest.param(["Da", "Đa", "Ea"], id="uppercase-đ"),
    ],
)
def test_letter_order(ordered: list[str]) -> None:
    """Letters with breve, circumflex, horn or stroke are distinct letters in Vietnamese order."""
    for a, b in itertools.pairwise(ordered):
        assert vi_sort_key(a) < vi_sort_key(b)
    assert vi_sorted(reversed(ordered)) == ordered


@pytest.mark.parametrize(
    "ordered",
    [
        pytest.param(["a", "à", "ả", "ã", "á", "ạ"], id="a"),
        pytest.param(["ma", "mà", "mả", "mã", "má", "mạ"], id="ma"),
        pytest.param(["ô", "ồ", "ổ", "ỗ", "ố", "ộ"], id="ô"),
        pytest.param(["ư", "ừ", "ử", "ữ", "ứ", "ự"], id="ư"),
    ],
)
def test_tone_order(ordered: list[str]) -> None:
    """For the same letters, tones order as none < huyền < hỏi < ngã < sắc < nặng."""
    for a, b in itertools.pairwise(ordered):
        assert vi_sort_key(a) < vi_sort_key(b)
    assert vi_sorted(reversed(ordered)) == ordered


@pytest.mark.parametrize(
    ("lower", "higher"),
    [
        pytest.param("bá", "ca", id="bá<ca"),
        pytest.param("á", "ăa", id="á<ăa"),
        pytest.param("ạ", "ă", id="ạ<ă"),
        pytest.param("ạb", "ac", id="ạb<ac"),
        pytest.param("mạ", "mă", id="mạ<mă"),
        pytest.param("á", "aa", id="á<aa"),
    ],
)
def test_primary_beats_secondary(lower: str, higher: str) -> None:
    """Any base-letter difference outweighs any tone difference anywhere in the string."""
    assert vi_sort_key(lower) < vi_sort_key(higher)


def test_tone_compared_only_after_all_letters() -> None:
    """The first tone difference decides only when all base letters are equal."""
    assert vi_sort_key("ma má") < vi_sort_key("mà ma")
    assert vi_sort_key("mà ma") < vi_sort_key("mà mả")


@pytest.mark.parametrize("text", ["Cục Đối ngoại", "Viện Khoa học và công nghệ", "ặ Ứ ờ"], ids=["doi-ngoai", "vien", "mixed"])
def test_nfc_and_nfd_give_same_key(text: str) -> None:
    """Pre-composed (NFC) and decomposed (NFD) input give identical keys."""
    nfc = unicodedata.normalize("NFC", text)
    nfd = unicodedata.normalize("NFD", text)
    assert nfc != nfd
    assert vi_sort_key(nfc) == vi_sort_key(nfd)


def test_case_is_tertiary() -> None:
    """Lowercase sorts before uppercase, but only when letters and tones are equal."""
    assert vi_sort_key("an") < vi_sort_key("An") < vi_sort_key("ao")
    assert vi_sort_key("An") < vi_sort_key("àn")
    assert vi_sorted(["ao", "An", "an"]) == ["an", "An", "ao"]


def test_space_and_digits_before_letters() -> None:
    """Space sorts before digits, digits before letters, and unknown characters after letters."""
    assert vi_sorted(["Cụm a", "Cụm 8", "Cụm 1", "Cụm", "Cụm-", "Cụm z"]) == [
        "Cụm",
        "Cụm 1",
        "Cụm 8",
        "Cụm a",
        "Cụm z",
        "Cụm-",
    ]


def test_distinct_strings_never_compare_equal() -> None:
    """Strings that differ only outside the weighted levels still get distinct keys."""
    assert vi_sort_key("a\u034fb") != vi_sort_key("ab")
    assert vi_sort_key("x") != vi_sort_key("y")


@pytest.mark.parametrize(
    "perm",
    [
        pytest.param(list(CUM8_ORDER), id="already-sorted"),
        pytest.param(list(reversed(CUM8_ORDER)), id="reversed"),
        pytest.param(sorted(CUM8_ORDER, key=lambda s: s[::-1]), id="scrambled"),
        pytest.param(sorted(CUM8_ORDER, key=len), id="by-length"),
    ],
)
def test_cum8_units_order(perm: list[str]) -> None:
    """The six units of Cụm 8 come out in Vietnamese alphabetical order from any input order."""
    assert vi_sorted(perm) == CUM8_ORDER


def test_cum8_all_permutations() -> None:
    """Every permutation of the Cụm 8 unit names sorts to the same order."""
    for perm in itertools.permutations(CUM8_ORDER):
        assert vi_sorted(perm) == CUM8_ORDER
