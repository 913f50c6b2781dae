"""Tests for healthbook.identifiers (pure functions, no database).

Messages are lazy translation proxies: the tests assert on ``.code`` only.
"""

from __future__ import annotations

import ast
import csv
import importlib.util
import io
import json
import sys
import time
from datetime import date, datetime
from pathlib import Path

import pytest

from healthbook import identifiers as ids
from healthbook.identifiers import (
    CARD_GROUP_CODES_VNEID,
    CENTURY_SEX_TABLE,
    MESSAGES,
    OLD_PROVINCE_CODES,
    CardParts,
    ParsedDate,
    Problem,
    ReferenceSets,
    card_row_person_key,
    check_birth_date,
    check_card_number,
    check_card_row,
    check_date_range,
    check_facility_code,
    check_full_name,
    check_identity_document,
    check_personal_id,
    check_sex_code,
    check_social_insurance_number,
    duplicate_person_warning,
    facility_unknown_warning,
    normalize_code,
    normalize_digits,
    parse_card_number,
    parse_date_flexible,
    parse_xml130_date,
    pid_province_codes,
)

REPO = Path(__file__).resolve().parents[2]
SHARED_PROVINCES = REPO.parent / "shared" / "domain" / "provinces.csv"
FIXTURES = REPO / "tests" / "fixtures" / "cards"

PPP = pid_province_codes(OLD_PROVINCE_CODES)
CARD_PROVINCES = OLD_PROVINCE_CODES
NEW_PROVINCE_CODES = frozenset(
    "01 04 08 11 12 14 15 19 20 22 24 25 31 33 37 38 40 42 44 46 48 51 52 56 66 68 75 79 80 82 86 91 92 96".split()
)
TODAY = date(2026, 1, 1)


def codes(problems):
    return [p.code for p in problems]


def pid(value, **kw):
    kw.setdefault("old_province_codes", PPP)
    return codes(check_personal_id(value, **kw))


def card(value, **kw):
    kw.setdefault("group_codes", CARD_GROUP_CODES_VNEID)
    kw.setdefault("province_codes", CARD_PROVINCES)
    return codes(check_card_number(value, **kw))


def _load_gen():
    name = "gen_cards_under_test"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, REPO / "bench" / "gen_cards.py")
    mod = importlib.util.module_from_spec(spec)
    sys.modules[name] = mod
    spec.loader.exec_module(mod)
    return mod


@pytest.fixture(scope="module")
def gen():
    return _load_gen()


# --------------------------------------------------------------------------
# normalisation
# --------------------------------------------------------------------------


def test_normalize_digits_returns_plain_ascii_digits_unchanged():
    assert normalize_digits("001090123456") == "001090123456"


def test_normalize_digits_maps_fullwidth_and_arabic_indic_digits():
    assert normalize_digits("００１０９０") == "001090"
    assert normalize_digits("١٢٣") == "123"


def test_normalize_digits_removes_spaces_nbsp_and_zero_width_characters():
    assert normalize_digits(" 001 090\u00a0123\u200b456\ufeff ") == "001090123456"


def test_normalize_digits_strips_the_excel_text_apostrophe():
    assert normalize_digits("'0100000001") == "0100000001"


def test_normalize_digits_keeps_dashes_and_dots_so_validation_sees_them():
    assert normalize_digits("001-090.123") == "001-090.123"


def test_normalize_digits_of_none_or_empty_is_empty():
    assert normalize_digits(None) == ""
    assert normalize_digits("") == ""


def test_normalize_code_upper_cases_card_letters_and_fullwidth_letters():
    assert normalize_code(" dn4010100000001 ") == "DN4010100000001"
    assert normalize_code("ＤＮ4010100000001") == "DN4010100000001"


# --------------------------------------------------------------------------
# personal ID
# --------------------------------------------------------------------------


def test_valid_pid_has_no_problems():
    assert pid("001085012345", birth_year=1985, sex=1) == []


def test_valid_pid_for_woman_born_in_2000s():
    assert pid("079305001122", birth_year=2005, sex=2) == []


def test_pid_with_letters_is_pid_format():
    assert pid("00108501234A") == ["PID_FORMAT"]


@pytest.mark.parametrize("value", ["00108501234", "0010850123456", ""])
def test_pid_with_wrong_number_of_digits_is_pid_length(value):
    assert pid(value) == (["PID_LENGTH"] if value else ["PID_FORMAT"])


def test_pid_with_unknown_birth_province_is_rejected():
    assert pid("003085012345") == ["PID_PROVINCE"]


