"""Connection health: what each facility sends, per day, and whether it has gone silent.

The intake calls `facility_connection_event_record` once per submission (or
`facility_connection_events_record` once per batch). Each call is one set-based upsert
(INSERT … ON CONFLICT DO UPDATE) on the per-day row and one conditional update of the
facility, so concurrent workers never lose a count. The first accepted submission moves
an approved facility to connected.
"""

import datetime as dt
import json
from collections import defaultdict
from dataclasses import dataclass

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.services import audit_record
from facilities.models import Facility, FacilityDailyHealth, FacilityStatus
from facilities.services import status_change_record

CHART_DAYS = 90


class ConnectionEventKind:
    """A submission counts as received and as accepted or rejected; any other contact
    (a read, a status poll) only moves "last contact"."""

    SUBMISSION = "submission"
    CONTACT = "contact"
    ALL = (SUBMISSION, CONTACT)


@dataclass(frozen=True)
class ConnectionEvent:
    facility_id: int
    at: dt.datetime
    kind: str = ConnectionEventKind.SUBMISSION
    accepted: bool = False
    count: int = 1
    # For a rejected submission: the code of its first error (intake problem code).
    reason: str = ""


# A rejection recorded without a reason (never from the intake, which always has one).
UNRECORDED_REASON = "UNRECORDED"


_UPSERT_DAY = """
INSERT INTO facilities_facilitydailyhealth
    (facility_id, day, received, accepted, rejected, last_contact_at, last_accepted_at, rejection_reasons)
VALUES {values}
ON CONFLICT (facility_id, day) DO UPDATE SET
    received = facilities_facilitydailyhealth.received + EXCLUDED.received,
    accepted = facilities_facilitydailyhealth.accepted + EXCLUDED.accepted,
    rejected = facilities_facilitydailyhealth.rejected + EXCLUDED.rejected,
    rejection_reasons = (
        SELECT COALESCE(jsonb_object_agg(k, n), '{{}}'::jsonb)
        FROM (SELECT k, SUM(v::bigint) AS n
              FROM (SELECT * FROM jsonb_each_text(facilities_facilitydailyhealth.rejection_reasons)
                    UNION ALL SELECT * FROM jsonb_each_text(EXCLUDED.rejection_reasons)) AS r(k, v)
              GROUP BY k) AS merged
    ),
    last_contact_at = GREATEST(facilities_facilitydailyhealth.last_contact_at, EXCLUDED.last_contact_at),
    last_accepted_at = GREATEST(facilities_facilitydailyhealth.last_accepted_at, EXCLUDED.last_accepted_at)
"""

# GREATEST/LEAST ignore NULLs in PostgreSQL, so a rejected event leaves the accepted times alone.
_UPDATE_FACILITIES = """
UPDATE facilities_facility AS f SET
    last_contact_at = GREATEST(f.last_contact_at, v.last_contact_at),
    last_accepted_at = GREATEST(f.last_accepted_at, v.last_accepted_at),
    first_accepted_at = LEAST(f.first_accepted_at, v.first_accepted_at)
FROM (VALUES {values}) AS v(facility_id, last_contact_at, last_accepted_at, first_accepted_at)
WHERE f.id = v.facility_id
"""

_CONNECT = """
UPDATE facilities_facility SET status = %s
WHERE id = ANY(%s) AND status = %s
RETURNING id, first_accepted_at
"""


def facility_connection_event_record(
    *,
    facility: Facility,
    kind: str = ConnectionEventKind.SUBMISSION,
    at: dt.datetime | None = None,
    accepted: bool = False,
    count: int = 1,
    reason: str = "",
) -> bool:
    """Record one event from a facility's software; return True if it connected the facility."""
    event = ConnectionEvent(
        facility_id=facility.pk, at=at or timezone.now(), kind=kind, accepted=accepted, count=count, reason=reason
    )
    connected = facility_connection_events_record(events=[event])
    if facility.pk in connected:
        facility.status = FacilityStatus.CONNECTED
    return facility.pk in connected


