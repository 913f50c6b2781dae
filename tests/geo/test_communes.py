"""The communes of 1 July 2025: loaded by a migration from the pinned vietnam-provinces package."""

import pytest

from geo.models import Commune, CommuneKind, Province
from geo.selectors import commune_province_ids, province_ids_by_code

pytestmark = pytest.mark.django_db


def test_the_migration_loads_34_provinces_and_3321_communes():
    assert Province.objects.count() == 34
    assert Commune.objects.count() == 3321
    by_kind = {k: Commune.objects.filter(kind=k).count() for k in CommuneKind.values}
    assert by_kind == {"xa": 2621, "phuong": 687, "dac_khu": 13}


def test_every_province_has_communes_and_codes_are_five_digits():
    assert Province.objects.filter(communes__isnull=True).count() == 0
    assert not Commune.objects.exclude(code__regex=r"^[0-9]{5}$").exists()


def test_a_known_commune_sits_in_its_province():
    hoan_kiem = Commune.objects.get(code="00070")
    assert hoan_kiem.name_vi == "Phường Hoàn Kiếm" and hoan_kiem.province.code == "01"
    assert commune_province_ids()["00070"] == hoan_kiem.province_id


def test_old_province_codes_resolve_to_the_new_province():
    ids = province_ids_by_code()
    tuyen_quang = Province.objects.get(code="08").pk
    assert ids["08"] == tuyen_quang and ids["02"] == tuyen_quang  # Hà Giang (02) merged into Tuyên Quang
    assert "99" not in ids
