"""Statements of the doctor's book pages on a bench database, next to doctor_book_load.py's p95:
what a schema change (issue 21: partitioned clinical tables) does to each page's query count and
to the time PostgreSQL spends in them. One process, the 500-visit patient of bench/doctor_gen.py,
each page opened N + 1 times: the first open of the process, then cached (`BOOK_FRAGMENT_SECONDS=0`
in the environment: every open rendered in full).

    export DATABASE_URL=postgres://postgres@127.0.0.1:5432/<name>_bench
    python bench/book_page_queries.py [--repeat 20]
"""

import argparse
import os
import statistics
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.bench_settings")

import django  # noqa: E402

django.setup()

from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402

from bench.doctor_book_load import session_cookies  # noqa: E402


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args()
    cookies, book, _facility = session_cookies()
    client = Client()
    client.cookies["sessionid"] = cookies[0]
    pages = {
        "book page": f"/doctor/books/{book}/",
        "timeline page": f"/doctor/books/{book}/timeline/",
        "timeline htmx partial": f"/doctor/books/{book}/timeline/?kind=visit&kind=lab",
    }
    print("| page | statements, first open | statements, cached | SQL ms per cached open (median of N) |")
    print("| --- | ---: | ---: | ---: |")
    for name, url in pages.items():
        counts = []
        sql_ms = []
        for i in range(args.repeat + 1):
            with CaptureQueriesContext(connection) as ctx:
                response = client.get(url)
            assert response.status_code == 200, (url, response.status_code)
            counts.append(len(ctx.captured_queries))
            if i:
                sql_ms.append(sum(float(q["time"]) for q in ctx.captured_queries) * 1000)
        print(f"| {name} | {counts[0]} | {counts[1]} | {statistics.median(sql_ms):.1f} (N={args.repeat}) |")


if __name__ == "__main__":
    main()
