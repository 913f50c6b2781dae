"""Reads of the administrative units (reference data, fixed by migrations)."""

from functools import lru_cache

from geo.models import OldProvinceCode, Province


def province_by_old_code(old_code: str) -> Province | None:
    """Return today's province that absorbed an old (63-unit) province code."""
    row = OldProvinceCode.objects.select_related("province").filter(code=old_code).first()
    return row.province if row else None


@lru_cache(maxsize=1)
def old_province_codes() -> frozenset[str]:
    """Return the 63 old two-digit province codes (reference data, fixed by a migration)."""
    return frozenset(OldProvinceCode.objects.values_list("code", flat=True))
