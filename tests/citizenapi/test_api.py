"""The citizen API's reads: each one the token's citizen's book only, each one logged as the
citizen's own read, in a fixed number of queries, in Vietnamese or English."""

import datetime as dt

import pytest
from dateutil.relativedelta import relativedelta
from django.urls import reverse
from django.utils import timezone

from accesslog.models import AccessLogEntry, ActorKind, Outcome
from healthbook.models import DischargePaper, Document
from tests.healthbook.book import factories as df
from tests.healthbook.book.conftest import facility_headers

pytestmark = pytest.mark.django_db

LIST_URLS = [
    "summary",
    "visits",
    "labs",
    "vaccinations",
    "prescriptions",
    "follow-ups",
    "pregnancies",
    "certificates",
    "access-log",
]


def url(name, **kwargs):
    return reverse(f"citizenapi:{name}", kwargs=kwargs or None)


def get(client, platform, citizen, name, *, lang="vi", act_for=None, **kwargs):
    return client.get(
        url(name, **kwargs), HTTP_ACCEPT_LANGUAGE=lang, **platform.header(citizen.personal_id, act_for=act_for)
    )


@pytest.mark.parametrize("name", LIST_URLS)
def test_every_read_answers_for_the_token_citizen_and_leaves_one_own_read_entry(client, platform, patient_a, name):
    before = AccessLogEntry.objects.count()
    response = get(client, platform, patient_a, name)
    assert response.status_code == 200, response.content
    assert AccessLogEntry.objects.count() == before + 1
    entry = AccessLogEntry.objects.order_by("-seq").first()
    assert entry.actor_kind == ActorKind.CITIZEN and entry.outcome == Outcome.SUCCESS
    assert entry.citizen_id == patient_a.pk and entry.event == "citizen_read"
    assert patient_a.personal_id not in entry.actor_username  # masked
    assert entry.details["platform"] == "VNeID (test)" and entry.details["token"]


def test_summary_shows_the_book_at_a_glance(client, platform, patient_a):
    body = get(client, platform, patient_a, "summary").json()
    assert body["citizen"]["full_name"] == "Nguyễn Văn Bệnh"
    assert body["citizen"]["personal_id_masked"].endswith(patient_a.personal_id[-3:])
    assert patient_a.personal_id not in str(body)
    assert body["last_visits"][0]["main_diagnosis"] == {"code": "I10", "name": "Tăng huyết áp vô căn (nguyên phát)"}
    assert body["acting"] == {"acting_for_child": False, "relationship": None}
    assert body["citizen"]["sex_label"] == "Nam"
    english = get(client, platform, patient_a, "summary", lang="en").json()
    assert english["citizen"]["sex_label"] == "Male"


def test_a_token_for_one_citizen_reads_nothing_of_another(client, platform, patient_a, stranger):
    for name in LIST_URLS:
        body = get(client, platform, stranger, name).content.decode()
        assert "Nguyễn Văn Bệnh" not in body and "I10" not in body
    cert = df.birth_certificate(patient_a.book, patient_a.book.encounters.first().facility)
    response = get(client, platform, stranger, "certificate", kind="birth", cert_id=cert.pk)
    assert response.status_code == 404
    assert get(client, platform, patient_a, "certificate", kind="birth", cert_id=cert.pk).status_code == 200


def test_visits_are_paged_with_named_diagnoses(client, platform, patient_a):
    body = get(client, platform, patient_a, "visits").json()
    assert body["page"] == 1 and body["next_page"] is None
    visit = body["visits"][0]
    assert {"code": "I10", "name": "Tăng huyết áp vô căn (nguyên phát)", "main": True} in visit["diagnoses"]
    assert len(visit["medications"]) == 2 and len(visit["lab_results"]) == 3
    bad = client.get(url("visits") + "?page=0", **platform.header(patient_a.personal_id))
    assert bad.status_code == 400 and bad.json()["code"] == "invalid_page"


def test_lab_trend(client, platform, patient_a):
    body = get(client, platform, patient_a, "lab-series", code="GLU").json()
    assert body["name"] == "Glucose máu" and len(body["points"]) == 3
    assert body["trend"] in ("up", "down", "steady")
    missing = get(client, platform, patient_a, "lab-series", code="NOPE")
    assert missing.status_code == 404 and missing.json()["code"] == "not_found"


def test_stored_pdf_downloads_and_papers_have_no_file(client, platform, patient_a):
    facility = patient_a.book.encounters.first().facility
    doc = Document.objects.create(
        book=patient_a.book,
        facility=facility,
        submission=df.submission(facility),
        occurred_at=timezone.now(),
        number="LX-1",
        issued_on=timezone.localdate(),
        kind="driver_health",
        content_type="application/pdf",
        content=b"%PDF-1.4 test",
        signature_status="verified",
    )
    detail = get(client, platform, patient_a, "certificate", kind="driver_health", cert_id=doc.pk).json()
    assert detail["has_file"] is True and detail["kind_label"] == "Giấy khám sức khỏe lái xe"
    response = get(client, platform, patient_a, "certificate-file", kind="driver_health", cert_id=doc.pk)
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert b"".join(response.streaming_content) == b"%PDF-1.4 test"
    paper = DischargePaper.objects.get(book=patient_a.book)  # a paper: its fields, no stored file
    none = get(client, platform, patient_a, "certificate-file", kind="discharge", cert_id=paper.pk)
    assert none.status_code == 404 and none.json()["code"] == "no_file"


