"""Reads of the administrative units (reference data, fixed by migrations)."""

import csv
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from geo.models import Commune, OldProvinceCode, Province


def province_by_old_code(old_code: str) -> Province | None:
    """Return today's province that absorbed an old (63-unit) province code."""
    row = OldProvinceCode.objects.select_related("province").filter(code=old_code).first()
    return row.province if row else None


@lru_cache(maxsize=1)
def old_province_codes() -> frozenset[str]:
    """Return the 63 old two-digit province codes (reference data, fixed by a migration)."""
    return frozenset(OldProvinceCode.objects.values_list("code", flat=True))


@lru_cache(maxsize=1)
def province_ids_by_code() -> dict[str, int]:
    """Return province id by every two-digit code a file may carry for it: today's 34 codes,
    and the 63 old codes, each mapped to the province that absorbed it (a new code wins where
    the two numberings share a code: new codes reuse an old one of the same province)."""
    out = {code: pid for code, pid in OldProvinceCode.objects.values_list("code", "province_id")}
    out.update(Province.objects.values_list("code", "id"))
    return out


@lru_cache(maxsize=1)
def commune_province_ids() -> dict[str, int]:
    """Return the province id of each of the 3,321 commune codes (reference data, fixed by a
    migration; cached for the life of the process)."""
    return dict(Commune.objects.values_list("code", "province_id"))


def communes_of_province(province_id: int):
    """The communes of one province, by name (for choosers and the per-commune page)."""
    return Commune.objects.filter(province_id=province_id).order_by("name_vi")


def commune_concept_rows() -> list[tuple[str, str, str, str, dict]]:
    """Return (code, Vietnamese name, kind, province code, properties) for every commune, in code
    order: what the commune code list is built from (codelists.loading)."""
    return [
        (code, name, kind, pcode, {"kind": kind, "province": pcode, "valid_from": "2025-07-01"})
        for code, name, kind, pcode in Commune.objects.order_by("code").values_list(
            "code", "name_vi", "kind", "province__code"
        )
    ]


# Kind words a written name may start with (longest first); they are not part of the name
_KIND_WORDS = ("thanh pho", "dac khu", "phuong", "tinh", "tp.", "tp", "xa")


def name_key(name: str) -> str:
    """A unit's name as compared with one written in an address: without its kind word
    ("Tỉnh", "Thành phố", "TP.", "Xã", "Phường", "Đặc khu"), case, diacritics or extra spaces."""
    import unicodedata

    text = unicodedata.normalize("NFD", name.replace("đ", "d").replace("Đ", "D"))
    text = " ".join("".join(ch for ch in text if not unicodedata.combining(ch)).lower().split())
    for word in _KIND_WORDS:
        if text.startswith(word + " ") or (word.endswith(".") and text.startswith(word)):
            return text[len(word) :].strip()
    return text


def _unique(pairs) -> dict:
    """key -> value for the keys that name one unit only (an ambiguous name matches nothing)."""
    out: dict = {}
    for key, value in pairs:
        out[key] = value if key not in out else None
    return {k: v for k, v in out.items() if v is not None}


@lru_cache(maxsize=1)
def province_ids_by_name() -> dict[str, int]:
    """Province id by name key (`name_key`) of today's 34 provinces."""
    return _unique((name_key(name), pid) for pid, name in Province.objects.values_list("id", "name_vi"))


@lru_cache(maxsize=1)
def commune_codes_by_name() -> dict[tuple[int, str], str]:
    """Commune code by (province id, name key): commune names repeat across provinces, and
    within one only a name that names a single commune is kept."""
    rows = Commune.objects.values_list("province_id", "name_vi", "code")
    return _unique(((pid, name_key(name)), code) for pid, name, code in rows)


# ---------------------------------------------------------------- commune points (maps)

# The approximate centre and area of each of the 3,321 communes, vendored from the PyPI package
# vietnamadminunits 1.0.4 (MIT; static/vendor/README.md). Points, not boundaries: no openly
# licensed boundary file of the post-July-2025 communes was installable (geo/data/SOURCE.md).
COMMUNE_POINTS_CSV = Path(__file__).resolve().parent.parent / "static/vendor/vietnamadminunits-1.0.4/communes-2025.csv"


@dataclass(frozen=True)
class CommunePoint:
    lat: float
    lon: float
    area_km2: float | None


def _name_key(name: str) -> str:
    """Names as both lists spell them: dashes and spaces differ ("Chân Mây – Lăng Cô")."""
    return " ".join(name.replace("–", "-").split()).casefold()


@lru_cache(maxsize=1)
def _commune_points() -> tuple[dict, dict]:
    by_name, by_code = {}, {}
    with COMMUNE_POINTS_CSV.open(encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            area = float(row["area_km2"]) if row["area_km2"] else None
            point = CommunePoint(float(row["lat"]), float(row["lon"]), area)
            by_name[(row["province"], _name_key(row["name"]))] = point
            by_code[(row["province"], row["code"])] = point
    return by_name, by_code


def commune_point(province_code: str, code: str, name: str) -> CommunePoint | None:
    """The vendored point of one commune of our list: by province and name first (the two lists
    give 114 merged communes a different representative code), then by code."""
    by_name, by_code = _commune_points()
    return by_name.get((province_code, _name_key(name))) or by_code.get((province_code, code))
