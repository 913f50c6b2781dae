"""Delivery of the outbox (the pipeline the tasks run; docs/notifications.md, "Delivery").

1. Claim a batch in one committed statement (`UPDATE … WHERE id IN (SELECT … FOR UPDATE SKIP
   LOCKED)`): status "sending", one more attempt, and `next_attempt_at` moved to the end of the
   claim. Workers running side by side never take the same row; a row whose worker died is taken
   again once its claim lapses (the gateway recognises the message id: no duplicate).
2. Send each message through its channel (one HTTP request each, outside any transaction).
3. Record the outcomes in one statement: sent; or retrying at now + base · 2^(attempts−1)
   (capped); or dead — refused by the channel (4xx), or still failing after NOTIFY_MAX_ATTEMPTS.
"""

import datetime as dt
import logging

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from healthbook.models import Notification
from healthbook.notifications.messages import outgoing
from healthbook.notifications.senders import SendRefused, SendRetry, sender_for

log = logging.getLogger(__name__)

S = Notification.Status

_CLAIM_SQL = """
UPDATE healthbook_notification SET status = 'sending', attempts = attempts + 1, next_attempt_at = %s
WHERE id IN (
    SELECT id FROM healthbook_notification
    WHERE status IN ('pending', 'retrying', 'sending') AND next_attempt_at <= %s AND attempts < %s {only}
    ORDER BY next_attempt_at, id LIMIT %s FOR UPDATE SKIP LOCKED
)
RETURNING id
"""

# A claim that lapsed on the last attempt allowed (its worker stopped): nothing more will try it.
_LAPSED_SQL = """
UPDATE healthbook_notification SET status = 'dead', last_error = 'worker stopped during the last attempt'
WHERE status = 'sending' AND next_attempt_at <= %s AND attempts >= %s
"""


def retry_delay(attempts: int) -> dt.timedelta:
    """How long after failed attempt number `attempts` (1, 2, …) the next one starts."""
    seconds = settings.NOTIFY_RETRY_BASE_SECONDS * 2 ** max(attempts - 1, 0)
    return dt.timedelta(seconds=min(seconds, settings.NOTIFY_RETRY_MAX_SECONDS))


def _claim(*, ids, limit: int, now) -> list[int]:
    only, params = "", []
    if ids is not None:
        only, params = "AND id = ANY(%s)", [list(ids)]
    lease = now + dt.timedelta(seconds=settings.NOTIFY_CLAIM_SECONDS)
    sql = _CLAIM_SQL.format(only=only)
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(_LAPSED_SQL, [now, settings.NOTIFY_MAX_ATTEMPTS])
        cursor.execute(sql, [lease, now, settings.NOTIFY_MAX_ATTEMPTS, *params, limit])
        return [row[0] for row in cursor.fetchall()]


def _attempt(notification: Notification, senders: dict, now) -> None:
    """Send one claimed message and set its outcome on the object (saved by the caller)."""
    try:
        if notification.channel not in senders:
            senders[notification.channel] = sender_for(notification.channel)
        senders[notification.channel].send(outgoing(notification))
    except SendRefused as exc:
        notification.status, notification.last_error = S.DEAD, str(exc)[:300]
    except Exception as exc:  # SendRetry, or anything unexpected: try again later, never lose it
        if not isinstance(exc, SendRetry):
            log.exception("notification %s: unexpected error", notification.pk)
        notification.last_error = (str(exc) or type(exc).__name__)[:300]
        if notification.attempts >= settings.NOTIFY_MAX_ATTEMPTS:
            notification.status = S.DEAD
        else:
            notification.status = S.RETRYING
            notification.next_attempt_at = now + retry_delay(notification.attempts)
    else:
        notification.status, notification.sent_at, notification.last_error = S.SENT, timezone.now(), ""
    if notification.status != S.SENT:
        log.warning("notification %s %s: %s", notification.pk, notification.status, notification.last_error)


def notifications_dispatch(*, ids=None, limit: int | None = None) -> dict:
    """Deliver one batch of what is due (only `ids` when given). Returns the counts."""
    now = timezone.now()
    claimed = _claim(ids=ids, limit=limit or settings.NOTIFY_BATCH, now=now)
    counts = {"claimed": len(claimed), "sent": 0, "retrying": 0, "dead": 0}
    if not claimed:
        return counts
    rows = list(Notification.objects.filter(pk__in=claimed).select_related("citizen", "facility").order_by("pk"))
    senders: dict = {}
    for notification in rows:
        _attempt(notification, senders, timezone.now())
        counts[notification.status] += 1
    Notification.objects.bulk_update(rows, ["status", "next_attempt_at", "last_error", "sent_at"])
    return counts


def notifications_sweep(*, max_batches: int = 20) -> dict:
    """Deliver everything due, batch after batch (the periodic sweep, and the catch-up after an
    outage of a gateway)."""
    total = {"claimed": 0, "sent": 0, "retrying": 0, "dead": 0}
    for _ in range(max_batches):
        counts = notifications_dispatch()
        for key, value in counts.items():
            total[key] += value
        if counts["claimed"] < settings.NOTIFY_BATCH:
            break
    return total
