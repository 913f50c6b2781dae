"""Identifier rules for the Electronic Health Book back office.

Pure Python, no database access: callers pass the reference sets (province
codes, card group codes, ...) that they load from the code-list tables.
Every rejection is a :class:`Problem` with a stable ``code`` (see
``MESSAGES`` for the full list) and an English msgid marked for translation;
the Vietnamese strings for the catalogue are in ``vi.txt`` in this
package (``msgid<TAB>msgstr`` per line).

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

from healthbook.identifiers.codes import (  # noqa: F401 (one namespace for callers)
    CardParts,
    check_card_number,
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
)
from healthbook.identifiers.dates import (  # noqa: F401 (one namespace for callers)
    DAY,
    MONTH,
    YEAR,
    ParsedDate,
    check_birth_date,
    check_date_range,
    parse_date_flexible,
    parse_xml130_date,
)
from healthbook.identifiers.problems import (  # noqa: F401 (one namespace for callers)
    CARD_BENEFIT_LEVELS,
    CARD_COLUMNS,
    CARD_GROUP_CODES_VNEID,
    CARD_PROVINCE_CODES_DEFENCE_UNVERIFIED,
    CENTURY_SEX_TABLE,
    ERROR,
    FACILITY_CODE_RE,
    MESSAGES,
    OLD_PROVINCE_CODES,
    WARNING,
    Problem,
    pid_province_codes,
    problem,
)
from healthbook.identifiers.rows import (  # noqa: F401 (one namespace for callers)
    ReferenceSets,
    card_row_person_key,
    check_card_row,
)

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
