"""In-process profile of the dashboard pages: SQL time, query count and the rest (view code,
template rendering, middleware) per page, over the bench database filled by
bench/dashboards_pages.py. No HTTP, no gunicorn: what one request costs in one process.
Run by hand (after dashboards_pages.py has filled the database and created the bench users):
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/sskdt_dash_bench \\
        /work/main/.venv/bin/python bench/dashboards_profile.py [N]
Set BENCH_CPROFILE=<page number> to print a cProfile of that page instead.
"""

import datetime as dt
import os
import statistics
import sys
import time

from dashboards_common import DAYS
from django.db import connection
from django.test import Client
from django.utils import timezone

N = int(sys.argv[1]) if len(sys.argv) > 1 else 30


def pages():
    today = timezone.localdate()
    full = (today - dt.timedelta(days=DAYS - 1)).strftime("%d/%m/%Y")
    return [
        ("floor: / signed in", "/", "bench.ministry"),
        ("national, 90 days", "/dashboards/national/", "bench.ministry"),
        ("national, 730 days", f"/dashboards/national/?start={full}", "bench.ministry"),
        ("province 79, 90 days", "/dashboards/province/79/", "bench.hcm"),
        ("province 79, 730 days", f"/dashboards/province/79/?start={full}", "bench.hcm"),
        ("export: national ranking XLSX", "/dashboards/national/export/ranking.xlsx", "bench.ministry"),
        ("export: province 79 completeness CSV", "/dashboards/province/79/export/completeness.csv", "bench.hcm"),
        ("export: province 79 connectivity XLSX", "/dashboards/province/79/export/connectivity.xlsx", "bench.hcm"),
    ]


class SqlTimer:
    def __init__(self):
        self.seconds = 0.0
        self.count = 0
        self.queries = []

    def __call__(self, execute, sql, params, many, context):
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            spent = time.perf_counter() - started
            self.seconds += spent
            self.count += 1
            self.queries.append((spent, sql))


def main():
    from accounts.models import User

    clients = {}
    for username in ("bench.ministry", "bench.hcm"):
        client = Client()
        client.force_login(User.objects.get(username=username))
        clients[username] = client
    only = os.environ.get("BENCH_CPROFILE")
    if only:
        import cProfile
        import pstats

        name, url, user = pages()[int(only)]
        for _ in range(3):
            clients[user].get(url)
        profile = cProfile.Profile()
        profile.enable()
        for _ in range(N):
            clients[user].get(url)
        profile.disable()
        print(name)
        pstats.Stats(profile).sort_stats("cumulative").print_stats(45)
        return
    print(f"{'page':42s} {'queries':>7s} {'total p50':>10s} {'SQL p50':>9s} {'rest p50':>9s} {'bytes':>8s}")
    for name, url, user in pages():
        totals, sqls, count, size = [], [], 0, 0
        for i in range(N + 3):
            timer = SqlTimer()
            started = time.perf_counter()
            with connection.execute_wrapper(timer):
                response = clients[user].get(url)
            elapsed = time.perf_counter() - started
            assert response.status_code == 200, (url, response.status_code)
            if i >= 3:  # warm-up
                totals.append(elapsed)
                sqls.append(timer.seconds)
                count, size = timer.count, len(response.content)
        if os.environ.get("BENCH_QUERIES"):
            for spent, sql in timer.queries:
                print(f"    {spent * 1000:6.1f} ms  {sql[:150]}")
        total, sql = statistics.median(totals) * 1000, statistics.median(sqls) * 1000
        print(f"{name:42s} {count:7d} {total:8.1f}ms {sql:7.1f}ms {total - sql:7.1f}ms {size:8d}", flush=True)


if __name__ == "__main__":
    main()
