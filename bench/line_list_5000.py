"""A public-health line list of 5,000 people, end to end, at national size (issue 20, point 4:
"a line list of 5,000 people < 2 s at 1 M citizens / 5 M visits").

On a bench database filled by bench/doctor_gen.py (1,000,000 citizens, 5,000,000 visits): gives
5,000 citizens of the largest province a membership of the shipped cohort "hypertension patients
overdue for follow-up" (what the nightly job would have written), makes a public-health officer
of that province, then through Django's test client (the real views, middleware and templates,
no HTTP socket):

- open: POST the purpose form (the list is fixed, 5,000 access-log entries written, the opening
  saved), then GET the list's first page;
- export: POST the CSV export (5,000 more access-log entries, the file of 5,000 rows built).

Each is done BENCH_REPEAT times (default 3, a new list each time); then the chain is verified.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/sskdt_x_bench python bench/line_list_5000.py
"""

import os
import statistics
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.test_settings")

import django  # noqa: E402

django.setup()

from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.urls import reverse  # noqa: E402
from django.utils import timezone  # noqa: E402

PEOPLE = 5000
COHORT = "hypertension-follow-up-missed"


def prepare():
    from allauth.mfa.models import Authenticator
    from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret

    from accounts.models import User
    from cohorts.models import CohortMembership, CohortRun
    from cohorts.selectors import current_version
    from geo.models import Province

    if not connection.settings_dict["NAME"].endswith("bench"):
        sys.exit("refusing: the database name must end in 'bench'")
    with connection.cursor() as cur:
        cur.execute("SELECT count(*) FROM healthbook_citizen")
        citizens = cur.fetchone()[0]
        cur.execute("SELECT count(*) FROM healthbook_encounter")
        visits = cur.fetchone()[0]
        cur.execute("SELECT residence_province_id FROM healthbook_citizen GROUP BY 1 ORDER BY count(*) DESC LIMIT 1")
        province = Province.objects.get(pk=cur.fetchone()[0])
    version = current_version(COHORT)
    if not CohortMembership.objects.filter(version=version, province=province).exists():
        run = CohortRun.objects.create(
            province=province, as_of=timezone.localdate(), started_at=timezone.now(), finished_at=timezone.now()
        )
        with connection.cursor() as cur:
            cur.execute(
                "INSERT INTO cohorts_cohortmembership (version_id, citizen_id, province_id, commune_code, run_id)"
                " SELECT %s, id, residence_province_id, coalesce(residence_commune_code, ''), %s"
                " FROM healthbook_citizen WHERE residence_province_id = %s ORDER BY id LIMIT %s",
                [version.pk, run.pk, province.pk, PEOPLE],
            )
    with connection.cursor() as cur:  # the last visit, as the job reads it (memberships from before it did)
        cur.execute(
            "UPDATE cohorts_cohortmembership m SET last_visit_at = (SELECT max(e.occurred_at)"
            " FROM healthbook_encounter e JOIN healthbook_book b ON b.id = e.book_id WHERE b.citizen_id = m.citizen_id)"
            " WHERE m.version_id = %s AND m.province_id = %s AND m.last_visit_at IS NULL",
            [version.pk, province.pk],
        )
    user, _ = User.objects.get_or_create(
        username="bench.ytcc",
        defaults={
            "role": "public_health_officer",
            "province": province,
            "full_name": "Cán bộ Thử",
            "approved_at": timezone.now(),
        },
    )
    if not Authenticator.objects.filter(user=user).exists():
        TOTP.activate(user, generate_totp_secret())
    print(f"database: {citizens:,} citizens, {visits:,} visits; province {province.code}, {PEOPLE:,} listed")
    return user, version


def main():
    user, version = prepare()
    client = Client()
    client.force_login(user)
    repeat = int(os.environ.get("BENCH_REPEAT", "3"))
    opens, exports = [], []
    for _ in range(repeat):
        start = time.perf_counter()
        response = client.post(
            reverse("ph-line-list-open", args=[version.pk]),
            {"purpose": "follow_up", "purpose_text": "Gọi điện nhắc tái khám (bench).", "commune": ""},
        )
        assert response.status_code == 302, response.status_code
        page = client.get(response["Location"])
        assert page.status_code == 200
        opens.append(time.perf_counter() - start)
        start = time.perf_counter()
        export = client.post(response["Location"] + "export/", {"format": "csv"})
        body = b"".join(export.streaming_content) if export.streaming else export.content
        assert export.status_code == 200 and body.count(b"\n") >= PEOPLE, (export.status_code, body[:200])
        exports.append(time.perf_counter() - start)
    print("| step (5,000 people) | each run | median |")
    print("| --- | --- | ---: |")
    for name, times in (("open (POST purpose → GET first page)", opens), ("export CSV", exports)):
        print(f"| {name} | {', '.join(f'{t:.2f} s' for t in times)} | {statistics.median(times):.2f} s |")
    from accesslog.chain import chain_verify

    start = time.perf_counter()
    print(f"\nchain_verify: {chain_verify().line()} in {time.perf_counter() - start:.1f} s")


if __name__ == "__main__":
    main()
