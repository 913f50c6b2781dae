"""Load the 34 provinces and the old 63 province codes from geo/data/provinces.csv."""

import csv
from pathlib import Path

from django.db import migrations

DATA = Path(__file__).resolve().parents[2] / "geo" / "data" / "provinces.csv"


def load(apps, schema_editor):
    Province = apps.get_model("provinces", "Province")
    OldProvinceCode = apps.get_model("provinces", "OldProvinceCode")
    with DATA.open(encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            province, _ = Province.objects.update_or_create(
                code=row["code"],
                defaults={
                    "name_vi": row["name_vi"],
                    "name_en": row["name_en"],
                    "population_approx": int(row["population_approx"]),
                    "population_is_approximate": True,
                },
            )
            for old in row["old_codes"].split(";"):
                OldProvinceCode.objects.update_or_create(code=old.strip(), defaults={"province": province})


class Migration(migrations.Migration):
    dependencies = [("provinces", "0001_initial")]
    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
