"""Names of administrative units written in an address (FHIR Patient.address state / city) are
matched without their kind word, case or diacritics; a name shared by two units matches none."""

import pytest

from geo import selectors
from geo.models import Commune, Province


def test_name_key_drops_kind_words_case_and_diacritics():
    key = selectors.name_key
    assert key("Thành phố Hà Nội") == key("TP. Hà Nội") == key("ha noi") == key("  HÀ   NỘI ") == "ha noi"
    assert key("Phường Hoàn Kiếm") == key("phuong hoan kiem") == "hoan kiem"
    assert key("Tỉnh Đắk Lắk") == "dak lak" and key("Đặc khu Phú Quốc") == "phu quoc"
    assert key("Xã Tây Hồ") == "tay ho" and key("Tây Hồ") == "tay ho"


@pytest.mark.django_db
def test_every_province_has_its_own_name_and_shared_commune_names_match_nothing():
    assert len(selectors.province_ids_by_name()) == Province.objects.count() == 34
    by_name = selectors.commune_codes_by_name()
    keys = [(pid, selectors.name_key(n)) for pid, n in Commune.objects.values_list("province_id", "name_vi")]
    shared = {k for k in keys if keys.count(k) > 1}
    assert not shared & set(by_name)
    assert len(by_name) == len(set(keys)) - len(shared)
