"""Before/after of the access-log append on two or more databases, interleaved in short rounds so that both
see the same machine (a shared machine's disk-flush time and CPU share change from minute to
minute: two runs a minute apart differed 8× in plain INSERTs/s). Each round, on each database in
turn: plain INSERTs (the baseline), chained appends in `group` and `async` mode, 1 and 16 threads,
and a bulk append of a 5,000-person list (in the form of
bench/access_log_bulk.py --legacy on a database still at accesslog 0005); the medians over the rounds, and each chained figure as a
share of the same round's plain INSERTs.

    DATABASE_URL=postgres://…/db_a python bench/access_log_ab.py db_a db_b […] [--rounds 5] [--seconds 3] [--bulk]

The databases are on the server of DATABASE_URL (only the name is switched).
"""

import argparse
import os
import statistics
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.test_settings")

import django  # noqa: E402

django.setup()

import access_log_append as single  # noqa: E402
from access_log_bulk import legacy_append_many, row  # noqa: E402
from django.conf import settings  # noqa: E402
from django.db import connection  # noqa: E402

from accesslog.chain import chain_verify, entries_append_many  # noqa: E402


def use(db: str) -> None:
    connection.close()
    connection.settings_dict["NAME"] = db


def bulk_append():
    with connection.cursor() as cur:
        cur.execute("SELECT max(name) FROM django_migrations WHERE app = 'accesslog'")
        return entries_append_many if cur.fetchone()[0] >= "0006" else legacy_append_many


def bulk_round() -> dict[str, float]:
    """Only the bulk append, of the line lists of bench/access_log_bulk.py."""
    bulk, out = bulk_append(), {}
    for n in (1000, 5000, 20000):
        start = time.perf_counter()
        bulk([row(i) for i in range(n)])
        out[f"bulk append of {n:,} (s)"] = time.perf_counter() - start
    return out


def one_round(seconds: float) -> dict[str, float]:
    single.SECONDS = seconds
    out = {}
    bulk = bulk_append()
    with connection.cursor() as cur:
        cur.execute("CREATE TABLE IF NOT EXISTS bench_plain_log (LIKE accesslog_entry INCLUDING DEFAULTS)")
    for threads in (1, 16):
        out[f"plain INSERT (baseline), {threads}"] = single.run(single.plain, threads)
        for mode in ("group", "async"):
            settings.SSKDT_ACCESS_LOG_COMMIT = mode
            out[f"chained append, {mode}, {threads}"] = single.run(single.chained, threads)
    start = time.perf_counter()
    bulk([row(i) for i in range(5000)])
    out["bulk append of 5,000 (s)"] = time.perf_counter() - start
    with connection.cursor() as cur:
        cur.execute("DROP TABLE bench_plain_log")
    return out


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("dbs", nargs="+")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--seconds", type=float, default=3)
    parser.add_argument("--bulk", action="store_true", help="only the bulk append, 1,000 / 5,000 / 20,000")
    args = parser.parse_args()
    results: dict[str, list[dict]] = {db: [] for db in args.dbs}
    for r in range(args.rounds):
        for db in args.dbs if r % 2 == 0 else reversed(args.dbs):  # ABBA: neither always goes first
            use(db)
            results[db].append(bulk_round() if args.bulk else one_round(args.seconds))
            print(f"round {r + 1} {db}: " + ", ".join(f"{k} {v:.2f}" for k, v in results[db][-1].items()), flush=True)
    keys = list(results[args.dbs[0]][0])
    print(f"\n| median of {args.rounds} rounds | " + " | ".join(args.dbs) + " |")
    print("| --- | " + " | ".join("---:" for _ in args.dbs) + " |")
    for key in keys:
        cells = []
        for db in args.dbs:
            values = [res[key] for res in results[db]]
            cell = (
                f"{statistics.median(values):,.2f}" if key.startswith("bulk") else f"{statistics.median(values):,.0f}"
            )
            threads = key.rsplit(", ", 1)[-1]
            if key.startswith("chained"):
                share = [res[key] / res[f"plain INSERT (baseline), {threads}"] for res in results[db]]
                cell += f" ({statistics.median(share):.2f} of plain)"
            cells.append(cell)
        print(f"| {key} | " + " | ".join(cells) + " |")
    for db in args.dbs:
        use(db)
        print(f"{db}: chain_verify {chain_verify().line()[:60]}")


if __name__ == "__main__":
    main()
