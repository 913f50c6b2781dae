"""The clinical data the reminders read, behind a small interface.

The reminder service (provinces.reminders) asks only these selectors:

- `vaccination_schedule(on)`: the doses of the immunisation schedule in force (code list
  `vaccine`, concept property `schedule`: dose number and age) — available now;
- `appointments_due_between(start, end)`: follow-up appointments (XML14, FHIR Appointment)
  falling due in the range, as a queryset of rows `subject_key, citizen_id, facility_id,
  due_date`;
- `doses_given()`: vaccinations given (FHIR Immunization), as a queryset of rows
  `citizen_id, vaccine_code, dose`;

The last two read the intake's clinical tables (healthbook.FollowUpAppointment,
healthbook.Immunization). Should a deployment run without them, the `*_available()` checks
say so and the daily job creates no reminder of that kind instead of guessing which doses a
child already had.
"""

import datetime as dt
from dataclasses import dataclass

from django.apps import apps
from django.db import connection
from django.db.models import CharField, F, QuerySet, Value, Window
from django.db.models.functions import Cast, Concat, RowNumber

from codelists.validation import UnknownCodeSystem, version_ref_in_force

VACCINE_SYSTEM = "vaccine"
AGE_UNITS = {"day": "days", "week": "weeks", "month": "months", "year": "years"}


@dataclass(frozen=True)
class ScheduledDose:
    vaccine_code: str
    dose: int
    age_value: int
    age_unit: str  # one of AGE_UNITS: day, week, month, year


def vaccination_schedule(on: dt.date) -> list[ScheduledDose]:
    """Return the doses of the `vaccine` code list in force on the date (active concepts with a
    schedule); entries without a usable age are skipped (the list marks them unverified)."""
    try:
        ref = version_ref_in_force(VACCINE_SYSTEM, on)
    except UnknownCodeSystem:
        return []
    if ref.version_id is None:
        return []
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT code, properties FROM codelists_concept WHERE version_id = %s AND active ORDER BY code",
            [ref.version_id],
        )
        rows = cursor.fetchall()
    doses = []
    for code, properties in rows:
        if isinstance(properties, str):
            import json

            properties = json.loads(properties)
        for item in (properties or {}).get("schedule") or []:
            age = item.get("age") or {}
            unit, value, dose = age.get("unit"), age.get("value"), item.get("dose")
            if unit in AGE_UNITS and isinstance(value, int) and value >= 0 and isinstance(dose, int):
                doses.append(ScheduledDose(vaccine_code=code, dose=dose, age_value=value, age_unit=unit))
    return doses


def _model(label: str):
    try:
        return apps.get_model(label)
    except LookupError:
        return None


# The intake's clinical models.
APPOINTMENT_MODEL = "healthbook.FollowUpAppointment"
IMMUNIZATION_MODEL = "healthbook.Immunization"


def appointments_available() -> bool:
    return _model(APPOINTMENT_MODEL) is not None


def immunizations_available() -> bool:
    return _model(IMMUNIZATION_MODEL) is not None


def appointments_due_between(start: dt.date, end: dt.date) -> QuerySet:
    """Follow-up appointments due in [start, end], one row per appointment (XML14 slips and
    FHIR Appointments alike: both land in healthbook.FollowUpAppointment)."""
    from healthbook.models import FollowUpAppointment

    return (
        FollowUpAppointment.objects.filter(appointment_date__gte=start, appointment_date__lte=end)
        .annotate(subject_key=Concat(Value("appointment:"), Cast("id", CharField())),
                  citizen_id=F("book__citizen_id"), due_date=F("appointment_date"))
        .values("subject_key", "citizen_id", "facility_id", "due_date")
    )


def doses_given() -> QuerySet:
    """Vaccinations given, one row per (citizen, vaccine code, dose).

    The k-th recorded immunization of a vaccine for a citizen (by date) counts as dose k:
    facilities do not always send a dose number, and a dose given counts whatever number
    was written on it. Records marked not done or entered in error do not count.
    """
    from healthbook.models import Immunization

    return (
        Immunization.objects.exclude(status__in=["not-done", "entered-in-error"])
        .annotate(
            citizen_id=F("book__citizen_id"),
            dose=Window(RowNumber(), partition_by=[F("book__citizen_id"), F("vaccine_code")],
                        order_by=[F("occurred_on").asc(nulls_last=True), F("id").asc()]),
        )
        .values("citizen_id", "vaccine_code", "dose")
    )
