"""Codes of other systems translated to the national lists, and back (the lists' mapping rows).

- `national_code`: the national code a code of another system stands for (LOINC → lab
  indicator, CVX → vaccine), from the list's mapping rows (codelists/seed/*-map.csv);
- `mapped_targets`: the codes of another system a national code is equivalent to (served next
  to the national coding, e.g. LOINC in `$everything`);
- `vaccine_code_for`: the national vaccine of an administered dose, whatever it was sent in —
  a national code, a CVX code, or a product name of the programme (the `products` property).

Cached per version like `codelists.lookups` (a published version never changes): a warm
lookup asks the database nothing, a cold one one query per list.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from datetime import date

from django.db import connection

from codelists.lookups import VACCINE_SYSTEM, _derive, _version_id, active_codes, all_concepts
from codelists.models import MappingRelationship, MappingTarget

CVX = MappingTarget.CVX.value
LOINC = MappingTarget.LOINC.value
NATIONAL_SUFFIX = "/CodeSystem/"


def _mapping_index(version_id: int) -> dict:
    def build():
        with connection.cursor() as cur:
            cur.execute(
                "SELECT c.code, m.target_system, m.target_code, m.target_display, m.relationship "
                "FROM codelists_conceptmapping m JOIN codelists_concept c ON c.id = m.concept_id "
                "WHERE c.version_id = %s AND c.active ORDER BY c.code, m.target_system, m.target_code",
                [version_id],
            )
            rows = cur.fetchall()
        to_national: dict[tuple[str, str], str] = {}
        from_national: dict[tuple[str, str], list[tuple[str, str]]] = {}
        for code, system, target, display, relationship in rows:
            to_national.setdefault((system, target), code)
            if relationship == MappingRelationship.EQUIVALENT:
                from_national.setdefault((code, system), []).append((target, display))
        return {"to": to_national, "from": from_national}

    return _derive(version_id, "mappings", build)


def national_code(system_key: str, target_system: str, target_code: str, *, on: date | None = None) -> str | None:
    """The national code of the list a code of another system is mapped from (None: not mapped)."""
    version_id = _version_id(system_key, on)
    if version_id is None or not target_code:
        return None
    index = _mapping_index(version_id)["to"]
    code = index.get((target_system, target_code))
    if code is None and target_system == CVX and target_code.isdigit():  # CVX "8" is "08"
        code = index.get((target_system, target_code.zfill(2)))
    return code


def mapped_targets(
    system_key: str, codes: Iterable[str], target_system: str, *, on: date | None = None
) -> dict[str, list[tuple[str, str]]]:
    """code -> [(target code, display)] of the equivalent codes in another system."""
    version_id = _version_id(system_key, on)
    if version_id is None:
        return {}
    index = _mapping_index(version_id)["from"]
    return {c: index[(c, target_system)] for c in set(codes) if (c, target_system) in index}


def product_key(name: str) -> str:
    """A product name as compared: no case, accents, spaces or punctuation ("ComBE Five" = "combefive")."""
    folded = unicodedata.normalize("NFKD", name.replace("đ", "d").replace("Đ", "D"))
    return re.sub(r"[^0-9a-z]", "", "".join(ch for ch in folded if not unicodedata.combining(ch)).casefold())


def _products(version_id: int, on: date | None) -> dict[str, str]:
    def build():
        out: dict[str, str] = {}
        for code, (_name, props) in all_concepts(VACCINE_SYSTEM, on=on).items():
            for product in props.get("products") or []:
                out.setdefault(product_key(str(product)), code)
        return out

    return _derive(version_id, "products", build)


def vaccine_code_for(
    codings: Iterable[tuple[str | None, str | None, str | None]], text: str | None = None, *, on: date | None = None
) -> str | None:
    """The national vaccine code of a dose sent as (system, code, display) codings and a text:
    a national code first (sent in the national system or with no system), then a CVX code,
    then a product name (in a coding's code or display, or the text). None: not recognised."""
    version_id = _version_id(VACCINE_SYSTEM, on)
    if version_id is None:
        return None
    codings = [(s or "", c or "", d or "") for s, c, d in codings if c or d]
    national = active_codes(version_id)
    for system, code, _d in codings:
        if code in national and (not system or system.endswith(NATIONAL_SUFFIX + VACCINE_SYSTEM)):
            return code
    for system, code, _d in codings:
        if system == CVX and (found := national_code(VACCINE_SYSTEM, CVX, code, on=on)):
            return found
    products = _products(version_id, on)
    for name in [v for _s, c, d in codings for v in (c, d)] + [text or ""]:
        if name and (found := products.get(product_key(name))):
            return found
    return None
