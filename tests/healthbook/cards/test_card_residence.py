"""Card files after 1 July 2025 (issue 16): the residence (MATINH_CU_TRU, MAXA_CU_TRU) is checked
against the 34 provinces and 3,321 communes; a bad or unknown code is a warning, never a rejected
row; card data sets the residence and its provenance, over what facility data had filled."""

import pytest

from geo.models import Province
from healthbook.models import CardBatch, Citizen, ResidenceSource
from tests.healthbook.conftest import card_csv, person

pytestmark = pytest.mark.django_db

HEADER = [
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
]
BEN_THANH = "26743"  # Phường Bến Thành, Thành phố Hồ Chí Minh (79)


def _import(import_file, rows):
    return import_file(card_csv(rows, header=HEADER))


def _problems(batch):
    return sorted((p.line, p.column, p.code) for p in batch.problems.all())


def test_known_commune_is_stored_with_card_provenance(import_file):
    batch = _import(import_file, [person(1, MAXA_CU_TRU=BEN_THANH)])
    assert batch.rows_accepted == 1 and _problems(batch) == []
    citizen = Citizen.objects.get()
    assert (citizen.residence_province.code, citizen.residence_commune_code) == ("79", BEN_THANH)
    assert citizen.residence_source == ResidenceSource.CARD


def test_unknown_codes_are_warnings_and_the_row_lands(import_file):
    rows = [
        person(1, MAXA_CU_TRU="26734"),  # an old commune code of Hồ Chí Minh City, merged on 1 July 2025
        person(2, MAXA_CU_TRU="12"),
        person(3, MATINH_CU_TRU="99"),
        person(4, MAXA_CU_TRU="00070"),  # Hoàn Kiếm is in Hà Nội, not in 79
    ]
    batch = _import(import_file, rows)
    assert batch.status == CardBatch.Status.DONE
    assert (batch.rows_accepted, batch.rows_rejected) == (4, 0)
    assert _problems(batch) == []  # rejected rows only
    for code in ("COMMUNE_UNKNOWN", "COMMUNE_CODE", "RESIDENCE_PROVINCE", "COMMUNE_OTHER_PROVINCE"):
        assert batch.problem_counts[code] == 1
    assert set(Citizen.objects.values_list("residence_commune_code", flat=True)) == {""}
    assert Citizen.objects.get(social_insurance_number="7900000003").residence_province is None


def test_old_province_code_maps_to_the_new_province(import_file):
    _import(import_file, [person(1, MATINH_CU_TRU="74")])  # Bình Dương, part of Hồ Chí Minh City
    assert Citizen.objects.get().residence_province.code == "79"


def test_card_overrides_a_residence_filled_from_facility_data(import_file):
    _import(import_file, [person(1, MATINH_CU_TRU="")])
    hanoi = Province.objects.get(code="01")
    Citizen.objects.update(
        residence_province=hanoi, residence_commune_code="00070", residence_source=ResidenceSource.FACILITY
    )
    _import(import_file, [person(1, MAXA_CU_TRU=BEN_THANH, DIA_CHI="Khác")])
    citizen = Citizen.objects.get()
    assert (citizen.residence_province.code, citizen.residence_commune_code) == ("79", BEN_THANH)
    assert citizen.residence_source == ResidenceSource.CARD
