"""R2: the broker (Redis) killed with SIGKILL and restarted mid-import, once with AOF (fsync on
every write), once without persistence. A redis-server of our own on a free port, a real Celery
worker with its beat (the sweeper), the card batch running in it; the test database is the one
pytest made. The task hands the batch back every second (time budget), so the import needs the
broker all along: without AOF every queued message dies with Redis, and the sweeper re-queues
the batch from its state in PostgreSQL. The batch must end with exactly the generated counts.
"""

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

ROWS, CHUNK, DOWN_SECONDS = 10000, 100, 2.0


def _db_url() -> str:
    s = connection.settings_dict
    return f"postgres://{s['USER']}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"


def _batch() -> CardBatch:
    return CardBatch.objects.get()


def _redis_kill_run(
    proof, tmp_path, monkeypatch, settings, *, aof: bool, rows: int, kills: int, chunk: int = CHUNK, budget: int = 1
):
    from config.celery import app
    from healthbook.cards.tasks import card_batch_import_task

    data, expected = h.gen_cards(tmp_path, rows, seed=52 if aof else 53)
    redis = h.RedisServer(tmp_path / "redis", aof=aof).start()
    env = h.app_env(
        database_url=_db_url(),
        broker_url=redis.url,
        workdir=tmp_path,
        CARD_IMPORT_CHUNK_ROWS=chunk,
        CARD_IMPORT_TASK_BUDGET_SECONDS=budget,
        CARD_IMPORT_STALE_SECONDS=3,
        CARD_IMPORT_SWEEP_SECONDS=1,
        CELERY_VISIBILITY_TIMEOUT=10,
    )
    settings.MEDIA_ROOT = str(tmp_path / "media")  # the worker's SSKDT_MEDIA_ROOT

    def send(batch_id):  # the upload's on-commit message goes to our Redis
        with app.connection_for_write(redis.url) as conn:
            card_batch_import_task.apply_async((batch_id,), connection=conn)

    monkeypatch.setattr(services, "_enqueue", send)
    worker = h.celery_worker(env, tmp_path, "r2")
    resumes, killed_at = [], []
    try:
        with data.open("rb") as fh:
            services.card_batch_create(acting_user=None, fh=fh, name="cards.csv")
        for k in range(kills):
            mark = (k + 1) * rows // (kills + 2)
            h.wait_for(
                lambda mark=mark: (b := _batch()).rows_read >= mark and b,
                90 + rows / 200,
                f"the import to pass row {mark}",
            )
            redis.kill()
            killed_at.append(_batch().rows_read)
            time.sleep(DOWN_SECONDS)
            redis.start()
            restarted, at_restart = time.monotonic(), _batch().rows_read
            h.wait_for(
                lambda at=at_restart: _batch().rows_read > at or _batch().is_finished,
                90,
                "the import to move after the restart",
            )
            resumes.append(time.monotonic() - restarted)
        h.wait_for(lambda: _batch().is_finished, 180 + rows / 100, "the batch to finish")
    finally:
        h.kill_group(worker)
        redis.stop()
    with connection.cursor() as cursor:
        out = h.import_outcome(cursor, expected)
    mode = "AOF, fsync always" if aof else "no persistence"
    proof.row(
        "R2",
        f"Redis ({mode}) SIGKILLed {kills}x mid-import of {rows} rows (task handing back every "
        f"{budget} s), down {DOWN_SECONDS:.0f} s, restarted",
    ).set(
        times=kills,
        figure=f"killed at rows {killed_at}; lost chunks/rows {out['lost']}, duplicates {out['duplicates']}; "
        f"counts exact: {out['exact']} ({out['accepted']} accepted, {out['rejected']} rejected); "
        f"time to resume after restart {max(resumes):.1f} s (max of {kills}); {out['runs']} runs; {out['status']}",
    )
    assert out["status"] == "done" and out["exact"], out
    assert out["lost"] == 0 and out["duplicates"] == 0


@pytest.mark.parametrize("aof", [True, False], ids=["aof", "no-persistence"])
def test_redis_killed_mid_import(proof, tmp_path, monkeypatch, settings, card_codelists, aof):
    _redis_kill_run(proof, tmp_path, monkeypatch, settings, aof=aof, rows=ROWS, kills=1)


@pytest.mark.proof_long
@pytest.mark.parametrize("aof", [True, False], ids=["aof", "no-persistence"])
def test_redis_killed_repeatedly_long(proof, tmp_path, monkeypatch, settings, card_codelists, aof):
    # A run skips the rows done by parsing them again: hand back every 5 s, not every second.
    _redis_kill_run(proof, tmp_path, monkeypatch, settings, aof=aof, rows=200_000, kills=3, chunk=500, budget=5)
