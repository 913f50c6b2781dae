"""R1: a Celery worker killed with SIGKILL mid-batch. The batch resumes from its last committed
chunk (late acknowledgement, reject on worker loss, and the beat sweeper) and ends with exactly
the counts and reasons the generator expects, without duplicates. A real worker process, a
real Redis broker (CELERY_BROKER_URL, e.g. redis://127.0.0.1:6379/5) and real kills.
"""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.db import connection

from healthbook.models import CardBatch, CardBatchProblem, Citizen, HealthBook, InsuranceCard

ROOT = Path(__file__).resolve().parents[3]
BROKER = os.environ.get("CELERY_BROKER_URL", "")

pytestmark = [
    pytest.mark.worker,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
    pytest.mark.skipif(not BROKER.startswith("redis://"), reason="needs CELERY_BROKER_URL=redis://… (a real broker)"),
]


def _db_url() -> str:
    s = connection.settings_dict
    return f"postgres://{s['USER']}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"


def _worker(tmp_path: Path, pool: str, name: str, chunk: int = 400) -> subprocess.Popen:
    env = os.environ | {
        "DJANGO_SETTINGS_MODULE": "config.test_settings",
        "DATABASE_URL": _db_url(),
        "CELERY_BROKER_URL": BROKER,
        "SSKDT_MEDIA_ROOT": str(tmp_path / "media"),
        "SSKDT_VAR_DIR": str(tmp_path / "var"),
        "CARD_IMPORT_CHUNK_ROWS": str(chunk),
        "CARD_IMPORT_STALE_SECONDS": "3",
        "CARD_IMPORT_SWEEP_SECONDS": "1",
        "CELERY_VISIBILITY_TIMEOUT": "30",
    }
    (tmp_path / "var").mkdir(exist_ok=True)
    cmd = [
        sys.executable,
        "-m",
        "celery",
        "-A",
        "config",
        "worker",
        "-B",
        "--pool",
        pool,
        "--concurrency",
        "1",
        "--hostname",
        f"{name}@%h",
        "--without-mingle",
        "--without-gossip",
        "--loglevel",
        "WARNING",
        "--schedule",
        str(tmp_path / "var" / "beat-schedule"),
    ]
    log = open(tmp_path / f"{name}.log", "wb")  # noqa: SIM115 — closed with the process
    return subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)


def _wait_for(predicate, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def _batch() -> CardBatch:
    return CardBatch.objects.get()


def _stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(10)


def _kill_three_times(proof, tmp_path, settings, *, rows: int, chunk: int, seed: int) -> None:
    """Three SIGKILLs at about a quarter, a half and three quarters of the batch: the pool child
    running the task (its parent re-queues it), then the whole worker with its beat (a new worker's
    sweeper resumes the stale batch), then that new worker too. The counts must come out exact."""
    import redis

    redis.Redis.from_url(BROKER).flushdb()
    settings.MEDIA_ROOT = str(tmp_path / "media")
    data, expected_file = tmp_path / "cards.csv", tmp_path / "expected.json"
    subprocess.run(
        [
            sys.executable,
            str(ROOT / "bench" / "gen_cards.py"),
            "--rows",
            str(rows),
            "--seed",
            str(seed),
            "--bad-share",
            "0.05",
            "--out",
            str(data),
            "--emit-expected",
            str(expected_file),
        ],
        check=True,
        stdout=subprocess.DEVNULL,
    )
    expected = json.loads(expected_file.read_text())
    row = proof.row(
        "R1",
        f"SIGKILL of the Celery worker at three points of a {rows:,}-row batch ({chunk:,}-row "
        "chunks): the pool child, then the whole worker with its beat, then its replacement",
    )
    points = [rows // 4, rows // 2, rows * 3 // 4]
    wait = max(60.0, rows / 500)
    workers = [_worker(tmp_path, "prefork", "first", chunk)]
    killed_at: list[int] = []
    try:
        from healthbook.cards.services import card_batch_create

        with data.open("rb") as fh:
            card_batch_create(acting_user=None, fh=fh, name="cards.csv")  # the task is sent to Redis on commit

        def running_past(n):
            return _wait_for(
                lambda: (b := _batch()).rows_read >= n and b.status == "running" and b, wait, f"progress past row {n}"
            )

        # Kill 1: the pool child running the task (the parent re-queues it: reject_on_worker_lost).
        running = running_past(points[0])
        os.kill(int(running.worker.rsplit(":", 1)[1]), signal.SIGKILL)
        killed_at.append(running.rows_read)
        # Kills 2 and 3: the whole worker (parent, pool and beat), each time replaced by a new one
        # whose beat sweeper finds the stale batch.
        for n, point in enumerate(points[1:], start=2):
            running_past(max(point, killed_at[-1] + chunk))
            _stop(workers[-1])
            killed_at.append(_batch().rows_read)
            assert _batch().status == CardBatch.Status.RUNNING
            workers.append(_worker(tmp_path, "solo" if n == 2 else "prefork", f"worker{n}", chunk))
        assert killed_at[-1] < rows
        done = _wait_for(lambda: (b := _batch()).is_finished and b, 2 * wait, "the batch to finish")
    finally:
        for proc in workers:
            _stop(proc)

    counts = expected["counts"]
    found = sorted(CardBatchProblem.objects.values_list("line", "column", "code"))
    wanted = sorted((r["line"], e["column"], e["code"]) for r in expected["rejected"] for e in r["errors"])
    citizens = Citizen.objects.count()
    row.set(
        times=3,
        figure=f"3 kills (at rows {', '.join(f'{k:,}' for k in killed_at)}), {done.runs} runs; "
        f"rows lost {rows - done.rows_read}, accepted {done.rows_accepted:,}/{counts['accepted']:,} expected, "
        f"rejected {done.rows_rejected:,}/{counts['rejected']:,}; duplicates {citizens - counts['accepted']} "
        f"(citizens {citizens:,}); rejected-row reasons as generated: {found == wanted}; status {done.status}",
    )
    assert done.status == CardBatch.Status.DONE, done.failure_message
    assert done.runs >= 4
    assert (done.rows_read, done.rows_accepted, done.rows_rejected) == (rows, counts["accepted"], counts["rejected"])
    assert Citizen.objects.count() == HealthBook.objects.count() == InsuranceCard.objects.count() == counts["accepted"]
    assert (done.citizens_created, done.books_created, done.cards_created) == (counts["accepted"],) * 3
    assert found == wanted


def test_killed_worker_batch_resumes_with_exact_counts(proof, tmp_path, card_codelists, settings):
    _kill_three_times(proof, tmp_path, settings, rows=8000, chunk=400, seed=41)


@pytest.mark.proof_long
def test_large_batch_survives_three_worker_kills(proof, tmp_path, card_codelists, settings):
    rows = int(os.environ.get("PROOF_R1_ROWS", "200000"))
    _kill_three_times(proof, tmp_path, settings, rows=rows, chunk=5000, seed=43)
