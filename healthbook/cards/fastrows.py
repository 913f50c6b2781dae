"""The fast path of row validation: accept a plainly valid CSV record without the full rules.

Almost every row of a national card file is plain ASCII digits and letters in the expected
shapes. For such a row this module decides, with a few compiled patterns and set lookups on
the raw cells, that the full validator (rows.validate_row, i.e. identifiers.check_card_row
plus the import's own checks) would find no error and no warning except FACILITY_UNKNOWN,
and builds the same StagedRow it would. Whenever a cell is anything else — surrounding
spaces, Unicode digits, a partial or odd date, a value the rules would reject or warn about —
it answers None and the caller runs the full validator. So the full validator stays the only
source of reason codes; this module can only say "clean", never "rejected", and
tests/healthbook/cards/test_card_fastrows.py checks on generated files with many defects that both
paths give the same result for every row.
"""

from __future__ import annotations

import re
from datetime import date
from functools import lru_cache
from operator import itemgetter

from healthbook import identifiers as ids
from healthbook.cards.rows import RowContext, StagedRow, _is_mojibake
from healthbook.names import normalize_name, search_name

_CARD15 = re.compile(r"[A-Z]{2}[0-9]{13}")
_DIGITS10 = re.compile(r"[0-9]{10}")
_DIGITS12 = re.compile(r"[0-9]{12}")
_DIGITS9 = re.compile(r"[0-9]{9}")
_PASSPORT = re.compile(r"[A-Z][0-9]{7}")
_DIGITS8 = re.compile(r"[0-9]{8}")
_DIGITS5 = re.compile(r"[0-9]{5}")
_DIGITS_SOME = re.compile(r"[0-9]+")
_CODE = re.compile(r"[0-9A-Z]+")
_NATIONALITY = re.compile(r"[0-9A-Z]{1,3}")
_PHONE = re.compile(r"\+?[0-9]{8,15}")
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")
_ZEROS = "0000000000"
_SEX = {"1": 1, "2": 2, "3": 3}
_SEX_CHECKED = {"1": 1, "2": 2}  # identifiers._SEX_ARG for text cells: 3 is not checked
_new_row = tuple.__new__


@lru_cache(maxsize=1 << 16)
def _full_date(s: str) -> date | None:
    """yyyyMMdd with a real day and month, else None (the full parser decides). Cached: a card
    file repeats its dates (tens of thousands of birth dates, a few validity dates) and a hit
    costs a tenth of the parse (0.12 against 1.3 µs); the cache is bounded, whatever the file holds."""
    if _DIGITS8.fullmatch(s) is None:
        return None
    try:
        return date(int(s[:4]), int(s[4:6]), int(s[6:]))
    except ValueError:
        return None


@lru_cache(maxsize=1 << 16)
def _name_forms(name: str) -> tuple[str, str] | None:
    """The stored (NFC) and search forms of a full name (check_full_name, then the import's NFC
    form and mojibake test), or None (the full rules decide). Cached like the dates: full names
    repeat (76,100 distinct in the million rows of the bench file); at most 65,536 of them."""
    if not name or len(name) > 255 or _CONTROL.search(name) is not None:
        return None
    full_name = normalize_name(name.strip())
    if not full_name or _is_mojibake(full_name):
        return None
    return full_name, search_name(full_name)


