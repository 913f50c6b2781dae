"""Finding a citizen: exact by personal ID, insurance number or card number; by name without
diacritics, ranked, optionally by birth year and province."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from healthbook.book.finder import citizen_find_exact, citizens_find, citizens_find_by_name
from tests.healthbook.conftest import card_csv, person

pytestmark = pytest.mark.django_db


@pytest.fixture
def people(import_file):
    import_file(
        card_csv(
            [
                person(1, HO_TEN="Nguyễn Văn An", NGAY_SINH="19850312"),
                person(2, HO_TEN="Nguyễn Văn Anh", NGAY_SINH="19900101", SO_CCCD="079090200002"),
                person(3, HO_TEN="Trần Thị Bình", NGAY_SINH="19850312", SO_CCCD="079185200003", GIOI_TINH="2"),
                person(4, HO_TEN="Nguyễn Văn An", NGAY_SINH="19700505", SO_CCCD="001070200004", MATINH_CU_TRU="01"),
                person(5, HO_TEN="Đặng Đức Đạt", NGAY_SINH="19850312"),
            ]
        )
    )


def test_name_without_diacritics_finds_the_citizen(people):
    names = [m.citizen.full_name for m in citizens_find_by_name(name="nguyen van an")]
    assert names[:2] == ["Nguyễn Văn An", "Nguyễn Văn An"]
    assert "Nguyễn Văn Anh" in names
    assert "Trần Thị Bình" not in names


def test_d_with_stroke_is_searched_as_d(people):
    assert [m.citizen.full_name for m in citizens_find_by_name(name="dang duc dat")] == ["Đặng Đức Đạt"]


def test_birth_year_and_province_narrow_the_search(people):
    by_year = citizens_find_by_name(name="Nguyen Van An", birth_year=1970)
    assert [m.citizen.personal_id for m in by_year] == ["001070200004"]
    in_hanoi = citizens_find_by_name(name="nguyen van an", province_id=by_year[0].citizen.residence_province_id)
    assert [m.citizen.personal_id for m in in_hanoi] == ["001070200004"]


def test_exact_lookups(people):
    assert citizen_find_exact(identifier="079085200001").full_name == "Nguyễn Văn An"
    assert citizen_find_exact(identifier="7900000003").full_name == "Trần Thị Bình"
    assert citizen_find_exact(identifier="dn4797900000005").full_name == "Đặng Đức Đạt"
    assert citizen_find_exact(identifier="079 085 200 001").personal_id == "079085200001"
    assert citizen_find_exact(identifier="999999999999") is None


def test_one_search_box(people):
    assert [m.citizen.full_name for m in citizens_find(query="7900000002")] == ["Nguyễn Văn Anh"]
    assert citizens_find(query="tran thi binh")[0].citizen.full_name == "Trần Thị Bình"
    assert citizens_find(query="ab") == []


def test_search_uses_bounded_queries(people, django_assert_max_num_queries):
    with django_assert_max_num_queries(10):
        citizens_find_by_name(name="nguyen van an")


def test_misspelt_name_is_found_by_similarity(people):
    # A typo at the end: found among the names sharing the longest prefix (B-tree).
    near_end = [m.citizen.full_name for m in citizens_find_by_name(name="nguyen van ann")]
    assert near_end[:2] == ["Nguyễn Văn An", "Nguyễn Văn An"]
    assert all(0 < m.score < 1 for m in citizens_find_by_name(name="nguyen van ann"))
    # A typo at the start: found through the trigram index.
    near_start = [m.citizen.full_name for m in citizens_find_by_name(name="ngyuen van anh")]
    assert near_start[0] == "Nguyễn Văn Anh"
    # With a birth year: within that year's names.
    assert [m.citizen.personal_id for m in citizens_find_by_name(name="tran thi binhh", birth_year=1985)] == [
        "079185200003"
    ]


def test_misspelt_family_or_middle_name_is_corrected_against_the_name_words(people):
    with CaptureQueriesContext(connection) as queries:
        family = citizens_find_by_name(name="ngyuen van an")
    assert [m.citizen.full_name for m in family][:2] == ["Nguyễn Văn An", "Nguyễn Văn An"]
    assert all(0 < m.score < 1 for m in family)
    assert not any("search_name %" in q["sql"] for q in queries), "took the trigram index"
    middle = citizens_find_by_name(name="nguyen vna anh")
    assert middle[0].citizen.full_name == "Nguyễn Văn Anh"
    assert [m.citizen.full_name for m in citizens_find_by_name(name="tarn thi binh")] == ["Trần Thị Bình"]


def test_correction_keeps_the_province_filter(people):
    hanoi = citizen_find_exact(identifier="001070200004").residence_province_id
    assert [m.citizen.personal_id for m in citizens_find_by_name(name="nguyne van an", province_id=hanoi)] == [
        "001070200004"
    ]


def test_known_words_in_another_order_fall_back_to_trigrams(people):
    # Every word is a name word: nothing to correct, the trigram index still finds the name.
    assert citizens_find_by_name(name="van nguyen an")[0].citizen.full_name == "Nguyễn Văn An"


def test_misspelt_name_search_uses_bounded_queries(people, django_assert_max_num_queries):
    with django_assert_max_num_queries(10):
        citizens_find_by_name(name="ngyuen vna an")


def test_correction_also_serves_a_birth_year(people):
    with CaptureQueriesContext(connection) as queries:
        found = citizens_find_by_name(name="ngyuen van an", birth_year=1970)
    assert [m.citizen.personal_id for m in found] == ["001070200004"]
    assert not any(">= 0.45" in q["sql"] for q in queries), "scanned the year's names by similarity"
