"""The registry's door for other apps' SQL: views with the columns they may read. The book pages
name facilities through facilities_facility_view; the dashboards' rollups read all three. A
change to these tables changes its view in the same migration, so no other app breaks."""

from django.db import migrations

FORWARD = """
CREATE VIEW facilities_facility_view AS
    SELECT id, code, name, province_id, status, ownership, level, approved_at, expected_monthly_visits
    FROM facilities_facility;
CREATE VIEW facilities_status_change_view AS
    SELECT id, facility_id, from_status, to_status, at FROM facilities_facilitystatuschange;
CREATE VIEW facilities_daily_health_view AS
    SELECT facility_id, day, received, accepted, rejected, last_contact_at, last_accepted_at
    FROM facilities_facilitydailyhealth;
"""

BACKWARD = """
DROP VIEW IF EXISTS facilities_daily_health_view;
DROP VIEW IF EXISTS facilities_status_change_view;
DROP VIEW IF EXISTS facilities_facility_view;
"""


class Migration(migrations.Migration):
    dependencies = [("facilities", "0005_province_in_geo")]
    operations = [migrations.RunSQL(FORWARD, BACKWARD)]
