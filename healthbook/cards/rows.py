"""Validate one row of a card file into a staged record, or say why it is rejected.

The identifier rules live in healthbook.identifiers (check_card_row); this module adds what
only the import knows: the code lists in force, the facility registry, the uploader's province
and the columns the identifier rules do not cover (ethnicity, nationality, commune, phone).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from typing import Any, NamedTuple

from core.textsafe import storable
from healthbook import identifiers as ids
from healthbook.cards.problems import IMPORT_MESSAGES
from healthbook.names import normalize_name, search_name

_COMMUNE_RE = re.compile(r"[0-9]{5}")
_NATIONALITY_RE = re.compile(r"[0-9A-Z]{1,3}")
_PHONE_RE = re.compile(r"\+?[0-9]{8,15}")
_MOJIBAKE_MARKERS = ("Ã", "Ä", "Æ", "á»", "Â")
# One search in C for any of them (a generator over the markers took 7 % of a reader's time
# on a card file, bench/RESULTS.md).
_MOJIBAKE_RE = re.compile("|".join(map(re.escape, _MOJIBAKE_MARKERS)))


@dataclass(frozen=True)
class RowContext:
    """What validating a row needs besides the row: reference sets, loaded once per batch run."""

    refs: ids.ReferenceSets
    today: date
    province_ids: dict[str, int]  # new 2-digit code -> Province pk
    old_to_new: dict[str, str]  # old 2-digit code -> new code
    known_facilities: frozenset[str] | None = None  # None: registry not consulted
    ethnicity_codes: frozenset[str] | None = None  # None: not checked (column absent)
    scope_province_code: str | None = None
    communes: dict[str, int] | None = None  # commune code -> Province pk (None: not checked)

    def residence_province_id(self, code: str) -> int | None:
        """The province a MATINH_CU_TRU code names: a new code, or an old one mapped to the new."""
        return self.province_ids.get(self.old_to_new.get(code, code)) if code else None


class StagedRow(NamedTuple):
    """A valid row, typed, in the column order of the staging table (merge.STAGE_COLUMNS)."""

    line: int
    sin: str
    personal_id: str | None
    legacy_id: str
    full_name: str
    search_name: str
    birth_date: date
    birth_precision: str
    birth_year: int
    sex: int
    ethnicity_code: str
    nationality_code: str
    province_id: int | None
    commune_code: str
    address: str
    phone: str
    card_number: str
    beneficiary_group: str
    benefit_level: int | None
    issuing_province_code: str
    facility_code: str
    valid_from: date
    valid_to: date | None


def _problem(code: str, field: str | None, value: Any, severity: str = ids.ERROR) -> ids.Problem:
    return ids.Problem(code, IMPORT_MESSAGES[code], field, value, severity)


def _text(row: dict, key: str) -> str:
    value = row.get(key)
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


def _is_mojibake(name: str) -> bool:
    """True when the name is UTF-8 that was decoded as Windows-1252 ("Nguyá»…n")."""
    if _MOJIBAKE_RE.search(name) is None:
        return False
    try:
        repaired = name.encode("cp1252").decode("utf-8")
    except UnicodeError:
        return False
    return repaired != name


def validate_row(line: int, row: dict | None, ctx: RowContext) -> tuple[StagedRow | None, list[ids.Problem]]:
    """Return (staged row, problems). The row is None when any problem is an error."""
    if row is None:
        return None, [_problem("ROW_WIDTH", None, "")]
    unstorable = [key for key, value in row.items() if isinstance(value, str) and not storable(value)]
    if unstorable:  # PostgreSQL cannot hold it: this row alone is refused (the value is not echoed)
        return None, [_problem("CELL_UNSTORABLE", key, "") for key in unstorable]
    problems = ids.check_card_row(row, refs=ctx.refs, today=ctx.today)
    name = normalize_name(_text(row, "HO_TEN"))
    if name and _is_mojibake(name):
        problems.append(_problem("NAME_MOJIBAKE", "HO_TEN", name))
    ethnicity = ids.normalize_code(_text(row, "MA_DANTOC"))
    if ethnicity and ctx.ethnicity_codes is not None and ethnicity not in ctx.ethnicity_codes:
        problems.append(_problem("ETHNICITY_CODE", "MA_DANTOC", ethnicity))
    nationality = ids.normalize_code(_text(row, "MA_QUOCTICH"))
    if nationality and not _NATIONALITY_RE.fullmatch(nationality):
        problems.append(_problem("NATIONALITY_CODE", "MA_QUOCTICH", nationality))
    # The residence is administrative: a bad or unknown commune is a warning and is left blank.
    commune = ids.normalize_digits(_text(row, "MAXA_CU_TRU"))
    if commune and not _COMMUNE_RE.fullmatch(commune):
        problems.append(_problem("COMMUNE_CODE", "MAXA_CU_TRU", commune, ids.WARNING))
        commune = ""
    elif commune and ctx.communes is not None and commune not in ctx.communes:
        problems.append(_problem("COMMUNE_UNKNOWN", "MAXA_CU_TRU", commune, ids.WARNING))
        commune = ""
    phone = ids.normalize_digits(_text(row, "DIEN_THOAI")).replace("-", "").replace(".", "")
    if phone and not _PHONE_RE.fullmatch(phone):
        problems.append(_problem("PHONE_FORMAT", "DIEN_THOAI", phone))
    address = normalize_name(_text(row, "DIA_CHI"))
    if len(address) > 500:
        problems.append(_problem("ADDRESS_LENGTH", "DIA_CHI", address[:80]))

    card = ids.normalize_code(_text(row, "MA_THE_BHYT"))
    residence = ids.normalize_digits(_text(row, "MATINH_CU_TRU"))
    issuing = card[3:5] if len(card) == 15 else ""
    province_id = ctx.residence_province_id(residence)
    home = ctx.old_to_new.get(residence, residence) if province_id else ctx.old_to_new.get(issuing, "")
    if commune and ctx.communes is not None:
        if province_id is None:
            province_id = ctx.communes[commune]
        elif ctx.communes[commune] != province_id:
            problems.append(_problem("COMMUNE_OTHER_PROVINCE", "MAXA_CU_TRU", commune, ids.WARNING))
            commune = ""
    if ctx.scope_province_code:
        if home != ctx.scope_province_code:
            problems.append(_problem("OUTSIDE_PROVINCE", "MATINH_CU_TRU", residence or issuing))

    if ctx.known_facilities is not None:
        facility = ids.normalize_code(_text(row, "MA_DKBD"))
        if facility and facility not in ctx.known_facilities and not any(p.field == "MA_DKBD" for p in problems):
            problems.append(ids.facility_unknown_warning(facility))

    if any(p.severity == ids.ERROR for p in problems):
        return None, problems

    sin = ids.normalize_code(_text(row, "MA_SO_BHXH")) or card[-10:]
    document = ids.normalize_code(_text(row, "SO_CCCD"))
    birth = _date(_cell(row, "NGAY_SINH"), field="NGAY_SINH", partial=True)
    valid_from = _date(_cell(row, "GT_THE_TU"), field="GT_THE_TU")
    raw_to = _cell(row, "GT_THE_DEN")
    valid_to = _date(raw_to, field="GT_THE_DEN") if raw_to != "" else None
    staged = StagedRow(
        line=line,
        sin=sin,
        personal_id=document if len(document) == 12 else None,
        legacy_id=document if len(document) != 12 else "",
        full_name=name,
        search_name=search_name(name),
        birth_date=birth.value,
        birth_precision=birth.precision,
        birth_year=birth.value.year,
        sex=int(ids.normalize_digits(_text(row, "GIOI_TINH"))),
        ethnicity_code=ethnicity,
        nationality_code=nationality,
        province_id=province_id,
        commune_code=commune,
        address=address,
        phone=phone,
        card_number=card,
        beneficiary_group=card[:2] if len(card) == 15 else "",
        benefit_level=int(card[2]) if len(card) == 15 else None,
        issuing_province_code=issuing,
        facility_code=ids.normalize_code(_text(row, "MA_DKBD")),
        valid_from=valid_from.value,
        valid_to=valid_to.value if valid_to is not None else None,
    )
    return staged, problems


def _date(value, *, field: str, partial: bool = False):
    """Parse a date that check_card_row has accepted (fast path for yyyyMMdd)."""
    if isinstance(value, str) and len(value) == 8 and value.isdigit() and value[4:6] != "00" and value[6:] != "00":
        return ids.ParsedDate(date(int(value[:4]), int(value[4:6]), int(value[6:])), ids.DAY)
    return ids.parse_date_flexible(value, field=field, allow_partial=partial)


def _cell(row: dict, key: str) -> Any:
    value = row.get(key)
    if value is None:
        return ""
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, date):
        return value
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value)


def person_keys(staged: StagedRow) -> tuple[str, str | None]:
    """The keys that say two rows are the same person: social insurance number, personal ID."""
    return staged.sin, staged.personal_id
