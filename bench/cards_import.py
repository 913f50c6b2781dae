#!/usr/bin/env python
"""Benchmark: import a card batch into a database that already holds citizens, against a plain
COPY of the same file into an empty unindexed table, in the same run on the same server.
With --workers K the import runs through K real Celery worker processes (the sharded merge,
--shards N, healthbook.cards.shards) and is timed from the upload to the batch being done.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/sskdt_books \\
        python bench/cards_import.py --rows 1000000 [--bad-share 0.01] [--workdir var/bench]

Steps: generate (bench/gen_cards.py) a base file of N people and a batch file of N rows of
which half re-use base people with a renewed card (updates) and half are new; wipe the health
book tables; import the base file (reported too); VACUUM ANALYZE; COPY the batch file into an
empty all-text table three times; import the batch file through the real pipeline
(card_batch_create + card_batch_run, in this process, as the worker runs it); COPY it three
times more (the baseline: the median of the six). Prints figures
and the peak RSS of this process. It wipes citizens, books, cards and batches: never point it
at a database you care about.
"""

import argparse
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.test_settings")


def gen(args, out: Path, *extra: str) -> None:
    if out.exists():
        return
    cmd = [sys.executable, str(ROOT / "bench" / "gen_cards.py"), "--out", str(out), *extra]
    subprocess.run(cmd, check=True)


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--rows", type=int, default=1_000_000)
    p.add_argument("--bad-share", type=float, default=0.01)
    p.add_argument(
        "--batch-rows",
        type=int,
        default=None,
        help="rows of the measured batch file (default --rows); a national file is larger than the base",
    )
    p.add_argument(
        "--existing-share",
        type=float,
        default=None,
        help="share of the batch's rows that renew a base person (default 0.5, at most --rows of them)",
    )
    p.add_argument("--workdir", default=str(ROOT / "var" / "bench"))
    p.add_argument("--chunk-rows", type=int, default=None)
    p.add_argument("--profile", action="store_true", help="time each merge statement of the measured import")
    p.add_argument(
        "--prewarm",
        action="store_true",
        help="before the measurement, read the citizen, book and card tables and their indexes into "
        "shared_buffers (pg_prewarm), as on a server that has been serving them",
    )
    p.add_argument("--base-only", action="store_true", help="only wipe the tables and import the base file")
    p.add_argument("--skip-base", action="store_true", help="keep the database as it is (base already imported)")
    p.add_argument(
        "--workers",
        type=int,
        default=0,
        help="import through this many real Celery worker processes (solo pool, concurrency 1 each, "
        "CELERY_BROKER_URL) instead of in this process; with --shards the batch is merged by shard tasks",
    )
    p.add_argument("--shards", type=int, default=2, help="CARD_IMPORT_SHARDS of the workers (with --workers)")
    args = p.parse_args()
    work = Path(args.workdir)
    work.mkdir(parents=True, exist_ok=True)
    n = args.rows
    base = work / f"base-{n}.csv"
    batch_rows = args.batch_rows or n
    existing_share = args.existing_share if args.existing_share is not None else 0.5
    batch_file = work / (
        f"batch-{n}-{args.bad_share}.csv"
        if batch_rows == n and existing_share == 0.5
        else f"batch-{batch_rows}-of-{n}-{existing_share}-{args.bad_share}.csv"
    )
    gen(args, base, "--rows", str(n), "--seed", "11")
    gen(
        args,
        batch_file,
        "--rows",
        str(batch_rows),
        "--seed",
        "12",
        "--bad-share",
        str(args.bad_share),
        "--existing-share",
        str(existing_share),
        "--existing-seed",
        "11",
        "--existing-rows",
        str(n),
        "--existing-change-share",
        "1.0",
    )

    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection

    if args.chunk_rows:
        settings.CARD_IMPORT_CHUNK_ROWS = args.chunk_rows
    settings.MEDIA_ROOT = str(work / "media")
    call_command("load_codelists", "beneficiary-group", "ethnicity", verbosity=0)
    if args.skip_base:
        return measured(args, batch_rows, batch_file, work, None)
    with connection.cursor() as cur:
        cur.execute(
            "TRUNCATE healthbook_card_history, healthbook_card, healthbook_book, healthbook_citizen, "
            "healthbook_card_batch_problem, healthbook_card_batch_person, healthbook_card_batch CASCADE"
        )
    for f in (work / "media").rglob("*.csv"):
        f.unlink()

    b0, t_base = run_import(base)
    print(
        f"base import into empty DB: {b0.rows_read} rows in {t_base:.1f} s = {b0.rows_read / t_base:,.0f} rows/s "
        f"(accepted {b0.rows_accepted}, rejected {b0.rows_rejected})"
    )
    if args.base_only:
        with connection.cursor() as cur:
            cur.execute("VACUUM ANALYZE healthbook_citizen")
            cur.execute("VACUUM ANALYZE healthbook_card")
            cur.execute("VACUUM ANALYZE healthbook_book")
        return 0
    return measured(args, batch_rows, batch_file, work, b0)


