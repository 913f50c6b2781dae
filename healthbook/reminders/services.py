"""Reminders to citizens: follow-up appointments and children's vaccinations.

Creation is set-based: one INSERT … SELECT per kind, with ON CONFLICT DO NOTHING on the
unique (kind, subject_key) and (citizen, vaccine, dose) constraints, so the daily job can
run any number of times and a reminder exists once per appointment or dose.

Delivery goes through a pluggable sender (settings.REMINDER_SENDER). A reminder is claimed
(pending → sending) in its own committed statement before the sender is called, and
marked sent after; a worker that dies in between leaves it "sending" and it is never sent
again (at most once: a citizen is never reminded twice). A sender that reports a failure
(ReminderSendError) leaves it "failed", retried on later runs up to MAX_ATTEMPTS.
"""

import datetime as dt
import logging

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from codelists.lookups import vaccination_schedule
from healthbook.models import Reminder
from healthbook.reminders import selectors
from healthbook.reminders.senders import ReminderMessage, ReminderSender, ReminderSendError, reminder_sender

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 3
SEND_BATCH = 500


# --- creation --------------------------------------------------------------------------

_INSERT_COLUMNS = (
    "kind, subject_key, citizen_id, facility_id, due_date, vaccine_code, dose, channel, status, attempts, "
    "last_error, created_at"
)

_VACCINATION_SQL = """
INSERT INTO provinces_reminder ({columns})
SELECT 'vaccination', 'dose:' || c.id || ':' || s.code || ':' || s.dose, c.id, NULL, s.due, s.code, s.dose,
       '', 'pending', 0, '', %s
FROM healthbook_citizen c
CROSS JOIN LATERAL (
    SELECT v.code, v.dose, v.position,
           (c.birth_date + make_interval(years => v.y, months => v.m, weeks => v.w, days => v.d))::date
    FROM (VALUES {values}) AS v(code, dose, position, y, m, w, d)
) AS s(code, dose, position, due)
WHERE c.birth_date IS NOT NULL AND c.birth_date_precision = 'day'
  AND c.birth_year >= %s AND c.birth_date >= %s
  AND s.due BETWEEN %s AND %s
  AND NOT EXISTS (SELECT 1 FROM ({given}) AS g
                  WHERE g.citizen_id = c.id AND g.vaccine_code = s.code AND g.dose = s.position)
ON CONFLICT DO NOTHING
"""


# {appointments}: the ORM-compiled SQL of selectors.appointments_due_between (parameters bound).
_FOLLOW_UP_SQL = """
INSERT INTO provinces_reminder ({columns})
SELECT 'follow_up', a.subject_key, a.citizen_id, a.facility_id, a.due_date, '', NULL, '', 'pending', 0, '', %s
FROM ({appointments}) AS a
ON CONFLICT DO NOTHING
"""


def _follow_ups_create(*, today: dt.date, until: dt.date, now) -> int:
    qs = selectors.appointments_due_between(today, until).values("subject_key", "citizen_id", "facility_id", "due_date")
    sql, params = qs.query.sql_with_params()
    statement = _FOLLOW_UP_SQL.format(columns=_INSERT_COLUMNS, appointments=sql)
    with connection.cursor() as cursor:
        cursor.execute(statement, [now, *params])
        return cursor.rowcount


def _vaccinations_create(*, today: dt.date, until: dt.date, now) -> int:
    schedule = vaccination_schedule(today)
    if not schedule:
        return 0
    values, values_params = [], []
    oldest_age = 0
    for dose in schedule:
        parts = {"year": 0, "month": 0, "week": 0, "day": 0}
        parts[dose.age_unit] = dose.age_value
        values.append("(%s::text, %s::int, %s::int, %s::int, %s::int, %s::int, %s::int)")
        values_params += [
            dose.vaccine_code,
            dose.dose,
            dose.position,
            parts["year"],
            parts["month"],
            parts["week"],
            parts["day"],
        ]
        oldest_age = max(oldest_age, parts["year"] * 366 + parts["month"] * 31 + parts["week"] * 7 + parts["day"])
    # Children only: nobody older than the latest dose of the schedule can have one falling due.
    oldest = today - dt.timedelta(days=oldest_age + 1)
    given_sql, given_params = (
        selectors.doses_given().values("citizen_id", "vaccine_code", "dose").query.sql_with_params()
    )
    sql = _VACCINATION_SQL.format(columns=_INSERT_COLUMNS, values=", ".join(values), given=given_sql)
    params = [now, *values_params, oldest.year, oldest, today, until, *given_params]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.rowcount


