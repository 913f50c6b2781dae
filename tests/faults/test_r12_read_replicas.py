"""R12: read replicas (issue 21, point 3). A throwaway primary and a streaming replica of it
(`pg_basebackup -R`), both on ports of their own, both read as the application role; the portal in
a process of its own with DATABASE_REPLICA_URLS set (tests/faults/replica_probe.py) answers real
requests while the replica's WAL replay is paused and resumed.

Proved: lag-tolerant reads (the national dashboard, its export, raw reads of a lag-tolerant block)
are served by the replica — a row changed on the primary only still shows the replica's value;
the access decision and the access-log append are on the primary (an emergency grant that exists
on the primary only opens the book, whose unchanged content comes from the replica); reads after
a write in the same request, inside a transaction, and in the browser's next request stay on the
primary; a book whose content is newer on the primary is read from the primary; replica lag
beyond the threshold sends the dashboard back to the primary, and resuming replay brings the
replica back. Skipped only where PostgreSQL server binaries (or a `postgres` system user, as
root) are missing.
"""

import datetime as dt
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.utils import timezone

from core.roles import Role
from tests import factories as f
from tests.conftest import TRANSACTIONAL, enrol_totp
from tests.faults import harness as h
from tests.faults import replica as rep
from tests.healthbook.book.conftest import code_lists, patient_a, stranger  # noqa: F401 — fixtures

pytestmark = [TRANSACTIONAL, pytest.mark.skipif(bool(h.pg_available()), reason=h.pg_available() or "-")]

THRESHOLD = 3  # seconds of lag a replica may have and still serve reads (short, to keep the test short)


@pytest.fixture
def world(doctor_a, patient_a, stranger):  # noqa: F811
    from provinces.models import ProvinceDayRollup

    ministry = f.ministry(Role.MINISTRY_ADMIN, username="r12_ministry")
    enrol_totp(ministry)
    enrol_totp(doctor_a)
    rollup = ProvinceDayRollup.objects.create(
        province=f.province("01"),
        day=timezone.localdate() - dt.timedelta(days=1),
        books_total=111111,
        computed_at=timezone.now(),
    )
    return {
        "ministry": ministry.username,
        "doctor": doctor_a.username,
        "patient_book": str(patient_a.book.public_id),
        "patient_name": patient_a.full_name,
        "stranger_book": str(stranger.book.public_id),
        "rollup": rollup.pk,
    }