def run_import(path: Path):
    from healthbook.cards.services import card_batch_create

    t = time.perf_counter()
    with open(path, "rb") as fh:
        batch = card_batch_create(acting_user=None, fh=fh, name=path.name, run_now=True).batch
    return batch, time.perf_counter() - t


def _peak_rss_mb(pid: int) -> int:
    with open(f"/proc/{pid}/status") as fh:
        for line in fh:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) // 1024
    return 0


def run_with_workers(args, path: Path, work: Path):
    """Start args.workers real Celery workers on this database, queue the batch as an upload
    does (the task is sent on commit) and time it from the upload to DONE. Returns the batch,
    the seconds and the peak RSS (MB) of each worker process."""
    import redis
    from django.conf import settings
    from django.db import connection

    from healthbook.cards.services import card_batch_create
    from healthbook.models import CardBatch

    broker = os.environ["CELERY_BROKER_URL"]
    redis.Redis.from_url(broker).flushdb()
    s = connection.settings_dict
    env = os.environ | {
        "DATABASE_URL": f"postgres://{s['USER']}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}",
        "SSKDT_MEDIA_ROOT": str(work / "media"),
        "CARD_IMPORT_SHARDS": str(args.shards),
        "CARD_IMPORT_CHUNK_ROWS": str(settings.CARD_IMPORT_CHUNK_ROWS),
        "CARD_IMPORT_TASK_BUDGET_SECONDS": "3000",
    }
    procs, logs = [], []
    for n in range(args.workers):
        log = work / f"worker{n}.log"
        logs.append(log)
        cmd = [sys.executable, "-m", "celery", "-A", "config", "worker", "--pool", "solo", "--concurrency", "1"]
        cmd += ["--hostname", f"bench{n}@%h", "--without-mingle", "--without-gossip", "--loglevel", "INFO"]
        procs.append(
            subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=log.open("wb"), stderr=subprocess.STDOUT)  # noqa: SIM115
        )
    try:
        deadline = time.monotonic() + 120
        while not all(" ready." in log.read_text(errors="replace") for log in logs):
            if time.monotonic() > deadline:
                raise SystemExit("the workers did not start: see " + ", ".join(map(str, logs)))
            time.sleep(0.2)
        t = time.perf_counter()
        with open(path, "rb") as fh:
            batch = card_batch_create(acting_user=None, fh=fh, name=path.name).batch
        while not (batch := CardBatch.objects.get(pk=batch.pk)).is_finished:
            time.sleep(0.2)
        elapsed = time.perf_counter() - t
        rss = [_peak_rss_mb(p.pid) for p in procs]
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            proc.wait(30)
    if batch.status != CardBatch.Status.DONE:
        raise SystemExit(f"batch failed: {batch.failure_code} {batch.failure_message}")
    return batch, elapsed, rss


def plain_copies(cur, batch_file: Path, times: int = 3) -> list[float]:
    """Seconds of `times` plain COPYs of the file, each into a fresh empty all-text table."""
    copies = []
    for _ in range(times):
        cur.execute("DROP TABLE IF EXISTS bench_plain_copy")
        cur.execute(
            "CREATE TABLE bench_plain_copy (ma_the_bhyt text, ma_so_bhxh text, so_cccd text, ho_ten text, "
            "ngay_sinh text, gioi_tinh text, ma_dkbd text, gt_the_tu text, gt_the_den text, "
            "matinh_cu_tru text, dia_chi text)"
        )
        t = time.perf_counter()
        with (
            open(batch_file, "rb") as fh,
            cur.copy("COPY bench_plain_copy FROM STDIN WITH (FORMAT csv, HEADER true)") as copy,
        ):
            while block := fh.read(1 << 20):
                copy.write(block)
        copies.append(time.perf_counter() - t)
        cur.execute("DROP TABLE bench_plain_copy")
    return copies


class TimedCursor:
    """Cursor proxy adding each statement's time to `totals` (keyed by its first words)."""

    def __init__(self, cursor, totals):
        self._cursor = cursor
        self._totals = totals

    def execute(self, sql, params=None):
        t = time.perf_counter()
        try:
            return self._cursor.execute(sql, params)
        finally:
            key = " ".join(sql.split()[:6])[:60]
            self._totals[key] = self._totals.get(key, 0.0) + time.perf_counter() - t

    def __getattr__(self, name):
        return getattr(self._cursor, name)


