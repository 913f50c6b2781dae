"""R5 with a real broker: the import task runs longer than Redis's visibility timeout, so Redis
hands its unacknowledged message to a second, idle worker while the first is still importing.
The second run must find the batch held by a live run (BUSY) and write nothing; the batch ends
with exactly the generated counts, imported by one run. A redis-server of our own, two workers
(solo pool, no beat), a visibility timeout of 1 s against a task of several seconds (50-row
chunks, so that even a fast machine takes a while), and the
idle worker scanning for overdue messages every second (CELERY_UNACKED_RESTORE_INTERVAL=1,
THROTTLE=1; kombu's default is every 100 s).
"""

import re
import time

import pytest
from django.db import connection

from healthbook.cards import services
from healthbook.models import CardBatch
from tests.conftest import TRANSACTIONAL
from tests.faults import harness as h

pytestmark = [
    pytest.mark.worker,
    TRANSACTIONAL,
    pytest.mark.skipif(bool(h.redis_missing()), reason=h.redis_missing() or "-"),
]

ROWS, CHUNK, VISIBILITY = 12000, 50, 1


def _db_url() -> str:
    s = connection.settings_dict
    return f"postgres://{s['USER']}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"


def test_task_outliving_the_visibility_timeout(proof, tmp_path, monkeypatch, settings, card_codelists):
    from config.celery import app
    from healthbook.cards.tasks import card_batch_import_task

    data, expected = h.gen_cards(tmp_path, ROWS, seed=55)
    redis = h.RedisServer(tmp_path / "redis", aof=False).start()
    settings.MEDIA_ROOT = str(tmp_path / "media")
    env = h.app_env(
        database_url=_db_url(),
        broker_url=redis.url,
        workdir=tmp_path,
        CARD_IMPORT_CHUNK_ROWS=CHUNK,
        CARD_IMPORT_TASK_BUDGET_SECONDS=600,
        CARD_IMPORT_STALE_SECONDS=60,
        CELERY_VISIBILITY_TIMEOUT=VISIBILITY,
        CELERY_UNACKED_RESTORE_INTERVAL=1,
        CELERY_UNACKED_RESTORE_THROTTLE=1,
    )

    def send(batch_id):
        with app.connection_for_write(redis.url) as conn:
            card_batch_import_task.apply_async((batch_id,), connection=conn)

    monkeypatch.setattr(services, "_enqueue", send)
    workers = [h.celery_worker(env, tmp_path, name, beat=False, loglevel="INFO") for name in ("r5a", "r5b")]
    try:
        time.sleep(4)  # both workers consuming
        with data.open("rb") as fh:
            services.card_batch_create(acting_user=None, fh=fh, name="cards.csv")
        h.wait_for(lambda: CardBatch.objects.get().is_finished, 120, "the batch to finish")
        time.sleep(1)
    finally:
        for w in workers:
            h.kill_group(w)
        redis.stop()
    batch = CardBatch.objects.get()
    seconds = (batch.finished_at - batch.started_at).total_seconds()
    logs = "".join((tmp_path / f"{n}.log").read_text(errors="replace") for n in ("r5a", "r5b"))
    outcomes = re.findall(r"card_batch_import_task\[[^\]]+\] succeeded in [0-9.]+s: '(\w+)'", logs)
    with connection.cursor() as cursor:
        out = h.import_outcome(cursor, expected)
    busy = outcomes.count("busy")
    proof.row(
        "R5",
        f"an import task of {seconds:.0f} s against a {VISIBILITY} s broker visibility timeout, "
        "a second idle worker (real Redis redelivery)",
    ).set(
        times=len(outcomes),
        figure=f"deliveries {len(outcomes)} ({', '.join(outcomes)}); redeliveries refused as busy {busy}; "
        f"runs that claimed the batch {batch.runs}; concurrent executions {batch.runs - 1}; "
        f"chunks applied twice {out['duplicates']}, "
        f"rows lost {out['lost']}; counts exact {out['exact']}",
    )
    assert seconds > VISIBILITY
    assert busy >= 1, f"Redis did not redeliver: {outcomes}"
    assert batch.runs == 1 and outcomes.count("done") == 1
    assert out["exact"] and out["duplicates"] == 0 and out["lost"] == 0