def _probe(primary: h.PgCluster, replica: h.PgCluster, world: dict, workdir) -> dict:
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_OWNER_URL"} | {
        "DJANGO_SETTINGS_MODULE": "config.test_settings",
        "DATABASE_URL": rep.url(primary, rep.APP),
        "DATABASE_REPLICA_URLS": rep.url(replica, rep.APP),
        "DATABASE_REPLICA_MAX_LAG_SECONDS": str(THRESHOLD),
        "DATABASE_REPLICA_LAG_CACHE_SECONDS": "0.2",
        "SSKDT_VAR_DIR": str(workdir / "var"),
        "SSKDT_MEDIA_ROOT": str(workdir / "media"),
        "SSKDT_ACCESS_LOG_CHECKPOINT": str(workdir / "checkpoints.jsonl"),
        "R12_PRIMARY_ADMIN": primary.url(rep.DB),
        "R12_REPLICA_ADMIN": replica.url(rep.DB),
        "R12_INPUT": json.dumps(world | {"primary_port": primary.port, "replica_port": replica.port}),
    }
    done = subprocess.run(
        [sys.executable, "-m", "tests.faults.replica_probe"],
        cwd=h.ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    marker = [line for line in done.stdout.splitlines() if line.startswith("R12-RESULT ")]
    assert done.returncode == 0 and marker, f"probe failed:\n{done.stdout[-3000:]}\n{done.stderr[-6000:]}"
    return json.loads(marker[-1].removeprefix("R12-RESULT "))


def test_r12_lag_tolerant_reads_on_the_replica_own_writes_on_the_primary(proof, tmp_path, world):
    row = proof.row(
        "R12",
        "throwaway primary + streaming replica (pg_basebackup -R), both as the application role; "
        "dashboard, export, book pages, own-write probes; replica replay paused and resumed",
    )
    primary = replica = None
    try:
        primary = rep.primary_from_test_database()
        replica = rep.replica_of(primary)
        r = _probe(primary, replica, world, tmp_path)
    finally:
        for cluster in (replica, primary):
            if cluster is not None:
                cluster.destroy()
    if os.environ.get("PROOF_R12_OUT"):  # the per-request statement counts, for bench/RESULTS.md
        counts = {
            k: {n: v[n] for n in ("status", "primary", "replica")}
            for k, v in r.items()
            if isinstance(v, dict) and "status" in v
        }
        Path(os.environ["PROOF_R12_OUT"]).write_text(json.dumps(r | counts, indent=1, default=str))

    # Caught up: lag-tolerant reads are served by the replica (ORM and raw).
    assert r["dashboard"]["status"] == 200 and r["dashboard"]["replica"] > 0
    assert r["export"]["status"] == 200 and r["export"]["replica"] > 0 and "111111" in r["export"]["body"]
    assert r["port"]["outside"] == r["port"]["primary"] and r["port"]["inside"] == r["port"]["replica"]
    assert r["codelists"]["status"] == 200 and r["codelists"]["replica"] > 0
    assert r["search"]["status"] == 200 and r["search"]["replica"] > 0 and r["search_found"]
    # Paused: a row changed on the primary only — the export shows the replica's row.
    assert r["paused_values"] == {"primary": 222222, "replica": 111111}
    assert r["paused_lag"] is not None and r["paused_lag"] <= THRESHOLD
    assert "111111" in r["paused_export"]["body"] and "222222" not in r["paused_export"]["body"]
    # Own writes: after a write in the request, inside a transaction, in the next request.
    assert json.loads(r["write_then_read"]["body"]) == {"seen": 333333, "block": "default"}
    assert r["write_then_read"]["replica"] == 0 and r["write_then_read"]["sticky"]
    assert r["after_write_next_request"]["replica"] == 0 and "333333" in r["after_write_next_request"]["body"]
    rwr = json.loads(r["read_write_read"]["body"])
    assert rwr == {"before": 222222, "after": 444444, "block": "replica_1"}  # the replica's, then its own
    assert r["read_write_read"]["replica"] == 1
    assert json.loads(r["read_in_transaction"]["body"]) == {"seen": 555555}
    assert r["read_in_transaction"]["replica"] == 0
    # The access decision and the log append on the primary; the unchanged content on the replica.
    assert r["emergency"]["status"] == 302
    assert r["grants"]["primary"] == r["grants"]["replica"] + 1
    assert r["stranger_book"]["status"] == 200 and r["stranger_book"]["replica"] > 1
    assert r["log_appended"] == 1 and r["log_rows"]["primary"] > r["log_rows"]["replica"]
    # A book newer on the primary: only the version test reaches the replica.
    assert r["patient_book_caught_up"]["status"] == 200 and r["patient_book_caught_up"]["replica"] > 1
    newer = r["patient_book_newer_on_primary"]
    assert newer["status"] == 200 and newer["replica"] == 1 and newer["replica_fresh_checks"] == 1
    # Lag beyond the threshold: back to the primary; resumed: the replica again.
    assert r["lagging"] > THRESHOLD
    assert r["lagging_values"] == {"primary": 666666, "replica": 555555}
    assert r["lagging_export"]["replica"] == 0 and "666666" in r["lagging_export"]["body"]
    assert r["resumed_export"]["replica"] > 0 and "666666" in r["resumed_export"]["body"]

    row.set(
        times=sum(1 for v in r.values() if isinstance(v, dict) and "status" in v),
        figure=(
            f"caught up: dashboard {r['dashboard']['replica']} reads on the replica, export "
            f"{r['export']['replica']}, code lists {r['codelists']['replica']}, search {r['search']['replica']}, "
            f"raw read on port {r['port']['inside']} (replica); paused "
            f"(lag {r['paused_lag']:.1f} s ≤ {THRESHOLD} s): export showed the replica-only row; after a "
            f"write in the request / in a transaction / next request: 0 / 0 / 0 replica reads; a read before "
            f"a write in one block: replica, after: primary; emergency grant on the primary only → book "
            f"opened 200, content {r['stranger_book']['replica']} replica reads, 1 log entry on the primary; "
            f"book newer on the primary → 1 replica read (the version test); lag {r['lagging']:.1f} s > "
            f"{THRESHOLD} s → 0 replica reads, primary value shown; resumed → replica "
            f"({r['resumed_export']['replica']} reads)"
        ),
    )
