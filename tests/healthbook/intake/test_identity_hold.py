"""A submission whose patient contradicts the matched book (name, birth date, sex) is held for
review instead of being attached: the sending facility's administrator and the province see it on
the submission pages; a named person of the province (or the ministry administrator) releases or
rejects it; every decision is audited."""

import datetime as dt

import pytest

from accounts.models import AuditEvent
from healthbook.models import Encounter, Submission
from tests.healthbook.book import factories as df

from .carepath import can_open, checkin_envelope, checkin_rows, visit_envelope, visit_for
from .conftest import FACILITY, process

pytestmark = pytest.mark.django_db


@pytest.fixture
def known(db):
    return df.citizen(name="Đỗ Thị Chính Chủ", birth=dt.date(1966, 9, 9), sex=2)


@pytest.fixture
def held(sender, pki, visits, known, intake_codelists):
    v = visit_for(visits, known, key="LKHELD", HO_TEN="Đỗ Văn Khác")
    sub = process(sender.post(visit_envelope(pki["valid"], FACILITY, [v])))
    assert sub.status == "held", list(sub.problems.values_list("code", "field"))
    return sub


def _page(client, sub):
    return client.get(f"/books/submissions/{sub.public_id}/")


def test_a_matching_identity_is_attached_as_before(sender, pki, visits, known, intake_codelists):
    sub = process(sender.post(visit_envelope(pki["valid"], FACILITY, [visit_for(visits, known, key="LKOK")])))
    assert sub.status in ("accepted", "accepted_with_warnings")
    assert Encounter.objects.filter(book=known.book).count() == 1


def test_held_submission_is_shown_to_the_facility_admin_and_the_province(
    held, login, facility_admin_a, officer_hanoi, officer_hcm
):
    body = _page(login(facility_admin_a), held).content.decode()
    assert "Chờ xác minh danh tính" in body and "PATIENT_NAME_MISMATCH" in body
    assert 'name="decision"' not in body  # the facility does not review its own data
    body = _page(login(officer_hanoi), held).content.decode()
    assert 'name="decision"' in body
    assert _page(login(officer_hcm), held).status_code == 404


def test_the_province_releases_a_held_submission_and_it_is_attached(held, login, officer_hanoi, known, doctor_a):
    assert not can_open(doctor_a, known)
    client = login(officer_hanoi)
    response = client.post(
        f"/books/submissions/{held.public_id}/review/", {"decision": "release", "note": "Đã gọi điện xác minh"}
    )
    assert response.status_code == 302
    from healthbook.intake.processing import submission_process

    submission_process(submission_id=held.pk)
    held.refresh_from_db()
    assert held.status in ("accepted", "accepted_with_warnings")
    assert held.reviewed_by == officer_hanoi and held.review_status == "released"
    assert Encounter.objects.filter(book=known.book).count() == 1
    assert can_open(doctor_a, known)
    event = AuditEvent.objects.get(action="submission_hold_release")
    assert event.actor == officer_hanoi and event.details["note"] == "Đã gọi điện xác minh"


def test_the_province_rejects_a_held_submission(held, login, officer_hanoi, known):
    login(officer_hanoi).post(f"/books/submissions/{held.public_id}/review/", {"decision": "reject", "note": "Sai"})
    held.refresh_from_db()
    assert held.status == "rejected" and held.review_status == "rejected"
    assert "IDENTITY_REJECTED" in set(held.problems.values_list("code", flat=True))
    assert not Encounter.objects.filter(book=known.book).exists()
    assert AuditEvent.objects.filter(action="submission_hold_reject", actor=officer_hanoi).exists()


def test_the_sending_facility_cannot_release_its_own_held_submission(held, login, facility_admin_a):
    response = login(facility_admin_a).post(f"/books/submissions/{held.public_id}/review/", {"decision": "release"})
    assert response.status_code == 403
    held.refresh_from_db()
    assert held.status == "held"


def test_a_check_in_contradicting_the_book_is_held_too(sender, pki, known, doctor_a):
    rows = checkin_rows(known, FACILITY, GIOI_TINH="1")
    sub = process(sender.post(checkin_envelope(pki["valid"], FACILITY, [rows])))
    assert sub.status == "held"
    assert not can_open(doctor_a, known)
    assert Submission.objects.get(pk=sub.pk).problems.filter(code="PATIENT_SEX_MISMATCH").exists()
