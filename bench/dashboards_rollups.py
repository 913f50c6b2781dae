"""Benchmark: the time to compute one day's rollups at 1,000,000 books and 5,000,000 visits.

Fills a dedicated bench database (its name must end in "bench") with COPY:
  5,000 facilities (status history) and 730 days of their connection health (3.65 M rows),
  1,000,000 citizens with books created over 730 days, 1,000,000 insurance cards,
  5,000,000 visits (encounters) over 730 days, 1 submission per facility, 500,000 follow-ups,
then runs the rollups of one day (today, then yesterday) and reports each statement's share.
Baseline in the same run: a plain `SELECT count(*)` over the visits table (one full scan).
Run by hand (about 10 minutes the first time; the data is kept for reruns):
    createdb -h 127.0.0.1 -U postgres sskdt_dashboards_bench
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/sskdt_dashboards_bench \\
        /work/main/.venv/bin/python bench/dashboards_rollups.py
"""

import datetime as dt
import random

from dashboards_common import DAYS, Timer, copy_rows, facilities_create, prepare_database
from django.db import connection
from django.utils import timezone

BOOKS = 1_000_000
VISITS = 5_000_000
FOLLOW_UPS = 500_000


def _count(table: str) -> int:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT count(*) FROM {table}")  # noqa: S608 — constant table names
        return cursor.fetchone()[0]


