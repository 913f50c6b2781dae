"""Seed the rollout targets and denominators: one row per province for 2025 and 2030 from
provinces/data/provinces.csv, and the two national rows.

The population figures are approximate (the 34 figures add up to about 113.6 million
against about 101 million people nationally; they probably count temporary residents).
Province targets for people using the book are the national 40 million shared by
population — a derived figure, said so in the row's note. Rows that exist are left
alone, so an edited target survives a rerun.
"""

import csv
import datetime as dt
from pathlib import Path

from django.db import migrations

DATA = Path(__file__).resolve().parent.parent / "data" / "provinces.csv"

POPULATION_SOURCE = (
    "provinces.csv (ThienFakeVN/countries_dictionary, from Wikipedia / the NQ 202/2025 dossier) — approximate"
)
POPULATION_AS_OF = dt.date(2025, 7, 1)
NATIONAL_POPULATION = 101_000_000
NATIONAL_POPULATION_SOURCE = "About 101 million people nationally (approximate; GSO average population preferred)"
TARGET_2025_SOURCE = (
    "Target set October 2024: every facility connected and 40 million people using the book "
    "(sggp.org.vn; hanoitimes.vn)"
)
TARGET_2025_AS_OF = dt.date(2024, 10, 1)
TARGET_2030_SOURCE = "National Assembly resolution of 11/12/2025: a book for 100% of people by 2030 (vietnamnet.vn)"
TARGET_2030_AS_OF = dt.date(2025, 12, 11)
USERS_TARGET = 40_000_000


def seed(apps, schema_editor):
    Province = apps.get_model("provinces", "Province")
    RolloutTarget = apps.get_model("provinces", "RolloutTarget")
    with DATA.open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    total = sum(int(r["population_approx"]) for r in rows)
    provinces = {p.code: p for p in Province.objects.all()}
    for row in rows:
        population = int(row["population_approx"])
        province = provinces[row["code"]]
        RolloutTarget.objects.get_or_create(
            province=province, year=2025,
            defaults={
                "population": population, "population_source": POPULATION_SOURCE,
                "population_as_of": POPULATION_AS_OF,
                "users_target": round(USERS_TARGET * population / total),
                "facilities_connected_target_pct": 100,
                "target_source": TARGET_2025_SOURCE, "target_as_of": TARGET_2025_AS_OF,
                "note": "People-using target derived: 40 million shared by approximate population.",
            },
        )
        RolloutTarget.objects.get_or_create(
            province=province, year=2030,
            defaults={
                "population": population, "population_source": POPULATION_SOURCE,
                "population_as_of": POPULATION_AS_OF, "books_target": population,
                "facilities_connected_target_pct": 100,
                "target_source": TARGET_2030_SOURCE, "target_as_of": TARGET_2030_AS_OF,
                "note": "Books target: one book per person of the approximate population.",
            },
        )
    RolloutTarget.objects.get_or_create(
        province=None, year=2025,
        defaults={
            "population": NATIONAL_POPULATION, "population_source": NATIONAL_POPULATION_SOURCE,
            "population_as_of": POPULATION_AS_OF, "users_target": USERS_TARGET,
            "facilities_connected_target_pct": 100,
            "target_source": TARGET_2025_SOURCE, "target_as_of": TARGET_2025_AS_OF,
        },
    )
    RolloutTarget.objects.get_or_create(
        province=None, year=2030,
        defaults={
            "population": NATIONAL_POPULATION, "population_source": NATIONAL_POPULATION_SOURCE,
            "population_as_of": POPULATION_AS_OF, "books_target": NATIONAL_POPULATION,
            "facilities_connected_target_pct": 100,
            "target_source": TARGET_2030_SOURCE, "target_as_of": TARGET_2030_AS_OF,
        },
    )


class Migration(migrations.Migration):
    dependencies = [("provinces", "0003_rollups_targets_reminders")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