def test_pid_with_code_of_a_merged_province_is_still_valid():
    # Hà Giang (02) merged into Tuyên Quang on 1/7/2025; IDs are permanent.
    assert pid("002085012345") == []


def test_pid_with_country_code_is_accepted_only_when_country_codes_are_given():
    assert pid("704085012345") == ["PID_PROVINCE"]
    assert pid("704085012345", country_codes=frozenset({"704"})) == []


def test_pid_female_digit_for_a_man_is_century_sex_mismatch():
    assert pid("001185012345", birth_year=1985, sex=1) == ["PID_CENTURY_SEX"]


def test_pid_1900s_digit_for_a_2001_birth_is_century_sex_mismatch():
    assert pid("001101012345", birth_year=2001, sex=2) == ["PID_CENTURY_SEX"]


def test_pid_yy_not_matching_birth_year_is_birth_year_problem():
    assert pid("001079012345", birth_year=1980, sex=1) == ["PID_BIRTH_YEAR"]


def test_pid_with_wrong_century_and_year_reports_both():
    assert pid("001279012345", birth_year=1980, sex=1) == ["PID_CENTURY_SEX", "PID_BIRTH_YEAR"]


def test_pid_sex_undetermined_skips_the_sex_check():
    assert pid("001185012345", birth_year=1985, sex=3) == []
    assert pid("001185012345", birth_year=1985, sex="3") == []


def test_pid_without_birth_year_or_sex_checks_only_structure():
    assert pid("001985012345") == []


def test_pid_sex_only_is_checked_without_birth_year():
    assert pid("001185012345", sex="1") == ["PID_CENTURY_SEX"]


def test_pid_accepts_string_sex_codes():
    assert pid("001185012345", birth_year=1985, sex="2") == []


def test_pid_century_table_is_a_parameter():
    swapped = {k: (c, 3 - s) for k, (c, s) in CENTURY_SEX_TABLE.items()}
    assert pid("001085012345", birth_year=1985, sex=1, century_sex_table=swapped) == ["PID_CENTURY_SEX"]


def test_pid_digit_missing_from_a_partial_table_is_century_sex():
    assert pid("001885012345", century_sex_table={"0": (1900, 1)}) == ["PID_CENTURY_SEX"]


def test_pid_with_unicode_digits_is_rejected_unless_normalized():
    raw = "００１０８５０１２３４５"
    assert pid(raw) == ["PID_FORMAT"]
    assert pid(normalize_digits(raw)) == []


def test_pid_problem_carries_field_value_and_error_severity():
    (p,) = check_personal_id("003085012345", old_province_codes=PPP)
    assert (p.field, p.value, p.severity) == ("SO_CCCD", "003085012345", "error")


def test_pid_field_name_can_be_overridden():
    (p,) = check_personal_id("1", old_province_codes=PPP, field="SO_CCCD_NND")
    assert p.field == "SO_CCCD_NND"


def test_pid_province_codes_pads_two_digit_codes_to_three():
    assert pid_province_codes(["01", "96"]) == frozenset({"001", "096"})


def test_old_province_code_set_has_63_codes():
    assert len(OLD_PROVINCE_CODES) == 63


@pytest.mark.skipif(not SHARED_PROVINCES.exists(), reason="shared/ not beside the repo")
def test_old_province_codes_match_shared_provinces_csv():
    with SHARED_PROVINCES.open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    olds = {c for r in rows for c in r["old_codes"].split(";")}
    assert olds == OLD_PROVINCE_CODES
    assert {r["code"] for r in rows} == NEW_PROVINCE_CODES


@pytest.mark.parametrize(
    "digit,century,sex",
    [
        ("0", 1900, 1),
        ("1", 1900, 2),
        ("2", 2000, 1),
        ("3", 2000, 2),
        ("4", 2100, 1),
        ("5", 2100, 2),
        ("6", 2200, 1),
        ("7", 2200, 2),
        ("8", 2300, 1),
        ("9", 2300, 2),
    ],
)
def test_century_sex_table_default(digit, century, sex):
    assert CENTURY_SEX_TABLE[digit] == (century, sex)


# --------------------------------------------------------------------------
# SO_CCCD (identity document)
# --------------------------------------------------------------------------


def doc(value, **kw):
    return codes(check_identity_document(value, old_province_codes=PPP, **kw))


def test_identity_document_accepts_legacy_9_digit_cmnd():
    assert doc("012345678") == []


def test_identity_document_accepts_passport_letter_and_7_digits():
    assert doc("B1234567") == []


def test_identity_document_rejects_lower_case_passport():
    assert doc("b1234567") == ["PID_FORMAT"]


