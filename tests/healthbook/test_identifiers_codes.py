"""Identifier rules: normalisation, personal ID, identity document, card numbers, facility code, sex, name."""

from __future__ import annotations

import csv

import pytest

from healthbook import identifiers as ids
from healthbook.identifiers import (
    CARD_GROUP_CODES_VNEID,
    CENTURY_SEX_TABLE,
    OLD_PROVINCE_CODES,
    CardParts,
    check_facility_code,
    check_full_name,
    check_identity_document,
    check_personal_id,
    check_sex_code,
    check_social_insurance_number,
    facility_unknown_warning,
    normalize_code,
    normalize_digits,
    parse_card_number,
    pid_province_codes,
)
from tests.healthbook.idrules import (
    CARD_PROVINCES,
    NEW_PROVINCE_CODES,
    PPP,
    SHARED_PROVINCES,
    card,
    codes,
    pid,
)

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
