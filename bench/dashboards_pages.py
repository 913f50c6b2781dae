"""Benchmark: dashboard pages under load with 34 provinces x 730 days and 5,000 facilities x 730
days of rollups (requirement: p95 under 200 ms).

Fills the bench database (name ending in "bench") with generated rollup rows (set-based
INSERT … SELECT generate_series; the rows only have to exist, their values are random), signs
in a ministry user and the HCMC officer (a fifth of the facilities are in HCMC: the largest
province page), starts gunicorn (4 sync workers, bench/bench_wsgi.py: the test settings with
database connections kept between requests, as production keeps them) on 127.0.0.1:8766 and
sends requests from BENCH_THREADS client threads (default 4) with keep-alive for
BENCH_SECONDS (default 10) per page. Floors, same run: `/fhir/metadata` (a fixed response,
no database) and the signed-in home page (session, user, MFA check, a count).
BENCH_ONLY=<substring> runs only the pages whose label contains it (the floors always run).
Run by hand:
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/sskdt_dashboards_bench \\
        /work/main/.venv/bin/python bench/dashboards_pages.py
"""

import datetime as dt
import http.client
import os
import statistics
import subprocess
import sys
import threading
import time

from dashboards_common import DAYS, ROOT, Timer, facilities_create, prepare_database
from django.db import connection
from django.test import Client
from django.utils import timezone

PORT = 8766
THREADS = int(os.environ.get("BENCH_THREADS", 4))
SECONDS = float(os.environ.get("BENCH_SECONDS", 10))
ONLY = os.environ.get("BENCH_ONLY", "")

_FACILITY_DAYS = """
INSERT INTO provinces_facility_day (
    facility_id, province_id, day, status, ownership, level, submissions_received, submissions_accepted,
    submissions_rejected, visits_received, last_contact_at, last_accepted_at, received_7d, rejected_7d,
    received_prev_7d, rejected_prev_7d, accepted_30d, days_with_data_30d, expected_30d, sent_7d, sent_30d,
    is_silent, went_silent, rejection_jumped, computed_at)
SELECT f.id, f.province_id, d::date, f.status, f.ownership, f.level, 20, 18, 2, 15, d, d, 140, 14, 140, 10,
       540, (f.id + extract(doy FROM d)::int) %% 31, f.expected_monthly_visits, f.id %% 10 <> 0, true,
       f.id %% 10 = 0, f.id %% 10 = 0 AND extract(doy FROM d)::int %% 30 = 0, f.id %% 97 = 0
       AND extract(doy FROM d)::int %% 45 = 0, now()
FROM facilities_facility f
CROSS JOIN generate_series(%(start)s::date, %(end)s::date, interval '1 day') AS d
WHERE f.name LIKE 'Bench %%'
ON CONFLICT (facility_id, day) DO NOTHING
"""

_PROVINCE_DAYS = """
INSERT INTO provinces_province_day (
    province_id, day, books_total, books_new, citizens_valid_card, cards_imported, facilities_pending,
    facilities_rejected, facilities_approved, facilities_connected, facilities_suspended, facilities_closed,
    facilities_public_active, facilities_private_active, facilities_public_connected,
    facilities_private_connected, facilities_sending_7d, facilities_sending_30d, facilities_public_sending_7d,
    facilities_private_sending_7d, facilities_silent, submissions_received, submissions_accepted,
    submissions_rejected, visits_received, people_using, followups_missed, computed_at)
SELECT p.id, d::date, 1000 * (d::date - %(start)s::date + 1), 1000, 800 * (d::date - %(start)s::date + 1), 900,
       12, 3, 10, 110, 6, 3, 80, 40, 75, 35, 100, 108, 70, 30, 9, 3000, 2800, 200, 2500, 50000, 40, now()
FROM provinces_province p
CROSS JOIN generate_series(%(start)s::date, %(end)s::date, interval '1 day') AS d
ON CONFLICT (province_id, day) DO NOTHING
"""


def fill_rollups():
    today = timezone.localdate()
    params = {"start": today - dt.timedelta(days=DAYS - 1), "end": today}
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM provinces_facility_day")
        if cursor.fetchone()[0] < 5000 * DAYS:
            with Timer("rollups: 5,000 facilities x 730 days (INSERT … SELECT, kept for reruns)"):
                cursor.execute(_FACILITY_DAYS, params)
        with Timer("rollups: 34 provinces x 730 days"):
            cursor.execute(_PROVINCE_DAYS, params)
        cursor.execute("ANALYZE provinces_facility_day")
        cursor.execute("ANALYZE provinces_province_day")
        cursor.execute("SELECT count(*) FROM provinces_facility_day")
        facility_days = cursor.fetchone()[0]
        cursor.execute("SELECT count(*) FROM provinces_province_day")
        province_days = cursor.fetchone()[0]
    print(f"rollup rows: {facility_days:,} facility-days, {province_days:,} province-days")


