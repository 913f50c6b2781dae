"""The citizen's consent read by the one access decision (issue 19, point 2): closing the book,
share codes for one facility, revocation, emergencies while closed, and the citizen's log."""

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.db import DatabaseError, transaction
from django.test import RequestFactory
from django.utils import timezone, translation

from accesslog.models import AccessLogEntry, Outcome
from accesslog.selectors import citizen_access_log
from accesslog.services import emergency_access_start
from healthbook.book.access import BookAccessDenied, book_get_for_user, books_visible_to
from healthbook.consent import services as consent
from healthbook.models import BookClosure, ShareCode, ShareCodeAttempt
from tests.healthbook.book.conftest import last_entry

pytestmark = pytest.mark.django_db
BY = consent.by_citizen(token_id="jti-1")


def open_book(user, citizen, viewed="book"):
    return book_get_for_user(user, citizen.book.public_id, viewed=viewed, request=RequestFactory().get("/"))


def test_closed_to_everyone_refuses_the_care_relationship_with_the_reason(doctor_a, patient_a):
    assert open_book(doctor_a, patient_a).purpose == "TREAT"
    consent.closure_add(patient_a, by=BY)
    with pytest.raises(BookAccessDenied) as refused:
        open_book(doctor_a, patient_a)
    assert refused.value.reason == "closed_by_citizen"
    assert last_entry().details == {"refused": "closed_by_citizen"}
    assert not books_visible_to(doctor_a).filter(pk=patient_a.book.pk).exists()


def test_closed_to_one_facility_only(doctor_a, doctor_b, patient_a, facility_b, facility_a):
    consent.closure_add(patient_a, facility=facility_b, by=BY)
    assert open_book(doctor_a, patient_a).purpose == "TREAT"
    consent.closure_add(patient_a, facility=facility_a, by=BY)
    with pytest.raises(BookAccessDenied):
        open_book(doctor_a, patient_a)


def test_reopening_keeps_the_history(doctor_a, patient_a):
    closure = consent.closure_add(patient_a, by=BY)
    assert consent.closure_add(patient_a, by=BY).pk == closure.pk  # asking twice: the live one
    assert consent.closure_revoke(closure, by=consent.by_citizen(token_id="jti-2"))
    assert not consent.closure_revoke(closure, by=BY)  # once
    assert open_book(doctor_a, patient_a).purpose == "TREAT"
    row = BookClosure.objects.get(pk=closure.pk)
    assert row.revoked_at is not None and row.revoked_by["token_id"] == "jti-2" and row.by["token_id"] == "jti-1"


def test_the_database_keeps_consent_rows_as_history(patient_a, facility_a):
    closure = consent.closure_add(patient_a, by=BY)
    for change in (
        lambda: BookClosure.objects.filter(pk=closure.pk).update(facility=facility_a),
        lambda: BookClosure.objects.filter(pk=closure.pk).delete(),
    ):
        with pytest.raises(DatabaseError), transaction.atomic():
            change()
    consent.closure_revoke(closure, by=BY)
    with pytest.raises(DatabaseError), transaction.atomic():  # a revocation is written once
        BookClosure.objects.filter(pk=closure.pk).update(revoked_at=timezone.now())


def test_emergency_still_opens_a_closed_book_and_is_flagged(doctor_a, patient_a):
    consent.closure_add(patient_a, by=BY)
    emergency_access_start(user=doctor_a, citizen=patient_a, reason="unconscious")
    assert open_book(doctor_a, patient_a).purpose == "ETREAT"
    assert last_entry().details == {"closed_by_citizen": True}
    with translation.override("vi"):
        people = citizen_access_log(patient_a.pk)["people"]
    assert people[0]["emergency"] and "khi sổ của bạn đang đóng" in people[0]["text"]


def test_share_code_opens_for_its_facility_only_and_until_it_expires(doctor_a, doctor_b, stranger, facility_a):
    with pytest.raises(BookAccessDenied):
        open_book(doctor_a, stranger)
    consent.closure_add(stranger, by=BY)  # closed: the share code opens it all the same
    issued = consent.share_code_issue(stranger, facility=facility_a, by=BY, minutes=30)
    assert len(issued.code) == 9 and issued.code[4] == "-"
    share = ShareCode.objects.get()
    assert issued.code.replace("-", "") not in share.code_hash  # only a keyed hash is kept
    assert issued.qr_svg().startswith("<svg") or "<svg" in issued.qr_svg()
    assert issued.qr_png().startswith(b"\x89PNG")

    # A doctor of another facility with the right code: refused, and the book stays shut to them.
    with pytest.raises(ValidationError) as wrong:
        consent.share_code_redeem(doctor_b, issued.code, book=stranger.book)
    assert wrong.value.code == consent.CODE_INVALID
    assert last_entry().details == {"refused": "share_code_invalid", "why": "other_facility"}

    book = consent.share_code_redeem(doctor_a, issued.code.lower().replace("-", " "), book=stranger.book)
    assert book.pk == stranger.book.pk
    assert (last_entry().event, last_entry().outcome) == ("share_code", Outcome.SUCCESS)
    access = open_book(doctor_a, stranger)
    assert access.purpose == "TREAT" and last_entry().details == {"share_code": True}
    assert books_visible_to(doctor_a).filter(pk=stranger.book.pk).exists()

    # The code expires: the book shuts again (no relationship here, so that is the reason).
    with pytest.MonkeyPatch.context() as mp:
        later = timezone.now() + dt.timedelta(minutes=31)
        mp.setattr(timezone, "now", lambda: later)
        with pytest.raises(BookAccessDenied) as refused:
            open_book(doctor_a, stranger)
    assert refused.value.reason == "no_care_relationship"

    log = citizen_access_log(stranger.pk)["people"]
    assert any(item["event"] == "share_code" and item["allowed"] for item in log)
    assert any(item["share_code"] for item in log)