def test_identity_document_rejects_10_digits_as_pid_length():
    assert doc("0123456789") == ["PID_LENGTH"]


def test_identity_document_checks_12_digits_as_personal_id():
    assert doc("001185012345", birth_year=1985, sex=1) == ["PID_CENTURY_SEX"]


# --------------------------------------------------------------------------
# social insurance number
# --------------------------------------------------------------------------


def test_valid_sin_has_no_problems():
    assert codes(check_social_insurance_number("0100000001")) == []


@pytest.mark.parametrize("value", ["123456789", "01000000011", "01000O0001", "０１００００００01"])
def test_malformed_sin_is_sin_format(value):
    assert codes(check_social_insurance_number(value)) == ["SIN_FORMAT"]


def test_all_zero_sin_is_rejected():
    assert codes(check_social_insurance_number("0000000000")) == ["SIN_ALL_ZERO"]


# --------------------------------------------------------------------------
# card number
# --------------------------------------------------------------------------


def test_parse_15_char_card_splits_group_level_province_sin():
    assert parse_card_number("DN4010100000001") == CardParts("15", "DN", "4", "01", "0100000001")


def test_parse_10_digit_card_is_the_sin_form():
    assert parse_card_number("0100000001") == CardParts("10", None, None, None, "0100000001")


@pytest.mark.parametrize(
    "value", ["DN401010000000", "dn4010100000001", "DN-4010100000001", "D14010100000001", "001085012345", ""]
)
def test_parse_malformed_card_is_card_format(value):
    assert codes(parse_card_number(value)) == ["CARD_FORMAT"]


def test_parse_card_accepts_personal_id_only_when_enabled():
    assert parse_card_number("001085012345", accept_personal_id=True).form == "pid"


def test_valid_15_char_card_has_no_problems():
    assert card("DN4010100000001", sin="0100000001") == []


def test_card_with_unknown_group_is_card_group():
    assert card("ZZ4010100000001") == ["CARD_GROUP"]


@pytest.mark.parametrize("level", ["0", "6", "9"])
def test_card_with_benefit_level_outside_1_to_5_is_card_level(level):
    assert card("DN" + level + "010100000001") == ["CARD_LEVEL"]


def test_card_with_unknown_province_is_card_province():
    assert card("DN4990100000001") == ["CARD_PROVINCE"]


def test_card_province_97_98_rejected_by_default_and_accepted_when_added():
    assert card("QN5970100000001") == ["CARD_PROVINCE"]
    extra = CARD_PROVINCES | ids.CARD_PROVINCE_CODES_DEFENCE_UNVERIFIED
    assert card("QN5970100000001", province_codes=extra) == []


def test_card_whose_last_10_digits_differ_from_sin_is_mismatch():
    assert card("DN4010100000001", sin="0100000002") == ["CARD_SIN_MISMATCH"]


def test_10_digit_card_different_from_sin_is_mismatch():
    assert card("0100000001", sin="0100000002") == ["CARD_SIN_MISMATCH"]


def test_malformed_sin_argument_does_not_add_a_mismatch():
    assert card("DN4010100000001", sin="123") == []


def test_card_with_all_zero_sin_part_is_rejected():
    assert card("DN4010000000000") == ["SIN_ALL_ZERO"]


def test_card_with_several_defects_reports_each():
    assert card("ZZ7990100000001", sin="0100000002") == [
        "CARD_GROUP",
        "CARD_LEVEL",
        "CARD_PROVINCE",
        "CARD_SIN_MISMATCH",
    ]


def test_temporary_child_card_te1_is_a_valid_15_char_card():
    assert card("TE1790100000001") == []


def test_card_group_list_has_the_43_vneid_codes():
    assert len(CARD_GROUP_CODES_VNEID) == 43
    assert {"DN", "TE", "QN", "CA", "HN", "CN", "HS", "SV", "GD"} <= CARD_GROUP_CODES_VNEID


def test_card_benefit_levels_are_a_parameter():
    assert card("DN5010100000001", benefit_levels=frozenset("1234")) == ["CARD_LEVEL"]


# --------------------------------------------------------------------------
# dates
# --------------------------------------------------------------------------


def test_xml130_12_digit_date_parses_with_day_precision():
    assert parse_xml130_date("198503151230") == ParsedDate(date(1985, 3, 15), "day")


def test_xml130_8_digit_date_parses():
    assert parse_xml130_date("20260101") == (date(2026, 1, 1), "day")


def test_xml130_unknown_day_gives_month_precision():
    assert parse_xml130_date("198503000000") == (date(1985, 3, 1), "month")


