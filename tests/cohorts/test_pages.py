"""The counts pages: who sees what, small cells suppressed on every page and export, pages that
read only the precomputed rows (no query touches the book), and the ministry's rule editor."""

import io

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from openpyxl import load_workbook

from cohorts.models import CohortDefinition
from cohorts.selectors import current_version
from cohorts.services import memberships_compute
from tests import factories as f
from tests.cohorts.conftest import days_ago, facility, person, visit

pytestmark = pytest.mark.django_db

KEY = "chronic-not-seen-12-months"
BOOK_TABLES = ("healthbook_", "facilities_daily", '_day"', "cohorts_cohortmembership")


@pytest.fixture
def hanoi(icd10):
    """Province 01: 3 members in commune 00004 (last seen at 01101), 12 in 00007 (at 01102)."""
    a, b = facility("01101", "01"), facility("01102", "01")
    for _ in range(3):
        visit(person("01", commune="00004"), a, days_ago(400), "I10")
    for _ in range(12):
        visit(person("01", commune="00007"), b, days_ago(500), "E11")
    visit(person("79", commune="26734"), facility("79101", "79"), days_ago(400), "I10")
    memberships_compute()
    return a, b


def test_officer_sees_their_province_by_commune_with_small_cells_suppressed(login, officer_hanoi, hanoi):
    client = login(officer_hanoi)
    page = client.get("/cohorts/province/01/")
    assert page.status_code == 200
    assert "15" in page.content.decode()
    detail = client.get(f"/cohorts/province/01/{KEY}/").content.decode()
    communes = detail.split('id="communes-table"')[1].split("</table>")[0]
    assert "&lt; 5" in communes  # commune 00004: 3 people
    assert "×" in communes  # complementary: 12 would give 15 - 12 = 3 away
    assert ">12<" not in communes and ">3<" not in communes
    assert ">15<" in communes  # the total stays shown
    assert client.get("/cohorts/province/79/").status_code == 404
    assert client.get(f"/cohorts/province/79/{KEY}/").status_code == 404
    assert client.get("/cohorts/national/").status_code == 403
    assert client.get("/cohorts/").url == "/cohorts/province/01/"


def test_doctors_are_refused(login, doctor_a, hanoi):
    client = login(doctor_a)
    assert client.get("/cohorts/province/01/").status_code == 403


def test_exports_carry_the_same_suppression(login, officer_hanoi, hanoi):
    client = login(officer_hanoi)
    csv_text = client.get(f"/cohorts/province/01/{KEY}/export/communes.csv").content.decode("utf-8-sig")
    assert "< 5" in csv_text and "×" in csv_text and ",12\r" not in csv_text and ",3\r" not in csv_text
    book = load_workbook(io.BytesIO(client.get(f"/cohorts/province/01/{KEY}/export/facilities.xlsx").content))
    values = [row[-1] for row in book.active.iter_rows(min_row=2, values_only=True)]
    assert values == ["< 5", "×", 15]
    assert client.get(f"/cohorts/province/01/{KEY}/export/trend.csv").status_code == 200
    assert client.get("/cohorts/province/01/export/cohorts.xlsx").status_code == 200
    assert client.get(f"/cohorts/province/01/{KEY}/export/nothing.csv").status_code == 404


def test_ministry_sees_every_province(login, ministry_editor, hanoi):
    client = login(ministry_editor)
    page = client.get("/cohorts/national/").content.decode()
    assert "Hà Nội" in page or "01" in page
    assert client.get("/cohorts/province/79/").status_code == 200
    csv_text = client.get("/cohorts/national/export/national.csv").content.decode("utf-8-sig")
    assert "< 5" in csv_text  # province 79: one member


def test_pages_read_only_precomputed_rows_in_a_bounded_number_of_queries(login, officer_hanoi, hanoi):
    client = login(officer_hanoi)
    urls = ["/cohorts/province/01/", f"/cohorts/province/01/{KEY}/", f"/cohorts/province/01/{KEY}/export/communes.xlsx"]
    client.get(urls[0])

    def measure():
        counts = {}
        for url in urls:
            with CaptureQueriesContext(connection) as ctx:
                assert client.get(url).status_code == 200
            assert not [q["sql"] for q in ctx.captured_queries if any(t in q["sql"] for t in BOOK_TABLES)]
            counts[url] = len(ctx.captured_queries)
        return counts

    before = measure()
    a = facility("01103", "01")
    for _ in range(30):
        visit(person("01", commune="00010"), a, days_ago(450), "I10")
    memberships_compute(provinces=["01"])
    assert measure() == before
    assert max(before.values()) <= 20


