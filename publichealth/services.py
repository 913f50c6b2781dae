"""Writes of the line lists: open a list (with its purpose, one access-log entry per citizen
listed), record an export (the same), send the cohort's reminder through the outbox."""

from __future__ import annotations

import json
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from accesslog.models import PublicHealthPurpose, Purpose
from accesslog.selectors import cohort_viewed
from accesslog.services import Actor, access_log_record_many
from accounts.services import audit_record
from healthbook.models import HealthBook, Notification
from healthbook.notifications.services import enqueue_notifications_from
from publichealth import cohorts_port
from publichealth.models import LineListOpening
from publichealth.selectors import list_citizen_ids, reminder_key

EVENT_OPEN, EVENT_EXPORT = "cohort_list", "cohort_export"


def purpose_clean(purpose: str, purpose_text: str) -> tuple[str, str]:
    text = " ".join((purpose_text or "").split())
    if purpose not in PublicHealthPurpose.values:
        raise ValidationError({"purpose": _("Choose a purpose from the list.")})
    if len(text) < 10:
        raise ValidationError({"purpose_text": _("Say in a sentence what you will use this list for.")})
    if len(text) > 300:
        raise ValidationError({"purpose_text": _("The explanation is too long (at most 300 characters).")})
    return purpose, text


def _log(opening: LineListOpening, *, user, event: str, request=None) -> int:
    """One access-log entry per citizen of the opening (accesslog's bulk append), purpose PUBHLTH,
    with the cohort, the stated purpose and the province in the details the citizen's log words."""
    books = dict(HealthBook.objects.filter(citizen_id__in=opening.citizen_ids).values_list("citizen_id", "public_id"))
    return access_log_record_many(
        actor=Actor.for_user(user),
        event=event,
        viewed=cohort_viewed(opening.cohort_name, opening.purpose),
        citizens=[(cid, books.get(cid)) for cid in opening.citizen_ids],
        purpose=Purpose.PUBHLTH,
        request=request,
        details={
            "cohort": opening.cohort_name,
            "cohort_key": opening.cohort_key,
            "purpose": opening.purpose,
            "purpose_text": opening.purpose_text,
            "province": opening.province.name_vi,
            "commune": opening.commune_code,
            "list": str(opening.public_id),
        },
    )


def line_list_open(
    *, user, cohort: cohorts_port.CohortRef, commune_code: str, purpose: str, purpose_text: str, request=None
) -> LineListOpening:
    """Open a cohort's line list for the user's province (access.list_province has said which):
    the list is fixed now (closed books left out), every citizen on it is logged, then the
    opening is saved — so a list is never shown without its entries. The entries are written
    first, in the chain's short transactions (accesslog.chain.entries_append_many: one long
    transaction would hold the chain head from every doctor for the whole list); if saving the
    opening fails after them, the log names people of a list nobody saw, never the reverse."""
    purpose, purpose_text = purpose_clean(purpose, purpose_text)
    province = user.province
    now = timezone.now()
    opening = LineListOpening(
        user=user,
        province=province,
        commune_code=commune_code or "",
        cohort_version_id=cohort.version_id,
        cohort_key=cohort.key[:64],
        cohort_name=cohort.name[:200],
        purpose=purpose,
        purpose_text=purpose_text,
        citizen_ids=list_citizen_ids(cohort, province.code, commune_code),
        opened_at=now,
        expires_at=now + timedelta(minutes=settings.SSKDT_COHORT_LIST_MINUTES),
    )
    _log(opening, user=user, event=EVENT_OPEN, request=request)
    with transaction.atomic():
        opening.save(force_insert=True)
        audit_record(
            actor=user,
            action="cohort_list_open",
            target=opening,
            details={
                "cohort": cohort.key,
                "commune": commune_code,
                "purpose": purpose,
                "count": len(opening.citizen_ids),
            },
        )
    return opening


def line_list_export_record(*, opening: LineListOpening, user, fmt: str, request=None) -> int:
    """An export of the list: one more access-log entry per citizen listed (written before the
    file is made), the count kept, an audit record."""
    logged = _log(opening, user=user, event=EVENT_EXPORT, request=request)
    with transaction.atomic():
        LineListOpening.objects.filter(pk=opening.pk).update(exports=F("exports") + 1)
        audit_record(actor=user, action="cohort_list_export", target=opening, details={"format": fmt})
    return logged


_REMINDER_SOURCE = (
    "SELECT ids.citizen_id, %s AS kind, %s AS dedupe_key, NULL::integer AS facility_id, %s::jsonb AS context"
    " FROM unnest(%s::integer[]) AS ids(citizen_id)"
)


def cohort_reminders_send(*, opening: LineListOpening, user) -> int:
    """Put this month's reminder of the cohort in the outbox for every citizen of the list, in one
    INSERT … SELECT; a citizen already reminded for this cohort this month (by anyone) is skipped
    (the outbox's unique dedupe key). Returns how many messages are new."""
    key = reminder_key(opening)
    context = {
        "province": opening.province.name_vi,
        "cohort": opening.cohort_key,
        "reason": opening.cohort_name,
    }
    with transaction.atomic():
        created = enqueue_notifications_from(
            source_sql=_REMINDER_SOURCE,
            params=[
                Notification.Kind.COHORT_REMINDER,
                key,
                json.dumps(context, ensure_ascii=False),
                opening.citizen_ids,
            ],
        )
        audit_record(
            actor=user,
            action="cohort_reminders_send",
            target=opening,
            details={"dedupe_key": key, "created": created, "listed": len(opening.citizen_ids)},
        )
    return created