def test_xml130_unknown_day_and_month_give_year_precision():
    assert parse_xml130_date("198500000000") == (date(1985, 1, 1), "year")


def test_xml130_known_day_with_unknown_month_is_invalid():
    assert codes(parse_xml130_date("19850015")) == ["DATE_INVALID"]


def test_xml130_partial_date_is_rejected_where_a_full_date_is_required():
    assert codes(parse_xml130_date("20260100", allow_partial=False)) == ["DATE_PARTIAL"]


@pytest.mark.parametrize("value", ["202601012400", "202601011260"])
def test_xml130_time_outside_the_day_is_invalid(value):
    assert codes(parse_xml130_date(value)) == ["DATE_INVALID"]


def test_xml130_29_february_only_in_leap_years():
    assert parse_xml130_date("20240229")[1] == "day"
    assert codes(parse_xml130_date("20250229")) == ["DATE_INVALID"]


@pytest.mark.parametrize("value", ["2026010", "2026-01-01", "202601011", "", "2026Ol01"])
def test_xml130_other_shapes_are_date_format(value):
    assert codes(parse_xml130_date(value)) == ["DATE_FORMAT"]


def test_xml130_month_13_is_invalid():
    assert codes(parse_xml130_date("20261301")) == ["DATE_INVALID"]


def test_flexible_reads_dd_mm_yyyy_day_first():
    assert parse_date_flexible("02/09/1975") == (date(1975, 9, 2), "day")


def test_flexible_reads_single_digit_day_and_month():
    assert parse_date_flexible("2/9/1975") == (date(1975, 9, 2), "day")


def test_flexible_reads_iso_dates_and_spreadsheet_datetimes():
    assert parse_date_flexible("1975-09-02") == (date(1975, 9, 2), "day")
    assert parse_date_flexible("1975-09-02 00:00:00") == (date(1975, 9, 2), "day")
    assert parse_date_flexible("1975-09-02T08:30") == (date(1975, 9, 2), "day")


def test_flexible_reads_xml130_forms():
    assert parse_date_flexible("19750902") == (date(1975, 9, 2), "day")
    assert parse_date_flexible("197509020830") == (date(1975, 9, 2), "day")


def test_flexible_ignores_surrounding_whitespace():
    assert parse_date_flexible(" 02/09/1975\t") == (date(1975, 9, 2), "day")


def test_flexible_accepts_date_and_datetime_objects_from_xlsx():
    assert parse_date_flexible(date(2026, 1, 1)) == (date(2026, 1, 1), "day")
    assert parse_date_flexible(datetime(2026, 1, 1, 7, 0)) == (date(2026, 1, 1), "day")


@pytest.mark.parametrize(
    "value", ["02-09-1975", "1975/09/02", "02.09.1975", "02/09/75", "197509", "Sept 2 1975", 20260101.0, None]
)
def test_flexible_rejects_unsupported_shapes_as_date_format(value):
    assert codes(parse_date_flexible(value)) == ["DATE_FORMAT"]


def test_flexible_day_first_means_13_is_not_a_month():
    assert codes(parse_date_flexible("09/13/2026")) == ["DATE_INVALID"]


def test_flexible_partial_dates_need_allow_partial():
    assert codes(parse_date_flexible("19600000")) == ["DATE_PARTIAL"]
    assert parse_date_flexible("19600000", allow_partial=True) == (date(1960, 1, 1), "year")
    assert parse_date_flexible("00/05/1972", allow_partial=True) == (date(1972, 5, 1), "month")


def test_flexible_reports_the_field_it_was_given():
    (p,) = parse_date_flexible("x", field="GT_THE_TU")
    assert (p.code, p.field, p.value) == ("DATE_FORMAT", "GT_THE_TU", "x")


def test_date_range_reversed_is_rejected():
    assert codes(check_date_range(date(2026, 12, 31), date(2026, 1, 1))) == ["DATE_RANGE"]


def test_date_range_same_day_is_allowed():
    assert check_date_range(date(2026, 1, 1), date(2026, 1, 1)) == []


def test_date_range_with_open_end_is_not_checked():
    assert check_date_range(date(2026, 1, 1), None) == []


def test_date_range_accepts_parsed_dates():
    assert codes(check_date_range(parse_date_flexible("2026-02-01"), parse_date_flexible("2026-01-31"))) == [
        "DATE_RANGE"
    ]


def test_birth_after_today_is_birth_future():
    assert codes(check_birth_date(date(2026, 1, 2), TODAY)) == ["BIRTH_FUTURE"]


def test_birth_today_is_allowed():
    assert check_birth_date(TODAY, TODAY) == []


