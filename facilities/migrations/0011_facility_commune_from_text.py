"""Existing facilities: the free-text commune becomes a commune of the list where it names one
(its code, or its exact name, case and spaces aside, in the facility's province); otherwise it is
left blank, for the facility to choose again. The registry's view gains the commune for the
dashboards' per-commune rollups."""

from django.db import migrations

MATCH = """
WITH candidates AS (
    SELECT f.id AS facility_id, MIN(c.id) AS commune_id, COUNT(*) AS n
    FROM facilities_facility f
    JOIN geo_commune c ON c.province_id = f.province_id
     AND (c.code = btrim(f.commune) OR lower(c.name_vi) = lower(regexp_replace(btrim(f.commune), '\\s+', ' ', 'g')))
    WHERE f.commune <> '' AND f.commune_unit_id IS NULL
    GROUP BY f.id
)
UPDATE facilities_facility f SET commune_unit_id = m.commune_id, commune = c.name_vi
FROM candidates m JOIN geo_commune c ON c.id = m.commune_id
WHERE f.id = m.facility_id AND m.n = 1;
UPDATE facilities_facility SET commune = '' WHERE commune_unit_id IS NULL AND commune <> '';
"""

VIEW = """
CREATE OR REPLACE VIEW facilities_facility_view AS
    SELECT id, code, name, province_id, status, ownership, level, approved_at, expected_monthly_visits,
           commune_unit_id
    FROM facilities_facility;
"""
VIEW_BACK = """
DROP VIEW facilities_facility_view;
CREATE VIEW facilities_facility_view AS
    SELECT id, code, name, province_id, status, ownership, level, approved_at, expected_monthly_visits
    FROM facilities_facility;
"""


class Migration(migrations.Migration):
    dependencies = [("facilities", "0010_facility_commune_unit")]
    operations = [
        migrations.RunSQL(MATCH, migrations.RunSQL.noop),
        migrations.RunSQL(VIEW, VIEW_BACK),
    ]
