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

ROOT = Path(__file__).resolve().parents[2]
BROKER = os.environ.get("CELERY_BROKER_URL", "")

pytestmark = [
    pytest.mark.worker,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
    pytest.mark.skipif(not BROKER.startswith("redis://"), reason="needs CELERY_BROKER_URL=redis://… (a real broker)"),
]


def _db_url() -> str:
    s = connection.settings_dict
    return f"postgres://{s['USER']}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"


def _worker(tmp_path: Path, pool: str, name: str) -> subprocess.Popen:
    env = os.environ | {
        "DJANGO_SETTINGS_MODULE": "config.test_settings",
        "DATABASE_URL": _db_url(),
        "CELERY_BROKER_URL": BROKER,
        "SSKDT_MEDIA_ROOT": str(tmp_path / "media"),
        "SSKDT_VAR_DIR": str(tmp_path / "var"),
        "CARD_IMPORT_CHUNK_ROWS": "400",
        "CARD_IMPORT_STALE_SECONDS": "3",
        "CARD_IMPORT_SWEEP_SECONDS": "1",
        "CELERY_VISIBILITY_TIMEOUT": "30",
    }
    (tmp_path / "var").mkdir(exist_ok=True)
    cmd = [sys.executable, "-m", "celery", "-A", "config", "worker", "-B", "--pool", pool, "--concurrency", "1",
           "--hostname", f"{name}@%h", "--without-mingle", "--without-gossip", "--loglevel", "WARNING",
           "--schedule", str(tmp_path / "var" / "beat-schedule")]
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


def test_killed_worker_batch_resumes_with_exact_counts(proof, tmp_path, card_codelists, settings):
    import redis

    redis.Redis.from_url(BROKER).flushdb()
    settings.MEDIA_ROOT = str(tmp_path / "media")
    rows = 8000
    data, expected_file = tmp_path / "cards.csv", tmp_path / "expected.json"
    subprocess.run(
        [sys.executable, str(ROOT / "bench" / "gen_cards.py"), "--rows", str(rows), "--seed", "41", "--bad-share",
         "0.05", "--out", str(data), "--emit-expected", str(expected_file)],
        check=True, stdout=subprocess.DEVNULL,
    )
    expected = json.loads(expected_file.read_text())
    row = proof.row("R1", f"SIGKILL of the Celery worker mid-batch ({rows} rows, 400-row chunks): the pool child, "
                          "then the whole worker with its beat; a new worker started")
    workers = [_worker(tmp_path, "prefork", "first")]
    try:
        from healthbook.cards.services import card_batch_create

        with data.open("rb") as fh:
            card_batch_create(acting_user=None, fh=fh, name="cards.csv")  # the task is sent to Redis on commit

        # Kill 1: the pool child running the task (the parent re-queues it: reject_on_worker_lost).
        running = _wait_for(lambda: (b := _batch()).rows_read >= 800 and b.status == "running" and b, 30, "progress")
        child_pid = int(running.worker.rsplit(":", 1)[1])
        os.kill(child_pid, signal.SIGKILL)
        killed_at = [running.rows_read]

        # Kill 2: the whole worker (parent, pool and beat) once the batch moved on after the first kill.
        after = _wait_for(lambda: (b := _batch()).rows_read >= killed_at[0] + 1600 and b.status == "running" and b,
                          60, "resume after the first kill")
        assert after.runs >= 2
        _stop(workers[0])
        killed_at.append(_batch().rows_read)
        assert _batch().status == CardBatch.Status.RUNNING
        assert killed_at[1] < rows

        # A new worker: its beat sweeper finds the stale batch and the import resumes.
        workers.append(_worker(tmp_path, "solo", "second"))
        done = _wait_for(lambda: (b := _batch()).is_finished and b, 120, "the batch to finish")
    finally:
        for proc in workers:
            _stop(proc)

    counts = expected["counts"]
    found = sorted(CardBatchProblem.objects.values_list("line", "column", "code"))
    wanted = sorted((r["line"], e["column"], e["code"]) for r in expected["rejected"] for e in r["errors"])
    citizens = Citizen.objects.count()
    row.set(times=2, figure=f"2 kills (at rows {killed_at[0]} and {killed_at[1]}), {done.runs} runs; "
            f"rows lost {rows - done.rows_read}, accepted {done.rows_accepted}/{counts['accepted']} expected, "
            f"rejected {done.rows_rejected}/{counts['rejected']}; duplicates {citizens - counts['accepted']} "
            f"(citizens {citizens}); rejected-row reasons as generated: {found == wanted}; status {done.status}")
    assert done.status == CardBatch.Status.DONE, done.failure_message
    assert done.runs >= 3
    assert (done.rows_read, done.rows_accepted, done.rows_rejected) == (rows, counts["accepted"], counts["rejected"])
    assert Citizen.objects.count() == HealthBook.objects.count() == InsuranceCard.objects.count() == counts["accepted"]
    assert (done.citizens_created, done.books_created, done.cards_created) == (counts["accepted"],) * 3
    assert found == wanted
    print(f"\nR1: killed at rows {killed_at}; runs {done.runs}; {rows} rows read, {done.rows_accepted} accepted, "
          f"{done.rows_rejected} rejected; duplicates 0")
