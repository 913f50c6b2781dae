"""Geography's door for other apps' SQL: the provinces, by id and code."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("geo", "0001_province_tables_from_provinces")]
    operations = [
        migrations.RunSQL(
            "CREATE VIEW geo_province_view AS SELECT id, code, name_vi, name_en FROM provinces_province",
            "DROP VIEW IF EXISTS geo_province_view",
        )
    ]