def test_birth_month_precision_in_current_month_is_not_future():
    assert check_birth_date(ParsedDate(date(2026, 1, 1), "month"), date(2026, 1, 15)) == []
    assert codes(check_birth_date(ParsedDate(date(2026, 2, 1), "month"), date(2026, 1, 15))) == ["BIRTH_FUTURE"]


def test_birth_year_precision_is_future_only_for_a_later_year():
    assert check_birth_date(ParsedDate(date(2026, 1, 1), "year"), date(2026, 1, 1)) == []
    assert codes(check_birth_date(ParsedDate(date(2027, 1, 1), "year"), TODAY)) == ["BIRTH_FUTURE"]


def test_implausibly_old_birth_is_a_warning_not_an_error():
    (p,) = check_birth_date(date(1880, 1, 1), TODAY)
    assert (p.code, p.severity) == ("BIRTH_TOO_OLD", "warning")


# --------------------------------------------------------------------------
# facility, sex, name
# --------------------------------------------------------------------------


def test_valid_facility_code():
    assert check_facility_code("01013") == []


@pytest.mark.parametrize("value", ["1013", "010131", "01A13", "", "０1013"])
def test_malformed_facility_code_is_rejected(value):
    assert codes(check_facility_code(value)) == ["FACILITY_CODE_FORMAT"]


def test_facility_code_prefix_must_be_a_known_province_when_given():
    assert codes(check_facility_code("03001", province_codes=OLD_PROVINCE_CODES)) == ["FACILITY_CODE_PROVINCE"]
    assert check_facility_code("03001") == []


def test_temporary_card_facility_code_province_plus_000_is_valid():
    assert check_facility_code("01000", province_codes=OLD_PROVINCE_CODES) == []


def test_unknown_facility_is_a_warning_built_by_the_caller():
    p = facility_unknown_warning("01999")
    assert (p.code, p.severity, p.field, p.value) == ("FACILITY_UNKNOWN", "warning", "MA_DKBD", "01999")


@pytest.mark.parametrize("value", ["1", "2", "3", 1, 2, 3])
def test_sex_codes_1_2_3_are_valid(value):
    assert check_sex_code(value) == []


@pytest.mark.parametrize("value", ["0", "4", "Nam", "Nữ", "M", "", None, True])
def test_other_sex_values_are_sex_code(value):
    assert codes(check_sex_code(value)) == ["SEX_CODE"]


@pytest.mark.parametrize("value", ["", "   ", None])
def test_blank_name_is_name_missing(value):
    assert codes(check_full_name(value)) == ["NAME_MISSING"]


def test_name_longer_than_255_characters_is_rejected():
    assert codes(check_full_name("A" * 256)) == ["NAME_LENGTH"]
    assert check_full_name("A" * 255) == []


def test_name_with_line_break_is_name_chars():
    assert codes(check_full_name("Nguyễn Văn\nAn")) == ["NAME_CHARS"]


def test_name_with_digits_is_allowed_for_facility_named_newborns():
    assert check_full_name("Con bà Nguyễn Thị Hằng - Bệnh viện 108") == []


# --------------------------------------------------------------------------
# Problem and messages
# --------------------------------------------------------------------------


def test_problem_is_frozen():
    p = ids.problem("REQUIRED", "HO_TEN")
    with pytest.raises(AttributeError):
        p.code = "X"  # type: ignore[misc]


def test_problem_equality_and_repr_do_not_evaluate_the_lazy_message():
    a = ids.problem("REQUIRED", "HO_TEN", "")
    assert a == Problem("REQUIRED", object(), "HO_TEN", "")
    assert "REQUIRED" in repr(a)
    assert hash(a) == hash(Problem("REQUIRED", None, "HO_TEN", ""))


def test_messages_are_lazy_translation_proxies():
    from django.utils.functional import Promise

    assert all(isinstance(m, Promise) for m in MESSAGES.values())


def test_duplicate_person_is_a_warning():
    p = duplicate_person_warning("0100000001")
    assert (p.code, p.severity) == ("DUPLICATE_PERSON", "warning")


def _msgids_from_source():
    tree = ast.parse((REPO / "healthbook" / "identifiers" / "problems.py").read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.AnnAssign) and getattr(node.target, "id", "") == "MESSAGES":
            return {k.value: v.args[0].value for k, v in zip(node.value.keys, node.value.values, strict=True)}
    raise AssertionError("MESSAGES not found")


def test_every_code_has_a_literal_english_msgid():
    msgids = _msgids_from_source()
    assert set(msgids) == set(MESSAGES)
    assert all(m.isascii() and m.endswith(".") for m in msgids.values())


