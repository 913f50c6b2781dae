"""The dashboards read each day's rejection reasons from the same row as its rejected count
(facilities_daily_health_view gains rejection_reasons at the end)."""

from django.db import migrations

FORWARD = """
CREATE OR REPLACE VIEW facilities_daily_health_view AS
    SELECT facility_id, day, received, accepted, rejected, last_contact_at, last_accepted_at, rejection_reasons
    FROM facilities_facilitydailyhealth;
"""

BACKWARD = """
DROP VIEW IF EXISTS facilities_daily_health_view;
CREATE VIEW facilities_daily_health_view AS
    SELECT facility_id, day, received, accepted, rejected, last_contact_at, last_accepted_at
    FROM facilities_facilitydailyhealth;
"""


class Migration(migrations.Migration):
    dependencies = [("facilities", "0012_silent_reminders_and_rejection_reasons")]
    operations = [migrations.RunSQL(FORWARD, BACKWARD)]