def measured(args, n, batch_file, work, b0) -> int:
    from django.conf import settings
    from django.db import connection

    from healthbook.cards import merge, pipeline

    totals: dict[str, float] = {}
    if args.profile:
        real_merge = merge.merge_chunk

        def timed_merge(cursor, **kwargs):
            t = time.perf_counter()
            try:
                return real_merge(TimedCursor(cursor, totals), **kwargs)
            finally:
                totals["(merge_chunk total)"] = totals.get("(merge_chunk total)", 0.0) + time.perf_counter() - t

        pipeline.merge.merge_chunk = timed_merge
        real_commit = pipeline.chunk_commit_validated

        def timed_commit(**kwargs):
            t = time.perf_counter()
            try:
                return real_commit(**kwargs)
            finally:
                totals["(chunk commit total)"] = totals.get("(chunk commit total)", 0.0) + time.perf_counter() - t

        pipeline.chunk_commit_validated = timed_commit
    with connection.cursor() as cur:
        cur.execute("VACUUM ANALYZE healthbook_citizen")
        cur.execute("VACUUM ANALYZE healthbook_card")
        cur.execute("VACUUM ANALYZE healthbook_book")
        if args.prewarm:
            cur.execute("CREATE EXTENSION IF NOT EXISTS pg_prewarm")
            cur.execute(
                "SELECT coalesce(sum(pg_prewarm(c.oid)), 0) FROM pg_class c "
                "JOIN pg_namespace n ON n.oid = c.relnamespace AND n.nspname = 'public' "
                "WHERE c.relkind IN ('r', 'i') AND (c.relname IN ('healthbook_citizen', 'healthbook_book', "
                "'healthbook_card', 'healthbook_card_history') OR c.oid IN (SELECT indexrelid FROM pg_index "
                "WHERE indrelid IN ('healthbook_citizen'::regclass, 'healthbook_book'::regclass, "
                "'healthbook_card'::regclass, 'healthbook_card_history'::regclass)))"
            )
            print(f"prewarmed {cur.fetchone()[0] * 8 / 1024:,.0f} MB into shared_buffers")
        cur.execute("SELECT count(*) FROM healthbook_citizen")
        citizens = cur.fetchone()[0]
        print(f"citizens before the measured import: {citizens}")

        # The baseline: the file COPYed into an empty all-text table, three times before the import
        # and three times after it (each into a fresh table); the median of the six is the figure.
        # A single COPY moved 1.5-3.3 s between runs, and the machine drifts during a 2-minute import.
        copies = plain_copies(cur, batch_file)
    print(f"plain COPY before the import: {', '.join(f'{c:.2f}' for c in copies)} s")

    worker_rss = None
    if args.workers:
        b1, t_import, worker_rss = run_with_workers(args, batch_file, work)
    else:
        b1, t_import = run_import(batch_file)
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        f"import into DB with {citizens} citizens: {b1.rows_read} rows in {t_import:.1f} s = "
        f"{b1.rows_read / t_import:,.0f} rows/s; accepted {b1.rows_accepted}, rejected {b1.rows_rejected}, "
        f"citizens_created {b1.citizens_created}, books_created {b1.books_created}, cards_created {b1.cards_created}, "
        f"cards_updated {b1.cards_updated}"
    )
    with connection.cursor() as cur:
        after = plain_copies(cur, batch_file)
    t_copy = statistics.median(copies + after)
    print(
        f"plain COPY baseline: {n} rows in {t_copy:.2f} s = {n / t_copy:,.0f} rows/s (median of the three before "
        f"and {', '.join(f'{c:.2f}' for c in after)} s after the import)"
    )
    print(f"ratio import / plain COPY = {t_import / t_copy:.2f}")
    with connection.cursor() as cur:
        cur.execute(
            "SELECT name, setting, unit FROM pg_settings WHERE name IN ('shared_buffers', 'max_wal_size', "
            "'checkpoint_timeout', 'wal_compression', 'synchronous_commit', 'fsync', 'full_page_writes') "
            "ORDER BY name"
        )
        print("server: " + ", ".join(f"{name}={value}{unit or ''}" for name, value, unit in cur.fetchall()))
    print(f"peak RSS of this process (file streamed, chunk {settings.CARD_IMPORT_CHUNK_ROWS}): {rss:.0f} MB")
    if worker_rss is not None:
        print(f"workers: {args.workers}, shards {args.shards}; peak RSS of each worker: {worker_rss} MB")
        with connection.cursor() as cur:
            cur.execute(
                "SELECT shard, rows_staged, rows_merged, runs, worker, read_from, read_records "
                "FROM healthbook_card_batch_shard WHERE batch_id = %s ORDER BY shard",
                [b1.pk],
            )
            for row in cur.fetchall():
                ranged = f", read its range of {row[6]} records from byte {row[5]}" if row[5] is not None else ""
                print(f"  shard {row[0]}: staged {row[1]}, merged {row[2]}, runs {row[3]}, worker {row[4]}{ranged}")
            cur.execute(
                "SELECT extract(epoch FROM staged_at - started_at), extract(epoch FROM finished_at - staged_at) "
                "FROM healthbook_card_batch WHERE id = %s",
                [b1.pk],
            )
            read_s, merge_s = cur.fetchone()
            if read_s is not None:
                print(f"  read + stage + settle {float(read_s):.1f} s, shard merges {float(merge_s):.1f} s")
            cur.execute("SELECT pg_database_size(current_database())")
            print(f"database size after the import: {cur.fetchone()[0] / 1024**3:.2f} GB")
    for key, value in sorted(totals.items(), key=lambda kv: -kv[1]):
        print(f"  {value:7.2f} s  {key}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
