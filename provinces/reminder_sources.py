"""The clinical data the reminders read, behind a small interface.

The reminder service (provinces.reminders) asks only these selectors:

- `vaccination_schedule(on)`: the doses of the immunisation schedule in force (code list
  `vaccine`, concept property `schedule`: dose number and age) — available now;
- `appointments_due_between(start, end)`: follow-up appointments (XML14, FHIR Appointment)
  falling due in the range, as a queryset of rows `subject_key, citizen_id, facility_id,
  due_date`;
- `doses_given()`: vaccinations given (FHIR Immunization), as a queryset of rows
  `citizen_id, vaccine_code, dose`;
- `visits_since()`: for missed follow-ups, whether a visit happened after an appointment.

The last three need the intake's clinical tables. Until they exist the `*_available()`
checks say so, and the daily job creates no reminder of that kind (it reports "waiting for
clinical records") instead of guessing which doses a child already had.
"""

import datetime as dt
from dataclasses import dataclass

from django.apps import apps
from django.db import connection
from django.db.models import QuerySet

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


# The intake's clinical models, by the names the intake branch gives them (set when it lands).
APPOINTMENT_MODEL = "healthbook.FollowUpAppointment"
IMMUNIZATION_MODEL = "healthbook.Immunization"


def appointments_available() -> bool:
    return _model(APPOINTMENT_MODEL) is not None


def immunizations_available() -> bool:
    return _model(IMMUNIZATION_MODEL) is not None


def appointments_due_between(start: dt.date, end: dt.date) -> QuerySet:
    """Follow-up appointments due in [start, end], one row per appointment."""
    raise NotImplementedError("follow-up appointments arrive with the intake of clinical records")


def doses_given() -> QuerySet:
    """Vaccinations given, one row per (citizen, vaccine code, dose)."""
    raise NotImplementedError("immunizations arrive with the intake of clinical records")
