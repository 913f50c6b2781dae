"""Proof rows T0 (the walk-in patient) and T2 (facility data alone opening a book).

T2, as the review tried it on main: a visit dated 2099 was accepted with warnings and kept the
book open until 2101; a referral (MA_NOI_DEN) or a follow-up slip naming another facility opened
the book to that facility's doctors, in any province; a name contradicting the book was only a
warning, and the submission status told the sender whether a guessed name matched a personal ID.
Each variant goes through the real endpoint and the real processing; the figure counts how many
of them opened a book (or answered differently) that should not have.
"""

import datetime as dt

import pytest
from django.utils import timezone

from healthbook.intake.jws import sign_detached
from healthbook.models import Encounter, Submission
from tests import factories as f
from tests.factories import province
from tests.healthbook.book import factories as df

from .carepath import can_open, checkin_envelope, checkin_rows, visit_envelope, visit_for
from .conftest import FACILITY, process

pytestmark = pytest.mark.django_db


def _stranger(name="Phạm Văn Lạ", **kw):
    """A citizen with a book and no relationship with facility A or B."""
    return df.citizen(name=name, province=province("79"), **kw)


def test_t0_walk_in_check_in_opens_only_the_checking_in_facility(
    proof, sender, pki, facility_a2, facility_b, doctor_a, doctor_b
):
    row = proof.row(
        "T0",
        "walk-in patients checked in at facility A by a signed XML 130 check-in (a HOSO holding only XML0): "
        "doctor A reads without breaking the glass; doctors of A's sibling facility and of B do not",
    )
    people = [_stranger(f"Khách Vãng Lai {i}") for i in range(5)]
    sub = process(sender.post(checkin_envelope(pki["valid"], FACILITY, [checkin_rows(p, FACILITY) for p in people])))
    sibling = f.doctor(facility_a2, username="doctor_a2")
    opened_a = sum(can_open(doctor_a, p) for p in people)
    opened_others = sum(can_open(d, p) for p in people for d in (sibling, doctor_b))
    row.set(
        times=len(people) * 3,
        figure=f"submission {sub.status}; doctor A opened {opened_a}/{len(people)} without emergency; "
        f"doctors of other facilities opened {opened_others}/{2 * len(people)}",
    )
    assert sub.status == "accepted" and opened_a == len(people) and opened_others == 0


def test_t2_a_visit_dated_in_the_future_is_refused_and_opens_nothing(
    proof, sender, pki, visits, doctor_a, intake_codelists
):
    row = proof.row(
        "T2",
        "a signed visit admitted in 2099 (and one 11 minutes after receipt, over the 10-minute skew); "
        "a visit of 2099 already stored before the rule",
    )
    people = [_stranger("Tương Lai Một"), _stranger("Tương Lai Hai"), _stranger("Tương Lai Ba")]
    soon = (timezone.now() + dt.timedelta(minutes=11)).astimezone(dt.timezone(dt.timedelta(hours=7)))
    statuses = []
    for person, admitted, key in (
        (people[0], "209901010800", "LK2099A"),
        (people[1], soon.strftime("%Y%m%d%H%M"), "LK2099B"),
    ):
        v = visit_for(visits, person, key=key, NGAY_VAO=admitted, NGAY_RA=admitted, NGAY_TTOAN=admitted)
        v["XML1"][0].pop("NGAY_TAI_KHAM", None)
        sub = process(sender.post(visit_envelope(pki["valid"], FACILITY, [v])))
        statuses.append(sub.status)
        assert ("TIME_IN_FUTURE", "NGAY_VAO") in set(sub.problems.values_list("code", "field")), statuses
    df.visit(people[2].book, sender.facility, when=timezone.make_aware(dt.datetime(2099, 1, 1, 8)))
    opened = sum(can_open(doctor_a, p) for p in people)
    row.set(times=3, figure=f"submissions {', '.join(statuses)}; books opened {opened}/3")
    assert statuses == ["rejected", "rejected"] and opened == 0
    assert not Encounter.objects.filter(book__in=[p.book for p in people[:2]]).exists()


def test_t2_a_visit_opens_from_the_earlier_of_its_time_and_the_receipt(sender, pki, visits, intake_codelists):
    person = _stranger("Đúng Giờ")
    ahead = (timezone.now() + dt.timedelta(minutes=4)).astimezone(dt.timezone(dt.timedelta(hours=7)))
    at = ahead.strftime("%Y%m%d%H%M")
    v = visit_for(visits, person, key="LKSKEW", NGAY_VAO=at, NGAY_RA=at, NGAY_TTOAN=at, NGAY_TAI_KHAM="")
    sub = process(sender.post(visit_envelope(pki["valid"], FACILITY, [v])))
    assert sub.error_count == 0, list(sub.problems.values_list("code", "field"))
    enc = Encounter.objects.get(key="LKSKEW")
    assert enc.admitted_at > sub.received_at and enc.occurred_at == sub.received_at


