"""The walk-in patient (issue 15, "the opposite failure"): a signed check-in opens the book to the
facility that checked the patient in, and to nobody else, for SSKDT_CHECKIN_HOURS; the visit
that follows keeps it open; the citizen's access log says which facility checked them in."""

import datetime as dt

import pytest
from django.utils import timezone

from accesslog.selectors import citizen_access_log
from healthbook.intake.jws import sign_detached
from tests import factories as f
from tests.factories import province
from tests.healthbook.book import factories as df

from .carepath import can_open, checkin_envelope, checkin_rows, fhir_checkin, open_book, visit_envelope, visit_for
from .conftest import FACILITY, process

pytestmark = pytest.mark.django_db


@pytest.fixture
def walk_in(facility_b):
    """A citizen of TP. Hồ Chí Minh, registered at facility B, never seen at facility A."""
    person = df.citizen(name="Lê Thị Vãng Lai", sex=2, province=province("79"), card_facility="79001")
    df.visit(person.book, facility_b, dx="J06")
    return person


def test_signed_xml0_check_in_opens_the_book_to_that_facility_without_breaking_the_glass(
    sender, pki, walk_in, doctor_a, facility_a2, doctor_b
):
    assert not can_open(doctor_a, walk_in)  # before: the walk-in doctor would have to break the glass
    sub = process(sender.post(checkin_envelope(pki["valid"], FACILITY, [checkin_rows(walk_in, FACILITY)])))
    assert sub.status == "accepted", list(sub.problems.values_list("code", "table", "field"))
    access = open_book(doctor_a, walk_in)
    assert access.purpose == "TREAT" and access.emergency_until is None
    assert not can_open(f.doctor(facility_a2, username="doctor_a2"), walk_in)  # same province, other facility
    assert can_open(doctor_b, walk_in)  # the primary-care facility keeps its own relationship


def test_the_citizens_access_log_says_which_facility_checked_them_in(sender, pki, walk_in, doctor_a):
    process(sender.post(checkin_envelope(pki["valid"], FACILITY, [checkin_rows(walk_in, FACILITY)])))
    open_book(doctor_a, walk_in)
    (item,) = [p for p in citizen_access_log(walk_in.pk)["people"] if p["allowed"]]
    assert item["check_in"]["facility"] == "Bệnh viện Thử nghiệm A"
    assert "Bệnh viện Thử nghiệm A" in item["text"] and "tiếp đón" in item["text"]


def test_the_check_in_window_closes_after_the_configured_hours(sender, pki, walk_in, doctor_a, settings):
    from healthbook.models import CheckIn

    settings.SSKDT_CHECKIN_HOURS = 24
    process(sender.post(checkin_envelope(pki["valid"], FACILITY, [checkin_rows(walk_in, FACILITY)])))
    assert can_open(doctor_a, walk_in)
    CheckIn.objects.update(last_at=timezone.now() - dt.timedelta(hours=25))
    assert not can_open(doctor_a, walk_in)
    settings.SSKDT_CHECKIN_HOURS = 48
    assert can_open(doctor_a, walk_in)


def test_a_back_dated_check_in_opens_only_what_is_left_of_its_window(sender, pki, walk_in, doctor_a):
    at = timezone.now() - dt.timedelta(hours=30)
    sub = process(sender.post(checkin_envelope(pki["valid"], FACILITY, [checkin_rows(walk_in, FACILITY, at=at)])))
    assert sub.status == "accepted"
    assert not can_open(doctor_a, walk_in)  # the window runs from the check-in time, not from the receipt


def test_the_visit_that_follows_keeps_the_book_open(sender, pki, walk_in, doctor_a, visits, intake_codelists):
    from healthbook.models import CheckIn

    rows = checkin_rows(walk_in, FACILITY, at=timezone.now() - dt.timedelta(hours=3))
    process(sender.post(checkin_envelope(pki["valid"], FACILITY, [rows])))
    key = rows[0]["MA_LK"]
    admitted = (timezone.now() - dt.timedelta(hours=3)).astimezone(dt.timezone(dt.timedelta(hours=7)))
    visit = visit_for(visits, walk_in, key=key, NGAY_VAO=admitted.strftime("%Y%m%d%H%M"))
    sub = process(sender.post(visit_envelope(pki["valid"], FACILITY, [visit])))
    assert sub.error_count == 0, list(sub.problems.values_list("code", "field"))
    CheckIn.objects.update(last_at=timezone.now() - dt.timedelta(days=3))  # the check-in window is over
    assert can_open(doctor_a, walk_in)


def test_a_fhir_encounter_arrived_or_in_progress_is_a_check_in(sender, pki, walk_in, doctor_a):
    from healthbook.models import CheckIn, Encounter

    for status, key in (("arrived", "enc-1"), ("in-progress", "enc-2")):
        body = fhir_checkin(walk_in, status=status, key=key)
        sub = process(
            sender.post(body, "application/fhir+json", **{"X-Signature": sign_detached(body, pki["valid"].key)})
        )
        assert sub.status == "accepted", list(sub.problems.values_list("code", "table", "field"))
    assert CheckIn.objects.filter(book=walk_in.book, facility=sender.facility).count() == 2
    assert not Encounter.objects.filter(facility=sender.facility).exists()  # a check-in is not a visit
    assert open_book(doctor_a, walk_in).purpose == "TREAT"


def test_a_check_in_shows_on_the_books_timeline(sender, pki, walk_in, doctor_a, login):
    process(sender.post(checkin_envelope(pki["valid"], FACILITY, [checkin_rows(walk_in, FACILITY)])))
    body = login(doctor_a).get(f"/doctor/books/{walk_in.book.public_id}/timeline/").content.decode()
    assert "kind-checkin" in body and "Bệnh viện Thử nghiệm A" in body