def test_every_msgid_has_a_vietnamese_translation_in_vi_txt():
    text = (REPO / "healthbook" / "identifiers" / "vi.txt").read_text(encoding="utf-8")
    pairs = dict(line.split("\t") for line in text.splitlines() if line and not line.startswith("#"))
    msgids = set(_msgids_from_source().values())
    assert set(pairs) == msgids
    assert all(v and not v.isascii() for v in pairs.values())


# --------------------------------------------------------------------------
# row level
# --------------------------------------------------------------------------

REFS = ReferenceSets.defaults(new_province_codes=NEW_PROVINCE_CODES)
GOOD_ROW = {
    "MA_THE_BHYT": "DN4010100000001",
    "MA_SO_BHXH": "0100000001",
    "SO_CCCD": "001085012345",
    "HO_TEN": "Nguyễn Văn An",
    "NGAY_SINH": "19850315",
    "GIOI_TINH": "1",
    "MA_DKBD": "01013",
    "GT_THE_TU": "20260101",
    "GT_THE_DEN": "20261231",
    "MATINH_CU_TRU": "01",
    "DIA_CHI": "Hà Nội",
}


def row_codes(**changes):
    row = dict(GOOD_ROW, **changes)
    return [(p.field, p.code) for p in check_card_row(row, refs=REFS, today=TODAY)]


def test_card_row_valid():
    assert row_codes() == []


def test_card_row_missing_required_cells_are_required():
    assert row_codes(MA_THE_BHYT="", MA_DKBD=None, GT_THE_TU="", GIOI_TINH="", NGAY_SINH="") == [
        ("MA_THE_BHYT", "REQUIRED"),
        ("NGAY_SINH", "REQUIRED"),
        ("GIOI_TINH", "REQUIRED"),
        ("MA_DKBD", "REQUIRED"),
        ("GT_THE_TU", "REQUIRED"),
    ]


def test_card_row_optional_cells_may_be_blank():
    assert row_codes(SO_CCCD="", MA_SO_BHXH="", GT_THE_DEN="", MATINH_CU_TRU="", DIA_CHI="") == []


def test_card_row_future_birth_does_not_also_blame_the_pid():
    assert row_codes(NGAY_SINH="20310101") == [("NGAY_SINH", "BIRTH_FUTURE")]


def test_card_row_unparseable_birth_skips_the_pid_year_check():
    assert row_codes(NGAY_SINH="1985.03.15") == [("NGAY_SINH", "DATE_FORMAT")]


def test_card_row_normalizes_identifier_cells():
    assert row_codes(SO_CCCD=" 001 085 012 345 ", MA_THE_BHYT="dn4010100000001", MA_SO_BHXH="'0100000001") == []


def test_card_row_number_cells_lose_leading_zeros_and_are_rejected():
    assert row_codes(MA_SO_BHXH=100000001, MA_DKBD=1013.0) == [
        ("MA_SO_BHXH", "SIN_FORMAT"),
        ("MA_DKBD", "FACILITY_CODE_FORMAT"),
    ]


def test_card_row_accepts_date_objects_from_xlsx():
    assert row_codes(NGAY_SINH=datetime(1985, 3, 15), GT_THE_TU=date(2026, 1, 1)) == []


def test_card_row_residence_must_be_a_new_province_code():
    assert row_codes(MATINH_CU_TRU="02") == [("MATINH_CU_TRU", "RESIDENCE_PROVINCE")]


def test_card_row_sin_mismatch_is_on_the_card_column():
    assert row_codes(MA_SO_BHXH="0100000002") == [("MA_THE_BHYT", "CARD_SIN_MISMATCH")]


def test_card_row_person_key_is_the_sin_or_the_card_tail():
    assert card_row_person_key(GOOD_ROW) == "0100000001"
    assert card_row_person_key(dict(GOOD_ROW, MA_SO_BHXH="")) == "0100000001"
    assert card_row_person_key({"MA_THE_BHYT": "x"}) is None


# --------------------------------------------------------------------------
# speed (lenient floor; the measured figure is printed with -s)
# --------------------------------------------------------------------------


def test_personal_id_check_speed():
    values = ["001085012345", "079190123456", "038305001122", "096099000001"] * 25_000
    years = [1985, 1990, 2005, 1999] * 25_000
    start = time.perf_counter()
    for v, y in zip(values, years, strict=True):
        check_personal_id(v, birth_year=y, sex=None, old_province_codes=PPP)
    rate = len(values) / (time.perf_counter() - start)
    print(f"check_personal_id: {rate:,.0f}/s")
    assert rate > 50_000


