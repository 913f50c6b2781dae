"""Reminders created before the outbox and still waiting (to send, or failed, and not yet due)
get their message in the outbox, so that the first sweep delivers them; a reminder never sent
before this change would otherwise never be."""

from django.conf import settings
from django.db import migrations

SQL = """
INSERT INTO healthbook_notification
    (public_id, citizen_id, kind, dedupe_key, channel, province_id, facility_id, context,
     status, attempts, next_attempt_at, last_error, created_at)
SELECT gen_random_uuid(), r.citizen_id, r.kind, r.subject_key, %s, COALESCE(c.residence_province_id, f.province_id),
       f.id,
       jsonb_strip_nulls(jsonb_build_object('due_date', r.due_date, 'vaccine_code', NULLIF(r.vaccine_code, ''),
                                            'dose', r.dose, 'facility', f.name)),
       'pending', 0, now(), '', now()
FROM provinces_reminder r
JOIN healthbook_citizen c ON c.id = r.citizen_id
LEFT JOIN facilities_facility_view f ON f.id = r.facility_id
WHERE r.status IN ('pending', 'failed') AND r.due_date >= (now() AT TIME ZONE %s)::date
ON CONFLICT (citizen_id, kind, dedupe_key) DO NOTHING
"""


def forward(apps, schema_editor):
    with schema_editor.connection.cursor() as cursor:
        # "Today" is Việt Nam's (due dates are local days): the session's CURRENT_DATE is UTC's, a
        # day behind from 17:00 to 24:00 UTC, when it took yesterday's reminders for not yet due.
        cursor.execute(SQL, [getattr(settings, "NOTIFY_DEFAULT_CHANNEL", "vneid"), settings.TIME_ZONE])


class Migration(migrations.Migration):
    dependencies = [("healthbook", "0025_notification_outbox"), ("facilities", "0011_facility_commune_from_text")]
    operations = [migrations.RunPython(forward, migrations.RunPython.noop)]
