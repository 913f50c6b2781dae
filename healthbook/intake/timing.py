"""Facts from facility data happen in the past: the time rule of the intake (issue 15, point 2).

A visit's admission (XML1 NGAY_VAO / NGAY_VAO_NOI_TRU, FHIR Encounter.period.start) or a
check-in's times (XML0 NGAY_VAO / NGAY_VAO_NOI_TRU / NGAY_YL, FHIR period.start) more than
`SSKDT_CLOCK_SKEW_MINUTES` after the receipt of the submission are an error (TIME_IN_FUTURE):
such a record would open the book to the sender for a window that has not begun, and a visit
dated 2099 would keep it open until 2101. Follow-up dates and card validity are in the future by
nature; they open nothing and are not checked here. Within the skew, the record's window runs
from the earlier of its own time and the receipt (`care_start`).
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings

from .problems import Problem, SeverityPolicy, problem
from .records import CheckInData, VisitData

VN_TZ = ZoneInfo("Asia/Ho_Chi_Minh")


def clock_skew() -> timedelta:
    return timedelta(minutes=int(getattr(settings, "SSKDT_CLOCK_SKEW_MINUTES", 10)))


def as_aware(value) -> datetime | None:
    """A time as the readers give it (aware or naive datetime, a date, a partial FHIR date as
    text) → an aware datetime, or None when it names no moment."""
    if isinstance(value, datetime):
        return value if value.tzinfo is not None else value.replace(tzinfo=VN_TZ)
    if isinstance(value, date):
        return datetime.combine(value, time.min, tzinfo=VN_TZ)
    return None


def care_start(at, received_at: datetime) -> datetime:
    """Where a relationship window starts: the record's time, or the receipt if that is earlier
    (or the record has no time)."""
    at = as_aware(at)
    return received_at if at is None or at > received_at else at


def _late(at, limit: datetime) -> bool:
    at = as_aware(at)
    return at is not None and at > limit


def _local(at) -> str:
    return as_aware(at).astimezone(VN_TZ).strftime("%d/%m/%Y %H:%M")


def times_check(
    visits: list[VisitData], checkins: list[CheckInData], *, received_at: datetime, policy: SeverityPolicy
) -> list[Problem]:
    """TIME_IN_FUTURE for every admission or check-in time later than receipt + skew."""
    limit = received_at + clock_skew()
    found = []  # (table, record key, field, time)
    for v in visits:
        e = v.encounter
        if e is not None:
            xml = e.source == "xml130"
            table = "XML1" if xml else "Encounter"
            start = "NGAY_VAO" if xml else "period.start"
            found += [
                (table, e.key, name, at) for name, at in ((start, e.admitted_at), ("NGAY_VAO_NOI_TRU", e.inpatient_at))
            ]
    for c in checkins:
        found += [("XML0" if c.source == "xml130" else "Encounter", c.key, name, at) for name, at in c.times]
    return [
        problem("TIME_IN_FUTURE", table=table, record_key=key, field=name, value=_local(at), policy=policy)
        for table, key, name, at in found
        if _late(at, limit)
    ]
