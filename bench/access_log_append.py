"""How fast the hash-chained access log appends, alone and with 16 threads contending for the
chain head, in each SSKDT_ACCESS_LOG_COMMIT mode (group, sync, async), against plain INSERTs
into an unchained copy of the table (same run, autocommit: each waits for its disk flush).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/sskdt_doctor_bench python bench/access_log_append.py
"""

import os
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.test_settings")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.db import connection  # noqa: E402

from accesslog.services import Actor, access_log_record  # noqa: E402

SECONDS = 5


def chained():
    access_log_record(
        actor=Actor(kind="person", username="bench"),
        event="view",
        viewed="book",
        outcome=0,
        purpose="TREAT",
        details={"bench": True},
    )


def plain():
    with connection.cursor() as cur:
        cur.execute(
            "INSERT INTO bench_plain_log (seq, recorded_at, actor_kind, event, outcome, prev_hash, row_hash)"
            " VALUES (0, now(), 'person', 'view', 0, '', '')"
        )


def run(fn, threads: int) -> float:
    stop = time.time() + SECONDS
    counts = [0] * threads

    def worker(i):
        while time.time() < stop:
            fn()
            counts[i] += 1
        connection.close()

    ts = [threading.Thread(target=worker, args=(i,)) for i in range(threads)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    return sum(counts) / SECONDS


def main():
    with connection.cursor() as cur:
        cur.execute("CREATE TABLE IF NOT EXISTS bench_plain_log (LIKE accesslog_entry INCLUDING DEFAULTS)")
    print("| writer | threads | appends/s |")
    print("| --- | ---: | ---: |")
    for threads in (1, 16):
        print(f"| plain INSERT (baseline) | {threads} | {run(plain, threads):.0f} |")
        for mode in ("group", "sync", "async"):
            settings.SSKDT_ACCESS_LOG_COMMIT = mode
            print(f"| chained append, {mode} | {threads} | {run(chained, threads):.0f} |")
    with connection.cursor() as cur:
        cur.execute("DROP TABLE bench_plain_log")


if __name__ == "__main__":
    main()
