"""Tests for healthbook.names (storage and search forms of Vietnamese names)."""

from __future__ import annotations

import unicodedata
from datetime import date

import pytest

from healthbook.names import normalize_name, search_name

NFD = lambda s: unicodedata.normalize("NFD", s)  # noqa: E731


def test_normalize_name_turns_nfd_input_into_nfc():
    assert normalize_name(NFD("Nguyễn Thị Hằng")) == unicodedata.normalize("NFC", "Nguyễn Thị Hằng")


def test_normalize_name_output_is_nfc():
    assert unicodedata.is_normalized("NFC", normalize_name(NFD("Trần Thị Thu Hằng")))


def test_normalize_name_trims_and_collapses_whitespace():
    assert normalize_name("  Nguyễn \u00a0 Văn\tAn \n") == "Nguyễn Văn An"


def test_normalize_name_keeps_case_and_tone_mark_placement():
    assert normalize_name("nguyễn văn HOÀ") == "nguyễn văn HOÀ"
    assert normalize_name("Hoà") != normalize_name("Hòa")


def test_normalize_name_of_none_or_empty_is_empty():
    assert normalize_name(None) == ""
    assert normalize_name("") == ""


def test_search_name_example_from_the_brief():
    assert search_name("Nguyễn Văn An") == "nguyen van an"


def test_search_name_maps_d_with_stroke_in_both_cases():
    assert search_name("Đặng Đình Đức") == "dang dinh duc"
    assert search_name("đ") == "d"


def test_search_name_makes_nfc_and_nfd_equal():
    assert search_name(NFD("Phạm Thị Quỳnh")) == search_name("Phạm Thị Quỳnh") == "pham thi quynh"


def test_search_name_makes_old_and_new_tone_placement_equal():
    assert search_name("Hoà") == search_name("Hòa") == "hoa"
    assert search_name("Thuỷ") == search_name("Thủy") == "thuy"


def test_search_name_lower_cases_upper_case_input():
    assert search_name("NGUYỄN VĂN AN") == "nguyen van an"


def test_search_name_collapses_nbsp_tabs_and_newlines():
    assert search_name(" Lê\u00a0\u00a0Thị\tHồng\nNhung ") == "le thi hong nhung"


def test_search_name_ascii_input():
    assert search_name("  Nguyen  Van AN ") == "nguyen van an"


def test_search_name_removes_every_vietnamese_diacritic():
    vowels = "àáảãạăằắẳẵặâầấẩẫậèéẻẽẹêềếểễệìíỉĩịòóỏõọôồốổỗộơờớởỡợùúủũụưừứửữựỳýỷỹỵ"
    expected = "a" * 17 + "e" * 11 + "i" * 5 + "o" * 17 + "u" * 11 + "y" * 5
    assert search_name(vowels) == expected
    assert search_name(vowels.upper()) == expected
    assert search_name(NFD(vowels)) == expected


def test_search_name_is_idempotent():
    once = search_name("Võ Thị Sáu")
    assert search_name(once) == once


def test_search_name_of_none_or_empty_is_empty():
    assert search_name(None) == ""
    assert search_name("   ") == ""


@pytest.mark.parametrize(
    "name", ["Nguyễn Văn An", "Trần Thị Thu Hằng", "Đỗ Đức Thắng", "Huỳnh Ngọc Quỳnh", "Lương Thị Ưng"]
)
def test_search_name_output_is_plain_ascii(name):
    out = search_name(name)
    assert out.isascii() and out == out.lower()


def test_search_name_round_trip_on_generator_names():
    from healthbook.cards.demo.people import good_row

    for i in range(500):
        name = good_row(12, i, date(2026, 1, 1))[0]["HO_TEN"]
        folded = search_name(name)
        assert folded.isascii()
        assert folded == search_name(NFD(name)) == search_name(name.upper())
        assert len(folded.split()) == len(name.split())
        assert normalize_name(NFD(name)) == name