def health_fill(facilities, today):
    if _count("facilities_facilitydailyhealth") > 0:  # filled by an earlier run
        return
    with Timer(f"COPY {len(facilities) * DAYS:,} facility-days of connection health"):
        rng = random.Random(3)

        def rows():
            for fid, _pid in facilities:
                silent_from = rng.randint(0, 60) if rng.random() < 0.1 else -1
                for back in range(DAYS):
                    if back < silent_from:
                        continue
                    day = today - dt.timedelta(days=back)
                    received = rng.randint(5, 40)
                    rejected = rng.randint(0, received // 5)
                    at = timezone.make_aware(dt.datetime.combine(day, dt.time(15)))
                    yield fid, day, received, received - rejected, rejected, at, at

        copy_rows(
            "facilities_facilitydailyhealth",
            ["facility_id", "day", "received", "accepted", "rejected", "last_contact_at", "last_accepted_at"],
            rows(),
        )


def people_fill(today):
    if _count("healthbook_book") >= BOOKS:
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT id FROM provinces_province ORDER BY code")
        provinces = [r[0] for r in cursor.fetchall()]
    rng = random.Random(5)
    start = timezone.now() - dt.timedelta(days=DAYS)
    with Timer(f"COPY {BOOKS:,} citizens"):
        copy_rows(
            "healthbook_citizen",
            [
                "personal_id",
                "social_insurance_number",
                "full_name",
                "search_name",
                "birth_date",
                "birth_date_precision",
                "birth_year",
                "residence_province_id",
                "created_at",
                "updated_at",
            ],
            (
                (
                    f"{900_000_000_000 + i}",
                    f"{9_000_000_000 + i}",
                    "Nguyễn Văn Thử",
                    "nguyen van thu",
                    dt.date(1950 + i % 75, 1 + i % 12, 1 + i % 28),
                    "day",
                    1950 + i % 75,
                    provinces[i % len(provinces)],
                    start,
                    start,
                )
                for i in range(BOOKS)
            ),
        )
    with connection.cursor() as cursor:
        cursor.execute("SELECT min(id) FROM healthbook_citizen WHERE personal_id >= '900000000000'")
        first = cursor.fetchone()[0]
    with Timer(f"COPY {BOOKS:,} books (created over {DAYS} days)"):
        copy_rows(
            "healthbook_book",
            ["public_id", "citizen_id", "created_via", "created_at"],
            (
                (
                    __import__("uuid").uuid4(),
                    first + i,
                    "card_import",
                    start + dt.timedelta(seconds=rng.randint(0, DAYS * 86400)),
                )
                for i in range(BOOKS)
            ),
        )
    with Timer(f"COPY {BOOKS:,} insurance cards"):
        copy_rows(
            "healthbook_card",
            [
                "citizen_id",
                "social_insurance_number",
                "card_number",
                "beneficiary_group",
                "primary_care_facility_code",
                "valid_from",
                "valid_to",
                "updated_at",
            ],
            (
                (
                    first + i,
                    f"{9_000_000_000 + i}",
                    f"DN401{9_000_000_000 + i}",
                    "DN",
                    "01001",
                    today - dt.timedelta(days=rng.randint(0, 700)),
                    today + dt.timedelta(days=rng.randint(-200, 365)),
                    start,
                )
                for i in range(BOOKS)
            ),
        )


def visits_fill(facilities, today):
    if _count("healthbook_encounter") >= VISITS:
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT min(id), max(id) FROM healthbook_book")
        low, high = cursor.fetchone()
    now = timezone.now()
    with Timer(f"COPY {len(facilities):,} submissions (one per facility, referenced by the visits)"):
        copy_rows(
            "healthbook_submission",
            [
                "public_id",
                "facility_id",
                "received_at",
                "kind",
                "content_type",
                "size_bytes",
                "sha256",
                "request_hash",
                "status",
                "attempts",
                "visits_count",
                "encounters_created",
                "encounters_updated",
                "encounters_unchanged",
                "error_count",
                "warning_count",
                "signature_verified",
            ],
            (
                (
                    __import__("uuid").uuid4(),
                    fid,
                    now,
                    "xml130",
                    "application/xml",
                    1,
                    f"{fid:064d}",
                    f"{fid:064d}",
                    "accepted",
                    1,
                    0,
                    0,
                    0,
                    0,
                    0,
                    0,
                    False,
                )
                for fid, _ in facilities
            ),
        )
        cursor = connection.cursor()
        cursor.execute("SELECT facility_id, id FROM healthbook_submission")
        submission = dict(cursor.fetchall())
    rng = random.Random(9)
    ids = [fid for fid, _ in facilities]
    with Timer(f"COPY {VISITS:,} visits (encounters over {DAYS} days)"):

        def rows():
            for i in range(VISITS):
                fid = ids[i % len(ids)]
                occurred = now - dt.timedelta(seconds=rng.randint(0, DAYS * 86400))
                yield (
                    rng.randint(low, high),
                    fid,
                    submission[fid],
                    f"LK{i}",
                    "xml130",
                    1,
                    "x",
                    occurred,
                    occurred + dt.timedelta(hours=rng.randint(1, 48)),
                    occurred,
                )

        copy_rows(
            "healthbook_encounter",
            [
                "book_id",
                "facility_id",
                "submission_id",
                "key",
                "source",
                "version",
                "content_hash",
                "occurred_at",
                "created_at",
                "updated_at",
            ],
            rows(),
        )
    with Timer(f"COPY {FOLLOW_UPS:,} follow-up appointments"):
        copy_rows(
            "healthbook_follow_up",
            ["book_id", "facility_id", "submission_id", "source_key", "appointment_date", "occurred_at"],
            (
                (
                    rng.randint(low, high),
                    ids[i % len(ids)],
                    submission[ids[i % len(ids)]],
                    f"Appointment/{i}",
                    today - dt.timedelta(days=rng.randint(-30, 200)),
                    now,
                )
                for i in range(FOLLOW_UPS)
            ),
        )
    with connection.cursor() as cursor, Timer("ANALYZE"):
        cursor.execute("ANALYZE")


def main():
    prepare_database()
    today = timezone.localdate()
    facilities = facilities_create()
    health_fill(facilities, today)
    people_fill(today)
    visits_fill(facilities, today)
    print(
        f"data: {_count('facilities_facility'):,} facilities, {_count('healthbook_book'):,} books, "
        f"{_count('healthbook_card'):,} cards, {_count('healthbook_encounter'):,} visits, "
        f"{_count('facilities_facilitydailyhealth'):,} facility-days of health"
    )

    from provinces import rollups

    with Timer("baseline: SELECT count(*) FROM healthbook_encounter (full scan)") as base:
        _count("healthbook_encounter")
    with Timer("baseline again (warm cache)") as base:
        _count("healthbook_encounter")
    timings = {}
    for label, day in (("today", today), ("yesterday", today - dt.timedelta(days=1)), ("today again", today)):
        with Timer(f"rollups of one day ({label})") as t:
            rollups.rollups_compute(start=day, end=day)
        timings[label] = t.seconds
    # Each statement alone, for the breakdown.
    params = _params(today)
    with connection.cursor() as cursor:
        cursor.execute("SET jit = off")
        for name, sql in (
            ("facility rollup statement", rollups._FACILITY_SQL.format(silent_back=6)),
            ("province rollup statement", rollups.province_sql(one_day=True)),
            ("card-batch reasons statement", rollups._REASONS_SQL),
            ("submission reasons statement", rollups._SUBMISSION_REASONS_SQL),
        ):
            with Timer(f"  {name}"):
                cursor.execute(sql, params)
    print(f"one day's rollups = {timings['today again'] / base.seconds:.1f} x the baseline full scan")


def _params(day):
    from django.conf import settings

    from provinces import rollups

    return {
        "start": day,
        "end": day,
        "grid_start": day - dt.timedelta(days=rollups.LOOKBACK_DAYS),
        "start_ts": rollups._day_start(day),
        "end_ts": rollups._day_start(day + dt.timedelta(days=1)),
        "tz": settings.TIME_ZONE,
        "silent_back": 6,
        "jump_min_received": 10,
        "jump_min_rate": 0.2,
        "jump_delta": 0.15,
        "now": timezone.now(),
        "warning_codes": rollups.CARD_WARNING_CODES,
        "using_days": rollups.USING_DAYS,
        "using_from_ts": rollups._day_start(day - dt.timedelta(days=rollups.USING_DAYS - 1)),
        "missed_days": rollups.MISSED_FOLLOW_UP_DAYS,
        "missed_from": day - dt.timedelta(days=rollups.MISSED_FOLLOW_UP_DAYS),
    }


if __name__ == "__main__":
    main()
