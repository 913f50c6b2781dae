"""The outbox's public face: put a message to a citizen in the outbox, in the caller's
transaction (docs/notifications.md, "Sending a message").

    enqueue_notification(citizen_id=…, kind=Notification.Kind.FOLLOW_UP, dedupe_key="appointment:812",
                         context={"due_date": "2026-12-09", "facility": "…"})

The row is written with the fact that causes it, or not at all; delivery starts after commit
(a task) and the periodic sweep takes whatever is left. `(citizen, kind, dedupe_key)` is unique
in the database: a second call for the same reason and period writes nothing.
"""

import json
import logging
import uuid

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.services import audit_record
from healthbook.models import Notification
from healthbook.notifications.tasks import notifications_dispatch_task

log = logging.getLogger(__name__)

_INSERT_ONE_SQL = """
INSERT INTO healthbook_notification
    (public_id, citizen_id, kind, dedupe_key, channel, province_id, facility_id, context,
     status, attempts, next_attempt_at, last_error, created_at)
SELECT %s, c.id, %s, %s, %s, COALESCE(c.residence_province_id, f.province_id), f.id, %s::jsonb,
       'pending', 0, %s, '', %s
FROM healthbook_citizen c LEFT JOIN facilities_facility_view f ON f.id = %s
WHERE c.id = %s
ON CONFLICT (citizen_id, kind, dedupe_key) DO NOTHING
RETURNING id
"""


def _dispatch_queue(ids: list[int] | None) -> None:
    try:
        notifications_dispatch_task.delay(ids)
    except Exception:  # noqa: BLE001 — the broker is a doorbell: the sweep finds the rows later
        log.exception("could not queue the delivery of notifications; the sweep will")


def dispatch_after_commit(ids: list[int] | None = None) -> None:
    """Queue the delivery once the current transaction commits (all due messages without ids).
    A broker that is down loses nothing: the periodic sweep delivers what is due."""
    transaction.on_commit(lambda: _dispatch_queue(ids))


def enqueue_notification(
    *,
    citizen_id: int,
    kind: str,
    dedupe_key: str,
    channel: str | None = None,
    context: dict | None = None,
    facility_id: int | None = None,
) -> Notification | None:
    """Write one message to a citizen in the outbox, in the caller's transaction.

    `kind` is a Notification.Kind; `dedupe_key` names what the message is about and for which
    period ("appointment:812", "dose:<citizen>:TCMR-OPV:2", "emergency:<doctor>:<day>", "copy:<request id>"):
    the same citizen never gets the same kind twice for one key. `channel` defaults to
    settings.NOTIFY_DEFAULT_CHANNEL; `context` holds what the text needs (JSON, no personal IDs);
    `facility_id` is the facility concerned (its province sees the dead letters when the citizen
    has no province of residence). Returns the new row, or None when it was already there.
    """
    if kind not in Notification.Kind.values:
        raise ValueError(f"unknown notification kind {kind!r}")
    channel = channel or settings.NOTIFY_DEFAULT_CHANNEL
    if channel not in Notification.Channel.values:
        raise ValueError(f"unknown notification channel {channel!r}")
    if not dedupe_key or len(dedupe_key) > 160:
        raise ValueError("dedupe_key must be 1 to 160 characters")
    now = timezone.now()
    public_id = uuid.uuid4()
    with connection.cursor() as cursor:  # one statement: in the caller's transaction, whole or not at all
        cursor.execute(
            _INSERT_ONE_SQL,
            [public_id, kind, dedupe_key, channel, json.dumps(context or {}), now, now, facility_id, citizen_id],
        )
        row = cursor.fetchone()
    if row is None:
        return None
    dispatch_after_commit([row[0]])
    return Notification(
        pk=row[0], public_id=public_id, citizen_id=citizen_id, kind=kind, dedupe_key=dedupe_key, channel=channel,
        facility_id=facility_id, context=context or {}, status=Notification.Status.PENDING, attempts=0,
        next_attempt_at=now, created_at=now,
    )  # fmt: skip


