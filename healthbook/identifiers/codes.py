"""Codes: normalisation, personal ID, social insurance number, card number, facility code, sex, name."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from typing import Any, NamedTuple

from healthbook.identifiers.problems import (
    CARD_BENEFIT_LEVELS,
    CENTURY_SEX_TABLE,
    FACILITY_CODE_RE,
    MESSAGES,
    WARNING,
    Problem,
)

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
