"""Benchmark (issue 20, point 4): the cohort counts pages' p95 and the nightly job's time for one
province and for the nation, at 1,000,000 citizens and 5,000,000 visits, with baselines measured
in the same run.

Fills a dedicated bench database (its name must end in "bench") with bench/dashboards_rollups.py's
generator (5,000 facilities, 1,000,000 citizens with books, 5,000,000 visits over 730 days,
500,000 follow-up appointments), loads the code lists (ICD-10 groups, the vaccine schedule), then
gives the generated people what the shipped cohorts look at, set-wise: a commune of residence in
their province and a sex; a main diagnosis for every visit (1 in 12 hypertension, 1 in 20 type 2
diabetes, 1 in 30 COPD, the rest acute infections). Children (born 2019 and later, ≈ 8 %) have no
vaccination, so each is in the per-dose cohorts.

Then: the job for the largest province (79) and for the nation (34 provinces, every cohort),
each timed (CohortRun.duration_ms); then gunicorn (4 sync workers, bench/bench_wsgi.py) on
127.0.0.1:8768 and BENCH_THREADS client threads (default 4) for BENCH_SECONDS (default 10) per case.
Baselines, same run: `/fhir/metadata` (no database), the signed-in home page, and the province's
existing rollout dashboard page.
Run by hand (the data is kept for reruns):
    createdb -h 127.0.0.1 -U postgres sskdt_cohorts_bench
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/sskdt_cohorts_bench \\
        /work/main/.venv/bin/python bench/cohort_counts.py
"""

import os
import subprocess
import sys
import time

import dashboards_pages
import dashboards_rollups
from dashboards_common import ROOT, Timer, facilities_create, prepare_database
from dashboards_pages import hammer, report, session_cookie
from django.core.management import call_command
from django.db import connection
from django.utils import timezone

PORT = 8768
dashboards_pages.PORT = PORT
PROVINCE = "79"


def enrich():
    """Each step checks its own work, so a rerun skips what is done."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM healthbook_citizen WHERE residence_commune_code = ''")
        if cursor.fetchone()[0]:
            with Timer("citizens: commune of residence and sex (one UPDATE)"):
                cursor.execute(
                    """UPDATE healthbook_citizen c SET residence_commune_code = g.codes[1 + c.id % g.n],
                           sex = 1 + c.id % 2
                       FROM (SELECT province_id, array_agg(code ORDER BY code) AS codes, count(*) AS n
                             FROM geo_commune GROUP BY province_id) g
                       WHERE g.province_id = c.residence_province_id"""
                )
        cursor.execute("SELECT EXISTS (SELECT 1 FROM healthbook_encounter WHERE main_diagnosis = '')")
        if cursor.fetchone()[0]:
            with Timer("visits: a main diagnosis each (one UPDATE)"):
                cursor.execute(
                    """UPDATE healthbook_encounter SET main_diagnosis = CASE
                           WHEN id % 12 = 0 THEN 'I10' WHEN id % 20 = 1 THEN 'E11.9'
                           WHEN id % 30 = 2 THEN 'J44.9' ELSE 'J06.9' END
                       WHERE main_diagnosis = ''"""
                )
        with Timer("ANALYZE"):
            cursor.execute("ANALYZE healthbook_citizen")
            cursor.execute("ANALYZE healthbook_encounter")


def main():
    prepare_database()
    today = timezone.localdate()
    facilities = facilities_create()
    dashboards_rollups.people_fill(today)
    dashboards_rollups.visits_fill(facilities, today)
    with Timer("load_codelists"):
        call_command("load_codelists", verbosity=0)
    enrich()
    from cohorts.models import CohortMembership, CohortTotal
    from cohorts.services import memberships_compute

    with Timer(f"cohorts job: province {PROVINCE}"):
        run = memberships_compute(provinces=[PROVINCE])[0]
    print(f"  province {PROVINCE}: {run.members:,} memberships, {run.duration_ms / 1000:.1f} s (CohortRun.duration_ms)")
    print(f"  rows: {CohortMembership.objects.count():,} memberships, {CohortTotal.objects.count():,} total rows")
    from core.roles import Role

    officer = session_cookie(f"bench.officer{PROVINCE}", Role.PROVINCE_OFFICER, PROVINCE)
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
    base = f"/cohorts/province/{PROVINCE}/"
    detail = base + "hypertension-follow-up-missed/"
    try:
        import http.client

        for _ in range(100):
            try:
                http.client.HTTPConnection("127.0.0.1", PORT, timeout=1).request("GET", "/fhir/metadata")
                break
            except OSError:
                time.sleep(0.1)
        dashboard = f"/dashboards/province/{PROVINCE}/"
        hammer(["/fhir/metadata", "/", dashboard, base, detail], officer)  # warm-up
        floor = report("floor: /fhir/metadata (no database)", *hammer(["/fhir/metadata"], officer))
        report("floor: / signed in (session, user, MFA)", *hammer(["/"], officer), floor=floor)
        report(f"baseline: province {PROVINCE} rollout dashboard", *hammer([dashboard], officer), floor=floor)
        cases = [
            (f"cohorts of {PROVINCE} (every cohort)", [base]),
            (f"one cohort of {PROVINCE} by commune, facility, trend", [detail]),
            (f"a per-dose cohort of {PROVINCE}", [base + "vaccine-tcmr-bcg-1/"]),
            ("export: communes XLSX", [detail + "export/communes.xlsx"]),
            ("export: facilities CSV", [detail + "export/facilities.csv"]),
        ]
        for name, paths in cases:
            report(name, *hammer(paths, officer), floor=floor)
        # The same per-dose page as before the job kept the facility table's suppression (issue 20):
        # its stored cells cleared, the page suppresses the whole facility column per request again.
        CohortTotal.objects.filter(run=run, version__definition__key="vaccine-tcmr-bcg-1").update(cell="", rank=None)
        report(
            f"a per-dose cohort of {PROVINCE}, suppressed per request (before)",
            *hammer([base + "vaccine-tcmr-bcg-1/"], officer),
            floor=floor,
        )
    finally:
        server.terminate()
        server.wait(10)
    if os.environ.get("BENCH_NATIONAL", "1") == "1":
        with Timer("cohorts job: the nation (34 provinces)"):
            runs = memberships_compute()
        national = runs[-1]
        print(f"  nation: {national.members:,} memberships, {national.duration_ms / 1000:.1f} s")
        slowest = sorted(runs[:-1], key=lambda r: -r.duration_ms)[:3]
        print("  slowest provinces: " + ", ".join(f"{r.province.code} {r.duration_ms / 1000:.1f} s" for r in slowest))


if __name__ == "__main__":
    main()