# --------------------------------------------------------------------------
# generator round trips (bench/gen_cards.py)
# --------------------------------------------------------------------------


def test_century_sex_digit_of_the_generator_matches_the_identifier_table(gen):
    for year in range(1900, 2400, 7):
        for sex in (1, 2):
            assert CENTURY_SEX_TABLE[gen.century_sex_digit(year, sex)] == (year // 100 * 100, sex)


def test_generated_pids_pass_the_pid_check_with_their_birth_year_and_sex(gen):
    for seed in (0, 1, 99):
        for i in range(0, 5000, 7):
            old, sex, yy, serial = gen.pid_parts(seed, i)
            for year in (1900 + yy, 2000 + yy):
                value = gen.make_pid(old, year, sex, serial)
                assert pid(value, birth_year=year, sex=sex) == []


def test_generated_card_and_sin_agree(gen):
    for i in range(300):
        row, _ = gen.good_row(3, i, TODAY)
        assert card(row["MA_THE_BHYT"], sin=row["MA_SO_BHXH"]) == []


def test_generated_valid_rows_pass_check_card_row(gen):
    for i in range(2000):
        row, _ = gen.good_row(5, i, TODAY)
        assert check_card_row(row, refs=REFS, today=TODAY) == [], (i, row)


def test_generated_bad_rows_fail_exactly_as_labelled(gen):
    seen = set()
    for i, row, info in gen.iter_rows(rows=3000, seed=8, as_of=TODAY, bad_share=0.3):
        got = [(p.field, p.code) for p in check_card_row(row, refs=REFS, today=TODAY) if p.severity == "error"]
        if info is None:
            assert got == [], (i, row)
        else:
            assert got == info["errors"], (i, info, row)
            seen.add(info["kind"])
    assert seen == set(gen.DEFECT_KINDS)


def test_generated_ids_are_unique_within_and_across_seeds(gen):
    pids, sins = set(), set()
    n = 0
    for seed in (1, 2):
        for i in range(20_000):
            old, sex, yy, serial = gen.pid_parts(seed, i)
            pids.add((old, sex, yy, serial))
            sins.add(gen.sin_for(seed, i))
            n += 1
    assert len(pids) == n and len(sins) == n


def test_generated_rows_are_deterministic(gen):
    a = [r for _, r, _ in gen.iter_rows(rows=200, seed=4, as_of=TODAY, bad_share=0.2)]
    b = [r for _, r, _ in gen.iter_rows(rows=200, seed=4, as_of=TODAY, bad_share=0.2)]
    assert a == b


def test_generated_names_are_nfc_vietnamese(gen):
    import unicodedata

    for i in range(200):
        name = gen.good_row(6, i, TODAY)[0]["HO_TEN"]
        assert unicodedata.is_normalized("NFC", name) and len(name.split()) >= 3


def test_generator_cli_writes_csv_and_expected_json(gen, tmp_path):
    out, exp = tmp_path / "c.csv", tmp_path / "c.json"
    gen.main(
        [
            "--rows",
            "500",
            "--seed",
            "9",
            "--bad-share",
            "0.2",
            "--out",
            str(out),
            "--emit-expected",
            str(exp),
            "--quiet",
        ]
    )
    expected = json.loads(exp.read_text(encoding="utf-8"))
    bad = {e["line"]: [(x["column"], x["code"]) for x in e["errors"]] for e in expected["rejected"]}
    with out.open(encoding="utf-8", newline="") as fh:
        reader = csv.DictReader(fh)
        lines = 0
        for row in reader:
            got = [(p.field, p.code) for p in check_card_row(row, refs=REFS, today=TODAY)]
            assert got == bad.get(reader.line_num, []), reader.line_num
            lines += 1
    c = expected["counts"]
    assert (c["rows"], c["accepted"] + c["rejected"], c["rejected"]) == (500, 500, len(bad))
    assert lines == 500


def test_generator_xlsx_keeps_leading_zeros(gen, tmp_path):
    from openpyxl import load_workbook

    out = tmp_path / "c.xlsx"
    gen.main(["--rows", "30", "--seed", "9", "--format", "xlsx", "--out", str(out), "--quiet"])
    wb = load_workbook(out, read_only=True)
    rows = list(wb.active.iter_rows(values_only=True))
    wb.close()
    header = rows[0]
    for values in rows[1:]:
        row = dict(zip(header, values, strict=True))
        assert check_card_row(row, refs=REFS, today=TODAY) == []
    assert len(rows) == 31


def test_existing_rows_replay_rows_of_the_source_seed(gen):
    src = {i: r for i, r, _ in gen.iter_rows(rows=400, seed=21, as_of=TODAY)}
    seen = set()
    for _i, row, info in gen.iter_rows(
        rows=300,
        seed=22,
        as_of=TODAY,
        existing_share=0.5,
        existing_seed=21,
        existing_rows=400,
        existing_change_share=0.3,
    ):
        if info and info["status"] == "existing":
            source = src[info["source_line"] - 2]
            assert info["source_line"] not in seen
            seen.add(info["source_line"])
            same = [c for c in gen.COLUMNS if row[c] == source[c]]
            if info["changed"]:
                assert "GT_THE_TU" not in same and "MA_SO_BHXH" in same
            else:
                assert row == source
    assert len(seen) > 100


def test_existing_seed_must_differ_modulo_100(gen):
    with pytest.raises(ValueError):
        list(gen.iter_rows(rows=5, seed=1, as_of=TODAY, existing_share=0.5, existing_seed=101))


@pytest.mark.skipif(not SHARED_PROVINCES.exists(), reason="shared/ not beside the repo")
def test_generator_province_table_matches_shared_provinces_csv(gen):
    with SHARED_PROVINCES.open(encoding="utf-8") as fh:
        rows = {r["code"]: (r["name_vi"], tuple(r["old_codes"].split(";"))) for r in csv.DictReader(fh)}
    assert {p[0]: (p[1], p[2]) for p in gen.PROVINCES} == rows


# --------------------------------------------------------------------------
# held-out fixtures (tests/fixtures/cards)
# --------------------------------------------------------------------------


def _read_fixture(path: Path):
    """Minimal reference reader: BOM, delimiter chosen from the header line,
    header names stripped and upper-cased; yields (physical line, row)."""
    text = path.read_bytes().decode("utf-8-sig")
    first = text.split("\n", 1)[0]
    delimiter = ";" if first.count(";") > first.count(",") else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    header = [h.strip().upper() for h in next(reader)]
    for values in reader:
        yield reader.line_num, dict(zip(header, values, strict=True))


def _import_like(path: Path, today: date):
    rejected, superseded, warnings = [], [], []
    last_valid: dict[str, int] = {}
    rows = 0
    for line, row in _read_fixture(path):
        rows += 1
        problems = check_card_row(row, refs=REFS, today=today)
        errors = [p for p in problems if p.severity == "error"]
        warnings += [(line, p.field, p.code) for p in problems if p.severity == "warning"]
        if errors:
            rejected.append((line, sorted((p.field, p.code) for p in errors)))
            continue
        key = card_row_person_key(row)
        if key in last_valid:
            superseded.append((last_valid[key], line))
        last_valid[key] = line
    return rows, rejected, superseded, warnings


EXPECTED = json.loads((FIXTURES / "expected.json").read_text(encoding="utf-8"))


@pytest.mark.parametrize("name", sorted(EXPECTED["files"]))
def test_held_out_fixture_matches_expected(name):
    exp = EXPECTED["files"][name]
    rows, rejected, superseded, warnings = _import_like(FIXTURES / name, date.fromisoformat(EXPECTED["today"]))
    assert rejected == [(e["line"], sorted((x["column"], x["code"]) for x in e["errors"])) for e in exp["rejected"]]
    assert superseded == [(s["line"], s["by_line"]) for s in exp["superseded"]]
    assert warnings == exp["warnings"]
    accepted = rows - len(rejected) - len(superseded)
    assert {"rows": rows, "accepted": accepted, "rejected": len(rejected), "superseded": len(superseded)} == exp[
        "counts"
    ]


def test_held_out_comma_fixture_has_bom_crlf_and_mixed_case_header():
    raw = (FIXTURES / "cards_comma_bom_crlf.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf") and b"\r\n" in raw
    header = raw[3:].split(b"\r\n", 1)[0].decode()
    assert header != header.upper() and header.split(",")[0].upper() == "HO_TEN"


@pytest.mark.parametrize("split", [(3, 5), (7, 11), (10, 10)])
def test_generator_id_scrambler_is_a_bijection(gen, split):
    n = split[0] * split[1]
    images = [gen._feistel(x, split, 99) for x in range(n)]
    assert sorted(images) == list(range(n))
    assert all(gen._feistel_inverse(y, split, 99) == x for x, y in enumerate(images))


def test_generator_never_emits_the_all_zero_sin(gen):
    g = gen._SIN_ZERO_PREIMAGE
    assert gen.sin_for(g // gen.MAX_ROWS, g % gen.MAX_ROWS) != "0000000000"
