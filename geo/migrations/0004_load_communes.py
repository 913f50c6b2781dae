"""Load the 3,321 communes of 1 July 2025 from the pinned `vietnam-provinces` package (2025.10.1,
data version 2025-10-18: the national statistics office's list, see geo/data/SOURCE.md), and give
other apps' SQL a view of them (geo_commune_view), as for the provinces.

Rerunnable: existing codes are updated, never duplicated. The package's provinces must be the 34
already in provinces_province (same codes): the migration stops otherwise.
"""

import json

from django.db import migrations

KINDS = {"xã": "xa", "phường": "phuong", "đặc khu": "dac_khu"}


def _units():
    from vietnam_provinces import NESTED_DIVISIONS_JSON_PATH

    return json.loads(NESTED_DIVISIONS_JSON_PATH.read_text(encoding="utf-8"))


def load(apps, schema_editor):
    Province = apps.get_model("geo", "Province")
    Commune = apps.get_model("geo", "Commune")
    provinces = dict(Province.objects.values_list("code", "id"))
    units = _units()
    missing = sorted({f"{p['code']:02d}" for p in units} - set(provinces))
    if missing:
        raise RuntimeError(f"vietnam-provinces names provinces that geo does not know: {missing}")
    rows = [
        Commune(
            code=f"{w['code']:05d}",
            name_vi=w["name"],
            kind=KINDS[w["division_type"]],
            province_id=provinces[f"{p['code']:02d}"],
        )
        for p in units
        for w in p["wards"]
    ]
    Commune.objects.bulk_create(
        rows,
        batch_size=1000,
        update_conflicts=True,
        unique_fields=["code"],
        update_fields=["name_vi", "kind", "province"],
    )


class Migration(migrations.Migration):
    dependencies = [("geo", "0003_commune_table")]
    operations = [
        migrations.RunPython(load, migrations.RunPython.noop),
        # Fresh statistics for the joins of the per-commune page and rollups (3,321 rows).
        migrations.RunSQL("ANALYZE geo_commune", migrations.RunSQL.noop),
        migrations.RunSQL(
            "CREATE VIEW geo_commune_view AS SELECT id, code, name_vi, kind, province_id FROM geo_commune",
            "DROP VIEW IF EXISTS geo_commune_view",
        ),
    ]
