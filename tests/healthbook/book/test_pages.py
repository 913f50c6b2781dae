"""The book pages in Vietnamese: content, filters, paging, printing, and a query count that
does not grow with the length of the history."""

import datetime as dt

import pytest
from django.core.cache import caches
from django.urls import reverse
from django.utils import timezone

from accesslog.models import AccessLogEntry
from healthbook.models import Encounter, LabObservation
from tests.healthbook.book import factories as df

pytestmark = pytest.mark.django_db


def url(name, citizen, **kw):
    return reverse(name, kwargs={"public_id": citizen.book.public_id, **kw})


def test_book_page_shows_header_history_and_viewers(login, doctor_a, patient_a):
    client = login(doctor_a)
    body = client.get(url("book-detail", patient_a)).content.decode()
    assert "Nguyễn Văn Bệnh" in body
    assert "Tăng huyết áp vô căn" in body  # diagnosis named from the code list
    assert "Bệnh đái tháo đường" in body and "Tiền sử dị ứng penicilin" in body  # chronic, allergy
    assert "Ai đã xem sổ này" in body and doctor_a.full_name in body.split('id="viewers"')[1]
    assert 'id="card-status"' in body


def test_search_shows_minimal_identity_only(login, doctor_a, patient_a):
    client = login(doctor_a)
    body = client.post(reverse("citizen-search"), {"q": "nguyen van benh"}).content.decode()
    assert "Nguyễn Văn Bệnh" in body
    assert patient_a.personal_id not in body
    assert "•" * 9 + patient_a.personal_id[-3:] in body  # the last 3 digits only (issue 15)
    assert "Tăng huyết áp" not in body
    entry = AccessLogEntry.objects.order_by("-seq").first()
    assert entry.event == "search" and entry.details["results"] >= 1


def test_search_by_personal_id_logs_the_citizen(login, doctor_a, patient_a):
    login(doctor_a).post(reverse("citizen-search"), {"q": patient_a.personal_id})
    assert AccessLogEntry.objects.order_by("-seq").first().citizen_id == patient_a.pk


def test_search_in_the_query_string_searches_nothing_and_logs_nothing(login, doctor_a, patient_a):
    """The form posts; an old bookmark or link with ?q=<personal ID> shows the empty form."""
    before = AccessLogEntry.objects.count()
    body = login(doctor_a).get(reverse("citizen-search"), {"q": patient_a.personal_id}).content.decode()
    assert "Nguyễn Văn Bệnh" not in body and 'method="post"' in body
    assert AccessLogEntry.objects.count() == before


def test_bad_search_input_is_a_message_not_an_error(login, doctor_a):
    client = login(doctor_a)
    for q in ("a", "' OR 1=1--", "%_%", "x" * 99, "nguy\x00en"):
        response = client.post(reverse("citizen-search"), {"q": q, "birth_year": "abc"})
        assert response.status_code == 200


def test_visit_page_lists_labs_with_ranges_flags_drugs_notes_and_discharge(login, doctor_a, patient_a):
    visit = Encounter.objects.get(book=patient_a.book)
    body = login(doctor_a).get(url("book-visit", patient_a, visit_id=visit.pk)).content.decode()
    for text in ("Glucose máu", "3,9 – 6,4", "cao", "Amlodipin 0", "Huyết áp 150/95", "Nội khoa", "I10"):
        assert text in body, text


def test_visit_of_another_book_is_404(login, doctor_a, patient_a, stranger):
    other = Encounter.objects.get(book=stranger.book)
    assert login(doctor_a).get(url("book-visit", patient_a, visit_id=other.pk)).status_code == 404


def test_lab_chart_page_carries_the_series(login, doctor_a, patient_a):
    body = login(doctor_a).get(url("book-lab-chart", patient_a) + "?code=GLU").content.decode()
    assert "chart.umd.min.js" in body and "book_lab_chart.js" in body and 'id="lab-chart-data"' in body
    assert body.count("mmol/L") >= 3


def test_timeline_filters_by_kind_facility_and_date(login, doctor_a, patient_a, facility_b):
    df.visit(patient_a.book, facility_b, dx="J06", when=timezone.now() - dt.timedelta(days=400))
    client = login(doctor_a)
    all_rows = client.get(url("book-timeline", patient_a), HTTP_HX_REQUEST="true").content.decode()
    assert all_rows.count('class="timeline-item kind-visit"') == 2
    only_b = client.get(
        url("book-timeline", patient_a), {"facility": "79001", "kind": "visit"}, HTTP_HX_REQUEST="true"
    ).content.decode()
    assert only_b.count("kind-visit") == 1 and "J06" in only_b
    recent = client.get(
        url("book-timeline", patient_a),
        {"date_from": (timezone.localdate() - dt.timedelta(days=100)).isoformat()},
        HTTP_HX_REQUEST="true",
    ).content.decode()
    assert "J06" not in recent and "kind-lab" in recent


