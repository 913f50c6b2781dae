"""Issue 17, point 7 — done when "a retired ICD-10 code still sent by a facility appears in the
impact report": a signed XML 130 file goes through the real endpoint and intake, a ministry
editor then retires its main diagnosis in a draft, and the report (review page, report page,
CSV/XLSX export) names the facility, the code and how often it was sent; one aggregate query."""

import csv
import io
from datetime import date, timedelta

import pytest
from django.utils import timezone
from openpyxl import load_workbook

from codelists import services
from codelists.impact import retired_code_impact
from codelists.models import CodeSystem, Concept
from healthbook.models import Encounter, FollowUpAppointment

from .conftest import process

pytestmark = pytest.mark.django_db


@pytest.fixture
def retired(sender, signed, intake_codelists, ministry_editor):
    """The main diagnosis of the visits just sent, retired in a new ICD-10 draft."""
    sub = process(sender.post(signed))
    assert sub.status in ("accepted", "accepted_with_warnings")
    code = Encounter.objects.values_list("main_diagnosis", flat=True).first()
    draft = services.draft_start(
        system=CodeSystem.objects.get(key="icd10"),
        acting_user=ministry_editor,
        label="ICD-10 2027",
        effective_from=date.today() + timedelta(days=60),
    )
    concept = Concept.objects.get(version=draft, code=code)
    services.concept_retire(concept=concept, acting_user=ministry_editor, expected_revision=concept.revision)
    return draft, code


def test_retired_code_sent_by_a_facility_is_in_the_report(retired, facility_a, django_assert_num_queries):
    draft, code = retired
    # The expected figure, counted the slow way: visits and follow-up slips (XML14) naming it.
    sent = sum((e.main_diagnosis == code) + e.secondary_diagnoses.count(code) for e in Encounter.objects.all())
    sent += FollowUpAppointment.objects.filter(main_diagnosis=code).count()
    assert sent >= 1
    draft = type(draft).objects.select_related("system", "based_on").get(pk=draft.pk)
    with django_assert_num_queries(2):  # the retired codes, then one aggregate over the book
        impact = retired_code_impact(draft)
    assert list(impact.retired) == [code] and impact.retired[code].change == "retired"
    (row,) = [r for r in impact.rows if r.code == code]
    assert (row.facility_code, row.records, row.submissions) == (facility_a.code, sent, 1)
    assert row.province_code == "01"
    # Nothing of it 90 days from now.
    later = retired_code_impact(draft, now=timezone.now() + timedelta(days=91))
    assert later.rows == []


def test_query_count_does_not_grow_with_facilities_or_codes(retired, sender, pki, facility_b, ministry_editor):
    """A second facility sending the same visits adds rows, not queries."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    draft, code = retired
    draft = type(draft).objects.select_related("system", "based_on").get(pk=draft.pk)
    with CaptureQueriesContext(connection) as before:
        retired_code_impact(draft)
    for other in Concept.objects.filter(version=draft, active=True).order_by("code")[:20]:
        services.concept_retire(concept=other, acting_user=ministry_editor, expected_revision=other.revision)
    with CaptureQueriesContext(connection) as after:
        impact = retired_code_impact(draft)
    assert len(impact.retired) == 21 and len(after.captured_queries) == len(before.captured_queries) == 2


def test_report_page_review_block_and_exports(retired, facility_a, login, ministry_admin):
    draft, code = retired
    client = login(ministry_admin)
    review = client.get(draft.get_absolute_url())
    assert review.status_code == 200
    body = review.content.decode()
    assert code in body and facility_a.code in body
    page = client.get(f"/codelists/icd10/versions/{draft.pk}/impact/")
    assert page.status_code == 200
    text = page.content.decode()
    assert facility_a.name in text and f"<code>{code}</code>" in text
    assert (date.today() + timedelta(days=60)).strftime("%d/%m/%Y") in text  # the notice names the date
    response = client.get(f"/codelists/icd10/versions/{draft.pk}/impact.csv")
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert any(r[2] == facility_a.code and r[4] == code for r in rows[1:])
    response = client.get(f"/codelists/icd10/versions/{draft.pk}/impact.xlsx")
    sheet = load_workbook(io.BytesIO(response.content)).active
    assert any(r[2] == facility_a.code and r[4] == code for r in sheet.iter_rows(min_row=2, values_only=True))


def test_a_province_officer_sees_only_published_versions_and_their_province(retired, login, officer_hanoi, officer_hcm):
    draft, _code = retired
    assert login(officer_hanoi).get(f"/codelists/icd10/versions/{draft.pk}/impact/").status_code == 404  # a draft
    published = draft.based_on
    assert login(officer_hcm).get(f"/codelists/icd10/versions/{published.pk}/impact/").status_code == 200


def test_the_reports_are_reached_from_the_navigation(retired, login, officer_hanoi, ministry_admin):
    draft, _code = retired
    for user, sees_draft in ((ministry_admin, True), (officer_hanoi, False)):
        client = login(user)
        home = client.get("/").content.decode()
        assert "/codelists/retired-codes/" in home
        index = client.get("/codelists/retired-codes/").content.decode()
        assert (f"/codelists/icd10/versions/{draft.pk}/impact/" in index) is sees_draft


@pytest.mark.parametrize(
    "key", ["icd10", "icd9cm", "lab-indicator", "vaccine", "visit-type", "treatment-result", "discharge-type"]
)
def test_every_tracked_list_has_a_working_statement(db, key, facility_a):
    """Each list's statement runs (one query) and finds nothing where nothing was sent."""
    from healthbook.intake.code_usage import code_usage

    since = timezone.now() - timedelta(days=90)
    assert code_usage(key, ["NOPE"], since, None) == []
    assert code_usage(key, ["NOPE"], since, facility_a.province_id) == []
    assert code_usage("ethnicity", ["01"], since, None) is None  # not a list the book stores
