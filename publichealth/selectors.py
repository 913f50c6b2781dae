"""Reads of the line lists: who a cohort lists for a province (closed books left out), a page of
an opening, every row for an export, and who the reminders reached."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass

from django.conf import settings
from django.core.paginator import Page, Paginator
from django.db.models import Exists, OuterRef
from django.utils import timezone

from core.privacy import mask_id
from geo.models import Commune
from healthbook.models import BookClosure, Citizen, Notification
from publichealth import cohorts_port
from publichealth.models import LineListOpening

PAGE_SIZE = 50


def list_citizen_ids(cohort: cohorts_port.CohortRef, province_code: str, commune_code: str = "") -> list[int]:
    """The citizens a line list shows, in list order: the cohort's members in the province (and
    commune) less those who closed their book to everyone (issue 19 consent: they are counted,
    never listed). One query; at most SSKDT_COHORT_LIST_MAX people."""
    closed = BookClosure.objects.filter(
        citizen_id=OuterRef("citizen_id"), facility__isnull=True, revoked_at__isnull=True
    )
    qs = cohorts_port.members(cohort, province_code, commune_code or None)
    qs = qs.alias(closed=Exists(closed)).filter(closed=False)
    return list(qs.values_list("citizen_id", flat=True)[: settings.SSKDT_COHORT_LIST_MAX])


def reminder_key(opening: LineListOpening, day: dt.date | None = None) -> str:
    """The outbox's dedupe key of a cohort reminder: one per cohort and month, whoever sends it."""
    day = day or timezone.localdate()
    return f"cohort:{opening.cohort_key}:{day:%Y-%m}"


@dataclass
class Row:
    citizen_id: int
    masked_id: str
    name: str
    age: int | None
    sex: str
    commune: str
    phone: str
    address: str
    last_contact: dt.date | None
    reason: str
    reminder: str  # the outbox status of this month's reminder, "" when none was sent
    reminder_label: str


def _age(birth: dt.date | None, today: dt.date) -> int | None:
    if birth is None:
        return None
    return today.year - birth.year - ((today.month, today.day) < (birth.month, birth.day))


def rows_for(opening: LineListOpening, citizen_ids: list[int]) -> list[Row]:
    """The rows of these citizens, in the opening's order: three queries whatever their number
    (citizens, commune names, reminder states) plus the cohort's own details."""
    citizens = {
        c.pk: c
        for c in Citizen.objects.filter(pk__in=citizen_ids).only(
            "id", "personal_id", "full_name", "birth_date", "sex", "residence_commune_code", "phone", "address"
        )
    }
    codes = {c.residence_commune_code for c in citizens.values() if c.residence_commune_code}
    communes = dict(Commune.objects.filter(code__in=codes).values_list("code", "name_vi")) if codes else {}
    states = dict(
        Notification.objects.filter(
            citizen_id__in=citizen_ids, kind=Notification.Kind.COHORT_REMINDER, dedupe_key=reminder_key(opening)
        ).values_list("citizen_id", "status")
    )
    details = cohorts_port.member_details(_cohort(opening), citizen_ids)
    status_labels = dict(Notification.Status.choices)
    today = timezone.localdate()
    rows = []
    for cid in citizen_ids:
        c = citizens.get(cid)
        if c is None:
            continue
        reason, last_contact = details.get(cid, ("", None))
        state = states.get(cid, "")
        rows.append(
            Row(
                citizen_id=cid,
                masked_id=mask_id(c.personal_id),
                name=c.full_name,
                age=_age(c.birth_date, today),
                sex=c.get_sex_display() if c.sex else "",
                commune=communes.get(c.residence_commune_code, c.residence_commune_code),
                phone=c.phone,
                address=c.address,
                last_contact=last_contact,
                reason=reason,
                reminder=state,
                reminder_label=str(status_labels.get(state, "")),
            )
        )
    return rows


def _cohort(opening: LineListOpening) -> cohorts_port.CohortRef:
    return cohorts_port.CohortRef(opening.cohort_version_id, opening.cohort_key, opening.cohort_name)


def list_page(opening: LineListOpening, number) -> tuple[Page, list[Row]]:
    page = Paginator(opening.citizen_ids, PAGE_SIZE).get_page(number)
    return page, rows_for(opening, list(page.object_list))


def all_rows(opening: LineListOpening):
    """Every row of the opening, 1,000 citizens at a time (the export)."""
    ids = opening.citizen_ids
    for start in range(0, len(ids), 1000):
        yield from rows_for(opening, ids[start : start + 1000])


def reminder_counts(opening: LineListOpening) -> dict:
    """This month's reminders to the people of the list, by delivery state (one query)."""
    counts = Counter(
        Notification.objects.filter(
            citizen_id__in=opening.citizen_ids,
            kind=Notification.Kind.COHORT_REMINDER,
            dedupe_key=reminder_key(opening),
        ).values_list("status", flat=True)
    )
    total = sum(counts.values())
    return {
        "listed": len(opening.citizen_ids),
        "queued": total,
        "sent": counts.get(Notification.Status.SENT, 0),
        "waiting": counts.get(Notification.Status.PENDING, 0) + counts.get(Notification.Status.SENDING, 0),
        "retrying": counts.get(Notification.Status.RETRYING, 0),
        "dead": counts.get(Notification.Status.DEAD, 0),
        "not_sent": len(opening.citizen_ids) - total,
    }