def test_timeline_pages_with_htmx(login, doctor_a, patient_a, facility_a):
    for i in range(30):
        df.visit(patient_a.book, facility_a, when=timezone.now() - dt.timedelta(days=40 + i))
    client = login(doctor_a)
    first = client.get(url("book-timeline", patient_a), {"kind": "visit"}, HTTP_HX_REQUEST="true").content.decode()
    assert first.count("kind-visit") == 25 and 'id="timeline-more"' in first
    import re

    cursor = re.search(r"before=([^\"&]+)", first).group(1)
    from urllib.parse import unquote

    second = client.get(
        url("book-timeline", patient_a), {"kind": "visit", "before": unquote(cursor)}, HTTP_HX_REQUEST="true"
    ).content.decode()
    assert second.count("kind-visit") == 6 and 'id="timeline-more"' not in second


def test_print_is_logged_as_a_print(login, doctor_a, patient_a):
    body = login(doctor_a).get(url("book-detail", patient_a), {"print": "1"}).content.decode()
    assert "book_print.js" in body
    assert AccessLogEntry.objects.order_by("-seq").first().event == "print"


def test_vaccination_schedule_shows_given_and_overdue(login, doctor_a, facility_a, code_lists):
    child = df.citizen(name="Bé Thử", birth=timezone.localdate() - dt.timedelta(days=400), card_facility="01001")
    df.immunization(child.book, facility_a, code="TCMR-BCG", on=child.birth_date)
    client = login(doctor_a)
    body = client.get(url("book-vaccinations", child)).content.decode()
    assert 'class="vaccine-given"' in body and 'class="vaccine-overdue"' in body
    assert "Tiêm chủng quá hạn" in client.get(url("book-detail", child)).content.decode()


def test_pregnancy_checkups_form_one_timeline_per_pregnancy(login, doctor_a, facility_a, code_lists):
    mother = df.citizen(name="Lê Thị Mẹ", sex=2, card_facility="01001")
    df.pregnancy_checkup(mother.book, facility_a, weeks="12", days_ago=800, key="2023-09-01")
    df.pregnancy_checkup(mother.book, facility_a, weeks="10", days_ago=60, key="2025-12-01")
    df.pregnancy_checkup(mother.book, facility_a, weeks="18", days_ago=10, key="2025-12-01")
    body = login(doctor_a).get(url("book-pregnancies", mother)).content.decode()
    assert body.count('class="mb-4 pregnancy"') == 2
    assert body.index("01/12/2025") < body.index("01/09/2023")


def test_missed_and_upcoming_follow_ups(login, doctor_a, facility_a, patient_a):
    df.follow_up(patient_a.book, facility_a, on=timezone.localdate() + dt.timedelta(days=5))
    df.follow_up(patient_a.book, facility_a, on=timezone.localdate() - dt.timedelta(days=20))
    body = login(doctor_a).get(url("book-follow-ups", patient_a)).content.decode()
    upcoming, missed = body.split('id="follow-ups-upcoming"')[1], body.split('id="follow-ups-missed"')[1]
    assert (timezone.localdate() + dt.timedelta(days=5)).strftime("%d/%m/%Y") in upcoming.split("</ul>")[0]
    assert (timezone.localdate() - dt.timedelta(days=20)).strftime("%d/%m/%Y") in missed.split("</ul>")[0]


def test_certificates_show_signature_status(login, doctor_a, facility_a, patient_a):
    df.birth_certificate(patient_a.book, facility_a)
    body = login(doctor_a).get(url("book-certificates", patient_a)).content.decode()
    assert "Giấy chứng sinh" in body and f"đã ký số bởi {facility_a.name}, đã xác minh" in body


def test_prescriptions_page_lists_drugs(login, doctor_a, patient_a):
    body = login(doctor_a).get(url("book-prescriptions", patient_a)).content.decode()
    assert "Amlodipin 1" in body


def _history(book, facility, n: int) -> None:
    """n visits with 3 lab results each, bulk-created."""
    sub = df.submission(facility)
    now = timezone.now()
    visits = Encounter.objects.bulk_create(
        [
            Encounter(
                book=book,
                facility=facility,
                submission=sub,
                key=f"BULK{book.pk}-{i}",
                source="xml130",
                content_hash="x" * 64,
                occurred_at=now - dt.timedelta(hours=i + 1),
                visit_type="01",
                main_diagnosis="I10",
                secondary_diagnoses=["E11"],
            )
            for i in range(n)
        ]
    )
    LabObservation.objects.bulk_create(
        [
            LabObservation(
                book=book,
                facility=facility,
                submission=sub,
                encounter=v,
                occurred_at=v.occurred_at,
                indicator_code="GLU",
                value="6.1",
                value_number=6.1,
                unit="mmol/L",
                source_key=f"{v.key}/{j}",
            )
            for v in visits
            for j in range(3)
        ]
    )


PAGES = [
    "book-detail",
    "book-timeline",
    "book-labs",
    "book-vaccinations",
    "book-pregnancies",
    "book-prescriptions",
    "book-follow-ups",
    "book-certificates",
    "book-access-log",
]


