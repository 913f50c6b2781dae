"""The outbox through a real Celery worker and a real Redis broker, delivering over HTTP to the
fake gateway (config/fakegateway.py, a real server): a reminder's message is sent after the
commit that wrote it; a gateway failing twice gets the message on the third attempt (the sweep
task picks up the retries), once; a refusal is a dead letter."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.db import connection

from config.fakegateway import FakeGateway
from healthbook.models import Notification
from tests.conftest import TRANSACTIONAL
from tests.healthbook.notifications.conftest import KEY_ID, SECRET
from tests.provinces.conftest import appointment, citizen, facility, today

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
def live_gateway():
    server = FakeGateway(keys={KEY_ID: SECRET}).start()
    yield server
    server.stop()


@pytest.fixture
def worker(tmp_path, live_gateway):
    import redis

    redis.Redis.from_url(BROKER).flushdb()
    env = os.environ | {
        "DJANGO_SETTINGS_MODULE": "config.test_settings",
        "DATABASE_URL": _db_url(),
        "CELERY_BROKER_URL": BROKER,
        "SSKDT_VAR_DIR": str(tmp_path),
        "SSKDT_NOTIFY_CHANNEL": "vneid",
        "SSKDT_NOTIFY_VNEID_URL": live_gateway.url + "/vneid/notifications",
        "SSKDT_NOTIFY_VNEID_KEY_ID": KEY_ID,
        "SSKDT_NOTIFY_VNEID_SECRET": SECRET,
        "SSKDT_NOTIFY_RETRY_BASE_SECONDS": "1",
        "SSKDT_NOTIFY_MAX_ATTEMPTS": "4",
    }
    log = open(tmp_path / "worker.log", "wb")  # noqa: SIM115 — closed with the process
    proc = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "config", "worker", "--pool", "solo", "--without-mingle",
         "--without-gossip", "--loglevel", "WARNING"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )  # fmt: skip
    yield tmp_path
    os.killpg(proc.pid, signal.SIGTERM)
    proc.wait(20)
    log.close()


def _wait_for(predicate, timeout: float = 60, poke=None):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        if poke:
            poke()
        time.sleep(0.5)
    raise AssertionError("timed out")


def test_outbox_delivers_retries_and_dead_letters_on_a_real_worker(worker, live_gateway, settings):
    from healthbook.notifications.services import enqueue_notification
    from healthbook.notifications.tasks import notifications_sweep_task
    from healthbook.reminders.services import reminders_create

    settings.NOTIFY_DEFAULT_CHANNEL = "vneid"
    clinic = facility("01601", "01", name="Trạm Y tế Nhắc Lịch")
    person = citizen("01")
    appointment(person, clinic, today())

    # 1. the daily job's reminder: written with its message, delivered after commit
    assert reminders_create(today=today())["follow_ups_created"] == 1
    _wait_for(lambda: Notification.objects.filter(status="sent").count() == 1)
    [got] = live_gateway.state.received
    assert got["body"]["recipient"]["personal_id"] == person.personal_id
    assert "Trạm Y tế Nhắc Lịch" in got["body"]["body"]

    # 2. the gateway fails twice (503): retried with backoff by the sweep, delivered once
    live_gateway.control(fail_status=503, fail_count=2)
    enqueue_notification(
        citizen_id=person.pk, kind="copy_ready", dedupe_key="copy:1", context={"expires_on": "2026-12-20"}
    )
    copy = Notification.objects.get(kind="copy_ready")
    _wait_for(lambda: Notification.objects.get(pk=copy.pk).status == "sent", poke=notifications_sweep_task.delay)
    copy.refresh_from_db()
    assert copy.attempts == 3 and live_gateway.state.requests == 4
    assert [r["message_id"] for r in live_gateway.state.received].count(str(copy.public_id)) == 1

    # 3. the gateway refuses (4xx): a dead letter with its reason, no retry
    live_gateway.control(refuse_status=422)
    enqueue_notification(citizen_id=person.pk, kind="copy_ready", dedupe_key="copy:2", context={})
    _wait_for(lambda: Notification.objects.filter(dedupe_key="copy:2", status="dead").exists())
    assert Notification.objects.get(dedupe_key="copy:2").last_error == "HTTP 422: recipient_unknown"
