#!/usr/bin/env python
"""Micro-benchmark: what a range's reader of the sharded card import costs per record, in CPU.

    python bench/cards_reading.py FILE.csv [--rows 300000]   # + DATABASE_URL: the staging COPY too

Cuts the file in two (files.split_csv), reads the second range as a shard run does
(files.iter_range_cells, the collector held back as in pipeline.Prefetch) and times, in CPU
seconds of this process: the csv module alone, the fast validator (a first pass, then a second
with its caches warm), and the chunk's whole validation (pipeline.validate_chunk, with the
shard of each row). With a database, COPYs the valid rows into a temporary copy of the staging
table in the binary format the readers use and in the text format (the baseline, same run),
and reports the worker's and the backend's CPU per row (the backend's from /proc: run it on
the database's own host). Nothing is written outside the temporary table. bench/RESULTS.md,
"Fourteenth session".
"""

import argparse
import os
import sys
import time
from itertools import islice
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.test_settings")


def cpu_per_record(label: str, fn, n: int) -> None:
    started = time.process_time()
    fn()
    print(f"{label}: {(time.process_time() - started) / n * 1e6:.2f} us a record")


def backend_cpu(pid: int) -> float:
    with open(f"/proc/{pid}/stat") as fh:
        fields = fh.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def copy_costs(rows: list, passes: int) -> None:
    import psycopg
    from django.conf import settings

    from healthbook.cards import merge, reading

    db = settings.DATABASES["default"]
    conn = psycopg.connect(
        dbname=db["NAME"], user=db["USER"], password=db["PASSWORD"], host=db["HOST"], port=db["PORT"] or None
    )
    with conn, conn.cursor() as cur:
        cur.execute("CREATE TEMP TABLE bench_stage (LIKE healthbook_card_batch_row INCLUDING ALL)")
        cur.execute("SELECT pg_backend_pid()")
        pid = cur.fetchone()[0]
        columns = ", ".join(("batch_id", "shard", *merge.STAGE_COLUMNS))
        for _ in range(passes):
            for binary in (True, False):
                cur.execute("TRUNCATE bench_stage")
                backend, worker = backend_cpu(pid), time.process_time()
                with cur.copy(
                    f"COPY bench_stage ({columns}) FROM STDIN" + (" (FORMAT BINARY)" if binary else "")
                ) as copy:
                    if binary:
                        copy.set_types(reading._STAGE_TYPES)
                    for row in rows:
                        copy.write_row((7, reading.shard_of(row.sin, 2), *row))
                worker, backend = time.process_time() - worker, backend_cpu(pid) - backend
                print(
                    f"staging COPY, {'binary' if binary else 'text  '}: worker {worker / len(rows) * 1e6:.2f}, "
                    f"backend {backend / len(rows) * 1e6:.2f} us a row ({len(rows):,} rows)"
                )
        conn.rollback()


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("file")
    parser.add_argument("--rows", type=int, default=300_000)
    parser.add_argument("--copy-passes", type=int, default=3)
    args = parser.parse_args()
    import django

    django.setup()
    from bench.cards_fastrows import bench_context
    from healthbook.cards import files, pipeline, reading

    ctx = bench_context()
    size = os.path.getsize(args.file)
    with open(args.file, "rb") as fh:
        layout = files.inspect_file(fh, size=size)
        started = time.perf_counter()
        ranges = files.split_csv(fh, layout, size=size, parts=2)
        print(f"cut in two: {time.perf_counter() - started:.2f} s for {size / 1e6:.0f} MB")
    if ranges is None:
        print("the file is not cut (too small, or not a CSV in UTF-8 or Windows-1258)")
        return 1

    def cells():
        return islice(files.iter_range_cells(open(args.file, "rb"), layout, ranges[1]), args.rows)  # noqa: SIM115

    pipeline._fewer_collections(True)
    records = list(cells())
    n = len(records)
    cpu_per_record("csv module (the range read and checked)", lambda: sum(1 for _ in cells()), n)
    validator = pipeline.ChunkValidator(ctx, layout)
    for label in ("fast validator, first pass", "fast validator, caches warm"):
        cpu_per_record(label, lambda: [validator.fast(line, c) for line, c in records], n)
    valid = []

    def chunks():
        valid.clear()
        for i in range(0, n, 20_000):
            rows = pipeline.validate_chunk(records[i : i + 20_000], ctx, validator)[0]
            valid.extend(rows)
            for row in rows:
                reading.shard_of(row.sin, 2)

    cpu_per_record("validate_chunk and shard_of, caches warm", chunks, n)
    if os.environ.get("DATABASE_URL"):
        copy_costs(valid, args.copy_passes)
    return 0


if __name__ == "__main__":
    sys.exit(main())
