"""R9: backup and point-in-time restore drill (long: `make proof` only).

A throwaway PostgreSQL 15 cluster with WAL archiving gets the schema, a base backup, then
PITR_DRILL_WRITE_SECONDS (default 600, the plan's ten minutes) of writes — rows and access-log
entries committed together. A table is dropped; the archive is restored into a new data
directory up to one second before the drop. Every write acknowledged before the target must be
there, the dropped table must be back, nothing after the target may be, and the access-log
chain must verify against the checkpoint kept outside the database.
"""

import datetime as dt
import os
import subprocess
import sys
import time

import pytest

from tests.proof.pitr import PG_BIN, ROOT, Drill, read_acks

pytestmark = [
    pytest.mark.proof_long,
    pytest.mark.skipif(not (PG_BIN / "initdb").exists(), reason=f"PostgreSQL server binaries not in {PG_BIN}"),
]


def _iso(epoch: float) -> str:
    return dt.datetime.fromtimestamp(epoch, dt.UTC).isoformat()


def test_r9_point_in_time_restore_loses_nothing_before_the_target(proof):
    seconds = float(os.environ.get("PITR_DRILL_WRITE_SECONDS", "600"))
    row = proof.row(
        "R9",
        f"throwaway PostgreSQL 15: schema, pg_basebackup, {seconds:.0f} s of writes (rows + access-log entries), "
        "DROP TABLE, WAL-archive restore to 1 s before the drop",
    )
    drill = Drill(write_seconds=seconds)
    try:
        primary = drill.init_primary()
        drill.migrate()
        base = drill.base_backup()

        acks_path = drill.root / "acks.jsonl"
        writer = drill.write(seconds, acks_path)
        out, err = writer.communicate(timeout=seconds + 300)
        assert writer.returncode == 0, err[-3000:]
        time.sleep(2.5)  # a quiet gap, so "1 s before the drop" falls after the last write

        dropped_at = time.time()
        primary.sql(drill.db, "DROP TABLE drill_writes")
        # a write after the drop: the restore must not contain it
        primary.sql(drill.db, "CREATE TABLE after_the_drop (x int); INSERT INTO after_the_drop VALUES (1)")
        # The disaster: how old is the newest WAL the archive has (worst-case loss if the primary's disk died now)?
        archived = primary.sql("postgres", "SELECT extract(epoch FROM last_archived_time) FROM pg_stat_archiver")
        rpo = time.time() - float(archived) if archived else float("nan")
        primary.sql("postgres", "SELECT pg_switch_wal()")  # the operator ships the last segment, then stops
        deadline = time.monotonic() + 60
        last_wal = primary.sql("postgres", "SELECT pg_walfile_name(pg_current_wal_lsn())")
        while not any(p.name >= last_wal for p in drill.archive.iterdir()) and time.monotonic() < deadline:
            time.sleep(0.2)
        primary.stop("fast")

        target = dropped_at - 1.0
        restore_started = time.monotonic()
        restored = drill.restore(base, _iso(target))
        restore_seconds = time.monotonic() - restore_started

        acks = read_acks(acks_path)
        before = [a for a in acks if a["ack"] < target]
        present_rows = {int(x) for x in restored.sql(drill.db, "SELECT id FROM drill_writes").split()}
        present_seqs = {int(x) for x in restored.sql(drill.db, "SELECT seq FROM accesslog_entry").split()}
        rows_lost = sum(a["id"] not in present_rows for a in before)
        entries_lost = sum(a["seq"] not in present_seqs for a in before)
        after_drop = restored.sql(drill.db, "SELECT to_regclass('after_the_drop') IS NOT NULL")
        verify = subprocess.run(
            [sys.executable, "manage.py", "verify_access_log"],
            cwd=ROOT,
            env=drill.django_env(restored),
            capture_output=True,
            text=True,
        )
        verdict = (verify.stdout.strip() or "no output").splitlines()[-1].split(" hash ")[0]
        row.set(
            times=len(acks),
            figure=f"{len(acks)} writes, {len(before)} acknowledged before the target: rows lost before target "
            f"{rows_lost}, access-log entries lost {entries_lost}; dropped table back with {len(present_rows)} rows; "
            f"change after the drop present: {'yes' if after_drop == 't' else 'no'}; RPO (archive lag at the "
            f"disaster, archive_timeout {drill.archive_timeout} s) {rpo:.1f} s; restore time {restore_seconds:.1f} s; "
            f"verify_access_log against the checkpoint kept outside: {verdict}",
        )
        assert len(before) > 0 and rows_lost == 0 and entries_lost == 0
        assert after_drop == "f"
        assert verify.returncode == 0, verify.stdout + verify.stderr
        assert "checkpoint: seq" in verify.stdout  # the chain was held against the anchor kept outside
    finally:
        drill.cleanup(keep=os.environ.get("PITR_DRILL_KEEP") == "1")
