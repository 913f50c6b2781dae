"""Seed the rollout targets and denominators: one row per province for 2025 and 2030 from
geo/data/provinces.csv, and the two national rows.

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

DATA = Path(__file__).resolve().parents[2] / "geo" / "data" / "provinces.csv"

# Sources are shown on the dashboards as written here, so they are in Vietnamese.
POPULATION_SOURCE = (
    "provinces.csv (ThienFakeVN/countries_dictionary, theo Wikipedia / hồ sơ Nghị quyết 202/2025/QH15) — số ước tính"
)
POPULATION_AS_OF = dt.date(2025, 7, 1)
NATIONAL_POPULATION = 101_000_000
NATIONAL_POPULATION_SOURCE = "Khoảng 101 triệu người trên cả nước (số ước tính; nên thay bằng dân số trung bình của GSO)"
TARGET_2025_SOURCE = (
    "Mục tiêu đặt ra tháng 10/2024: 100% cơ sở khám chữa bệnh kết nối và 40 triệu người sử dụng sổ "
    "(sggp.org.vn; hanoitimes.vn)"
)
TARGET_2025_AS_OF = dt.date(2024, 10, 1)
TARGET_2030_SOURCE = "Nghị quyết của Quốc hội ngày 11/12/2025: 100% người dân có sổ sức khỏe điện tử vào năm 2030 (vietnamnet.vn)"
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
                "note": "Mục tiêu số người sử dụng của tỉnh được suy ra: 40 triệu chia theo tỷ lệ dân số ước tính.",
            },
        )
        RolloutTarget.objects.get_or_create(
            province=province, year=2030,
            defaults={
                "population": population, "population_source": POPULATION_SOURCE,
                "population_as_of": POPULATION_AS_OF, "books_target": population,
                "facilities_connected_target_pct": 100,
                "target_source": TARGET_2030_SOURCE, "target_as_of": TARGET_2030_AS_OF,
                "note": "Mục tiêu số sổ: mỗi người trong dân số ước tính một sổ.",
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