class FastValidator:
    """Built once per batch run for a CSV layout; call it with (line, cells)."""

    def __init__(self, ctx: RowContext, columns: dict[int, str]):
        self.ctx = ctx
        refs = ctx.refs
        self.groups = refs.card_groups
        self.levels = refs.benefit_levels
        self.card_provinces = refs.card_provinces
        self.pid_provinces = refs.pid_provinces | refs.pid_countries
        self.century_sex = refs.century_sex_table
        self.facility_provinces = refs.facility_provinces
        self.residence_provinces = refs.residence_provinces
        self.today = ctx.today
        self.oldest_year = ctx.today.year - 130  # check_birth_date: older is a warning
        position = {key: int(i) for i, key in columns.items()}
        self.keys = (
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
            "MAXA_CU_TRU",
            "DIA_CHI",
            "MA_DANTOC",
            "MA_QUOCTICH",
            "DIEN_THOAI",
        )
        self.positions = tuple(position.get(key, -1) for key in self.keys)
        # The cells in one C call on the record padded with blanks: position -1 (a column the file
        # lacks) picks the last blank, a position past a short record's end one of the others.
        self.pick = itemgetter(*self.positions)
        self.width = max(self.positions) + 1
        self.unknown_facility: dict[str, ids.Problem] = {}  # one warning per code (at most 100,000)
        self.facility_warning_field = "MA_DKBD"

    def __call__(self, line: int, cells) -> tuple[StagedRow, list[ids.Problem]] | None:  # noqa: C901, PLR0911, PLR0912
        if "\x00" in "".join(cells):
            return None  # the full rules name the cell (CELL_UNSTORABLE)
        picked = self.pick([*cells, *[""] * max(0, self.width - len(cells)), ""])
        card, sin, doc, name, birth_s, sex_s, fac, from_s, to_s, res, commune, address, eth, nat, phone = picked
        # Card number and insurance number (check_card_number, check_social_insurance_number).
        if sin and (_DIGITS10.fullmatch(sin) is None or sin == _ZEROS):
            return None
        if len(card) == 15:
            if (
                _CARD15.fullmatch(card) is None
                or card[:2] not in self.groups
                or card[2] not in self.levels
                or card[3:5] not in self.card_provinces
                or card[5:] == _ZEROS
                or (sin and sin != card[5:])
            ):
                return None
            issuing = card[3:5]
        elif len(card) == 10:
            if _DIGITS10.fullmatch(card) is None or card == _ZEROS or (sin and sin != card):
                return None
            issuing = ""
        else:
            return None
        names = _name_forms(name)
        if names is None:
            return None
        full_name, folded_name = names
        # Birth date: full yyyyMMdd, not in the future, not implausibly old.
        birth = _full_date(birth_s)
        if birth is None or birth > self.today or birth.year < self.oldest_year:
            return None
        sex = _SEX.get(sex_s)
        if sex is None:
            return None
        # Identity document (check_identity_document / check_personal_id).
        personal_id = None
        legacy_id = ""
        if doc:
            if len(doc) == 12:
                if _DIGITS12.fullmatch(doc) is None or doc[:3] not in self.pid_provinces:
                    return None
                g = self.century_sex.get(doc[3])
                if g is None or not 0 <= birth.year - g[0] < 100:
                    return None
                checked = _SEX_CHECKED.get(sex_s)
                if checked is not None and checked != g[1]:
                    return None
                if int(doc[4:6]) != birth.year % 100:
                    return None
                personal_id = doc
            elif (len(doc) == 9 and _DIGITS9.fullmatch(doc)) or (len(doc) == 8 and _PASSPORT.fullmatch(doc)):
                legacy_id = doc
            else:
                return None
        # Facility code, validity dates, residence.
        if _DIGITS5.fullmatch(fac) is None:
            return None
        if self.facility_provinces is not None and fac[:2] not in self.facility_provinces:
            return None
        valid_from = _full_date(from_s)
        if valid_from is None:
            return None
        valid_to = None
        if to_s:
            valid_to = _full_date(to_s)
            if valid_to is None or valid_from > valid_to:
                return None
        if res:
            if _DIGITS_SOME.fullmatch(res) is None:
                return None
            if self.residence_provinces is not None and res not in self.residence_provinces:
                return None
        ctx = self.ctx
        province_id = ctx.residence_province_id(res)
        home = ctx.old_to_new.get(res, res) if province_id else ctx.old_to_new.get(issuing, "")
        if commune:  # anything the slow path would warn about goes there
            if _DIGITS5.fullmatch(commune) is None:
                return None
            if ctx.communes is not None:
                in_province = ctx.communes.get(commune)
                if in_province is None or (province_id is not None and in_province != province_id):
                    return None
                province_id = in_province
        if ctx.scope_province_code and home != ctx.scope_province_code:
            return None
        # The import's own columns.
        if eth:
            if _CODE.fullmatch(eth) is None or (ctx.ethnicity_codes is not None and eth not in ctx.ethnicity_codes):
                return None
        if nat and _NATIONALITY.fullmatch(nat) is None:
            return None
        if phone and _PHONE.fullmatch(phone) is None:
            return None
        if address:
            address = normalize_name(address.strip())
            if len(address) > 500:
                return None
        problems = []
        if ctx.known_facilities is not None and fac not in ctx.known_facilities:
            warning = self.unknown_facility.get(fac)
            if warning is None:
                warning = self.unknown_facility[fac] = ids.facility_unknown_warning(fac)
            problems.append(warning)
        # Positional, in StagedRow's field order: keywords cost 1.1 µs a row more (of ≈ 12). The
        # full validator builds the same row with keywords; test_card_fastrows compares the two.
        return _new_row(
            StagedRow,
            (
                line,
                sin or card[-10:],
                personal_id,
                legacy_id,
                full_name,
                folded_name,
                birth,
                ids.DAY,
                birth.year,
                sex,
                eth,
                nat,
                province_id,
                commune,
                address,
                phone,
                card,
                card[:2] if issuing else "",
                int(card[2]) if issuing else None,
                issuing,
                fac,
                valid_from,
                valid_to,
            ),
        ), problems