def test_a_revoked_share_code_shuts_the_book(doctor_a, stranger, facility_a):
    issued = consent.share_code_issue(stranger, facility=facility_a, by=BY)
    consent.share_code_redeem(doctor_a, issued.code, book=stranger.book)
    assert open_book(doctor_a, stranger).purpose == "TREAT"
    assert consent.share_code_revoke(issued.share, by=BY)
    with pytest.raises(BookAccessDenied):
        open_book(doctor_a, stranger)


def test_a_share_code_found_from_the_search_page(doctor_a, stranger, facility_a):
    issued = consent.share_code_issue(stranger, facility=facility_a, by=BY)
    assert consent.share_code_redeem(doctor_a, issued.code).pk == stranger.book.pk


def test_wrong_codes_are_limited_per_citizen_and_per_doctor(doctor_a, doctor_b, stranger, facility_a, settings):
    settings.SSKDT_SHARE_CODE_FAILURES_PER_CITIZEN = 3
    settings.SSKDT_SHARE_CODE_FAILURES_PER_DOCTOR = 4
    issued = consent.share_code_issue(stranger, facility=facility_a, by=BY)
    for _ in range(3):
        with pytest.raises(ValidationError):
            consent.share_code_redeem(doctor_a, "AAAA-AAAA", book=stranger.book)
    # Now even the right code is refused for this citizen for an hour: guessing cannot go on.
    with pytest.raises(ValidationError) as limited:
        consent.share_code_redeem(doctor_a, issued.code, book=stranger.book)
    assert limited.value.code == consent.CODE_TOO_MANY
    assert last_entry().details["refused"] == consent.CODE_TOO_MANY
    assert ShareCodeAttempt.objects.filter(ok=False).count() == 3  # refusals beyond the limit add no row
    # The doctor's own limit holds across citizens (search page: no book named).
    with pytest.raises(ValidationError) as wrong:
        consent.share_code_redeem(doctor_a, "BBBB-BBBB")
    assert wrong.value.code == consent.CODE_INVALID
    with pytest.raises(ValidationError) as limited:
        consent.share_code_redeem(doctor_a, "CCCC-CCCC")
    assert limited.value.code == consent.CODE_TOO_MANY


def test_live_share_codes_are_limited_and_facilities_checked(stranger, facility_a, settings):
    settings.SSKDT_SHARE_CODES_LIVE = 2
    for _ in range(2):
        consent.share_code_issue(stranger, facility=facility_a, by=BY)
    with pytest.raises(ValidationError) as refused:
        consent.share_code_issue(stranger, facility=facility_a, by=BY)
    assert refused.value.code == "share_codes_limit"
    with pytest.raises(ValidationError):
        consent.share_code_issue(stranger, facility=facility_a, by=BY, minutes=1)


def test_consent_adds_no_query_to_the_decision(doctor_a, patient_a, facility_a, django_assert_num_queries):
    consent.closure_add(patient_a, facility=facility_a, by=BY)
    consent.closure_revoke(BookClosure.objects.get(), by=BY)
    consent.share_code_issue(patient_a, facility=facility_a, by=BY)
    open_book(doctor_a, patient_a)
    with django_assert_num_queries(5):  # as tests/healthbook/book/test_access_rule.py: one decides
        open_book(doctor_a, patient_a)
    assert AccessLogEntry.objects.filter(citizen_id=patient_a.pk, outcome=Outcome.SUCCESS).count() == 2


def test_facility_software_is_refused_by_the_same_rule_and_may_still_break_the_glass(
    client, doctor_a, patient_a, key_a, monkeypatch
):
    from django.urls import reverse

    from tests.healthbook.book.conftest import facility_headers

    consent.closure_add(patient_a, by=BY)
    everything = reverse("fhir-patient-everything", kwargs={"id": str(patient_a.book.public_id)})
    history = reverse("api-citizen-history", kwargs={"book": patient_a.book.public_id})
    refused = client.get(history, **facility_headers(key_a, "doctor_a"))
    assert refused.status_code == 403 and refused.json()["code"] == "closed_by_citizen"
    refused = client.get(everything, **facility_headers(key_a, "doctor_a"))
    assert refused.status_code == 403 and "Công dân đã đóng sổ" in refused.json()["issue"][0]["diagnostics"]
    from healthbook.models import Notification

    told = Notification.objects.filter(citizen=patient_a, kind=Notification.Kind.EMERGENCY_ACCESS)
    emergency = client.get(
        everything, **facility_headers(key_a, "doctor_a", purpose="ETREAT", **{"X-Emergency-Reason": "unconscious"})
    )
    assert emergency.status_code == 200 and told.count() == 1  # the citizen is told (issue 19, point 4)
    assert last_entry().purpose == "ETREAT" and last_entry().details.get("closed_by_citizen") is True
