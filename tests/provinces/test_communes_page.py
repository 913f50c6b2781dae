"""A province officer's per-commune page (issue 16): books, people using the book, facilities and
connected facilities per commune, from per-commune-per-day rollups computed with the others."""

import csv
import io

import pytest

from facilities.models import Facility
from facilities.models import FacilityStatus as S
from geo.models import Commune
from healthbook.models import Citizen
from provinces.models import CommuneDayRollup
from tests.provinces.conftest import citizen, compute, encounter, facility, today

pytestmark = pytest.mark.django_db

HOAN_KIEM, BA_DINH, BEN_THANH = "00070", "00004", "26743"


def _place(person, code):
    Citizen.objects.filter(pk=person.pk).update(residence_commune_code=code)
    return person


@pytest.fixture
def hanoi_communes(db):
    busy = facility("01101", "01", name="Trạm Y tế Hoàn Kiếm")
    Facility.objects.filter(pk=busy.pk).update(status=S.CONNECTED, commune_unit=Commune.objects.get(code=HOAN_KIEM))
    other = facility("01102", "01", name="Phòng khám Ba Đình")
    Facility.objects.filter(pk=other.pk).update(commune_unit=Commune.objects.get(code=BA_DINH))
    for _ in range(3):
        _place(citizen("01"), HOAN_KIEM)
    using = _place(citizen("01"), BA_DINH)
    encounter(using, busy, today())
    _place(citizen("79"), BEN_THANH)
    citizen("01")  # no commune known: in no commune
    run = compute()
    return run


def _rows(response):
    table = response.context["table"]
    keys = [k for k, _ in table.columns]
    return {r[0]: dict(zip(keys, r, strict=True)) for r in table.rows}


def test_rollup_writes_one_row_per_commune_and_day(hanoi_communes):
    assert hanoi_communes.commune_rows == Commune.objects.count() == 3321
    assert CommuneDayRollup.objects.filter(day=today()).count() == 3321
    row = CommuneDayRollup.objects.get(commune__code=HOAN_KIEM, day=today())
    assert (row.books_total, row.books_new, row.facilities_active, row.facilities_connected) == (3, 3, 1, 1)
    assert CommuneDayRollup.objects.get(commune__code=BA_DINH, day=today()).people_using == 1


def test_rerun_gives_the_same_rows(hanoi_communes):
    before = sorted(CommuneDayRollup.objects.values_list("commune_id", "day", "books_total", "people_using"))
    compute()
    after = sorted(CommuneDayRollup.objects.values_list("commune_id", "day", "books_total", "people_using"))
    assert before == after


def test_officer_sees_the_communes_of_their_province(
    hanoi_communes, login, officer_hanoi, django_assert_max_num_queries
):
    client = login(officer_hanoi)
    with django_assert_max_num_queries(12):
        response = client.get("/dashboards/province/01/communes/")
    assert response.status_code == 200
    rows = _rows(response)
    assert len(rows) == Commune.objects.filter(province__code="01").count()
    assert BEN_THANH not in rows
    first = response.context["table"].rows[0]
    assert first[0] == HOAN_KIEM  # sorted by books, most first
    assert rows[HOAN_KIEM]["books"] == 3 and rows[HOAN_KIEM]["connected"] == 1
    assert rows[BA_DINH]["people_using"] == 1 and rows[BA_DINH]["facilities"] == 1
    assert "Phường Hoàn Kiếm" in response.content.decode()


def test_table_sorts_on_any_column(hanoi_communes, login, officer_hanoi):
    client = login(officer_hanoi)
    rows = client.get("/dashboards/province/01/communes/", {"sort": "commune"}).context["table"].rows
    names = [r[1] for r in rows]
    assert names == sorted(names)
    rows = client.get("/dashboards/province/01/communes/", {"sort": "-people_using"}).context["table"].rows
    assert rows[0][0] == BA_DINH
    assert client.get("/dashboards/province/01/communes/", {"sort": "drop table"}).status_code == 200


def test_export_lists_every_commune(hanoi_communes, login, officer_hanoi):
    client = login(officer_hanoi)
    response = client.get("/dashboards/province/01/communes/export/communes.csv")
    assert response.status_code == 200
    lines = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert len(lines) == 1 + Commune.objects.filter(province__code="01").count()
    xlsx = client.get("/dashboards/province/01/communes/export/communes.xlsx")
    assert xlsx.status_code == 200


def test_officer_of_another_province_gets_404(hanoi_communes, login, officer_hanoi):
    client = login(officer_hanoi)
    assert client.get("/dashboards/province/79/communes/").status_code == 404
    assert client.get("/dashboards/province/79/communes/export/communes.csv").status_code == 404
