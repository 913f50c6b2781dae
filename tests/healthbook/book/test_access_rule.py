"""The care-relationship rule, emergency access and the single log entry per open."""

import datetime as dt

import pytest
from django.http import Http404
from django.test import RequestFactory
from django.utils import timezone

from accesslog.models import AccessLogEntry, EmergencyAccess, Outcome
from accesslog.services import emergency_access_start
from healthbook.book.access import BookAccessDenied, book_get_for_user, books_visible_to
from healthbook.models import FollowUpAppointment
from tests.healthbook.book import factories as df
from tests.healthbook.book.conftest import last_entry, log_count

pytestmark = pytest.mark.django_db


def open_book(user, citizen, viewed="book"):
    return book_get_for_user(user, citizen.book.public_id, viewed=viewed, request=RequestFactory().get("/"))


def test_doctor_with_recent_visit_at_own_facility_may_open(doctor_a, patient_a):
    access = open_book(doctor_a, patient_a)
    assert access.purpose == "TREAT"
    entry = last_entry()
    assert (entry.citizen_id, entry.outcome, entry.purpose, entry.actor_username) == (
        patient_a.pk,
        Outcome.SUCCESS,
        "TREAT",
        "doctor_a",
    )
    assert entry.facility_code == "01001" and entry.source_ip == "127.0.0.1"


def test_doctor_without_relationship_is_refused_and_the_refusal_logged(doctor_a, stranger):
    with pytest.raises(BookAccessDenied):
        open_book(doctor_a, stranger)
    entry = last_entry()
    assert (entry.citizen_id, entry.outcome, entry.details["refused"]) == (
        stranger.pk,
        Outcome.DENIED,
        "no_care_relationship",
    )


def test_visit_older_than_the_window_is_no_relationship(doctor_a, facility_a, code_lists, settings):
    settings.SSKDT_CARE_RELATIONSHIP_MONTHS = 24
    person = df.citizen()
    df.visit(person.book, facility_a, when=timezone.now() - dt.timedelta(days=800))
    with pytest.raises(BookAccessDenied):
        open_book(doctor_a, person)
    settings.SSKDT_CARE_RELATIONSHIP_MONTHS = 36
    assert open_book(doctor_a, person).purpose == "TREAT"


def test_primary_care_facility_of_a_valid_card_is_a_relationship(doctor_a, code_lists):
    assert open_book(doctor_a, df.citizen(card_facility="01001")).purpose == "TREAT"


def test_expired_card_is_no_relationship(doctor_a, code_lists):
    person = df.citizen(card_facility="01001", card_valid_to=timezone.localdate() - dt.timedelta(days=1))
    with pytest.raises(BookAccessDenied):
        open_book(doctor_a, person)


def test_a_referral_to_the_facility_opens_nothing_by_itself(doctor_a, facility_b, code_lists):
    # Another facility's data names doctor A's facility: A gets access when it checks the patient in.
    person = df.citizen()
    df.visit(person.book, facility_b, referred_to="01001")
    with pytest.raises(BookAccessDenied):
        open_book(doctor_a, person)


def test_an_appointment_opens_nothing_by_itself(doctor_a, facility_a, facility_b, code_lists):
    # Follow-up dates are in the future by nature: neither the facility named nor the one that booked.
    person = df.citizen()
    df.follow_up(person.book, facility_a, on=timezone.localdate() + dt.timedelta(days=10))
    FollowUpAppointment.objects.filter(book=person.book).update(at_facility_code="01001", facility=facility_b)
    with pytest.raises(BookAccessDenied):
        open_book(doctor_a, person)


def test_a_visit_dated_in_the_future_opens_nothing_until_then(doctor_a, facility_a, code_lists):
    person = df.citizen()
    df.visit(person.book, facility_a, when=timezone.now() + dt.timedelta(days=365 * 70))
    with pytest.raises(BookAccessDenied):
        open_book(doctor_a, person)


def test_a_check_in_opens_for_its_window_only(doctor_a, facility_a, code_lists, settings):
    person = df.citizen()
    df.check_in(person.book, facility_a, when=timezone.now() - dt.timedelta(hours=2))
    assert open_book(doctor_a, person).purpose == "TREAT"
    assert last_entry().details["check_in"]
    settings.SSKDT_CHECKIN_HOURS = 1
    with pytest.raises(BookAccessDenied):
        open_book(doctor_a, person)


def test_sibling_facility_in_the_same_province_is_not_enough(facility_a2, patient_a):
    from tests import factories as f

    with pytest.raises(BookAccessDenied):
        open_book(f.doctor(facility_a2, username="doctor_a2"), patient_a)


@pytest.mark.parametrize(
    "actor", ["officer_hanoi", "ministry_admin", "ministry_editor", "facility_admin_a", "outsider"]
)
def test_non_doctors_get_404_and_a_refusal_entry(request, actor, patient_a):
    user = request.getfixturevalue(actor)
    with pytest.raises(Http404):
        open_book(user, patient_a)
    assert last_entry().outcome == Outcome.DENIED and last_entry().citizen_id == patient_a.pk


