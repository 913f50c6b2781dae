"""Identifier rules for the Electronic Health Book back office.

Pure Python, no database access: callers pass the reference sets (province
codes, card group codes, ...) that they load from the code-list tables.
Every rejection is a :class:`Problem` with a stable ``code`` (see
``MESSAGES`` for the full list) and an English msgid marked for translation;
the Vietnamese strings for the catalogue are in ``identifiers_vi.txt`` next
to this file (``msgid<TAB>msgstr`` per line).

Sources (``docs`` = ``shared/domain/vn-ehb.md``; tags as in that file):

* Personal ID (số định danh cá nhân / CCCD), docs §3.1 [SECONDARY]:
  12 digits = PPP (birth-registration province, "0" + the *old* 63-province
  code, or a country code if born abroad) + G (century + sex) + YY (last two
  digits of the birth year) + 6 random digits.  The G digit table
  (0/1 = 1900s male/female, 2/3 = 2000s, 4/5 = 2100s, 6/7 = 2200s,
  8/9 = 2300s) is **[UNVERIFIED]** -> it is the parameter
  ``century_sex_table`` (default :data:`CENTURY_SEX_TABLE`).
  The country-code scheme for people born abroad is not stated anywhere
  **[UNVERIFIED]** -> parameter ``country_codes`` (default: empty, i.e.
  such IDs are rejected with ``PID_PROVINCE`` until the project decides).
* SO_CCCD field, BHXH gateway rule (``shared/data/xml130/
  BHXH-validate-QD4750.xlsx``, sheets "Bang Check-in" and "Bang 1", column
  VALID) [VERIFIED]: "9 or 12 digit characters, or 8 characters: one upper
  case letter then 7 digits" (legacy CMND / CCCD / passport).
* Social insurance number (mã số BHXH): 10 digits, docs §3.2 [SECONDARY];
  "must not be all zeros" is the gateway rule for MA_BHXH_NND (same
  workbook, sheet "Bang 9") [VERIFIED].  No check digit is documented, so
  none is checked.
* BHYT card number, docs §3.2 [SECONDARY]: 15 chars = 2-letter group code
  + benefit level 1-5 + 2-digit province + 10-digit SIN, regex
  ``^[A-Z]{2}[1-5]\\d{2}\\d{10}$``; or the 10-digit form (= the SIN) used on
  cards since 01/4/2021.  The allowed group codes are a parameter (docs list
  43 as enforced by the VNeID form: :data:`CARD_GROUP_CODES_VNEID`).
  Province codes 97/98 for the defence/police BHXH are **[UNVERIFIED]** ->
  not in any default; add :data:`CARD_PROVINCE_CODES_DEFENCE_UNVERIFIED` to
  ``province_codes`` if the project confirms them.  Using the 12-digit
  personal ID as the card number (NĐ 188/2025) is **[UNVERIFIED]** ->
  parameter ``accept_personal_id`` (default False).
* Facility code (MA_CSKCB / MA_DKBD): 5 characters, first 2 = province
  code (docs §3.3 [VERIFIED/SECONDARY]; the workbook says "gồm có 05 ký
  tự").  "5 digits" comes from the community HL7VN draft [SECONDARY] ->
  the pattern is the parameter ``pattern`` (default :data:`FACILITY_CODE_RE`).
  Codes were allocated under the old province numbering; whether they are
  re-issued after 1/7/2025 is **[UNVERIFIED]** -> the caller passes the
  accepted prefixes (``province_codes``).
* Dates, docs §2.3 and the workbook [VERIFIED]: NGAY_SINH is
  ``yyyyMMddHHmm`` with ``0000`` for an unknown time and ``00`` for an
  unknown day/month; GT_THE_TU/GT_THE_DEN are ``yyyyMMdd``.  GT_THE_DEN may be
  blank for QN/HC/LS/XK/CY/CA cards that cannot be looked up (workbook).
  Spreadsheets written by staff use ``dd/mm/yyyy`` (glossary.md) and tools
  write ISO ``yyyy-mm-dd``; :func:`parse_date_flexible` reads all three.
* GIOI_TINH: 1 male, 2 female, 3 undetermined (workbook) [VERIFIED].
* HO_TEN: string, max 255 (workbook) [VERIFIED].

Conventions: ``check_*`` functions return a list (empty = valid) and do not
normalise their input (call :func:`normalize_digits` / :func:`normalize_code`
first); ``parse_*`` functions return the parsed value or a list of problems
(test with ``isinstance(result, list)``).  :func:`check_card_row` is the
row-level glue used by the card importer and by ``bench/gen_cards.py``
``--emit-expected``; it does normalise.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from dataclasses import field as dc_field
from datetime import date, datetime
from types import MappingProxyType
from typing import Any, NamedTuple

from django.utils.translation import gettext_lazy as _

__all__ = [
    "ERROR",
    "WARNING",
    "Problem",
    "MESSAGES",
    "CardParts",
    "ParsedDate",
    "ReferenceSets",
    "CENTURY_SEX_TABLE",
    "CARD_GROUP_CODES_VNEID",
    "CARD_BENEFIT_LEVELS",
    "CARD_PROVINCE_CODES_DEFENCE_UNVERIFIED",
    "OLD_PROVINCE_CODES",
    "FACILITY_CODE_RE",
    "CARD_COLUMNS",
    "problem",
    "normalize_digits",
    "normalize_code",
    "pid_province_codes",
    "check_personal_id",
    "check_identity_document",
    "check_social_insurance_number",
    "parse_card_number",
    "check_card_number",
    "parse_xml130_date",
    "parse_date_flexible",
    "check_date_range",
    "check_birth_date",
    "check_facility_code",
    "facility_unknown_warning",
    "duplicate_person_warning",
    "check_sex_code",
    "check_full_name",
    "check_card_row",
    "card_row_person_key",
]

ERROR = "error"
WARNING = "warning"


@dataclass(frozen=True, slots=True)
class Problem:
    """One finding about one value.

    ``message`` is a lazy translation proxy: do not ``str()`` it outside a
    request/translation context (tests should assert on ``code``).  It is
    left out of ``repr``/``==``/``hash`` so that comparing or printing a
    Problem never needs Django settings.
    """

    code: str
    message: Any = dc_field(repr=False, compare=False)
    field: str | None = None
    value: Any = None
    severity: str = ERROR


# Stable reason codes -> English msgid (Vietnamese in identifiers_vi.txt).
# Literal _() calls so that ``makemessages`` extracts them.
MESSAGES: dict[str, Any] = {
    "REQUIRED": _("This field is required."),
    "PID_FORMAT": _("The personal ID number may only contain digits."),
    "PID_LENGTH": _("The personal ID number must have exactly 12 digits."),
    "PID_PROVINCE": _(
        "The first three digits of the personal ID number are not a known birth province or country code."
    ),
    "PID_CENTURY_SEX": _(
        "The century/sex digit of the personal ID number does not match the date of birth or the sex."
    ),
    "PID_BIRTH_YEAR": _("The birth-year digits of the personal ID number do not match the date of birth."),
    "SIN_FORMAT": _("The social insurance number must have exactly 10 digits."),
    "SIN_ALL_ZERO": _("The social insurance number cannot be all zeros."),
    "CARD_FORMAT": _(
        "The health insurance card number must have 15 characters (2 letters and 13 digits) or 10 digits."
    ),
    "CARD_GROUP": _("The beneficiary group code of the card is not in the list."),
    "CARD_LEVEL": _("The benefit level of the card must be a digit from 1 to 5."),
    "CARD_PROVINCE": _("The province code of the card is not a known code."),
    "CARD_SIN_MISMATCH": _("The last 10 digits of the card number differ from the social insurance number."),
    "DATE_FORMAT": _("The date is not in a supported format (yyyyMMdd, yyyyMMddHHmm, dd/mm/yyyy or yyyy-mm-dd)."),
    "DATE_INVALID": _("The date does not exist in the calendar."),
    "DATE_PARTIAL": _("A complete date is required here (day and month cannot be 00)."),
    "DATE_RANGE": _("The card validity start date is after its end date."),
    "BIRTH_FUTURE": _("The date of birth is in the future."),
    "BIRTH_TOO_OLD": _("The date of birth gives an implausible age."),
    "SEX_CODE": _("Sex must be 1 (male), 2 (female) or 3 (undetermined)."),
    "NAME_MISSING": _("The full name is missing."),
    "NAME_LENGTH": _("The full name is longer than 255 characters."),
    "NAME_CHARS": _("The full name contains control characters."),
    "FACILITY_CODE_FORMAT": _("The facility code must have 5 digits."),
    "FACILITY_CODE_PROVINCE": _("The first two digits of the facility code are not a known province code."),
    "FACILITY_UNKNOWN": _("The facility code is not in the facility registry."),
    "RESIDENCE_PROVINCE": _("The province of residence code is not a known code."),
    "DUPLICATE_PERSON": _("The same person appears again later in the file; the later row is used."),
}


def problem(code: str, field: str | None = None, value: Any = None, severity: str = ERROR) -> Problem:
    """Build a :class:`Problem` for a known ``code`` (KeyError otherwise)."""
    return Problem(code, MESSAGES[code], field, value, severity)


# --------------------------------------------------------------------------
# Reference data (defaults / conveniences; production passes DB-backed sets)
# --------------------------------------------------------------------------

#: G digit -> (first year of the century, GIOI_TINH code 1 male / 2 female).
#: [UNVERIFIED] (docs §3.1, recalled from TT 07/2016/TT-BCA Điều 7).
CENTURY_SEX_TABLE: Mapping[str, tuple[int, int]] = MappingProxyType(
    {
        "0": (1900, 1),
        "1": (1900, 2),
        "2": (2000, 1),
        "3": (2000, 2),
        "4": (2100, 1),
        "5": (2100, 2),
        "6": (2200, 1),
        "7": (2200, 2),
        "8": (2300, 1),
        "9": (2300, 2),
    }
)

#: The 43 group codes the VNeID integration form accepts (docs §3.2,
#: thuphuc.vn) [SECONDARY]; the full QĐ 1351/QĐ-BHXH list was not found.
CARD_GROUP_CODES_VNEID: frozenset[str] = frozenset(
    "DN HX CH NN TK HC XK HT TB NO CT XB TN CS QN CA CY XN MS CC CK CB KC HD "
    "TE BT HN DT DK XD TS TC TQ TA TY HG LS PV CN HS SV GB GD".split()
)

#: Benefit levels 1-5 (docs §3.2) [SECONDARY].
CARD_BENEFIT_LEVELS: frozenset[str] = frozenset("12345")

#: Province codes said to be used by the defence / police BHXH [UNVERIFIED].
CARD_PROVINCE_CODES_DEFENCE_UNVERIFIED: frozenset[str] = frozenset({"97", "98"})

#: The 63 pre-1/7/2025 province codes (2 digits), from provinces.csv /
#: docs §4.1.  Only some were cross-checked; the rest are [UNVERIFIED]
#: against TT 07/2016 Phụ lục 1.  Production code should pass the set loaded
#: from the AdminUnit table instead.
OLD_PROVINCE_CODES: frozenset[str] = frozenset(
    "01 02 04 06 08 10 11 12 14 15 17 19 20 22 24 25 26 27 30 31 33 34 35 36 "
    "37 38 40 42 44 45 46 48 49 51 52 54 56 58 60 62 64 66 67 68 70 72 74 75 "
    "77 79 80 82 83 84 86 87 89 91 92 93 94 95 96".split()
)

#: 5 ASCII digits (see module docstring: "digits" is [SECONDARY]).
FACILITY_CODE_RE = re.compile(r"[0-9]{5}")

#: Columns of a card batch file (XML 130-style names).
CARD_COLUMNS: tuple[str, ...] = (
    "MA_THE_BHYT",
    "MA_SO_BHXH",
    "SO_CCCD",
    "HO_TEN",
    "NGAY_SINH",
    "GIOI_TINH",
    "MA_DKBD",
    "GT_THE_TU",
    "GT_THE_DEN",
    "MATINH_CU_TRU",
    "DIA_CHI",
)


def pid_province_codes(old_codes) -> frozenset[str]:
    """Two-digit old province codes -> the 3-digit PPP form ("01" -> "001")."""
    return frozenset(c.zfill(3) for c in old_codes)


# --------------------------------------------------------------------------
# Normalisation
# --------------------------------------------------------------------------

# Invisible characters that spreadsheets and copy/paste leave in codes.
_INVISIBLE = frozenset((0x200B, 0x200C, 0x200D, 0x2060, 0xFEFF, 0x00AD))


class _CodeTable(dict):
    """str.translate table built lazily: Unicode decimal digits -> ASCII,
    full-width ASCII -> ASCII, whitespace and invisible characters removed."""

    def __missing__(self, cp: int):
        ch = chr(cp)
        if ch.isspace() or cp in _INVISIBLE:
            result = None
        else:
            dec = unicodedata.decimal(ch, None)
            if dec is not None:
                result = 48 + dec
            elif 0xFF01 <= cp <= 0xFF5E:
                result = cp - 0xFEE0
            else:
                result = cp
        self[cp] = result
        return result


_CODE_TABLE = _CodeTable()


def normalize_digits(s: str | None) -> str:
    """Normalise an identifier typed or pasted by a person.

    Maps any Unicode decimal digit (full-width, Arabic-Indic, ...) and
    full-width ASCII to ASCII, removes all whitespace (incl. NBSP) and
    invisible characters (zero-width, BOM, soft hyphen) and one leading
    apostrophe (Excel's "text" marker).  Nothing else is changed: dashes,
    dots or letters stay, so that validation still sees them.
    ``None`` -> "".
    """
    if not s:
        return ""
    if s.isascii() and s.isdigit():
        return s
    s = s.translate(_CODE_TABLE)
    if s[:1] == "'":
        s = s[1:]
    return s


def normalize_code(s: str | None) -> str:
    """:func:`normalize_digits` then upper case (card numbers, passports)."""
    s = normalize_digits(s)
    return s.upper() if not s.isdigit() else s


def _is_digits(s: str) -> bool:
    return s.isascii() and s.isdigit()


# --------------------------------------------------------------------------
# Personal ID (CCCD / số định danh cá nhân)
# --------------------------------------------------------------------------

_SEX_ARG = {1: 1, 2: 2, "1": 1, "2": 2}


def check_personal_id(
    pid: str,
    *,
    birth_year: int | None = None,
    sex: int | str | None = None,
    old_province_codes: frozenset[str],
    country_codes: frozenset[str] = frozenset(),
    century_sex_table: Mapping[str, tuple[int, int]] = CENTURY_SEX_TABLE,
    field: str = "SO_CCCD",
) -> list[Problem]:
    """Check a 12-digit personal identification number.

    ``old_province_codes`` are 3-digit PPP codes ("001", see
    :func:`pid_province_codes`); ``country_codes`` the 3-character codes for
    people born abroad ([UNVERIFIED] scheme, empty by default).
    ``birth_year`` and ``sex`` (GIOI_TINH: 1 male, 2 female; 3/None = not
    checked) are checked against the G digit (``century_sex_table``,
    [UNVERIFIED]) and YY when known, each independently.

    Codes: PID_FORMAT, PID_LENGTH, PID_PROVINCE, PID_CENTURY_SEX,
    PID_BIRTH_YEAR.
    """
    if not _is_digits(pid):
        return [Problem("PID_FORMAT", MESSAGES["PID_FORMAT"], field, pid)]
    if len(pid) != 12:
        return [Problem("PID_LENGTH", MESSAGES["PID_LENGTH"], field, pid)]
    problems: list[Problem] = []
    ppp = pid[:3]
    if ppp not in old_province_codes and ppp not in country_codes:
        problems.append(Problem("PID_PROVINCE", MESSAGES["PID_PROVINCE"], field, pid))
    g = century_sex_table.get(pid[3])
    mismatch = g is None
    if g is not None:
        if birth_year is not None and birth_year - g[0] not in range(100):
            mismatch = True
        sx = _SEX_ARG.get(sex) if sex is not None else None
        if sx is not None and sx != g[1]:
            mismatch = True
    if mismatch:
        problems.append(Problem("PID_CENTURY_SEX", MESSAGES["PID_CENTURY_SEX"], field, pid))
    if birth_year is not None and int(pid[4:6]) != birth_year % 100:
        problems.append(Problem("PID_BIRTH_YEAR", MESSAGES["PID_BIRTH_YEAR"], field, pid))
    return problems


_PASSPORT_RE = re.compile(r"[A-Z][0-9]{7}")


def check_identity_document(
    value: str,
    *,
    birth_year: int | None = None,
    sex: int | str | None = None,
    old_province_codes: frozenset[str],
    country_codes: frozenset[str] = frozenset(),
    century_sex_table: Mapping[str, tuple[int, int]] = CENTURY_SEX_TABLE,
    field: str = "SO_CCCD",
) -> list[Problem]:
    """Check an SO_CCCD value per the BHXH gateway rule [VERIFIED]: 12 digits
    (checked as a personal ID), 9 digits (legacy CMND, accepted as is) or a
    passport number (1 upper-case letter + 7 digits).  Other digit strings ->
    PID_LENGTH, anything else -> PID_FORMAT."""
    if _is_digits(value):
        if len(value) == 9:
            return []
        return check_personal_id(
            value,
            birth_year=birth_year,
            sex=sex,
            old_province_codes=old_province_codes,
            country_codes=country_codes,
            century_sex_table=century_sex_table,
            field=field,
        )
    if len(value) == 8 and _PASSPORT_RE.fullmatch(value):
        return []
    return [Problem("PID_FORMAT", MESSAGES["PID_FORMAT"], field, value)]


# --------------------------------------------------------------------------
# Social insurance number and BHYT card number
# --------------------------------------------------------------------------


def check_social_insurance_number(sin: str, *, field: str = "MA_SO_BHXH") -> list[Problem]:
    """10 ASCII digits, not all zero.  Codes: SIN_FORMAT, SIN_ALL_ZERO."""
    if len(sin) != 10 or not _is_digits(sin):
        return [Problem("SIN_FORMAT", MESSAGES["SIN_FORMAT"], field, sin)]
    if sin == "0000000000":
        return [Problem("SIN_ALL_ZERO", MESSAGES["SIN_ALL_ZERO"], field, sin)]
    return []


class CardParts(NamedTuple):
    """Parts of a card number.  ``form`` is "15" (old 15-char code), "10"
    (10-digit SIN-only form) or "pid" (12-digit personal ID, only with
    ``accept_personal_id=True``).  Missing parts are None."""

    form: str
    group: str | None
    level: str | None
    province: str | None
    sin: str | None


_CARD15_RE = re.compile(r"[A-Z]{2}[0-9]{13}")


def parse_card_number(
    card: str, *, accept_personal_id: bool = False, field: str = "MA_THE_BHYT"
) -> CardParts | list[Problem]:
    """Split a card number into :class:`CardParts` or return [CARD_FORMAT].

    Structural only (the benefit-level digit is checked by
    :func:`check_card_number`).  ``accept_personal_id``: accept a 12-digit
    personal ID as card number (NĐ 188/2025, [UNVERIFIED])."""
    n = len(card)
    if n == 15 and _CARD15_RE.fullmatch(card):
        return CardParts("15", card[:2], card[2], card[3:5], card[5:])
    if n == 10 and _is_digits(card):
        return CardParts("10", None, None, None, card)
    if accept_personal_id and n == 12 and _is_digits(card):
        return CardParts("pid", None, None, None, None)
    return [Problem("CARD_FORMAT", MESSAGES["CARD_FORMAT"], field, card)]


def check_card_number(
    card: str,
    *,
    group_codes: frozenset[str],
    province_codes: frozenset[str],
    sin: str | None = None,
    benefit_levels: frozenset[str] = CARD_BENEFIT_LEVELS,
    accept_personal_id: bool = False,
    field: str = "MA_THE_BHYT",
) -> list[Problem]:
    """Check a BHYT card number (15-char or 10-digit form).

    ``group_codes``: allowed 2-letter codes (e.g. :data:`CARD_GROUP_CODES_VNEID`);
    ``province_codes``: allowed 2-digit issuing-province codes (cards carry
    the pre-2025 codes; add 97/98 only if confirmed); ``sin``: the person's
    social insurance number, compared with the card's last 10 digits only if
    it is itself well-formed (else its own check reports it).

    Codes: CARD_FORMAT, CARD_GROUP, CARD_LEVEL, CARD_PROVINCE, SIN_ALL_ZERO,
    CARD_SIN_MISMATCH.  A 12-digit personal ID accepted via
    ``accept_personal_id`` is not checked further here: check it with
    :func:`check_personal_id`.
    """
    parts = parse_card_number(card, accept_personal_id=accept_personal_id, field=field)
    if isinstance(parts, list):
        return parts
    problems: list[Problem] = []
    if parts.form == "15":
        if parts.group not in group_codes:
            problems.append(Problem("CARD_GROUP", MESSAGES["CARD_GROUP"], field, card))
        if parts.level not in benefit_levels:
            problems.append(Problem("CARD_LEVEL", MESSAGES["CARD_LEVEL"], field, card))
        if parts.province not in province_codes:
            problems.append(Problem("CARD_PROVINCE", MESSAGES["CARD_PROVINCE"], field, card))
    if parts.sin is not None:
        if parts.sin == "0000000000":
            problems.append(Problem("SIN_ALL_ZERO", MESSAGES["SIN_ALL_ZERO"], field, card))
        elif sin is not None and sin != parts.sin and len(sin) == 10 and _is_digits(sin) and sin != "0000000000":
            problems.append(Problem("CARD_SIN_MISMATCH", MESSAGES["CARD_SIN_MISMATCH"], field, card))
    return problems


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


# --------------------------------------------------------------------------
# Facility codes, sex, name
# --------------------------------------------------------------------------


def check_facility_code(
    code: str,
    *,
    province_codes: frozenset[str] | None = None,
    pattern: re.Pattern = FACILITY_CODE_RE,
    field: str = "MA_DKBD",
) -> list[Problem]:
    """Format of MA_CSKCB / MA_DKBD.  ``province_codes``: if given, the first
    two characters must be one of them (old codes; see module docstring).
    Whether the code exists is the caller's business: see
    :func:`facility_unknown_warning`.  Codes: FACILITY_CODE_FORMAT,
    FACILITY_CODE_PROVINCE."""
    if pattern.fullmatch(code) is None:
        return [Problem("FACILITY_CODE_FORMAT", MESSAGES["FACILITY_CODE_FORMAT"], field, code)]
    if province_codes is not None and code[:2] not in province_codes:
        return [Problem("FACILITY_CODE_PROVINCE", MESSAGES["FACILITY_CODE_PROVINCE"], field, code)]
    return []


def facility_unknown_warning(code: str, *, field: str = "MA_DKBD") -> Problem:
    """FACILITY_UNKNOWN warning for a well-formed code missing from the registry."""
    return Problem("FACILITY_UNKNOWN", MESSAGES["FACILITY_UNKNOWN"], field, code, WARNING)


def duplicate_person_warning(key: str, *, field: str = "MA_SO_BHXH") -> Problem:
    """DUPLICATE_PERSON warning for an earlier row superseded by a later one."""
    return Problem("DUPLICATE_PERSON", MESSAGES["DUPLICATE_PERSON"], field, key, WARNING)


_SEX_CODES = frozenset(("1", "2", "3"))


def check_sex_code(value: Any, *, field: str = "GIOI_TINH") -> list[Problem]:
    """GIOI_TINH must be 1, 2 or 3 [VERIFIED].  Code: SEX_CODE."""
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if value not in _SEX_CODES:
        return [Problem("SEX_CODE", MESSAGES["SEX_CODE"], field, value)]
    return []


_CONTROL_RE = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")


def check_full_name(name: str | None, *, field: str = "HO_TEN", max_length: int = 255) -> list[Problem]:
    """HO_TEN: present, at most ``max_length`` (255, C255 [VERIFIED])
    characters, no control characters (line breaks would split log lines /
    CSV exports).  Digits are allowed: abandoned newborns are recorded under
    the facility's name (workbook, HO_TEN note).  Codes: NAME_MISSING,
    NAME_LENGTH, NAME_CHARS."""
    if name is None or not name.strip():
        return [Problem("NAME_MISSING", MESSAGES["NAME_MISSING"], field, name)]
    if len(name) > max_length:
        return [Problem("NAME_LENGTH", MESSAGES["NAME_LENGTH"], field, name)]
    if _CONTROL_RE.search(name):
        return [Problem("NAME_CHARS", MESSAGES["NAME_CHARS"], field, name)]
    return []


# --------------------------------------------------------------------------
# Row level: one line of a card batch file
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class ReferenceSets:
    """Reference sets for :func:`check_card_row`.

    * ``pid_provinces``: 3-digit PPP codes (old 63 provinces, :func:`pid_province_codes`).
    * ``pid_countries``: country codes in PPP for people born abroad ([UNVERIFIED], empty).
    * ``card_groups``: allowed card group codes.
    * ``card_provinces``: allowed 2-digit card province codes.
    * ``facility_provinces``: allowed first two digits of MA_DKBD (None = unchecked).
    * ``residence_provinces``: allowed MATINH_CU_TRU codes (None = unchecked).
    * ``benefit_levels``, ``century_sex_table``, ``accept_personal_id_as_card``:
      see :func:`check_card_number` / :func:`check_personal_id`.
    """

    pid_provinces: frozenset[str]
    card_groups: frozenset[str]
    card_provinces: frozenset[str]
    facility_provinces: frozenset[str] | None = None
    residence_provinces: frozenset[str] | None = None
    pid_countries: frozenset[str] = frozenset()
    benefit_levels: frozenset[str] = CARD_BENEFIT_LEVELS
    century_sex_table: Mapping[str, tuple[int, int]] = dc_field(default_factory=lambda: CENTURY_SEX_TABLE)
    accept_personal_id_as_card: bool = False

    @classmethod
    def defaults(cls, *, new_province_codes: frozenset[str] | None = None) -> ReferenceSets:
        """Sets built from this module's constants (tests, benchmarks)."""
        return cls(
            pid_provinces=pid_province_codes(OLD_PROVINCE_CODES),
            card_groups=CARD_GROUP_CODES_VNEID,
            card_provinces=OLD_PROVINCE_CODES,
            facility_provinces=OLD_PROVINCE_CODES,
            residence_provinces=new_province_codes,
        )


def _cell(row: Mapping[str, Any], col: str) -> Any:
    """Cell as text, or a date/datetime object as openpyxl returns it."""
    v = row.get(col)
    if v is None:
        return ""
    if isinstance(v, (str, date)):
        return v
    if isinstance(v, float) and v.is_integer():
        v = int(v)  # a number cell has already lost any leading zero
    return str(v)


def _text(row: Mapping[str, Any], col: str) -> str:
    v = _cell(row, col)
    return v if isinstance(v, str) else v.isoformat()


def check_card_row(row: Mapping[str, Any], *, refs: ReferenceSets, today: date) -> list[Problem]:
    """Validate one card-batch row (keys = upper-case :data:`CARD_COLUMNS`).

    Identifier cells are normalised with :func:`normalize_code`; dates are
    read with :func:`parse_date_flexible` (NGAY_SINH may be partial).
    Required: HO_TEN, NGAY_SINH, GIOI_TINH, MA_THE_BHYT, MA_DKBD, GT_THE_TU.
    Optional: SO_CCCD, MA_SO_BHXH, GT_THE_DEN (blank allowed for some
    defence/police cards, workbook), MATINH_CU_TRU, DIA_CHI.
    Dependent checks are skipped when their input is itself invalid (e.g. no
    PID/birth-year check when NGAY_SINH does not parse; no CARD_SIN_MISMATCH
    when MA_SO_BHXH is malformed), so each defect yields one code.
    Returns errors and warnings in a fixed order (card, SIN, name, birth
    date, sex, ID document, facility, validity dates, residence).
    """
    problems: list[Problem] = []
    ext = problems.extend

    sin = normalize_code(_text(row, "MA_SO_BHXH"))
    card = normalize_code(_text(row, "MA_THE_BHYT"))
    if card:
        ext(
            check_card_number(
                card,
                group_codes=refs.card_groups,
                province_codes=refs.card_provinces,
                sin=sin or None,
                benefit_levels=refs.benefit_levels,
                accept_personal_id=refs.accept_personal_id_as_card,
            )
        )
    else:
        problems.append(problem("REQUIRED", "MA_THE_BHYT", card))
    if sin:
        ext(check_social_insurance_number(sin))

    name = _text(row, "HO_TEN")
    ext(check_full_name(name))

    birth = None
    raw_birth = _cell(row, "NGAY_SINH")
    if raw_birth == "":
        problems.append(problem("REQUIRED", "NGAY_SINH", raw_birth))
    else:
        parsed = parse_date_flexible(raw_birth, field="NGAY_SINH", allow_partial=True)
        if isinstance(parsed, list):
            ext(parsed)
        else:
            bp = check_birth_date(parsed, today)
            ext(bp)
            if not bp or bp[0].severity == WARNING:
                birth = parsed

    sex_raw = normalize_digits(_text(row, "GIOI_TINH"))
    sex = None
    if sex_raw == "":
        problems.append(problem("REQUIRED", "GIOI_TINH", sex_raw))
    else:
        sp = check_sex_code(sex_raw)
        ext(sp)
        if not sp:
            sex = sex_raw

    doc = normalize_code(_text(row, "SO_CCCD"))
    if doc:
        ext(
            check_identity_document(
                doc,
                birth_year=birth.value.year if birth is not None else None,
                sex=sex,
                old_province_codes=refs.pid_provinces,
                country_codes=refs.pid_countries,
                century_sex_table=refs.century_sex_table,
            )
        )

    fac = normalize_code(_text(row, "MA_DKBD"))
    if fac:
        ext(check_facility_code(fac, province_codes=refs.facility_provinces))
    else:
        problems.append(problem("REQUIRED", "MA_DKBD", fac))

    vf = vt = None
    raw_from = _cell(row, "GT_THE_TU")
    if raw_from == "":
        problems.append(problem("REQUIRED", "GT_THE_TU", raw_from))
    else:
        r = parse_date_flexible(raw_from, field="GT_THE_TU")
        if isinstance(r, list):
            ext(r)
        else:
            vf = r
    raw_to = _cell(row, "GT_THE_DEN")
    if raw_to != "":
        r = parse_date_flexible(raw_to, field="GT_THE_DEN")
        if isinstance(r, list):
            ext(r)
        else:
            vt = r
    ext(check_date_range(vf, vt))

    res = normalize_digits(_text(row, "MATINH_CU_TRU"))
    if res and refs.residence_provinces is not None and res not in refs.residence_provinces:
        problems.append(problem("RESIDENCE_PROVINCE", "MATINH_CU_TRU", res))
    return problems


def card_row_person_key(row: Mapping[str, Any]) -> str | None:
    """Natural key of the person on a valid card row: the social insurance
    number (lifelong, docs §3.2) from MA_SO_BHXH, else the card's last 10
    digits.  Used to find duplicates within a file (last valid row wins)."""
    sin = normalize_code(_text(row, "MA_SO_BHXH"))
    if sin:
        return sin
    card = normalize_code(_text(row, "MA_THE_BHYT"))
    if len(card) in (10, 15):
        return card[-10:]
    return None