# The set-based form: `source` is a relation or a parenthesised SELECT with the columns
# citizen_id, kind, dedupe_key, facility_id, context (jsonb). Parameters: channel, now, now.
_INSERT_MANY_SQL = """
INSERT INTO healthbook_notification
    (public_id, citizen_id, kind, dedupe_key, channel, province_id, facility_id, context,
     status, attempts, next_attempt_at, last_error, created_at)
SELECT gen_random_uuid(), s.citizen_id, s.kind, s.dedupe_key, %s, COALESCE(c.residence_province_id, f.province_id),
       f.id, s.context, 'pending', 0, %s, '', %s
FROM {source} AS s
JOIN healthbook_citizen c ON c.id = s.citizen_id
LEFT JOIN facilities_facility_view f ON f.id = s.facility_id
ON CONFLICT (citizen_id, kind, dedupe_key) DO NOTHING
RETURNING id
"""


def enqueue_many_sql(source: str, *, channel: str | None = None) -> tuple[str, list]:
    """The INSERT … SELECT that writes one message per row of `source` (a relation name, e.g. a
    CTE of the caller's statement, or a parenthesised SELECT with the columns citizen_id, kind,
    dedupe_key, facility_id, context), and its own parameters, which come before any of `source`'s.
    Rows already in the outbox are skipped; no row passes through Python. The caller queues the
    delivery with `dispatch_after_commit()` (or leaves it to the sweep)."""
    channel = channel or settings.NOTIFY_DEFAULT_CHANNEL
    if channel not in Notification.Channel.values:
        raise ValueError(f"unknown notification channel {channel!r}")
    now = timezone.now()
    return _INSERT_MANY_SQL.format(source=source), [channel, now, now]


def enqueue_notifications_from(*, source_sql: str, params: list, channel: str | None = None) -> int:
    """Write one message per row of a SELECT (`source_sql` with `params`; columns as for
    enqueue_many_sql) in the caller's transaction; returns how many were new. For cohorts (a
    province reminding a group of citizens)."""
    sql, own = enqueue_many_sql(f"({source_sql})", channel=channel)
    with connection.cursor() as cursor:
        cursor.execute(sql, [*own, *params])  # the statement's own placeholders come before the source's
        created = cursor.rowcount
    if created:
        dispatch_after_commit()
    return created


def copy_ready_notify(*, citizen_id: int, copy_request_id, expires_on) -> Notification | None:
    """ "Your copy is ready" (issue 19, point 3): call it in the transaction that marks the copy
    request ready. One message per copy request; `expires_on` (a date) is when the download
    lapses."""
    return enqueue_notification(
        citizen_id=citizen_id,
        kind=Notification.Kind.COPY_READY,
        dedupe_key=f"copy:{copy_request_id}",
        context={"expires_on": expires_on.isoformat()},
    )


def on_notification_requested(sender, *, citizen_id, kind, dedupe_key, context=None, facility_id=None, **kwargs):
    """core.notify.notification_requested, sent by apps below the health book (connected in
    HealthbookConfig.ready): the same as calling enqueue_notification."""
    enqueue_notification(
        citizen_id=citizen_id, kind=kind, dedupe_key=dedupe_key, context=context, facility_id=facility_id
    )


@transaction.atomic
def notification_retry(*, notification: Notification, user) -> Notification:
    """A provincial officer or the ministry sends a failed message again (dead letters page):
    back to "to send" now with a fresh count of attempts, audited."""
    locked = Notification.objects.select_for_update().get(pk=notification.pk)
    if locked.status not in (Notification.Status.DEAD, Notification.Status.RETRYING):
        raise ValidationError(_("This message is not waiting for a retry."))
    previous = {"status": locked.status, "attempts": locked.attempts, "last_error": locked.last_error}
    locked.status, locked.attempts, locked.next_attempt_at = Notification.Status.PENDING, 0, timezone.now()
    locked.save(update_fields=["status", "attempts", "next_attempt_at"])
    audit_record(actor=user, action="notification_retry", target=locked, details=previous)
    dispatch_after_commit([locked.pk])
    return locked
