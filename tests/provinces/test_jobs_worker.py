"""The periodic jobs through a real Celery worker and a real Redis broker: the 15-minute
rollup job fills today's rows, the nightly job closes yesterday and mails each province's
officers once, however often it runs."""

import datetime as dt
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.db import connection

from provinces.models import ConnectivityDigest, ProvinceDayRollup
from tests.conftest import TRANSACTIONAL
from tests.provinces.conftest import today

ROOT = Path(__file__).resolve().parents[2]
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
        "DJANGO_EMAIL_BACKEND": "django.core.mail.backends.console.EmailBackend",
    }
    log = open(tmp_path / "worker.log", "wb")  # noqa: SIM115 — closed with the process
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "config",
            "worker",
            "--pool",
            "solo",
            "--without-mingle",
            "--without-gossip",
            "--loglevel",
            "WARNING",
        ],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    yield tmp_path
    os.killpg(proc.pid, signal.SIGTERM)
    proc.wait(20)
    log.close()


def _wait_for(predicate, timeout: float = 60):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.1)
    raise AssertionError("timed out")


def test_rollup_jobs_and_digest_run_on_a_real_worker(worker, hanoi_network, officer_hanoi):
    from provinces.tasks import rollups_today_task, rollups_yesterday_task

    rollups_today_task.delay()
    _wait_for(lambda: ProvinceDayRollup.objects.filter(day=today()).count() == 34)
    yesterday = today() - dt.timedelta(days=1)
    rollups_yesterday_task.delay()
    rollups_yesterday_task.delay()  # a second run the same night sends nothing more
    _wait_for(lambda: ConnectivityDigest.objects.filter(day=yesterday, sent_at__isnull=False).count() == 1)
    time.sleep(2)
    assert ProvinceDayRollup.objects.filter(day=yesterday).count() == 34
    # The console e-mail backend writes each message to the worker's output.
    assert (worker / "worker.log").read_text(errors="replace").count(f"To: {officer_hanoi.email}") == 1