def test_a_parent_reads_a_young_childs_book_and_not_a_15_year_olds(client, platform, patient_a, code_lists):
    today = timezone.localdate()
    child = df.citizen(name="Nguyễn Bé Con", birth=today - relativedelta(years=3))
    df.immunization(child.book, patient_a.book.encounters.first().facility, code="TCMR-BCG", on=today)
    teen = df.citizen(name="Nguyễn Văn Lớn", birth=today - relativedelta(years=15))
    act = {"pid": child.personal_id, "relationship": "parent"}
    body = get(client, platform, patient_a, "vaccinations", act_for=act).json()
    assert body["child"] is True and body["given"][0]["vaccine"] == "TCMR-BCG"
    states = {row["code"]: row["state"] for row in body["schedule"]}
    assert states["TCMR-BCG"] == "given" and states["TCMR-SOI"] == "overdue"
    entry = AccessLogEntry.objects.order_by("-seq").first()
    assert entry.citizen_id == child.pk and entry.details["relationship"] == "parent"
    assert entry.details["guardian"].endswith(patient_a.personal_id[-3:])
    refused = get(client, platform, patient_a, "summary", act_for={"pid": teen.personal_id, "relationship": "parent"})
    assert refused.status_code == 401 and refused.json()["code"] == "child_too_old"


def test_replayed_and_expired_tokens_are_refused_in_the_error_shape(client, platform, patient_a):
    token = platform.token(patient_a.personal_id)
    assert client.get(url("summary"), HTTP_AUTHORIZATION=f"Citizen-Token {token}").status_code == 200
    replay = client.get(url("summary"), HTTP_AUTHORIZATION=f"Citizen-Token {token}")
    assert replay.status_code == 401
    assert replay.json()["code"] == "token_replayed" and replay["WWW-Authenticate"] == "Citizen-Token"
    old = platform.token(patient_a.personal_id, now=timezone.now() - dt.timedelta(minutes=10))
    expired = client.get(url("summary"), HTTP_AUTHORIZATION=f"Citizen-Token {old}", HTTP_ACCEPT_LANGUAGE="en")
    assert expired.status_code == 401 and expired.json()["code"] == "token_expired"
    assert "expired" in expired.json()["message"]


def test_staff_and_facility_credentials_read_nothing_of_the_citizen_api(
    client, login, platform, patient_a, key_a, doctor_a, citizen_app_key
):
    staff = login(doctor_a)
    assert staff.get(url("summary")).status_code in (401, 403)
    staff.logout()
    for headers in (
        {"HTTP_AUTHORIZATION": f"Api-Key {key_a}"},
        facility_headers(key_a, "doctor_a"),
        {"HTTP_AUTHORIZATION": f"Citizen-App-Key {citizen_app_key}"},
        {},
    ):
        assert client.get(url("summary"), **headers).status_code in (401, 403)


def test_the_citizen_token_reads_nothing_outside_the_citizen_api(client, platform, patient_a):
    for path in (
        reverse("api-citizen-history", kwargs={"book": patient_a.book.public_id}),
        reverse("fhir-patient-everything", kwargs={"id": str(patient_a.book.public_id)}),
        reverse("book-detail", kwargs={"public_id": patient_a.book.public_id}),
    ):
        response = client.get(path, **platform.header(patient_a.personal_id))
        assert response.status_code in (302, 401, 403, 404)
        assert "Nguyễn Văn Bệnh" not in response.content.decode()
    response = client.post(
        reverse("api-citizen-access-log"),
        {"personal_id": patient_a.personal_id},
        content_type="application/json",
        **platform.header(patient_a.personal_id),
    )
    assert response.status_code in (401, 403)


# Every call: the token (token id; citizen with book and card; the key is remembered), the log entry
# (savepoint, chain head, insert, release); then the resource's own queries.
TOKEN_BOOK_AND_LOG = 6


@pytest.mark.parametrize(
    ("name", "queries"),
    [
        ("summary", 2),  # header facts, last visits
        ("visits", 10),  # encounters_page without the papers (the visit and nine prefetches)
        ("labs", 1),
        ("vaccinations", 1),
        ("prescriptions", 2),
        ("follow-ups", 1),
        ("pregnancies", 1),
        ("certificates", 5),
        ("access-log", 1),
    ],
)
def test_query_counts_do_not_grow_with_the_book(client, platform, patient_a, name, queries, django_assert_num_queries):
    facility = patient_a.book.encounters.first().facility
    for days in (60, 90, 120):
        df.visit(patient_a.book, facility, when=timezone.now() - dt.timedelta(days=days), labs=2, drugs=2)
    get(client, platform, patient_a, name)  # warm the process caches (code names, facilities)
    with django_assert_num_queries(TOKEN_BOOK_AND_LOG + queries):
        assert get(client, platform, patient_a, name).status_code == 200


def test_a_citizen_without_a_book_gets_404_and_a_refused_entry(client, platform):
    from healthbook.models import Citizen

    person = Citizen.objects.create(
        personal_id="001199999990", full_name="Phạm Văn Mới", birth_date=dt.date(1990, 1, 1)
    )
    response = get(client, platform, person, "summary")
    assert response.status_code == 404 and response.json()["code"] == "no_book"
    entry = AccessLogEntry.objects.order_by("-seq").first()
    assert entry.citizen_id == person.pk and entry.outcome == Outcome.DENIED and entry.details["refused"] == "no_book"
