"""The dashboards' per-commune rollups count citizens by commune of residence: the citizens'
view gains the column (added last, so the view is replaced in place)."""

from django.db import migrations

FORWARD = """
CREATE OR REPLACE VIEW healthbook_citizen_view AS
    SELECT id, residence_province_id, residence_commune_code FROM healthbook_citizen;
"""
BACKWARD = """
DROP VIEW healthbook_citizen_view;
CREATE VIEW healthbook_citizen_view AS SELECT id, residence_province_id FROM healthbook_citizen;
"""


class Migration(migrations.Migration):
    dependencies = [("healthbook", "0020_residence_source_backfill")]
    operations = [migrations.RunSQL(FORWARD, BACKWARD)]
