"""Province and OldProvinceCode belong to geo from here on; their tables (created and filled by
provinces 0001–0002) keep their names and rows: this migration changes Django's state only."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    initial = True

    dependencies = [("provinces", "0005_facility_day_list_indexes")]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="Province",
                    fields=[
                        ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                        ("code", models.CharField(max_length=2, unique=True, verbose_name="code")),
                        ("name_vi", models.CharField(max_length=100, verbose_name="Vietnamese name")),
                        ("name_en", models.CharField(max_length=100, verbose_name="English name")),
                        ("population_approx", models.PositiveBigIntegerField(blank=True, null=True, verbose_name="approximate population")),
                        ("population_is_approximate", models.BooleanField(default=True, verbose_name="population is approximate")),
                    ],
                    options={
                        "verbose_name": "province",
                        "verbose_name_plural": "provinces",
                        "db_table": "provinces_province",
                        "ordering": ["code"],
                    },
                ),
                migrations.CreateModel(
                    name="OldProvinceCode",
                    fields=[
                        ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                        ("code", models.CharField(max_length=2, unique=True, verbose_name="old code")),
                        ("province", models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name="old_codes", to="geo.province")),
                    ],
                    options={
                        "verbose_name": "old province code",
                        "verbose_name_plural": "old province codes",
                        "db_table": "provinces_oldprovincecode",
                        "ordering": ["code"],
                    },
                ),
            ],
            database_operations=[],
        ),
    ]
