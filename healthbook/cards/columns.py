"""Column names of a card batch file: our canonical names and the XML-130-style ones.

Header cells are matched case-insensitively, ignoring surrounding spaces, a BOM and the
difference between spaces, hyphens and underscores. Order does not matter.
"""

from django.utils.translation import gettext_lazy as _

# Canonical name -> (XML-130-style name, other accepted spellings...). The XML-130-style name is
# the internal key (healthbook.identifiers.check_card_row reads rows keyed by it).
ALIASES: dict[str, tuple[str, ...]] = {
    "card_number": ("MA_THE_BHYT", "MA_THE"),
    "social_insurance_number": ("MA_SO_BHXH", "MA_BHXH", "SO_BHXH"),
    "personal_id": ("SO_CCCD", "MA_DINH_DANH", "SO_DINH_DANH"),
    "full_name": ("HO_TEN",),
    "birth_date": ("NGAY_SINH",),
    "sex": ("GIOI_TINH",),
    "primary_care_facility": ("MA_DKBD",),
    "valid_from": ("GT_THE_TU",),
    "valid_to": ("GT_THE_DEN",),
    "residence_province": ("MATINH_CU_TRU", "MA_TINH_CU_TRU"),
    "residence_commune": ("MAXA_CU_TRU", "MA_XA_CU_TRU"),
    "address": ("DIA_CHI",),
    "ethnicity": ("MA_DANTOC", "MA_DAN_TOC"),
    "nationality": ("MA_QUOCTICH", "MA_QUOC_TICH"),
    "phone": ("DIEN_THOAI", "SO_DIEN_THOAI"),
}

# A file must carry these (as canonical or XML-130-style names) or it is refused before loading.
REQUIRED = ("MA_THE_BHYT", "HO_TEN", "NGAY_SINH", "GIOI_TINH", "MA_DKBD", "GT_THE_TU")

KEYS: tuple[str, ...] = tuple(names[0] for names in ALIASES.values())
CANONICAL_BY_KEY = {names[0]: canonical for canonical, names in ALIASES.items()}

DESCRIPTIONS = {
    "MA_THE_BHYT": _("Health-insurance card number: 15 characters or 10 digits"),
    "MA_SO_BHXH": _("Social insurance number, 10 digits (if blank: the last 10 digits of the card number)"),
    "SO_CCCD": _("Personal ID number, 12 digits"),
    "HO_TEN": _("Full name"),
    "NGAY_SINH": _("Date of birth (00 for an unknown day or month)"),
    "GIOI_TINH": _("Sex: 1 male, 2 female, 3 undetermined"),
    "MA_DKBD": _("Primary-care facility code, 5 digits"),
    "GT_THE_TU": _("Card valid from"),
    "GT_THE_DEN": _("Card valid to (may be blank)"),
    "MATINH_CU_TRU": _("Province of residence, 2-digit code of the 34 provinces"),
    "MAXA_CU_TRU": _("Commune of residence, 5-digit code"),
    "DIA_CHI": _("Address"),
    "MA_DANTOC": _("Ethnicity code"),
    "MA_QUOCTICH": _("Nationality code"),
    "DIEN_THOAI": _("Phone number"),
}


def _fold(header: str) -> str:
    return header.replace("\ufeff", "").strip().upper().replace(" ", "_").replace("-", "_")


_LOOKUP: dict[str, str] = {}
for _canonical, _names in ALIASES.items():
    _LOOKUP[_fold(_canonical)] = _names[0]
    for _name in _names:
        _LOOKUP[_fold(_name)] = _names[0]


def map_header(cells: list) -> tuple[dict[int, str], list[str], list[str]]:
    """Return ({position: key}, missing required keys, duplicated keys). Unknown columns are ignored."""
    positions: dict[int, str] = {}
    seen: dict[str, int] = {}
    duplicated: list[str] = []
    for i, cell in enumerate(cells):
        key = _LOOKUP.get(_fold(str(cell or "")))
        if key is None:
            continue
        if key in seen:
            duplicated.append(key)
            continue
        seen[key] = i
        positions[i] = key
    missing = [key for key in REQUIRED if key not in seen]
    return positions, missing, duplicated
