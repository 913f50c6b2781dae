"""A facility's province is geo's Province now (same table): a change of Django's state only."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('facilities', '0004_facility_signature_required'),
        ('geo', '0001_province_tables_from_provinces'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name='facility',
                    name='province',
                    field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='facilities', to='geo.province'),
                ),
            ],
            database_operations=[],
        ),
    ]