def test_t2_a_referral_or_a_follow_up_naming_another_facility_opens_nothing(
    proof, sender, pki, visits, doctor_b, intake_codelists
):
    row = proof.row(
        "T2",
        "facility A sends visits whose referral (MA_NOI_DEN) or follow-up slip (XML14 MA_CSKCB) names facility B "
        "in another province; facility A sends a FHIR Appointment dated 2099",
    )
    referred, slipped = _stranger("Chuyển Tuyến"), _stranger("Hẹn Tái Khám")
    v1 = visit_for(visits, referred, key="LKREF", MA_NOI_DEN="79001", MA_LOAI_RV="2")
    v2 = visit_for(visits, slipped, key="LKSLIP", follow_up=True)
    v2["XML14"][0]["MA_CSKCB"] = "79001"
    sub = process(sender.post(visit_envelope(pki["valid"], FACILITY, [v1, v2])))
    assert sub.error_count == 0, list(sub.problems.values_list("code", "field"))
    assert Encounter.objects.filter(referred_to="79001").exists()
    # A FHIR Appointment of 2099 (no visit): facility A itself gets no relationship from it.
    later = _stranger("Hẹn Xa")
    body = (
        '{"resourceType":"Bundle","type":"collection","entry":['
        '{"resource":{"resourceType":"Patient","id":"p1","identifier":[{"system":'
        f'"http://fhir.hl7.org.vn/core/sid/cccd","value":"{later.personal_id}"}}],"name":[{{"text":"{later.full_name}"}}],'
        '"gender":"male","birthDate":"1980-05-17"}},'
        '{"resource":{"resourceType":"Appointment","id":"ap1","status":"booked","start":"2099-01-01T08:00:00+07:00",'
        '"participant":[{"actor":{"reference":"Patient/p1"},"status":"accepted"}]}}]}'
    ).encode()
    fhir = process(sender.post(body, "application/fhir+json", **{"X-Signature": sign_detached(body, pki["valid"].key)}))
    doctor_a = f.doctor(sender.facility, username="doctor_a_t2")
    opened = can_open(doctor_b, referred) + can_open(doctor_b, slipped) + can_open(doctor_a, later)
    row.set(times=3, figure=f"submissions {sub.status}, {fhir.status}; books opened {opened}/3")
    assert opened == 0


@pytest.fixture
def known(db):
    """A citizen whose book came from a card import."""
    return df.citizen(name="Nguyễn Thị Sổ Gốc", birth=dt.date(1975, 4, 2), sex=2, province=province("01"))


def test_t2_an_identity_contradicting_the_book_holds_the_record(
    proof, sender, pki, visits, known, doctor_a, intake_codelists
):
    row = proof.row(
        "T2",
        "visits sent for a known personal ID with another name, another birth date, another sex",
    )
    variants = [
        {"HO_TEN": "Trần Văn Mạo Danh"},
        {"NGAY_SINH": "199001010000"},
        {"GIOI_TINH": "1"},
    ]
    statuses = []
    for i, over in enumerate(variants):
        v = visit_for(visits, known, key=f"LKHOLD{i}")
        v["XML1"][0].update(over)
        sub = process(sender.post(visit_envelope(pki["valid"], FACILITY, [v])))
        statuses.append(sub.status)
    attached = Encounter.objects.filter(book=known.book).count()
    opened = can_open(doctor_a, known)
    row.set(
        times=len(variants),
        figure=f"statuses {', '.join(statuses)}; visits attached {attached}; book opened {int(opened)}",
    )
    assert statuses == ["held"] * 3 and attached == 0 and not opened


def test_t2_the_sender_cannot_tell_whether_a_guessed_name_matched(proof, sender, pki, visits, known, intake_codelists):
    row = proof.row(
        "T2",
        "the sender guesses the name and birth date behind a personal ID: right guess, wrong name, "
        "wrong birth date, and an unknown ID; the status API answers compared",
    )
    other = df.citizen(name="Nguyễn Thị Sổ Gốc", birth=dt.date(1975, 4, 2), sex=2)
    unknown = df.citizen(name="Nguyễn Thị Sổ Gốc", birth=dt.date(1975, 4, 2), sex=2)
    unknown_pid = unknown.personal_id
    unknown.book.delete()
    unknown.delete()
    guesses = [
        (known, {}),
        (other, {"HO_TEN": "Nguyễn Thị Đoán Sai"}),
        (known, {"NGAY_SINH": "197604020000"}),
        (other, {"SO_CCCD": unknown_pid}),
    ]
    answers = []
    for i, (person, over) in enumerate(guesses):
        v = visit_for(visits, person, key=f"LKGUESS{i}")
        v["XML1"][0].update(over)
        sub = process(sender.post(visit_envelope(pki["valid"], FACILITY, [v])))
        data = sender.get(sub.public_id).json()
        answers.append(
            (
                data["status"],
                sorted(p["code"] for p in data["problems"]),
                data["visits"],
                data["encounters_created"],
                data["encounters_updated"],
                data["encounters_unchanged"],
            )
        )
    held = Submission.objects.filter(status="held").count()
    distinct = len(set(map(repr, answers)))
    row.set(
        times=len(guesses),
        figure=f"distinct answers {distinct} of {len(guesses)} guesses ({held} held for review, not attached)",
    )
    assert distinct == 1, answers
    assert held == 2
