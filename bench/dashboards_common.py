"""Shared helpers of the dashboard benchmarks: a bench database, generated facilities, COPY."""

import datetime as dt
import os
import random
import sys
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.test_settings")

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.utils import timezone  # noqa: E402

FACILITIES = 5000
DAYS = 730


class Timer:
    def __init__(self, label: str):
        self.label = label

    def __enter__(self):
        self.started = time.perf_counter()
        return self

    def __exit__(self, *exc):
        self.seconds = time.perf_counter() - self.started
        print(f"  {self.label:60s} {self.seconds:8.2f} s", flush=True)


def prepare_database():
    """Migrate the database in DATABASE_URL (a dedicated bench database)."""
    name = connection.settings_dict["NAME"]
    if not name.endswith("bench"):
        sys.exit(f"refusing to fill {name!r}: point DATABASE_URL at a database whose name ends in 'bench'")
    call_command("migrate", verbosity=0)


def _empty(data_type: str):
    return {"ARRAY": "{}", "jsonb": "{}", "json": "{}", "boolean": False, "integer": 0, "bigint": 0, "smallint": 0}.get(
        data_type, ""
    )


def copy_rows(table: str, columns: list[str], rows) -> int:
    """COPY generated rows into a table; NOT NULL columns not given get an empty value."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT column_name, data_type, is_nullable, column_default, is_identity "
            "FROM information_schema.columns WHERE table_name = %s ORDER BY ordinal_position",
            [table],
        )
        extra = [
            (name, kind)
            for name, kind, nullable, default, identity in cursor.fetchall()
            if nullable == "NO" and default is None and identity == "NO" and name not in columns
        ]
        names = columns + [name for name, _ in extra]
        uuids = [name for name, kind in extra if kind == "uuid"]
        fill = tuple(_empty(kind) for _, kind in extra if kind != "uuid")
        names = columns + [name for name, kind in extra if kind != "uuid"] + uuids
        n = 0
        with cursor.copy(f"COPY {table} ({', '.join(names)}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(tuple(row) + fill + tuple(uuid.uuid4() for _ in uuids))
                n += 1
    return n


def facilities_create(n: int = FACILITIES) -> list[tuple[int, int]]:
    """n generated facilities over the 34 provinces (a fifth of them in HCMC, the biggest),
    registered two years ago, with a status history; return (facility id, province id)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM facilities_facility WHERE name LIKE 'Bench %%'")
        if cursor.fetchone()[0] >= n:
            cursor.execute("SELECT id, province_id FROM facilities_facility WHERE name LIKE 'Bench %%' ORDER BY id")
            return cursor.fetchall()
        cursor.execute("SELECT id, code FROM provinces_province ORDER BY code")
        provinces = cursor.fetchall()
    hcm = next(pid for pid, code in provinces if code == "79")
    rng = random.Random(8)
    registered = timezone.now() - dt.timedelta(days=DAYS + 30)
    statuses = (
        ["connected"] * 70 + ["approved"] * 10 + ["pending"] * 8 + ["suspended"] * 6 + ["closed"] * 3 + ["rejected"] * 3
    )
    rows = []
    for i in range(n):
        province = hcm if i % 5 == 0 else provinces[i % len(provinces)][0]
        status = rng.choice(statuses)
        rows.append(
            (
                f"{80 + i // 500}{i % 500:03d}",
                f"Bench {i}",
                province,
                "public" if i % 3 else "private",
                "commune_station",
                status,
                rng.choice([300, 600, 900, 3000]),
                registered,
                registered + dt.timedelta(days=2) if status not in ("pending", "rejected") else None,
                False,
            )
        )
    copy_rows(
        "facilities_facility",
        [
            "code",
            "name",
            "province_id",
            "ownership",
            "level",
            "status",
            "expected_monthly_visits",
            "registered_at",
            "approved_at",
            "has_insurance_contract",
        ],
        rows,
    )
    with connection.cursor() as cursor:
        cursor.execute(
            """INSERT INTO facilities_facilitystatuschange (facility_id, from_status, to_status, at, reason)
               SELECT id, '', 'pending', registered_at, '' FROM facilities_facility WHERE name LIKE 'Bench %%'
               UNION ALL
               SELECT id, 'pending', 'approved', approved_at, '' FROM facilities_facility
               WHERE name LIKE 'Bench %%' AND approved_at IS NOT NULL
               UNION ALL
               SELECT id, 'approved', status, approved_at + interval '2 days', '' FROM facilities_facility
               WHERE name LIKE 'Bench %%' AND status IN ('connected', 'suspended', 'closed')"""
        )
        cursor.execute("SELECT id, province_id FROM facilities_facility WHERE name LIKE 'Bench %%' ORDER BY id")
        return cursor.fetchall()
