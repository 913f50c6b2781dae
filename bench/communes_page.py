"""Benchmark: a province's per-commune page with 3,321 communes x 730 days of commune rollups
(requirement, issue 16: p95 under 200 ms), with baselines measured in the same run.

Fills the bench database (name ending in "bench") with 2,424,330 generated rows of
provinces_commune_day (one set-based INSERT … SELECT generate_series; values are arbitrary, the
rows only have to exist) and 34 x 730 province rows (the province dashboard is a baseline), signs
in a province officer of the province with the most communes and starts gunicorn (4 sync workers,
bench/bench_wsgi.py) on 127.0.0.1:8767; BENCH_THREADS client threads (default 4) with keep-alive
send requests for BENCH_SECONDS (default 10) per case. Baselines, same run: `/fhir/metadata` (no
database), the signed-in home page, and the province's existing dashboard page.
Run by hand:
    createdb -h 127.0.0.1 -U postgres sskdt_communes_bench
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/sskdt_communes_bench \\
        /work/main/.venv/bin/python bench/communes_page.py
"""

import datetime as dt
import os
import subprocess
import sys
import time

import dashboards_pages
from dashboards_common import DAYS, ROOT, Timer, prepare_database
from dashboards_pages import _PROVINCE_DAYS, hammer, report, session_cookie
from django.db import connection
from django.utils import timezone

PORT = 8767
dashboards_pages.PORT = PORT

_COMMUNE_DAYS = """
INSERT INTO provinces_commune_day (
    commune_id, province_id, day, books_total, books_new, people_using, facilities_active,
    facilities_connected, computed_at)
SELECT g.id, g.province_id, d::date, (g.id * 37 + (d::date - %(start)s::date) * 11) %% 50000,
       (g.id + extract(doy FROM d)::int) %% 40, (g.id * 13) %% 20000, g.id %% 7, g.id %% 5, now()
FROM geo_commune g
CROSS JOIN generate_series(%(start)s::date, %(end)s::date, interval '1 day') AS d
ON CONFLICT (commune_id, day) DO NOTHING
"""


def fill_rollups() -> str:
    """Fill the rollups; return the code of the province with the most communes."""
    today = timezone.localdate()
    params = {"start": today - dt.timedelta(days=DAYS - 1), "end": today}
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM provinces_commune_day")
        if cursor.fetchone()[0] < 3321 * DAYS:
            with Timer("rollups: 3,321 communes x 730 days (INSERT … SELECT, kept for reruns)"):
                cursor.execute(_COMMUNE_DAYS, params)
        with Timer("rollups: 34 provinces x 730 days"):
            cursor.execute(_PROVINCE_DAYS, params)
        cursor.execute("ANALYZE provinces_commune_day")
        cursor.execute("ANALYZE provinces_province_day")
        cursor.execute("SELECT count(*), count(DISTINCT commune_id), count(DISTINCT day) FROM provinces_commune_day")
        rows, communes, days = cursor.fetchone()
        cursor.execute(
            "SELECT p.code, count(*) FROM geo_commune g JOIN provinces_province p ON p.id = g.province_id "
            "GROUP BY p.code ORDER BY count(*) DESC, p.code LIMIT 1"
        )
        code, largest = cursor.fetchone()
    print(f"commune rollup rows: {rows:,} ({communes:,} communes x {days:,} days); largest province {code}: {largest}")
    return code


def main():
    prepare_database()
    code = fill_rollups()
    from core.roles import Role

    officer = session_cookie(f"bench.officer{code}", Role.PROVINCE_OFFICER, code)
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
    base = f"/dashboards/province/{code}/"
    year_ago = timezone.localdate() - dt.timedelta(days=365)
    try:
        import http.client

        for _ in range(100):
            try:
                http.client.HTTPConnection("127.0.0.1", PORT, timeout=1).request("GET", "/fhir/metadata")
                break
            except OSError:
                time.sleep(0.1)
        hammer(["/fhir/metadata", "/", base, base + "communes/"], officer)  # warm-up
        floor = report("floor: /fhir/metadata (no database)", *hammer(["/fhir/metadata"], officer))
        report("floor: / signed in (session, user, MFA)", *hammer(["/"], officer), floor=floor)
        report(f"baseline: province {code} dashboard (existing page)", *hammer([base], officer), floor=floor)
        cases = [
            (f"communes of {code}, default sort (books)", [base + "communes/"]),
            (f"communes of {code}, sorted by name", [base + "communes/?sort=commune"]),
            (
                f"communes of {code}, a year ago",
                [base + f"communes/?start={year_ago - dt.timedelta(days=89):%d/%m/%Y}&end={year_ago:%d/%m/%Y}"],
            ),
            (f"export: communes of {code} CSV", [base + "communes/export/communes.csv"]),
            (f"export: communes of {code} XLSX", [base + "communes/export/communes.xlsx"]),
        ]
        for name, paths in cases:
            report(name, *hammer(paths, officer), floor=floor)
    finally:
        server.terminate()
        server.wait(10)


if __name__ == "__main__":
    main()