@transaction.atomic
def facility_connection_events_record(*, events: list[ConnectionEvent]) -> set[int]:
    """Record many events in three statements; return the ids of facilities they connected."""
    if not events:
        return set()
    days: dict[tuple[int, dt.date], list] = defaultdict(lambda: [0, 0, 0, None, None, defaultdict(int)])
    per_facility: dict[int, list] = defaultdict(lambda: [None, None, None])
    for event in events:
        if event.kind not in ConnectionEventKind.ALL:
            raise ValueError(f"unknown connection event kind {event.kind!r}")
        if event.count < 1:
            raise ValueError("count must be positive")
        at = event.at
        day = days[(event.facility_id, timezone.localtime(at).date())]
        fac = per_facility[event.facility_id]
        day[3] = max(day[3], at) if day[3] else at
        fac[0] = max(fac[0], at) if fac[0] else at
        if event.kind == ConnectionEventKind.SUBMISSION:
            day[0] += event.count
            if event.accepted:
                day[1] += event.count
                day[4] = max(day[4], at) if day[4] else at
                fac[1] = max(fac[1], at) if fac[1] else at
                fac[2] = min(fac[2], at) if fac[2] else at
            else:
                day[2] += event.count
                day[5][event.reason or UNRECORDED_REASON] += event.count
    day_params: list = []
    for (facility_id, day), (received, accepted, rejected, last_contact, last_accepted, reasons) in sorted(
        days.items()
    ):
        day_params += [facility_id, day, received, accepted, rejected, last_contact, last_accepted, json.dumps(reasons)]
    fac_params: list = []
    for facility_id, (last_contact, last_accepted, first_accepted) in sorted(per_facility.items()):
        fac_params += [facility_id, last_contact, last_accepted, first_accepted]
    day_row = "(%s, %s::date, %s, %s, %s, %s::timestamptz, %s::timestamptz, %s::jsonb)"
    fac_row = "(%s::bigint, %s::timestamptz, %s::timestamptz, %s::timestamptz)"
    with connection.cursor() as cursor:
        cursor.execute(_UPSERT_DAY.format(values=", ".join([day_row] * len(days))), day_params)
        cursor.execute(_UPDATE_FACILITIES.format(values=", ".join([fac_row] * len(per_facility))), fac_params)
        accepted_ids = [fid for fid, fac in per_facility.items() if fac[1] is not None]
        connected: set[int] = set()
        if accepted_ids:
            cursor.execute(_CONNECT, [FacilityStatus.CONNECTED, accepted_ids, FacilityStatus.APPROVED])
            rows = cursor.fetchall()
            connected = {row[0] for row in rows}
            for facility_id, first_accepted_at in rows:
                facility = Facility(pk=facility_id)
                status_change_record(
                    facility=facility,
                    from_status=FacilityStatus.APPROVED,
                    to_status=FacilityStatus.CONNECTED,
                    actor=None,
                    reason=_("First accepted data submission."),
                    at=first_accepted_at,
                )
                audit_record(actor=None, action="facility_connect", target=Facility.objects.get(pk=facility_id))
    return connected


def silent_after_days() -> int:
    return int(getattr(settings, "SSKDT_SILENT_AFTER_DAYS", 7))


def silent_cutoff(now: dt.datetime | None = None) -> dt.datetime:
    """Return the moment before which a last accepted submission makes a facility silent."""
    return (now or timezone.now()) - dt.timedelta(days=silent_after_days())


def facility_is_silent(facility: Facility, now: dt.datetime | None = None) -> bool:
    if facility.status not in (FacilityStatus.APPROVED, FacilityStatus.CONNECTED):
        return False
    since = facility.last_accepted_at or facility.approved_at
    return since is not None and since < silent_cutoff(now)


def facility_health_series(*, facility: Facility, days: int = CHART_DAYS, today: dt.date | None = None) -> dict:
    """Return the last `days` days of received / accepted / rejected counts, zeros filled,
    for the detail page chart (one indexed range query)."""
    today = today or timezone.localdate()
    start = today - dt.timedelta(days=days - 1)
    rows = {
        r["day"]: r
        for r in FacilityDailyHealth.objects.filter(facility=facility, day__gte=start, day__lte=today).values(
            "day", "received", "accepted", "rejected"
        )
    }
    labels, received, accepted, rejected = [], [], [], []
    for i in range(days):
        day = start + dt.timedelta(days=i)
        row = rows.get(day, {})
        labels.append(day.strftime("%d/%m"))
        received.append(row.get("received", 0))
        accepted.append(row.get("accepted", 0))
        rejected.append(row.get("rejected", 0))
    return {
        "labels": labels,
        "received": received,
        "accepted": accepted,
        "rejected": rejected,
        "totals": {"received": sum(received), "accepted": sum(accepted), "rejected": sum(rejected)},
    }
