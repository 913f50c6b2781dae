#!/usr/bin/env python
"""Benchmark: the floor of the card import — what the writes the model requires cost against a
plain COPY of the same file, in one run on one server.

    DATABASE_URL=postgres://postgres@127.0.0.1:55446/sskdt_cards5_m1base \\
        python bench/cards_floor.py --rows 1000000 --workdir var/m1 [--lock /work/bench.lock]

DATABASE_URL names the base database: 1 M citizens imported through the pipeline
(`bench/cards_import.py --base-only`); it is only used as a template. The batch file is the one
`bench/cards_import.py` measures (same generator, seeds and shares). Its rows are validated once
by the import's own validator (healthbook.cards.pipeline), de-duplicated (last row of a person
wins, as in the import) and kept as COPY data (`stage-*.tsv`, not timed).

Every step runs on a fresh copy of the base (CREATE DATABASE … TEMPLATE, right after a
checkpoint; --copy-strategy says whether the step then writes full-page images), with the
tables it writes read into shared_buffers first (pg_prewarm) and
autovacuum off on them; the staging table is loaded and analysed before the clock starts. A
step is one transaction; its statements and its COMMIT are timed separately.

1. baseline: COPY of the batch file into an empty unindexed all-text table (what
   cards_import.py does), three times, the median is the baseline;
2. the issue's reference: COPY into a staging table + one INSERT … ON CONFLICT (personal id)
   DO UPDATE into ONE table holding the base file's rows with one unique index;
3. new citizens alone: one INSERT of the staged rows whose insurance number is no citizen's
   into healthbook_citizen with all its indexes as migrated (gin_pending_list_limit 32 MB, as
   the merge sets it); 3b: the same rows pre-selected (no probe: the index writes alone);
4. step 3 with the trigram GIN index dropped; with a pending list large enough for the whole
   insert (the work moved to gin_clean_pending_list / VACUUM, timed after); with fastupdate off;
5. the required writes, set-wise, one statement each: new people (select with ids, citizens,
   books, cards), then renewals (card history, card update).

With --lock, the timed parts hold an exclusive flock on that file and the preparation a
shared one (released in between). Never point it at a database you care about: it creates and
drops `<base>_floor`.
"""

from __future__ import annotations

import argparse
import fcntl
import os
import statistics
import subprocess
import sys
import time
from contextlib import contextmanager
from itertools import islice
from pathlib import Path
from types import SimpleNamespace

import psycopg
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict, make_conninfo

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.test_settings")

import django  # noqa: E402

django.setup()  # healthbook.cards.merge imports the models

from healthbook.cards.merge import _STAGE_DDL, STAGE_COLUMNS  # noqa: E402

PLAIN_COLUMNS = (
    "ma_the_bhyt",
    "ma_so_bhxh",
    "so_cccd",
    "ho_ten",
    "ngay_sinh",
    "gioi_tinh",
    "ma_dkbd",
    "gt_the_tu",
    "gt_the_den",
    "matinh_cu_tru",
    "dia_chi",
)
PLAIN_DDL = ", ".join(f"{c} text" for c in PLAIN_COLUMNS)
BIG_TABLES = ("healthbook_citizen", "healthbook_book", "healthbook_card", "healthbook_card_history")
TRGM = "citizen_search_name_trgm"

