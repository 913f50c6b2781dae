"""R11 (long, `make proof` only): import throughput and memory of a real Celery worker over a
large card file (1,000,000 rows unless PROOF_R11_ROWS says otherwise; PROOF_R11_WORKDIR keeps the
generated file between runs), queued through the
upload service to a Redis of our own. Figures: rows/s from the batch's own start and finish
times, the worker's peak RSS (VmHWM) and its RSS at a quarter, half and the end of the file
(flat: the file is streamed, one chunk held at a time). Rows/s is reported, never asserted;
memory is asserted (peak under 300 MB, growth after the first quarter under 50 MB).
Same measurement as bench/cards_worker_rss.py, whose figures go to bench/RESULTS.md.
"""

import os
import time
from pathlib import Path

import pytest
from django.db import connection

from healthbook.cards import services
from healthbook.models import CardBatch
from tests.conftest import TRANSACTIONAL
from tests.faults import harness as h

pytestmark = [
    pytest.mark.worker,
    pytest.mark.proof_long,
    TRANSACTIONAL,
    pytest.mark.skipif(bool(h.redis_missing()), reason=h.redis_missing() or "-"),
]

ROWS = int(os.environ.get("PROOF_R11_ROWS", "1000000"))


def _kb(pid: int, key: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1])
    return 0


def _db_url() -> str:
    s = connection.settings_dict
    return f"postgres://{s['USER']}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"


def test_import_throughput_and_memory(proof, tmp_path, monkeypatch, settings, card_codelists):
    from config.celery import app
    from healthbook.cards.tasks import card_batch_import_task

    files = Path(os.environ.get("PROOF_R11_WORKDIR", str(tmp_path)))  # reuse a file generated beforehand
    files.mkdir(parents=True, exist_ok=True)
    data, expected = h.gen_cards(files, ROWS, seed=13, bad_share=0.01)
    redis = h.RedisServer(tmp_path / "redis", aof=False).start()
    settings.MEDIA_ROOT = str(tmp_path / "media")
    env = h.app_env(database_url=_db_url(), broker_url=redis.url, workdir=tmp_path)

    def send(batch_id):
        with app.connection_for_write(redis.url) as conn:
            card_batch_import_task.apply_async((batch_id,), connection=conn)

    monkeypatch.setattr(services, "_enqueue", send)
    worker = h.celery_worker(env, tmp_path, "r11", beat=True)
    marks: dict[str, int] = {}
    try:
        time.sleep(5)
        idle = _kb(worker.pid, "VmRSS")
        with data.open("rb") as fh:
            services.card_batch_create(acting_user=None, fh=fh, name=data.name)
        deadline = time.monotonic() + 3 * 3600
        while time.monotonic() < deadline:
            batch = CardBatch.objects.get()
            for name, share in (("quarter", 0.25), ("half", 0.5)):
                if name not in marks and batch.rows_read >= ROWS * share:
                    marks[name] = _kb(worker.pid, "VmRSS")
            if batch.is_finished:
                break
            time.sleep(0.5)
        marks["end"] = _kb(worker.pid, "VmRSS")
        peak = _kb(worker.pid, "VmHWM")
    finally:
        h.kill_group(worker)
        redis.stop()
    batch = CardBatch.objects.get()
    with connection.cursor() as cursor:
        out = h.import_outcome(cursor, expected)
    seconds = (batch.finished_at - batch.started_at).total_seconds()
    mb = {k: round(v / 1024) for k, v in marks.items()}
    proof.row(
        "R11",
        f"{ROWS:,} card rows ({data.stat().st_size // 2**20} MB CSV) imported by a real worker "
        f"(solo pool, {settings.CARD_IMPORT_CHUNK_ROWS:,}-row chunks)",
    ).set(
        times=ROWS,
        figure=f"{ROWS / seconds:,.0f} rows/s ({seconds:,.0f} s, {batch.runs} task runs); worker peak RSS "
        f"{peak // 1024} MB (idle {idle // 1024} MB; at 1/4, 1/2, end: {mb.get('quarter')}, {mb.get('half')}, "
        f"{mb.get('end')} MB); exact counts {out['exact']}, lost {out['lost']}, duplicates {out['duplicates']}; "
        f"load average {os.getloadavg()[0]:.1f}",
    )
    assert out["status"] == "done" and out["exact"], out
    assert peak < 300 * 1024
    assert marks["end"] - marks.get("quarter", marks["end"]) < 50 * 1024
