"""Dates as XML 130, staff spreadsheets and tools write them (partial birth dates included)."""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Any, NamedTuple

from healthbook.identifiers.codes import _is_digits
from healthbook.identifiers.problems import MESSAGES, WARNING, Problem

# --------------------------------------------------------------------------
# Dates
# --------------------------------------------------------------------------

DAY = "day"
MONTH = "month"
YEAR = "year"


class ParsedDate(NamedTuple):
    """A parsed date; for precision "month" the day is 1, for "year" the
    month and day are 1.  Unpacks as ``(value, precision)``."""

    value: date
    precision: str


_XML130_DATE_RE = re.compile(r"([0-9]{4})([0-9]{2})([0-9]{2})(?:([0-9]{2})([0-9]{2}))?")
_DMY_RE = re.compile(r"([0-9]{1,2})/([0-9]{1,2})/([0-9]{4})")
_ISO_RE = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})(?:[T ]([0-9]{2}):([0-9]{2})(?::([0-9]{2})(?:\.[0-9]+)?)?)?")


def _build_date(y: int, m: int, d: int, allow_partial: bool, field, value):
    if m == 0:
        if d != 0:
            return [Problem("DATE_INVALID", MESSAGES["DATE_INVALID"], field, value)]
        if not allow_partial:
            return [Problem("DATE_PARTIAL", MESSAGES["DATE_PARTIAL"], field, value)]
        if y < 1:
            return [Problem("DATE_INVALID", MESSAGES["DATE_INVALID"], field, value)]
        return ParsedDate(date(y, 1, 1), YEAR)
    if d == 0:
        if not allow_partial:
            return [Problem("DATE_PARTIAL", MESSAGES["DATE_PARTIAL"], field, value)]
        if m > 12 or y < 1:
            return [Problem("DATE_INVALID", MESSAGES["DATE_INVALID"], field, value)]
        return ParsedDate(date(y, m, 1), MONTH)
    try:
        return ParsedDate(date(y, m, d), DAY)
    except ValueError:
        return [Problem("DATE_INVALID", MESSAGES["DATE_INVALID"], field, value)]


def _time_ok(hh, mi, ss=None) -> bool:
    return int(hh) < 24 and int(mi) < 60 and (ss is None or int(ss) < 60)


def parse_xml130_date(s: str, *, field: str | None = None, allow_partial: bool = True) -> ParsedDate | list[Problem]:
    """Parse ``yyyyMMddHHmm`` or ``yyyyMMdd`` (XML 130, docs §2.3).

    ``00`` for an unknown day (precision "month") or unknown day and month
    (precision "year") is accepted when ``allow_partial`` (NGAY_SINH), else
    DATE_PARTIAL (GT_THE_TU/DEN).  A known day with an unknown month, a time
    outside 00:00-23:59 or a non-existent date -> DATE_INVALID; anything else
    -> DATE_FORMAT.  The time of day is validated but not returned."""
    mt = _XML130_DATE_RE.fullmatch(s)
    if mt is None:
        return [Problem("DATE_FORMAT", MESSAGES["DATE_FORMAT"], field, s)]
    y, m, d, hh, mi = mt.groups()
    if hh is not None and not _time_ok(hh, mi):
        return [Problem("DATE_INVALID", MESSAGES["DATE_INVALID"], field, s)]
    return _build_date(int(y), int(m), int(d), allow_partial, field, s)


def parse_date_flexible(s: Any, *, field: str | None = None, allow_partial: bool = False) -> ParsedDate | list[Problem]:
    """Parse a date from a batch file: ``yyyyMMdd`` / ``yyyyMMddHHmm`` (XML
    130), ``dd/mm/yyyy`` (also ``d/m/yyyy``; day first, Vietnamese usage),
    ISO ``yyyy-mm-dd`` (optionally followed by a time, as spreadsheets
    export), or a ``date``/``datetime`` object (openpyxl cells).  Surrounding
    whitespace is ignored.  ``00`` day/month rules as in
    :func:`parse_xml130_date` (``allow_partial`` defaults to False here).
    Codes: DATE_FORMAT, DATE_INVALID, DATE_PARTIAL."""
    if isinstance(s, datetime):
        return ParsedDate(s.date(), DAY)
    if isinstance(s, date):
        return ParsedDate(s, DAY)
    if not isinstance(s, str):
        return [Problem("DATE_FORMAT", MESSAGES["DATE_FORMAT"], field, s)]
    t = s.strip()
    n = len(t)
    if n == 8 or n == 12:
        if _is_digits(t):
            return parse_xml130_date(t, field=field, allow_partial=allow_partial)
    mt = _DMY_RE.fullmatch(t)
    if mt is not None:
        d, m, y = mt.groups()
        return _build_date(int(y), int(m), int(d), allow_partial, field, s)
    mt = _ISO_RE.fullmatch(t)
    if mt is not None:
        y, m, d, hh, mi, ss = mt.groups()
        if hh is not None and not _time_ok(hh, mi, ss):
            return [Problem("DATE_INVALID", MESSAGES["DATE_INVALID"], field, s)]
        return _build_date(int(y), int(m), int(d), allow_partial, field, s)
    return [Problem("DATE_FORMAT", MESSAGES["DATE_FORMAT"], field, s)]


def _as_date(d) -> date:
    return d.value if isinstance(d, ParsedDate) else d


def check_date_range(valid_from, valid_to, *, field: str = "GT_THE_DEN") -> list[Problem]:
    """DATE_RANGE when ``valid_from`` > ``valid_to`` (same day is allowed).
    Accepts ``date`` or :class:`ParsedDate`; None on either side -> no check."""
    if valid_from is None or valid_to is None:
        return []
    if _as_date(valid_from) > _as_date(valid_to):
        return [Problem("DATE_RANGE", MESSAGES["DATE_RANGE"], field, valid_to)]
    return []


def check_birth_date(d, today: date, *, field: str = "NGAY_SINH", max_age_years: int = 130) -> list[Problem]:
    """BIRTH_FUTURE (error) if the date is after ``today`` at its precision
    (a year-only date is future only if its year is); BIRTH_TOO_OLD
    (warning) if older than ``max_age_years``.  ``today`` is explicit so that
    imports are reproducible."""
    if isinstance(d, ParsedDate):
        value, precision = d
    else:
        value, precision = d, DAY
    if precision == DAY:
        future = value > today
    elif precision == MONTH:
        future = (value.year, value.month) > (today.year, today.month)
    else:
        future = value.year > today.year
    if future:
        return [Problem("BIRTH_FUTURE", MESSAGES["BIRTH_FUTURE"], field, value)]
    if today.year - value.year > max_age_years:
        return [Problem("BIRTH_TOO_OLD", MESSAGES["BIRTH_TOO_OLD"], field, value, WARNING)]
    return []