NEW_ROWS = (
    "SELECT s.* FROM floor_stage s WHERE NOT EXISTS "
    "(SELECT 1 FROM healthbook_citizen c WHERE c.social_insurance_number = s.sin)"
)
CITIZEN_COLUMNS = (
    "public_id, personal_id, social_insurance_number, legacy_id_number, full_name, search_name, "
    "birth_date, birth_date_precision, birth_year, sex, ethnicity_code, nationality_code, "
    "residence_province_id, residence_commune_code, address, phone, created_at, updated_at"
)
CITIZEN_VALUES = (
    "healthbook_uuid7(), personal_id, sin, legacy_id, full_name, search_name, birth_date, "
    "birth_precision, birth_year, sex, ethnicity_code, nationality_code, province_id, "
    "commune_code, address, phone, now(), now()"
)
CITIZENS_NEW = f"INSERT INTO healthbook_citizen ({CITIZEN_COLUMNS}) SELECT {CITIZEN_VALUES} FROM ({NEW_ROWS}) s"  # noqa: S608
CITIZENS_PRESELECTED = f"INSERT INTO healthbook_citizen ({CITIZEN_COLUMNS}) SELECT {CITIZEN_VALUES} FROM floor_new"  # noqa: S608
CARD_COLUMNS = (
    "card_number, beneficiary_group, benefit_level, issuing_province_code, primary_care_facility_code, "
    "valid_from, valid_to"
)
CARD_VALUES = (
    "s.card_number, s.beneficiary_group, s.benefit_level, s.issuing_province_code, s.facility_code, "
    "s.valid_from, s.valid_to"
)
FULL_WRITES = (
    (
        "new people: select them, ids from the sequence",
        "CREATE UNLOGGED TABLE floor_work AS SELECT s.*, nextval(pg_get_serial_sequence('healthbook_citizen', 'id')) "
        f"AS citizen_id FROM ({NEW_ROWS}) s",
    ),
    (
        "new people: citizens",
        f"INSERT INTO healthbook_citizen (id, {CITIZEN_COLUMNS}) SELECT citizen_id, {CITIZEN_VALUES} "
        "FROM floor_work ORDER BY citizen_id",
    ),
    (
        "new people: books",
        "INSERT INTO healthbook_book (public_id, citizen_id, created_via, created_at) "
        "SELECT healthbook_uuid7(), citizen_id, 'card_import', now() FROM floor_work ORDER BY citizen_id",
    ),
    (
        "new people: cards",
        f"INSERT INTO healthbook_card (citizen_id, social_insurance_number, {CARD_COLUMNS}, source_line, updated_at) "
        f"SELECT s.citizen_id, s.sin, {CARD_VALUES}, s.line, now() FROM floor_work s",
    ),
    (
        "renewals: card history",
        f"INSERT INTO healthbook_card_history (citizen_id, social_insurance_number, {CARD_COLUMNS}, source_batch_id, "
        f"source_line, replaced_at) SELECT k.citizen_id, k.social_insurance_number, "
        f"{', '.join('k.' + c.strip() for c in CARD_COLUMNS.split(','))}, k.source_batch_id, k.source_line, now() "
        "FROM floor_stage s JOIN healthbook_card k ON k.social_insurance_number = s.sin "
        "WHERE NOT EXISTS (SELECT 1 FROM floor_work w WHERE w.sin = s.sin)",
    ),
    (
        "renewals: card update",
        "UPDATE healthbook_card k SET card_number = s.card_number, beneficiary_group = s.beneficiary_group, "
        "benefit_level = s.benefit_level, issuing_province_code = s.issuing_province_code, "
        "primary_care_facility_code = s.facility_code, valid_from = s.valid_from, valid_to = s.valid_to, "
        "source_line = s.line, updated_at = now() FROM floor_stage s WHERE k.social_insurance_number = s.sin "
        "AND NOT EXISTS (SELECT 1 FROM floor_work w WHERE w.sin = s.sin)",
    ),
)


class Lock:
    """flock on the bench lock file: shared while preparing, exclusive while timing."""

    def __init__(self, path: str | None):
        self.fd = os.open(path, os.O_RDWR | os.O_CREAT) if path else None

    @contextmanager
    def held(self, mode: int):
        if self.fd is None:
            yield
            return
        fcntl.flock(self.fd, mode)
        try:
            yield
        finally:
            fcntl.flock(self.fd, fcntl.LOCK_UN)

    def shared(self):
        return self.held(fcntl.LOCK_SH)

    def exclusive(self):
        return self.held(fcntl.LOCK_EX)


def loadavg() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def gen(out: Path, *extra: str) -> None:
    if not out.exists():
        subprocess.run([sys.executable, str(ROOT / "bench" / "gen_cards.py"), "--out", str(out), *extra], check=True)


def build_stage(batch_file: Path, stage_file: Path) -> None:
    """The batch's valid rows as the merge stages them: the import's validator, last row of a
    person wins (by insurance number, then personal ID), sorted by insurance number."""
    import django

    django.setup()
    from django.db import connection
    from django.utils import timezone

    from healthbook.cards import files, merge, pipeline

    with open(batch_file, "rb") as fh:
        layout = files.inspect_file(fh, size=batch_file.stat().st_size)
        fh.seek(0)
        ctx = pipeline.row_context_for(SimpleNamespace(created_at=timezone.now(), scope_province_id=None), layout)
        validator = pipeline.ChunkValidator(ctx, layout)
        by_sin = {}
        records = files.iter_cells(fh, layout)
        while chunk := list(islice(records, 20_000)):
            for row in pipeline.validate_chunk(chunk, ctx, validator)[0]:
                by_sin.pop(row.sin, None)
                by_sin[row.sin] = row
    connection.close()
    owner = {row.personal_id: row.sin for row in by_sin.values() if row.personal_id}
    rows = [r for r in by_sin.values() if not r.personal_id or owner[r.personal_id] == r.sin]
    stage_file.write_bytes(merge.copy_payload(rows))
    print(f"staged {len(rows):,} valid rows (of the batch file) into {stage_file}")


