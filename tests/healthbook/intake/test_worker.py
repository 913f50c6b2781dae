"""Exactly once against a real Celery worker and a real Redis broker (CELERY_BROKER_URL=redis://…):
50 identical POSTs in parallel leave one encounter per MA_LK; 50 parallel POSTs with the same
Idempotency-Key leave one submission; the hostile files end rejected through the worker too."""

import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from django.db import connection

from healthbook.models import Encounter, LabObservation, Submission
from tests.conftest import TRANSACTIONAL

ROOT = Path(__file__).resolve().parents[3]
BROKER = os.environ.get("CELERY_BROKER_URL", "")

pytestmark = [
    pytest.mark.worker,
    TRANSACTIONAL,
    pytest.mark.skipif(not BROKER.startswith("redis://"), reason="needs CELERY_BROKER_URL=redis://… (a real broker)"),
]


def _db_url() -> str:
    s = connection.settings_dict
    return f"postgres://{s['USER']}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"


@pytest.fixture
def worker(tmp_path):
    import redis

    redis.Redis.from_url(BROKER).flushdb()
    env = os.environ | {
        "DJANGO_SETTINGS_MODULE": "config.test_settings",
        "DATABASE_URL": _db_url(),
        "CELERY_BROKER_URL": BROKER,
        "SSKDT_VAR_DIR": str(tmp_path),
    }
    cmd = [
        sys.executable,
        "-m",
        "celery",
        "-A",
        "config",
        "worker",
        "--pool",
        "prefork",
        "--concurrency",
        "2",
        "--without-mingle",
        "--without-gossip",
        "--loglevel",
        "WARNING",
    ]
    log = open(tmp_path / "worker.log", "wb")  # noqa: SIM115 — closed with the process
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    yield proc
    if proc.poll() is None:
        os.killpg(proc.pid, 9)
        proc.wait(10)
    log.close()


def _parallel(n, fn):
    results, errors = [None] * n, []
    start = threading.Barrier(n)

    def run(i):
        from django.db import connections

        try:
            start.wait()
            results[i] = fn()
        except Exception as exc:  # noqa: BLE001 — reported below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors, errors
    return results


def _wait_final(expected: int, timeout=120):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if Submission.objects.filter(status__in=Submission.FINAL).count() >= expected:
            return
        time.sleep(0.2)
    raise AssertionError(list(Submission.objects.values_list("status", flat=True)))


def test_fifty_identical_parallel_posts_leave_one_encounter_per_visit(proof, worker, sender, signed, intake_codelists):
    from django.test import Client

    row = proof.row("S24", "50 identical signed POSTs in parallel, no Idempotency-Key, real Celery worker and Redis")

    responses = _parallel(
        50,
        lambda: Client().post(
            "/api/v1/submissions/",
            data=signed,
            content_type="application/xml",
            HTTP_AUTHORIZATION=f"Api-Key {sender.key}",
        ),
    )
    assert [r.status_code for r in responses] == [202] * 50
    _wait_final(50)
    encounters = Encounter.objects.count()
    row.set(
        times=50,
        figure=f"{sum(r.status_code == 202 for r in responses)}/50 answered 202; encounters stored "
        f"{encounters} for 2 visits (duplicates {encounters - 2}); "
        f"{Submission.objects.filter(duplicate_of__isnull=False).count()} flagged duplicate",
    )
    assert Encounter.objects.count() == 2 and LabObservation.objects.count() == 40
    assert Submission.objects.filter(status="rejected").count() == 0
    assert sum(Submission.objects.values_list("encounters_created", flat=True)) == 2
    assert Submission.objects.filter(duplicate_of__isnull=False).count() == 49


def test_fifty_parallel_posts_with_one_idempotency_key_store_one_submission(
    proof, worker, sender, signed, intake_codelists
):
    from django.test import Client

    row = proof.row("S24", "50 identical signed POSTs in parallel with one Idempotency-Key, real worker and Redis")

    responses = _parallel(
        50,
        lambda: Client().post(
            "/api/v1/submissions/",
            data=signed,
            content_type="application/xml",
            HTTP_AUTHORIZATION=f"Api-Key {sender.key}",
            HTTP_IDEMPOTENCY_KEY="same-key",
        ),
    )
    assert {r.status_code for r in responses} == {202}
    assert len({r.json()["id"] for r in responses}) == 1
    _wait_final(1)
    row.set(
        times=50,
        figure=f"submissions stored {Submission.objects.count()}, distinct ids answered "
        f"{len({r.json()['id'] for r in responses})}, encounters {Encounter.objects.count()} for 2 visits",
    )
    assert Submission.objects.count() == 1 and Encounter.objects.count() == 2


def test_hostile_and_valid_files_through_the_worker(worker, sender, signed, pki, unsigned, intake_codelists):
    from .conftest import sign

    bad = sign(unsigned.replace(b"<MACSKCB>01001<", b"<MACSKCB>01002<"), pki["valid"])
    for body in (b"<GIAMDINHHS>", bad, signed):
        assert sender.post(body).status_code == 202
    _wait_final(3)
    statuses = sorted(Submission.objects.values_list("status", flat=True))
    assert statuses[0] in ("accepted", "accepted_with_warnings") and statuses[1:] == ["rejected", "rejected"]
    assert Encounter.objects.count() == 2
