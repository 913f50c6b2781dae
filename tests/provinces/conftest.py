"""Builders for the dashboard tests: facilities with a status history and daily connection
health, citizens with books and cards — real rows in the real tables, nothing mocked."""

import datetime as dt
import itertools

import pytest
from django.utils import timezone

from facilities.models import Facility, FacilityDailyHealth, FacilityStatus, FacilityStatusChange, Level, Ownership
from healthbook.models import Citizen, HealthBook, InsuranceCard
from provinces.rollups import rollups_compute
from tests import factories as f

S = FacilityStatus
_numbers = itertools.count(1)


def today() -> dt.date:
    return timezone.localdate()


def at(day: dt.date, hour: int = 10) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time(hour)))


def facility(
    code: str,
    province_code: str,
    *,
    status: str = S.CONNECTED,
    ownership: str = Ownership.PUBLIC,
    level: str = Level.COMMUNE_STATION,
    since_days: int = 60,
    expected: int | None = 300,
    name: str | None = None,
) -> Facility:
    """A facility registered `since_days` ago, approved 2 days later, connected 2 days after
    that (as far as `status` goes), with the matching status history."""
    registered = at(today() - dt.timedelta(days=since_days), 9)
    fac = f.FacilityFactory(
        code=code,
        province=f.province(province_code),
        status=status,
        ownership=ownership,
        level=level,
        expected_monthly_visits=expected,
        registered_at=registered,
        name=name or f"Cơ sở thử nghiệm {code}",
    )
    steps = [("", S.PENDING, registered)]
    if status in (S.APPROVED, S.CONNECTED, S.SUSPENDED, S.CLOSED):
        fac.approved_at = registered + dt.timedelta(days=2)
        steps.append((S.PENDING, S.APPROVED, fac.approved_at))
    if status in (S.CONNECTED, S.SUSPENDED, S.CLOSED):
        steps.append((S.APPROVED, S.CONNECTED, registered + dt.timedelta(days=4)))
    if status in (S.SUSPENDED, S.CLOSED):
        steps.append((S.CONNECTED, status, registered + dt.timedelta(days=10)))
    if status == S.REJECTED:
        steps.append((S.PENDING, S.REJECTED, registered + dt.timedelta(days=1)))
    fac.save(update_fields=["approved_at"])
    FacilityStatusChange.objects.bulk_create(
        FacilityStatusChange(facility=fac, from_status=a, to_status=b, at=t) for a, b, t in steps
    )
    return fac


def health(fac: Facility, day: dt.date, *, received: int, rejected: int = 0) -> FacilityDailyHealth:
    """One day of submissions, and the facility's last contact / last accepted moved along."""
    accepted = received - rejected
    row = FacilityDailyHealth.objects.create(
        facility=fac,
        day=day,
        received=received,
        accepted=accepted,
        rejected=rejected,
        last_contact_at=at(day),
        last_accepted_at=at(day) if accepted else None,
    )
    updates = {"last_contact_at": max(filter(None, [fac.last_contact_at, at(day)]))}
    if accepted:
        updates["last_accepted_at"] = max(filter(None, [fac.last_accepted_at, at(day)]))
    Facility.objects.filter(pk=fac.pk).update(**updates)
    for key, value in updates.items():
        setattr(fac, key, value)
    return row


def citizen(
    province_code: str | None,
    *,
    book_day: dt.date | None = None,
    card: tuple | None = None,
    born: dt.date | None = None,
) -> Citizen:
    """A citizen of the province with a book created on `book_day` (default today) and,
    if given, a card valid (from, to)."""
    n = next(_numbers)
    person = Citizen.objects.create(
        full_name="Nguyễn Văn Thử",
        personal_id=f"0010900{n:05d}",
        social_insurance_number=f"01{n:08d}",
        residence_province=f.province(province_code) if province_code else None,
        birth_date=born,
    )
    book = HealthBook.objects.create(citizen=person, created_via=HealthBook.CreatedVia.MANUAL)
    HealthBook.objects.filter(pk=book.pk).update(created_at=at(book_day or today(), 8))
    if card:
        InsuranceCard.objects.create(
            citizen=person,
            social_insurance_number=person.social_insurance_number,
            card_number=f"DN401{person.social_insurance_number}",
            primary_care_facility_code="01001",
            valid_from=card[0],
            valid_to=card[1],
        )
    return person


def compute(start: dt.date | None = None, end: dt.date | None = None):
    end = end or today()
    return rollups_compute(start=start or end, end=end)


@pytest.fixture
def hanoi_network(db):
    """Hà Nội: a public facility sending every day, a private one silent for 10 days, one
    pending registration; HCMC: one public facility sending. Books and cards in both."""
    d = today()
    busy = facility("01101", "01", name="Trạm Y tế Đều Đặn")
    quiet = facility("01102", "01", ownership=Ownership.PRIVATE, level=Level.PRIVATE_CLINIC, name="Phòng khám Im Lặng")
    pending = facility("01103", "01", status=S.PENDING, name="Phòng khám Chờ Duyệt")
    south = facility("79101", "79", name="Trạm Y tế Phía Nam")
    for back in range(40):
        day = d - dt.timedelta(days=back)
        health(busy, day, received=10, rejected=1)
        health(south, day, received=5)
        if back >= 10:
            health(quiet, day, received=4)
    for i in range(3):
        citizen("01", book_day=d - dt.timedelta(days=i), card=(d - dt.timedelta(days=100), d + dt.timedelta(days=100)))
    citizen("01", book_day=d - dt.timedelta(days=50), card=(d - dt.timedelta(days=400), d - dt.timedelta(days=35)))
    citizen("79", book_day=d, card=(d, None))
    citizen(None, book_day=d)
    return {"busy": busy, "quiet": quiet, "pending": pending, "south": south}


# --- clinical records (the intake's tables, written directly: the intake pipeline owns them) ---


def submission(fac: Facility, *, received_at: dt.datetime | None = None, status: str = "accepted"):
    from healthbook.models import Submission

    n = next(_numbers)
    return Submission.objects.create(
        facility=fac,
        received_at=received_at or timezone.now(),
        kind="xml130",
        content_type="application/xml",
        size_bytes=100,
        sha256=f"{n:064d}",
        request_hash=f"{n:064d}",
        status=status,
    )


def encounter(person: Citizen, fac: Facility, occurred: dt.date):
    from healthbook.models import Encounter

    n = next(_numbers)
    return Encounter.objects.create(
        book=person.book,
        facility=fac,
        submission=submission(fac),
        key=f"LK{n}",
        source="xml130",
        content_hash=f"{n:064d}",
        occurred_at=at(occurred),
    )


def appointment(person: Citizen, fac: Facility, on: dt.date):
    from healthbook.models import FollowUpAppointment

    n = next(_numbers)
    return FollowUpAppointment.objects.create(
        book=person.book,
        facility=fac,
        submission=submission(fac),
        source_key=f"Appointment/{n}",
        appointment_date=on,
        occurred_at=at(on),
    )


def immunization(person: Citizen, fac: Facility, code: str, on: dt.date, *, status: str = "completed"):
    from healthbook.models import Immunization

    n = next(_numbers)
    return Immunization.objects.create(
        book=person.book,
        facility=fac,
        submission=submission(fac),
        source_key=f"Immunization/{n}",
        vaccine_code=code,
        occurred_on=on,
        occurred_at=at(on),
        status=status,
    )