@pytest.mark.parametrize("page", [*PAGES, "book-lab-chart"])
def test_query_count_does_not_grow_with_the_history(
    page, login, doctor_a, facility_a, code_lists, django_assert_max_num_queries
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    small, large = df.citizen(card_facility="01001"), df.citizen(card_facility="01001")
    _history(small.book, facility_a, 10)
    _history(large.book, facility_a, 1000)
    client = login(doctor_a)
    query = "?code=GLU" if page == "book-lab-chart" else ""
    client.get(url(page, small) + query)  # warm the code-name cache and the session
    caches["book_fragments"].clear()  # both measured opens render everything (no cached fragment)
    with CaptureQueriesContext(connection) as few:
        assert client.get(url(page, small) + query).status_code == 200
    caches["book_fragments"].clear()
    with django_assert_max_num_queries(len(few)):
        assert client.get(url(page, large) + query).status_code == 200
    # Two are the session and the user (with facility and TOTP enrolment); the decision is one,
    # the log append two plus a savepoint pair here; the rest are the page's own blocks.
    assert len(few) <= 18


def test_book_page_query_budget(login, doctor_a, patient_a, django_assert_max_num_queries):
    client = login(doctor_a)
    client.get(url("book-detail", patient_a))
    caches["book_fragments"].clear()
    # session, user, decision, log append (2, plus SAVEPOINT/RELEASE in the test's transaction),
    # timeline, viewers, header: 8 + 2. The session row is not rewritten within the minute.
    with django_assert_max_num_queries(10):
        client.get(url("book-detail", patient_a))
    # Opened again, unchanged: the header's facts and the timeline come from their fragments.
    with django_assert_max_num_queries(8):
        client.get(url("book-detail", patient_a))


def test_book_urls_are_the_url_confs(patient_a):
    from django.urls import reverse

    from healthbook.book.views import BOOK_TAB_URL_NAMES, book_urls

    pid = patient_a.book.public_id
    urls = book_urls(pid)
    for name in BOOK_TAB_URL_NAMES:
        assert urls[name.replace("-", "_")] == reverse(name, kwargs={"public_id": pid})
    assert urls["visit_prefix"] + "42" + urls["visit_suffix"] == reverse(
        "book-visit", kwargs={"public_id": pid, "visit_id": 42}
    )


def test_timeline_pages_bound_lab_and_drug_groups_without_cutting_them(patient_a, facility_a, facility_b):
    """Paged walks (lab and drug groups bounded by the page's oldest visit) list exactly what one
    unbounded page lists: a group whose rows straddle the bound keeps all of them."""
    from healthbook.book import selectors as history
    from healthbook.models import Medication

    book = patient_a.book
    now = timezone.now()
    for i in range(12):
        e = df.visit(book, facility_a if i % 2 else facility_b, when=now - dt.timedelta(days=3 * i), labs=2, drugs=2)
        # one more drug of the same visit a week older than it: the group straddles any bound
        Medication.objects.create(
            book=book,
            facility=e.facility,
            submission=e.submission,
            encounter=e,
            occurred_at=e.occurred_at - dt.timedelta(days=7),
            source_key=f"late-{i}",
            code="40.9",
            name="Late",
        )
    for i in range(3):  # drugs without a visit, grouped by prescription code
        Medication.objects.create(
            book=book,
            facility=facility_a,
            submission=df.submission(facility_a),
            encounter=None,
            occurred_at=now - dt.timedelta(days=5 * i + 1),
            source_key=f"rx-{i}",
            code="40.1",
            name="Rx",
            prescription_code=f"RX{i % 2}",
        )

    class Access:
        pass

    access = Access()
    access.book = book
    for kinds in (history.TIMELINE_KINDS, ("visit", "prescription"), ("visit", "lab")):
        flt = history.TimelineFilter(kinds=kinds)
        everything, _ = history.timeline(access, flt, limit=1000)
        for limit in (1, 2, 5):
            walked, before = [], None
            while True:
                items, cursor = history.timeline(access, flt, before=before, limit=limit)
                walked += items
                if not cursor:
                    break
                before = history.parse_cursor(cursor)
            assert [vars(i) for i in walked] == [vars(i) for i in everything]
        if "prescription" in kinds:  # the visits' groups, the late drug included
            assert sum(1 for i in everything if i.kind == "prescription" and i.count == 3) == 12


def test_search_says_when_it_shows_only_the_first_results_and_whom_the_doctor_may_open(
    login, doctor_a, patient_a, django_assert_max_num_queries
):
    """Issue 18: results were silently capped at 20, and nothing said which ones the doctor's
    facility has a care relationship with."""
    from tests.healthbook.book import factories as df  # noqa: PLC0415

    for n in range(21):
        df.citizen(name=f"Nguyễn Văn Bệnh {chr(65 + n)}")
    client = login(doctor_a)
    with django_assert_max_num_queries(20):
        body = client.post(reverse("citizen-search"), {"q": "nguyen van benh"}).content.decode()
    assert "chỉ hiển thị 20 người đầu tiên" in body
    assert body.count("<tr>") == 21  # the header and 20 rows
    assert "Có quan hệ khám chữa bệnh" in body  # patient_a visited the doctor's facility
    assert "Chưa có quan hệ khám chữa bệnh" in body
    assert "Thành phố Hà Nội" in body
