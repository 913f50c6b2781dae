"""Reminders to citizens: follow-up appointments and children's vaccinations.

Creation is set-based: one statement per kind, INSERT … SELECT with ON CONFLICT DO NOTHING on
the unique (kind, subject_key) and (citizen, vaccine, dose) constraints, so the daily job can
run any number of times and a reminder exists once per appointment or dose. The same statement
writes each new reminder's message into the outbox (a CTE over the rows it inserted:
healthbook.notifications.services.enqueue_many_sql), so a reminder and its message exist
together or not at all; the outbox delivers it after commit (docs/notifications.md).
"""

import datetime as dt

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from codelists.lookups import vaccination_schedule
from healthbook.notifications.services import dispatch_after_commit, enqueue_many_sql
from healthbook.reminders import selectors

# --- creation --------------------------------------------------------------------------

_INSERT_COLUMNS = (
    "kind, subject_key, citizen_id, facility_id, due_date, vaccine_code, dose, channel, status, attempts, "
    "last_error, created_at"
)

# Each creation statement: WITH created AS (INSERT … RETURNING …), then the outbox rows of what
# was created, then both counts.
_RETURNING = "RETURNING citizen_id, kind, subject_key, facility_id, due_date, vaccine_code, dose"
_MESSAGES_OF_CREATED = """
(SELECT citizen_id, kind, subject_key AS dedupe_key, facility_id,
        jsonb_strip_nulls(jsonb_build_object(
            'due_date', due_date, 'vaccine_code', NULLIF(vaccine_code, ''), 'dose', dose,
            'facility', (SELECT name FROM facilities_facility_view WHERE id = created.facility_id))) AS context
 FROM created)
"""
_WITH_MESSAGES = """
WITH created AS ({insert} {returning}), queued AS ({queue})
SELECT (SELECT count(*) FROM created), (SELECT count(*) FROM queued)
"""


def _create_with_messages(insert_sql: str, params: list) -> int:
    queue_sql, queue_params = enqueue_many_sql(_MESSAGES_OF_CREATED)
    sql = _WITH_MESSAGES.format(insert=insert_sql, returning=_RETURNING, queue=queue_sql)
    with connection.cursor() as cursor:
        cursor.execute(sql, [*params, *queue_params])
        created, _queued = cursor.fetchone()
    return created


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
    return _create_with_messages(statement, [now, *params])


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
    return _create_with_messages(sql, params)


def reminders_create(*, today: dt.date, days_ahead: int | None = None) -> dict:
    """Create the reminders due from today to `days_ahead` days ahead (default setting).

    Returns the number created per kind; their messages are in the outbox, delivered after commit.
    """
    days = settings.REMINDER_DAYS_AHEAD if days_ahead is None else days_ahead
    until = today + dt.timedelta(days=days)
    now = timezone.now()
    with transaction.atomic():
        follow_ups = _follow_ups_create(today=today, until=until, now=now)
        vaccinations = _vaccinations_create(today=today, until=until, now=now)
        if follow_ups or vaccinations:
            dispatch_after_commit()
    return {"follow_ups_created": follow_ups, "vaccinations_created": vaccinations}
