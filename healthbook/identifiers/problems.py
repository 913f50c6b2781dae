"""Problems with stable reason codes, their messages, and the reference data defaults."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from dataclasses import field as dc_field
from types import MappingProxyType
from typing import Any

from django.utils.translation import gettext_lazy as _

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


# Stable reason codes -> English msgid (Vietnamese in vi.txt).
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
