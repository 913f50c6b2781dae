"""What the reminders read from the book: follow-up appointments falling due and the doses a
child was given (the schedule itself is the code list's: codelists.lookups.vaccination_schedule).
A citizen's reminders with their delivery state: healthbook.notifications.selectors.

The first two return querysets that the reminder service compiles into its set-based
INSERT … SELECT (no row passes through Python).
"""

import datetime as dt

from django.db.models import CharField, F, QuerySet, Value, Window
from django.db.models.functions import Cast, Concat, RowNumber

from healthbook.models import FollowUpAppointment, Immunization


def appointments_due_between(start: dt.date, end: dt.date) -> QuerySet:
    """Follow-up appointments due in [start, end], one row per appointment (XML14 slips and
    FHIR Appointments alike: both land in FollowUpAppointment)."""
    return (
        FollowUpAppointment.objects.filter(appointment_date__gte=start, appointment_date__lte=end)
        .annotate(
            subject_key=Concat(Value("appointment:"), Cast("id", CharField())),
            citizen_id=F("book__citizen_id"),
            due_date=F("appointment_date"),
        )
        .values("subject_key", "citizen_id", "facility_id", "due_date")
    )


def doses_given() -> QuerySet:
    """Vaccinations given, one row per (citizen, vaccine code, dose).

    The k-th recorded immunization of a vaccine for a citizen (by date) counts as dose k:
    facilities do not always send a dose number, and a dose given counts whatever number
    was written on it. Records of doses not given do not count.
    """
    return (
        Immunization.objects.exclude(status__in=Immunization.NOT_GIVEN_STATUSES)
        .annotate(
            citizen_id=F("book__citizen_id"),
            dose=Window(
                RowNumber(),
                partition_by=[F("book__citizen_id"), F("vaccine_code")],
                order_by=[F("occurred_on").asc(nulls_last=True), F("id").asc()],
            ),
        )
        .values("citizen_id", "vaccine_code", "dose")
    )
