"""S12: stored script in names and notes is shown escaped; the facility admin's review queue."""

import pytest
from django.urls import reverse

from accesslog.models import EmergencyAccess
from accesslog.services import emergency_access_start
from tests.healthbook.book import factories as df

pytestmark = pytest.mark.django_db

PAYLOADS = [
    "<script>alert(1)</script>",
    '"><img src=x onerror=alert(1)>',
    "<svg onload=alert(1)>",
    "javascript:alert(1)",
    "{{ 7*7 }}{% debug %}",
]


@pytest.mark.parametrize("payload", PAYLOADS)
def test_payloads_in_names_and_notes_are_escaped_everywhere(payload, login, doctor_a, facility_a, code_lists):
    person = df.citizen(name=f"Nguyễn {payload}", card_facility="01001")
    visit = df.visit(person.book, facility_a, note=f"ghi chú {payload}", labs=1, drugs=1)
    client = login(doctor_a)
    search = client.post(reverse("citizen-search"), {"q": person.personal_id}).content.decode()
    if "<" in payload:
        assert payload not in search
    pages = [
        reverse(name, kwargs={"public_id": person.book.public_id, **kw}) + query
        for name, kw, query in (
            ("book-detail", {}, ""),
            ("book-timeline", {}, ""),
            ("book-visit", {"visit_id": visit.pk}, ""),
            ("book-lab-chart", {}, "?code=GLU"),
            ("book-access-log", {}, ""),
        )
    ]
    for url in pages:
        body = client.get(url).content.decode()
        if "<" in payload:
            assert payload not in body, url
        assert "alert(1)</script>" not in body and "onerror=alert" not in body.replace("onerror=alert(1)&gt;", "")
    if "{{" in payload:  # stored text is shown as typed, never evaluated as a template
        body = client.get(
            reverse("book-visit", kwargs={"public_id": person.book.public_id, "visit_id": visit.pk})
        ).content.decode()
        assert "ghi chú {{ 7*7 }}{% debug %}" in body and "ghi chú 49" not in body


def test_the_province_sees_and_reviews_emergency_accesses_once(login, doctor_a, officer_hanoi, stranger):
    grant = emergency_access_start(user=doctor_a, citizen=stranger, reason="other", reason_text="cấp cứu đêm")
    client = login(officer_hanoi)
    body = client.get(reverse("emergency-review-list")).content.decode()
    assert "Trần Thị Xa" in body and "cấp cứu đêm" in body and stranger.personal_id not in body
    assert "01001" in body  # the facility whose doctor opened the book
    review = reverse("emergency-review", kwargs={"public_id": grant.public_id})
    client.post(review, {"status": "justified", "note": "đúng quy trình"})
    grant.refresh_from_db()
    assert grant.review_status == EmergencyAccess.Review.JUSTIFIED and grant.reviewed_by == officer_hanoi
    assert "Trần Thị Xa" not in client.get(reverse("emergency-review-list")).content.decode()
    client.post(review, {"status": "unjustified", "note": "đổi ý"})
    grant.refresh_from_db()
    assert grant.review_status == EmergencyAccess.Review.JUSTIFIED and grant.review_note == "đúng quy trình"


@pytest.mark.parametrize("reviewer", ["facility_admin_a", "officer_hcm", "facility_admin_b"])
def test_the_facility_itself_and_other_provinces_cannot_see_or_review(request, login, doctor_a, stranger, reviewer):
    grant = emergency_access_start(user=doctor_a, citizen=stranger, reason="life_threat")
    client = login(request.getfixturevalue(reviewer))
    listed = client.get(reverse("emergency-review-list"))
    assert "Trần Thị Xa" not in listed.content.decode()
    review = client.post(reverse("emergency-review", kwargs={"public_id": grant.public_id}), {"status": "unjustified"})
    assert review.status_code in (403, 404)
    grant.refresh_from_db()
    assert grant.review_status == EmergencyAccess.Review.PENDING


def test_a_reviewed_grant_cannot_be_changed_or_deleted_even_in_sql(doctor_a, officer_hanoi, stranger):
    from django.db import DatabaseError, transaction

    from accesslog.services import emergency_access_review

    grant = emergency_access_start(user=doctor_a, citizen=stranger, reason="life_threat")
    emergency_access_review(grant=grant, acting_user=officer_hanoi, status="unjustified", note="không cấp cứu")
    for change in (
        lambda: EmergencyAccess.objects.filter(pk=grant.pk).update(review_status="justified"),
        lambda: EmergencyAccess.objects.filter(pk=grant.pk).update(review_note=""),
        lambda: EmergencyAccess.objects.filter(pk=grant.pk).delete(),
    ):
        with pytest.raises(DatabaseError), transaction.atomic():
            change()
    grant.refresh_from_db()
    assert (grant.review_status, grant.review_note) == ("unjustified", "không cấp cứu")


def test_doctor_cannot_reach_the_review_queue(login, doctor_a):
    assert login(doctor_a).get(reverse("emergency-review-list")).status_code == 403
