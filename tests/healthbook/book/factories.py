"""Generated citizens, books and clinical history for the doctor-page tests (no real data)."""

from __future__ import annotations

import datetime as dt
import hashlib
import itertools
from decimal import Decimal

from django.utils import timezone

from healthbook.models import (
    BirthCertificate,
    CheckIn,
    Citizen,
    ClinicalNote,
    DischargePaper,
    Encounter,
    FollowUpAppointment,
    HealthBook,
    Immunization,
    InsuranceCard,
    LabObservation,
    Medication,
    PregnancyCheckup,
    Submission,
)

_n = itertools.count(1)


def citizen(
    *,
    name: str = "Nguyễn Văn Thử",
    birth: dt.date = dt.date(1980, 5, 17),
    sex: int = 1,
    province=None,
    card_facility: str | None = None,
    card_valid_to: dt.date | None = None,
) -> Citizen:
    n = next(_n)
    person = Citizen.objects.create(
        personal_id=f"0011{n:08d}",
        social_insurance_number=f"01{n:08d}",
        full_name=name,
        birth_date=birth,
        sex=sex,
        residence_province=province,
    )
    HealthBook.objects.create(citizen=person, created_via=HealthBook.CreatedVia.MANUAL)
    if card_facility:
        InsuranceCard.objects.create(
            citizen=person,
            social_insurance_number=person.social_insurance_number,
            card_number=f"GD401{person.social_insurance_number}",
            primary_care_facility_code=card_facility,
            valid_from=dt.date(2020, 1, 1),
            valid_to=card_valid_to or (timezone.localdate() + dt.timedelta(days=365)),
        )
    return Citizen.objects.select_related("book").get(pk=person.pk)


def submission(facility) -> Submission:
    n = next(_n)
    digest = hashlib.sha256(str(n).encode()).hexdigest()
    return Submission.objects.create(
        facility=facility,
        received_at=timezone.now(),
        kind="xml130",
        content_type="application/xml",
        size_bytes=1,
        sha256=digest,
        request_hash=digest,
        status="accepted",
        signature_verified=True,
    )


def visit(
    book,
    facility,
    *,
    when: dt.datetime | None = None,
    dx: str = "I10",
    secondary=(),
    labs: int = 0,
    drugs: int = 0,
    note: str = "",
    sub: Submission | None = None,
    referred_to: str = "",
) -> Encounter:
    when = when or (timezone.now() - dt.timedelta(days=30))
    sub = sub or submission(facility)
    n = next(_n)
    e = Encounter.objects.create(
        book=book,
        facility=facility,
        submission=sub,
        key=f"LK{n:08d}",
        source="xml130",
        content_hash="x" * 64,
        occurred_at=when,
        admitted_at=when,
        discharged_at=when + dt.timedelta(hours=2),
        visit_type="01",
        main_diagnosis=dx,
        secondary_diagnoses=list(secondary),
        referred_to=referred_to,
    )
    common = {"book": book, "facility": facility, "submission": sub, "encounter": e, "occurred_at": when}
    for i in range(labs):
        value = Decimal("5.5") + i
        LabObservation.objects.create(
            **common,
            source_key=f"{n}-{i}",
            indicator_code="GLU",
            indicator_name="Glucose",
            value=str(value),
            value_number=value,
            unit="mmol/L",
            reference_range="3.9-6.4",
            abnormal_flag="H" if value > 6.4 else "",
        )
    for i in range(drugs):
        Medication.objects.create(
            **common,
            source_key=f"{n}-{i}",
            code=f"40.{i}",
            name=f"Amlodipin {i}",
            quantity="30",
            unit="viên",
            usage="ngày 1 viên",
        )
    if note:
        ClinicalNote.objects.create(**common, source_key="1", text=note)
    return e


def discharge(e: Encounter, **fields) -> DischargePaper:
    return DischargePaper.objects.create(
        book=e.book,
        facility=e.facility,
        submission=e.submission,
        encounter=e,
        occurred_at=e.occurred_at,
        number="RV-1",
        issued_on=e.occurred_at.date(),
        fields=fields or {"PP_DIEUTRI": "Nội khoa"},
    )


def birth_certificate(book, facility) -> BirthCertificate:
    return BirthCertificate.objects.create(
        book=book,
        facility=facility,
        submission=submission(facility),
        occurred_at=timezone.now(),
        number="CS-1",
        issued_on=timezone.localdate(),
    )


def follow_up(book, facility, *, on: dt.date) -> FollowUpAppointment:
    return FollowUpAppointment.objects.create(
        book=book,
        facility=facility,
        submission=submission(facility),
        occurred_at=timezone.now() - dt.timedelta(days=60),
        source_key=f"fu{next(_n)}",
        appointment_date=on,
    )


def immunization(book, facility, *, code: str, on: dt.date) -> Immunization:
    return Immunization.objects.create(
        book=book,
        facility=facility,
        submission=submission(facility),
        source_key=f"imm{next(_n)}",
        vaccine_code=code,
        occurred_on=on,
        occurred_at=timezone.make_aware(dt.datetime.combine(on, dt.time(9))),
        dose_number="1",
        status="completed",
    )


def pregnancy_checkup(book, facility, *, weeks: str, days_ago: int, key: str = "2025-09-01") -> PregnancyCheckup:
    return PregnancyCheckup.objects.create(
        book=book,
        facility=facility,
        submission=submission(facility),
        source_key=f"anc{next(_n)}",
        occurred_at=timezone.now() - dt.timedelta(days=days_ago),
        pregnancy_key=key,
        gestational_age_weeks=Decimal(weeks),
        weight_kg=Decimal("55.5"),
        systolic_mmhg=110,
        diastolic_mmhg=70,
        expected_delivery_date=dt.date.fromisoformat(key),
    )


def check_in(book, facility, *, when: dt.datetime | None = None, key: str | None = None) -> CheckIn:
    """A check-in at the facility (as the intake writes it from XML0 or a FHIR Encounter arrived)."""
    when = when or (timezone.now() - dt.timedelta(minutes=10))
    return CheckIn.objects.create(
        book=book,
        facility=facility,
        submission=submission(facility),
        key=key or f"CI{next(_n):08d}",
        source="xml130",
        checked_in_at=when,
        occurred_at=when,
        last_at=when,
        visit_type="01",
    )