class Server:
    def __init__(self, url: str):
        self.url = url
        self.base = conninfo_to_dict(url)["dbname"]
        self.step_db = f"{self.base}_floor"

    def connect(self, dbname: str, **kw) -> psycopg.Connection:
        return psycopg.connect(make_conninfo(self.url, dbname=dbname), **kw)

    def fresh(self, strategy: str) -> psycopg.Connection:
        with self.connect("postgres", autocommit=True) as admin:
            admin.execute(sql.SQL("DROP DATABASE IF EXISTS {}").format(sql.Identifier(self.step_db)))
            admin.execute("CHECKPOINT")
            admin.execute(
                sql.SQL("CREATE DATABASE {} TEMPLATE {} STRATEGY {}").format(
                    sql.Identifier(self.step_db), sql.Identifier(self.base), sql.SQL(strategy)
                )
            )
        conn = self.connect(self.step_db, autocommit=True)
        conn.execute("CREATE EXTENSION IF NOT EXISTS pg_prewarm")
        for table in BIG_TABLES:
            conn.execute(sql.SQL("ALTER TABLE {} SET (autovacuum_enabled = false)").format(sql.Identifier(table)))
        return conn

    def drop(self) -> None:
        with self.connect("postgres", autocommit=True) as admin:
            admin.execute(sql.SQL("DROP DATABASE IF EXISTS {}").format(sql.Identifier(self.step_db)))


def copy_file(conn, table: str, path: Path, *, csv: bool) -> None:
    fmt = "WITH (FORMAT csv, HEADER true)" if csv else ""
    with open(path, "rb") as fh, conn.cursor().copy(f"COPY {table} FROM STDIN {fmt}") as copy:
        while block := fh.read(1 << 20):
            copy.write(block)


def prewarm(conn, *tables: str) -> float:
    blocks = conn.execute(
        "SELECT coalesce(sum(pg_prewarm(c.oid)), 0) FROM pg_class c WHERE c.oid = ANY(%(t)s::regclass[]) "
        "OR c.oid IN (SELECT indexrelid FROM pg_index WHERE indrelid = ANY(%(t)s::regclass[]))",
        {"t": list(tables)},
    ).fetchone()[0]
    return blocks * 8 / 1024


def load_stage(conn, stage_file: Path, *, preselect: bool = False) -> None:
    conn.execute(f"CREATE UNLOGGED TABLE floor_stage ({_STAGE_DDL})")
    copy_file(conn, f"floor_stage ({', '.join(STAGE_COLUMNS)})", stage_file, csv=False)
    conn.execute("VACUUM ANALYZE floor_stage")
    if preselect:
        conn.execute(f"CREATE UNLOGGED TABLE floor_new AS {NEW_ROWS}")
        conn.execute("VACUUM ANALYZE floor_new")


def wal_lsn(conn):
    return conn.execute("SELECT pg_current_wal_lsn()").fetchone()[0]


def timed_transaction(conn, statements, *, settings=(), checkpoint=False):
    """Run the statements in one transaction: [(label, seconds, rows)], commit seconds, WAL MB."""
    if checkpoint:
        conn.execute("CHECKPOINT")
    start_lsn = wal_lsn(conn)
    parts = []
    conn.autocommit = False
    with conn.cursor() as cur:
        cur.execute("SET LOCAL jit = off")
        for setting in settings:
            cur.execute(setting)
        for label, statement in statements:
            t = time.perf_counter()
            cur.execute(statement)
            parts.append((label, time.perf_counter() - t, cur.rowcount))
    t = time.perf_counter()
    conn.commit()
    commit = time.perf_counter() - t
    conn.autocommit = True
    wal = conn.execute("SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), %s)", [start_lsn]).fetchone()[0]
    return parts, commit, float(wal) / 2**20


