"""One line of a card batch file: every rule of the row, and the person key."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from dataclasses import field as dc_field
from datetime import date
from typing import Any

from healthbook.identifiers.codes import (
    check_card_number,
    check_facility_code,
    check_full_name,
    check_identity_document,
    check_sex_code,
    check_social_insurance_number,
    normalize_code,
    normalize_digits,
)
from healthbook.identifiers.dates import check_birth_date, check_date_range, parse_date_flexible
from healthbook.identifiers.problems import (
    CARD_BENEFIT_LEVELS,
    CARD_GROUP_CODES_VNEID,
    CENTURY_SEX_TABLE,
    OLD_PROVINCE_CODES,
    WARNING,
    Problem,
    pid_province_codes,
    problem,
)

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
        # An administrative field never rejects a card row (issue 16): the residence is left unknown.
        problems.append(problem("RESIDENCE_PROVINCE", "MATINH_CU_TRU", res, severity=WARNING))
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