def session_cookie(username: str, role: str, province_code: str | None) -> str:
    from allauth.mfa.models import Authenticator

    from accounts.models import User
    from geo.models import Province
    from tests.conftest import enrol_totp

    user, _ = User.objects.get_or_create(
        username=username,
        defaults={
            "role": role,
            "email": f"{username}@bench.invalid",
            "province": Province.objects.get(code=province_code) if province_code else None,
        },
    )
    if not Authenticator.objects.filter(user=user).exists():
        enrol_totp(user)
    client = Client()
    client.force_login(user)
    return f"sessionid={client.cookies['sessionid'].value}"


def hammer(paths: list[str], cookie: str) -> tuple[float, list[float], int]:
    latencies: list[float] = []
    errors = [0]
    lock = threading.Lock()
    stop = time.monotonic() + SECONDS

    def worker(i: int):
        conn = http.client.HTTPConnection("127.0.0.1", PORT, timeout=60)
        mine = []
        n = i
        while time.monotonic() < stop:
            t = time.perf_counter()
            conn.request("GET", paths[n % len(paths)], headers={"Cookie": cookie})
            response = conn.getresponse()
            response.read()
            mine.append(time.perf_counter() - t)
            n += 1
            if response.status != 200:
                with lock:
                    errors[0] += 1
        conn.close()
        with lock:
            latencies.extend(mine)

    started = time.perf_counter()
    threads = [threading.Thread(target=worker, args=(i,)) for i in range(THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return len(latencies) / (time.perf_counter() - started), latencies, errors[0]


def report(name, rps, lat, errors, floor=None):
    lat = sorted(lat)
    p50, p95 = statistics.median(lat) * 1000, lat[int(len(lat) * 0.95)] * 1000
    ratio = f"   {rps / floor:.2f} x floor" if floor else ""
    print(f"{name:58s} {rps:7.0f} req/s  p50 {p50:6.1f} ms  p95 {p95:6.1f} ms  non-200 {errors}{ratio}", flush=True)
    return rps


def main():
    prepare_database()
    facilities_create()
    fill_rollups()
    from core.roles import Role

    ministry = session_cookie("bench.ministry", Role.MINISTRY_ADMIN, None)
    officer = session_cookie("bench.hcm", Role.PROVINCE_OFFICER, "79")
    today = timezone.localdate()
    full = (today - dt.timedelta(days=DAYS - 1)).strftime("%d/%m/%Y")
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "bench.bench_settings"}
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "bench.bench_wsgi",
            "-w",
            "4",
            "-b",
            f"127.0.0.1:{PORT}",
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env=env,
    )
    try:
        for _ in range(100):
            try:
                http.client.HTTPConnection("127.0.0.1", PORT, timeout=1).request("GET", "/fhir/metadata")
                break
            except OSError:
                time.sleep(0.1)
        hammer(["/fhir/metadata", "/", "/dashboards/national/"], ministry)  # warm-up
        floor = report("floor: /fhir/metadata (no database)", *hammer(["/fhir/metadata"], ministry))
        report("floor: / signed in (session, user, MFA)", *hammer(["/"], ministry), floor=floor)
        cases = [
            ("national, 90 days (default)", ["/dashboards/national/"], ministry),
            ("national, all 730 days", [f"/dashboards/national/?start={full}"], ministry),
            ("province 79 (1,000 facilities), officer, 90 days", ["/dashboards/province/79/"], officer),
            ("province 79, 730 days", [f"/dashboards/province/79/?start={full}"], officer),
            ("export: national ranking XLSX", ["/dashboards/national/export/ranking.xlsx"], ministry),
            ("export: national trend CSV, 730 days", [f"/dashboards/national/export/trend.csv?start={full}"], ministry),
            (
                "export: province 79 completeness CSV (all rows)",
                ["/dashboards/province/79/export/completeness.csv"],
                officer,
            ),
            (
                "export: province 79 completeness XLSX (all rows)",
                ["/dashboards/province/79/export/completeness.xlsx"],
                officer,
            ),
            (
                "export: province 79 connectivity alerts XLSX",
                ["/dashboards/province/79/export/connectivity.xlsx"],
                officer,
            ),
            (
                "export: province 79 trend XLSX, 730 days",
                [f"/dashboards/province/79/export/trend.xlsx?start={full}"],
                officer,
            ),
        ]
        for name, paths, cookie in cases:
            if ONLY not in name:
                continue
            report(name, *hammer(paths, cookie), floor=floor)
    finally:
        server.terminate()
        server.wait(10)


if __name__ == "__main__":
    main()