def main() -> int:  # noqa: PLR0915 — one straight script, step after step
    p = argparse.ArgumentParser()
    p.add_argument("--rows", type=int, default=1_000_000)
    p.add_argument("--bad-share", type=float, default=0.01)
    p.add_argument("--workdir", default=str(ROOT / "var" / "bench"))
    p.add_argument("--lock", default=None, help="flock file: exclusive while timing, shared while preparing")
    p.add_argument("--baseline-runs", type=int, default=3)
    p.add_argument(
        "--copy-strategy",
        choices=("wal_log", "file_copy"),
        default="wal_log",
        help="wal_log (PostgreSQL's default, as createdb -T): the copied pages are in the WAL, so the "
        "step writes no full-page images; file_copy: the copy ends with a checkpoint and a "
        "CHECKPOINT precedes the step, so the first change of each page writes its full image "
        "(the cost after every checkpoint of a serving database)",
    )
    args = p.parse_args()
    work = Path(args.workdir)
    work.mkdir(parents=True, exist_ok=True)
    n = args.rows
    base_file = work / f"base-{n}.csv"
    batch_file = work / f"batch-{n}-{args.bad_share}.csv"
    stage_file = work / f"stage-{n}-{args.bad_share}.tsv"
    lock = Lock(args.lock)
    server = Server(os.environ["DATABASE_URL"])
    with lock.shared():
        gen(base_file, "--rows", str(n), "--seed", "11")
        gen(
            batch_file,
            "--rows",
            str(n),
            "--seed",
            "12",
            "--bad-share",
            str(args.bad_share),
            "--existing-share",
            "0.5",
            "--existing-seed",
            "11",
            "--existing-rows",
            str(n),
            "--existing-change-share",
            "1.0",
        )
        if not stage_file.exists():
            build_stage(batch_file, stage_file)
    checkpoint = args.copy_strategy == "file_copy"
    load_before = loadavg()
    print(f"load average at start: {load_before}")
    results: list[tuple[str, float, str]] = []  # (label, seconds, detail)

    def report(label: str, parts, commit: float, wal: float, extra: str = "") -> float:
        total = sum(s for _, s, _ in parts) + commit
        for part, seconds, rows in parts:
            print(f"    {part:58s} {seconds:7.2f} s  {rows:>9,} rows")
        print(f"    {'COMMIT':58s} {commit:7.2f} s")
        print(f"  {label}: {total:.2f} s, WAL {wal:,.0f} MB {extra}")
        results.append((label, total, f"WAL {wal:,.0f} MB{extra}"))
        return total

    # 1 + 2: baseline COPY and the naive upsert, on one fresh copy.
    with lock.shared():
        conn = server.fresh(args.copy_strategy)
        conn.execute(f"CREATE UNLOGGED TABLE naive_load ({PLAIN_DDL})")
        copy_file(conn, "naive_load", base_file, csv=True)
        conn.execute(f"CREATE TABLE naive ({PLAIN_DDL})")
        conn.execute(
            "INSERT INTO naive SELECT DISTINCT ON (so_cccd) * FROM naive_load WHERE so_cccd <> '' ORDER BY so_cccd"
        )
        conn.execute("CREATE UNIQUE INDEX naive_so_cccd ON naive (so_cccd)")
        conn.execute("DROP TABLE naive_load")
        conn.execute("VACUUM ANALYZE naive")
        conn.execute(f"CREATE TABLE naive_stage ({PLAIN_DDL})")
        prewarm(conn, "naive")
    copies = []
    for run in range(args.baseline_runs):
        conn.execute("DROP TABLE IF EXISTS bench_plain_copy")
        conn.execute(f"CREATE TABLE bench_plain_copy ({PLAIN_DDL})")
        if checkpoint:
            conn.execute("CHECKPOINT")
        with lock.exclusive():
            t = time.perf_counter()
            copy_file(conn, "bench_plain_copy", batch_file, csv=True)
            copies.append(time.perf_counter() - t)
        print(f"  1. plain COPY, run {run + 1}: {copies[-1]:.2f} s = {n / copies[-1]:,.0f} rows/s")
    baseline = statistics.median(copies)
    conn.execute("DROP TABLE bench_plain_copy")
    update_set = ", ".join(f"{c} = EXCLUDED.{c}" for c in PLAIN_COLUMNS if c != "so_cccd")
    if checkpoint:
        conn.execute("CHECKPOINT")
    start_lsn = wal_lsn(conn)
    with lock.exclusive():
        t = time.perf_counter()
        copy_file(conn, "naive_stage", batch_file, csv=True)
        t_copy = time.perf_counter() - t
        with conn.transaction():
            conn.execute("SET LOCAL jit = off")
            t = time.perf_counter()
            upserted = conn.execute(
                "INSERT INTO naive SELECT DISTINCT ON (so_cccd) * FROM naive_stage WHERE so_cccd <> '' "  # noqa: S608
                f"ORDER BY so_cccd ON CONFLICT (so_cccd) DO UPDATE SET {update_set}"
            ).rowcount
            t_upsert = time.perf_counter() - t
    wal = float(conn.execute("SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), %s)", [start_lsn]).fetchone()[0]) / 2**20
    print(
        f"  2. naive upsert: COPY into staging {t_copy:.2f} s + INSERT … ON CONFLICT DO UPDATE "
        f"{t_upsert:.2f} s ({upserted:,} rows, commit included)"
    )
    results.append(
        (
            "2. naive staging upsert into one table (one unique index)",
            t_copy + t_upsert,
            f"WAL {wal:,.0f} MB; COPY {t_copy:.2f} s + upsert {t_upsert:.2f} s, {upserted:,} rows",
        )
    )
    conn.close()

    gin_32mb = ("SET LOCAL gin_pending_list_limit = '32MB'",)
    steps = [
        ("3. new citizens, all indexes as migrated", [], gin_32mb, False),
        ("3b. the same rows pre-selected (no probe)", [], gin_32mb, True),
        ("4a. step 3 without the trigram GIN index", [f"DROP INDEX {TRGM}"], gin_32mb, False),
        (
            "4b. step 3, GIN pending list holding the whole insert",
            [],
            ("SET LOCAL gin_pending_list_limit = '2000MB'",),
            False,
        ),
        ("4c. step 3, GIN fastupdate off", [f"ALTER INDEX {TRGM} SET (fastupdate = off)"], (), False),
    ]
    for label, setup, settings, preselect in steps:
        with lock.shared():
            conn = server.fresh(args.copy_strategy)
            for statement in setup:
                conn.execute(statement)
            load_stage(conn, stage_file, preselect=preselect)
            mb = prewarm(conn, "healthbook_citizen", "floor_stage", *(["floor_new"] if preselect else []))
        with lock.exclusive():
            statement = CITIZENS_PRESELECTED if preselect else CITIZENS_NEW
            parts, commit, wal = timed_transaction(
                conn, [("INSERT new citizens", statement)], settings=settings, checkpoint=checkpoint
            )
            extra = ""
            if label.startswith("4b"):
                t = time.perf_counter()
                conn.execute(f"SELECT gin_clean_pending_list('{TRGM}'::regclass)")
                extra = f"; then gin_clean_pending_list {time.perf_counter() - t:.2f} s"
        report(label, parts, commit, wal, extra + f" (prewarmed {mb:,.0f} MB)")
        conn.close()

    with lock.shared():
        conn = server.fresh(args.copy_strategy)
        load_stage(conn, stage_file)
        mb = prewarm(conn, *BIG_TABLES, "floor_stage")
    with lock.exclusive():
        parts, commit, wal = timed_transaction(conn, FULL_WRITES, settings=gin_32mb, checkpoint=checkpoint)
    report(
        "5. required writes: new people (3 tables) + renewals (history, card)",
        parts,
        commit,
        wal,
        f" (prewarmed {mb:,.0f} MB)",
    )
    new_part = sum(s for label, s, _ in parts if label.startswith("new people"))
    results.append(("5'. of which new people (select, citizens, books, cards)", new_part, "commit not included"))
    conn.close()
    server.drop()

    load_after = loadavg()
    with psycopg.connect(server.url) as c:
        settings = c.execute(
            "SELECT string_agg(name || '=' || current_setting(name), ', ' ORDER BY name) "
            "FROM pg_settings WHERE name IN ('shared_buffers', 'max_wal_size', 'wal_compression', "
            "'synchronous_commit', 'fsync', 'full_page_writes', 'gin_pending_list_limit')"
        ).fetchone()[0]
    print(f"\nserver: {settings}")
    print(f"load average: {load_before} -> {load_after}")
    print(
        f"baseline plain COPY (median of {len(copies)}): {baseline:.2f} s = {n / baseline:,.0f} rows/s "
        f"(runs: {', '.join(f'{c:.2f}' for c in copies)})\n"
    )
    print(
        f"| step | seconds | ratio to COPY | notes |\n|---|---|---|---|\n| 1. plain COPY (baseline) | "
        f"{baseline:.2f} | 1.0 | median of {len(copies)} |"
    )
    for label, seconds, detail in results:
        print(f"| {label} | {seconds:.2f} | {seconds / baseline:.1f} | {detail} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