def test_ministry_adds_a_version_through_the_form(login, ministry_editor, icd10):
    client = login(ministry_editor)
    response = client.post(
        f"/cohorts/definitions/{KEY}/",
        {"name": "Không khám 6 tháng", "diagnosis_groups": "chronic", "last_visit_before_days": "180"},
    )
    assert response.status_code == 302
    definition = CohortDefinition.objects.get(key=KEY)
    assert list(definition.versions.values_list("number", flat=True).order_by("number")) == [1, 2]
    bad = client.post("/cohorts/definitions/new/", {"key": "x-1", "name": "X", "sex": ["2"], "age_min": "5"})
    assert bad.status_code == 200
    assert "Khoảng tuổi cần có đơn vị" in bad.content.decode()  # the schema's message, in Vietnamese
    assert not CohortDefinition.objects.filter(key="x-1").exists()
    created = client.post("/cohorts/definitions/new/", {"key": "x-2", "name": "X", "diagnosis_codes": "I10, e11"})
    assert created.status_code == 302
    assert CohortDefinition.objects.get(key="x-2").versions.get().criteria == {"diagnosis_codes": ["I10", "E11"]}


def test_officers_cannot_edit_rules(login, officer_hanoi, icd10):
    client = login(officer_hanoi)
    assert client.get("/cohorts/definitions/").status_code == 403
    assert client.post("/cohorts/definitions/new/", {"key": "y", "name": "Y", "sex": ["2"]}).status_code == 403
    assert f.province("01")


def test_a_cohort_page_reads_the_runs_totals_and_sums_nothing(login, officer_hanoi, hanoi):
    """The detail page and its exports read the job's per-run totals (a row per commune, per
    facility, per run): three reads of the totals, no SUM at page time, a fixed number of
    queries whatever the number of members, communes and facilities."""
    client = login(officer_hanoi)
    url = f"/cohorts/province/01/{KEY}/"
    client.get(url)

    def queries(path):
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(path).status_code == 200
        return [q["sql"] for q in ctx.captured_queries]

    page = queries(url)
    assert len([sql for sql in page if "cohorts_cohorttotal" in sql]) == 3  # communes, facilities, trend
    assert not [sql for sql in page if "SUM(" in sql.upper()]
    export = queries(url + "export/facilities.csv")
    assert len([sql for sql in export if "cohorts_cohorttotal" in sql]) == 1
    for n in range(4):  # more members in more communes and facilities, another run
        fac = facility(f"0120{n}", "01")
        for _ in range(6):
            visit(person("01", commune=f"0001{n}"), fac, days_ago(420), "I10")
    memberships_compute(provinces=["01"])
    assert len(queries(url)) == len(page)


def test_the_page_lists_the_facilities_with_most_members_the_export_all(login, officer_hanoi, icd10, monkeypatch):
    """A page lists the LIST_LIMIT facilities with the most members shown (suppressed cells last:
    an order from what is shown only); the export lists every facility, same suppression."""
    from cohorts import views

    for code, n in (("01101", 6), ("01102", 9), ("01103", 3)):
        fac = facility(code, "01")
        for _ in range(n):
            visit(person("01", commune="00004"), fac, days_ago(400), "I10")
    memberships_compute(provinces=["01"])
    monkeypatch.setattr(views, "LIST_LIMIT", 1)
    client = login(officer_hanoi)
    page = client.get(f"/cohorts/province/01/{KEY}/").content.decode()
    table = page.split('id="facilities-table"')[1].split("</table>")[0]
    assert "01102" in table and ">9<" in table  # the most members shown
    assert "01101" not in table and "01103" not in table
    assert ">18<" in table  # the total is the whole table's
    csv_text = client.get(f"/cohorts/province/01/{KEY}/export/facilities.csv").content.decode("utf-8-sig")
    assert "01101" in csv_text and "01102" in csv_text and "01103" in csv_text
    assert "< 5" in csv_text and "×" in csv_text and ",6\r" not in csv_text  # 3 small, 6 its complement


def test_the_job_suppresses_the_facility_table_once_as_the_page_would(icd10):
    """The job stores each facility cell's suppression and its place on the page; the page and the
    export built from them equal the table suppressed at page time (what a run from before the job
    kept them still gets), small and complementary cells included."""
    from cohorts import counts
    from cohorts.models import CohortTotal

    for code, n in (("01101", 6), ("01102", 9), ("01103", 3), ("01105", 7), ("01106", 12)):
        fac = facility(code, "01")
        for _ in range(n):
            visit(person("01", commune="00004"), fac, days_ago(400), "I10")
    run = memberships_compute(provinces=["01"])[0]
    version = current_version(KEY)
    stored = {limit: counts.facilities_table(run, version, limit=limit) for limit in (None, 2, 4, 10)}
    rows = CohortTotal.objects.filter(run=run, version=version, dimension__in=["all", "facility"])
    assert set(rows.values_list("cell", flat=True)) >= {"shown", "small", "hidden"}
    rows.update(cell="", rank=None)  # as a run from before the job kept them
    for limit, table in stored.items():
        here = counts.facilities_table(run, version, limit=limit)
        assert (table.rows, table.note) == (here.rows, here.note), limit
    assert [row[-1] for row in stored[2].rows] == [12, 9, 37]
    assert "< 5" in [row[-1] for row in stored[None].rows] and "×" in [row[-1] for row in stored[None].rows]