def test_unknown_book_is_404_for_a_doctor_too(doctor_a, patient_a):
    import uuid

    with pytest.raises(Http404):
        book_get_for_user(doctor_a, uuid.uuid4(), viewed="book")
    assert last_entry().details["refused"] == "not_found"


def test_each_open_writes_exactly_one_entry(doctor_a, patient_a, stranger):
    before = log_count()
    open_book(doctor_a, patient_a)
    assert log_count() == before + 1
    with pytest.raises(BookAccessDenied):
        open_book(doctor_a, stranger)
    assert log_count() == before + 2


def test_emergency_access_opens_for_its_lifetime_only(doctor_a, stranger, settings):
    settings.SSKDT_EMERGENCY_ACCESS_MINUTES = 60
    grant = emergency_access_start(user=doctor_a, citizen=stranger, reason="unconscious")
    assert grant.review_status == EmergencyAccess.Review.PENDING
    assert last_entry().event == "emergency_start" and last_entry().purpose == "ETREAT"
    assert open_book(doctor_a, stranger).purpose == "ETREAT"
    EmergencyAccess.objects.filter(pk=grant.pk).update(expires_at=timezone.now() - dt.timedelta(seconds=1))
    with pytest.raises(BookAccessDenied):
        open_book(doctor_a, stranger)


def test_emergency_access_needs_a_reason_from_the_list(doctor_a, stranger):
    from django.core.exceptions import ValidationError

    for reason, text in (("", ""), ("because", ""), ("other", "  ")):
        with pytest.raises(ValidationError):
            emergency_access_start(user=doctor_a, citizen=stranger, reason=reason, reason_text=text)
    assert not EmergencyAccess.objects.exists()


def test_emergency_access_of_one_doctor_does_not_open_for_another(doctor_a, stranger, facility_a):
    from tests import factories as f

    emergency_access_start(user=doctor_a, citizen=stranger, reason="life_threat")
    with pytest.raises(BookAccessDenied):
        open_book(f.doctor(facility_a, username="doctor_a_colleague"), stranger)


def test_books_visible_to_lists_relationship_and_emergency_books(doctor_a, patient_a, stranger, officer_hanoi):
    assert list(books_visible_to(doctor_a)) == [patient_a.book]
    emergency_access_start(user=doctor_a, citizen=stranger, reason="transfer")
    assert set(books_visible_to(doctor_a)) == {patient_a.book, stranger.book}
    assert not books_visible_to(officer_hanoi).exists()


def test_the_decision_is_one_query(doctor_a, patient_a, django_assert_num_queries):
    # One query decides; the append locks the head, then inserts and advances it in one round trip.
    # Inside the test's transaction these run in a savepoint (SAVEPOINT + RELEASE: two more).
    open_book(doctor_a, patient_a)  # the connection is tuned once (parallel workers and JIT off)
    with django_assert_num_queries(5):
        open_book(doctor_a, patient_a)
    assert AccessLogEntry.objects.filter(citizen_id=patient_a.pk).count() == 2


def test_the_compiled_decision_is_the_querysets_decision(doctor_a, patient_a, stranger, facility_a, code_lists):
    """book_get_for_user runs the ORM's decision SQL compiled once with sentinel values
    (core.compiled); it must give what the queryset gives, case by case."""
    from healthbook.book.access import _decide, _emergency_until, book_lookup, care_relationship_expr

    carded = df.citizen(card_facility="01001")
    appointed = df.citizen()
    df.follow_up(appointed.book, facility_a, on=timezone.localdate() + dt.timedelta(days=10))
    checked_in = df.citizen()
    df.check_in(checked_in.book, facility_a, when=timezone.now() - dt.timedelta(hours=1))
    future = df.citizen()
    df.visit(future.book, facility_a, when=timezone.now() + dt.timedelta(days=30))
    emergency_access_start(user=doctor_a, citizen=stranger, reason="transfer")
    cases = [patient_a, stranger, carded, appointed, df.citizen(), checked_in, future]

    def orm(public_id):
        qs = book_lookup(public_id).annotate(
            care=care_relationship_expr(doctor_a.facility), emergency_until=_emergency_until(doctor_a.pk)
        )
        book = qs.first()
        return book and (book.pk, book.citizen.pk, bool(book.care), book.emergency_until is not None)

    def fast(public_id):
        book = _decide(doctor_a, public_id)
        return book and (book.pk, book.citizen.pk, bool(book.care), book.emergency_until is not None)

    checked = _decide(doctor_a, checked_in.book.public_id).checked_in_at
    assert checked is not None and _decide(doctor_a, patient_a.book.public_id).checked_in_at is None

    for person in cases:
        for key in (person.book.public_id, person.personal_id):
            if key:
                assert fast(key) == orm(key), person
    assert [fast(p.book.public_id)[2:] for p in cases] == [
        (True, False),
        (False, True),
        (True, False),
        (False, False),
        (False, False),
        (True, False),
        (False, False),
    ]
    assert fast("00000000-0000-0000-0000-000000000000") is None and fast("not-a-book") is None
    # select_related objects come back as with the ORM (the header reads them without a query).
    book = _decide(doctor_a, carded.book.public_id)
    assert book.citizen.card.primary_care_facility_code == "01001"
