"""Every residence known before this migration came from a card file (facility data never set
one): say so. Citizens nobody placed are filled from the facility data they arrive with from now
on (healthbook.intake.residence) and by `citizen_residence_backfill` from what facilities sent
earlier (Encounter.patient_as_sent)."""

from django.db import migrations

SQL = """
UPDATE healthbook_citizen SET residence_source = 'card'
WHERE residence_source = '' AND (residence_province_id IS NOT NULL OR residence_commune_code <> '')
"""


class Migration(migrations.Migration):
    dependencies = [("healthbook", "0019_citizen_residence_source")]
    operations = [migrations.RunSQL(SQL, migrations.RunSQL.noop)]