def reminders_create(*, today: dt.date, days_ahead: int | None = None) -> dict:
    """Create the reminders due from today to `days_ahead` days ahead (default setting).

    Returns the number created per kind.
    """
    days = settings.REMINDER_DAYS_AHEAD if days_ahead is None else days_ahead
    until = today + dt.timedelta(days=days)
    now = timezone.now()
    with transaction.atomic():
        follow_ups = _follow_ups_create(today=today, until=until, now=now)
        vaccinations = _vaccinations_create(today=today, until=until, now=now)
    return {"follow_ups_created": follow_ups, "vaccinations_created": vaccinations}


# --- delivery --------------------------------------------------------------------------

_CLAIM_SQL = """
UPDATE provinces_reminder SET status = 'sending', attempts = attempts + 1
WHERE id IN (
    SELECT id FROM provinces_reminder
    WHERE (status = 'pending' OR (status = 'failed' AND attempts < %s)) AND due_date >= %s
    ORDER BY due_date, id LIMIT %s FOR UPDATE SKIP LOCKED
)
RETURNING id
"""


def _message(reminder: Reminder) -> ReminderMessage:
    with translation.override("vi"):
        facility = reminder.facility.name if reminder.facility_id else ""
        if reminder.kind == Reminder.Kind.FOLLOW_UP:
            text = _("You have a follow-up appointment on %(day)s%(at)s. Please remember to come.") % {
                "day": reminder.due_date.strftime("%d/%m/%Y"),
                "at": (_(" at %(facility)s") % {"facility": facility}) if facility else "",
            }
        else:
            text = _("Dose %(dose)s of vaccine %(vaccine)s for %(name)s falls due on %(day)s.") % {
                "dose": reminder.dose,
                "vaccine": reminder.vaccine_code,
                "name": reminder.citizen.full_name,
                "day": reminder.due_date.strftime("%d/%m/%Y"),
            }
    citizen = reminder.citizen
    return ReminderMessage(
        reminder_id=reminder.pk,
        kind=reminder.kind,
        citizen_public_id=str(citizen.public_id),
        personal_id=citizen.personal_id or "",
        phone=citizen.phone,
        due_date=reminder.due_date,
        facility_name=facility,
        vaccine_code=reminder.vaccine_code,
        dose=reminder.dose,
        text=text,
    )


def reminders_send(*, sender: ReminderSender | None = None, limit: int = SEND_BATCH) -> dict:
    """Send the reminders waiting (claimed first, one committed statement), then mark each."""
    sender = sender or reminder_sender()
    today = timezone.localdate()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(_CLAIM_SQL, [MAX_ATTEMPTS, today, limit])
        ids = [row[0] for row in cursor.fetchall()]
    sent = failed = 0
    for reminder in Reminder.objects.filter(pk__in=ids).select_related("citizen", "facility").order_by("pk"):
        try:
            sender.send(_message(reminder))
        except ReminderSendError as exc:
            failed += 1
            Reminder.objects.filter(pk=reminder.pk).update(
                status=Reminder.Status.FAILED, last_error=str(exc)[:300], channel=sender.channel
            )
            log.warning("reminder %s not sent: %s", reminder.pk, exc)
            continue
        sent += 1
        Reminder.objects.filter(pk=reminder.pk).update(
            status=Reminder.Status.SENT, sent_at=timezone.now(), channel=sender.channel, last_error=""
        )
    return {"reminders_sent": sent, "reminders_failed": failed}
