"""Identifier rules: dates (XML 130, dd/mm/yyyy, ISO; partial birth dates; ranges)."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from healthbook.identifiers import (
    ParsedDate,
    check_birth_date,
    check_date_range,
    parse_date_flexible,
    parse_xml130_date,
)
from tests.healthbook.idrules import (
    TODAY,
    codes,
)

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
