"""The sharded merge with real workers: two Celery worker processes merge the two shards of a
batch at the same time; the pool child running one shard is killed (SIGKILL) mid-merge; the
shard resumes (re-queued task, then the sweeper) and the batch ends with exactly the counts and
reasons the generator expects, without duplicates. The same with the file read side by side by
the two shard runs, one killed mid-range. A real broker (CELERY_BROKER_URL=redis://…)."""

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from healthbook.models import CardBatch, CardBatchProblem, CardBatchShard, Citizen, HealthBook, InsuranceCard
from tests.healthbook.cards.test_card_worker_kill import BROKER, _db_url, _stop, _wait_for

ROOT = Path(__file__).resolve().parents[3]

pytestmark = [
    pytest.mark.worker,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
    pytest.mark.skipif(not BROKER.startswith("redis://"), reason="needs CELERY_BROKER_URL=redis://… (a real broker)"),
]


def _worker(tmp_path: Path, name: str, *, beat: bool, **extra: str) -> subprocess.Popen:
    env = (
        os.environ
        | extra
        | {
            "DJANGO_SETTINGS_MODULE": "config.test_settings",
            "DATABASE_URL": _db_url(),
            "CELERY_BROKER_URL": BROKER,
            "SSKDT_MEDIA_ROOT": str(tmp_path / "media"),
            "SSKDT_VAR_DIR": str(tmp_path / "var"),
            "CARD_IMPORT_CHUNK_ROWS": "50",
            "CARD_IMPORT_SHARDS": "2",
            "CARD_IMPORT_STALE_SECONDS": "3",
            "CARD_IMPORT_SWEEP_SECONDS": "1",
            "CELERY_VISIBILITY_TIMEOUT": "30",
        }
    )
    (tmp_path / "var").mkdir(exist_ok=True)
    cmd = [sys.executable, "-m", "celery", "-A", "config", "worker", "--pool", "prefork", "--concurrency", "1"]
    cmd += ["--hostname", f"{name}@%h", "--without-mingle", "--without-gossip", "--loglevel", "WARNING"]
    if beat:
        cmd += ["-B", "--schedule", str(tmp_path / "var" / "beat-schedule")]
    log = open(tmp_path / f"{name}.log", "wb")  # noqa: SIM115 — closed with the process
    return subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)


def _generated(tmp_path: Path, settings, rows: int, *, seed: int) -> tuple[Path, dict]:
    """An empty broker, and a generated card file with the generator's expected outcome."""
    import redis

    redis.Redis.from_url(BROKER).flushdb()
    settings.MEDIA_ROOT = str(tmp_path / "media")
    data, expected_file = tmp_path / "cards.csv", tmp_path / "expected.json"
    gen = [sys.executable, str(ROOT / "bench" / "gen_cards.py"), "--rows", str(rows), "--seed", str(seed)]
    gen += ["--bad-share", "0.05", "--out", str(data), "--emit-expected", str(expected_file)]
    subprocess.run(gen, check=True, stdout=subprocess.DEVNULL)
    return data, json.loads(expected_file.read_text())


def _the_generators_outcome(done: CardBatch, rows: int, expected: dict) -> dict:
    """The batch ended done with the generator's counts and reasons, nothing duplicated."""
    counts = expected["counts"]
    assert done.status == CardBatch.Status.DONE, done.failure_message
    assert (done.rows_read, done.rows_accepted, done.rows_rejected) == (rows, counts["accepted"], counts["rejected"])
    assert Citizen.objects.count() == HealthBook.objects.count() == InsuranceCard.objects.count() == counts["accepted"]
    found = sorted(CardBatchProblem.objects.values_list("line", "column", "code"))
    assert found == sorted((r["line"], e["column"], e["code"]) for r in expected["rejected"] for e in r["errors"])
    return counts


def test_two_workers_merge_the_shards_at_once_and_a_killed_shard_resumes(tmp_path, card_codelists, settings):
    rows = 6000
    data, expected = _generated(tmp_path, settings, rows, seed=47)
    workers = [_worker(tmp_path, "one", beat=True), _worker(tmp_path, "two", beat=False)]
    try:
        from healthbook.cards.services import card_batch_create

        with data.open("rb") as fh:
            card_batch_create(acting_user=None, fh=fh, name="cards.csv")

        def both_merging():
            runs = list(
                CardBatchShard.objects.filter(status="running", rows_merged__gt=0).values_list("shard", "worker")
            )
            return len(runs) == 2 and runs

        both = _wait_for(both_merging, 120, "both shards merging")
        assert len({worker for _, worker in both}) == 2  # two processes at once
        shard0 = dict(both)[0]
        os.kill(int(shard0.rsplit(":", 1)[1]), signal.SIGKILL)
        done = _wait_for(lambda: (b := CardBatch.objects.get()).is_finished and b, 180, "the batch to finish")
    finally:
        for proc in workers:
            _stop(proc)

    counts = _the_generators_outcome(done, rows, expected)
    assert (done.citizens_created, done.books_created, done.cards_created) == (counts["accepted"],) * 3
    assert CardBatchShard.objects.get(shard=0).runs >= 2
    assert sum(CardBatchShard.objects.values_list("rows_merged", flat=True)) == done.rows_merged


def test_two_workers_read_the_file_side_by_side_and_a_killed_reader_resumes(tmp_path, card_codelists, settings):
    rows = 20000
    data, expected = _generated(tmp_path, settings, rows, seed=48)
    split = {"CARD_IMPORT_SPLIT_MIN_BYTES": "0"}
    workers = [_worker(tmp_path, "one", beat=True, **split), _worker(tmp_path, "two", beat=False, **split)]
    try:
        from healthbook.cards.services import card_batch_create

        with data.open("rb") as fh:
            card_batch_create(acting_user=None, fh=fh, name="cards.csv")

        def both_reading():
            runs = list(
                CardBatchShard.objects.filter(status="running", read_done=False, rows_read__gt=0).values_list(
                    "shard", "worker"
                )
            )
            return len(runs) == 2 and runs

        both = _wait_for(both_reading, 120, "both ranges being read")
        assert len({worker for _, worker in both}) == 2  # two processes at once
        os.kill(int(dict(both)[0].rsplit(":", 1)[1]), signal.SIGKILL)
        done = _wait_for(lambda: (b := CardBatch.objects.get()).is_finished and b, 180, "the batch to finish")
    finally:
        for proc in workers:
            _stop(proc)

    _the_generators_outcome(done, rows, expected)
    shard0 = CardBatchShard.objects.get(shard=0)
    assert shard0.runs >= 2 and shard0.read_records + CardBatchShard.objects.get(shard=1).read_records == rows
    assert sum(CardBatchShard.objects.values_list("rows_read", flat=True)) == rows


def test_a_record_on_two_lines_found_by_a_reader_sends_the_file_to_one_reader(tmp_path, card_codelists, settings):
    rows = 6000
    data, expected = _generated(tmp_path, settings, rows, seed=49)
    # An address in the last range starts with a line end inside its quotes: that record spans two
    # lines (the stored address is the same: surrounding blanks are trimmed).
    raw = data.read_bytes()
    at = raw.index(b',"', len(raw) * 3 // 4) + 2
    data.write_bytes(raw[:at] + b"\n" + raw[at:])
    split = {"CARD_IMPORT_SPLIT_MIN_BYTES": "0"}
    workers = [_worker(tmp_path, "one", beat=True, **split), _worker(tmp_path, "two", beat=False, **split)]
    try:
        from healthbook.cards.services import card_batch_create

        with data.open("rb") as fh:
            card_batch_create(acting_user=None, fh=fh, name="cards.csv")
        done = _wait_for(lambda: (b := CardBatch.objects.get()).is_finished and b, 180, "the batch to finish")
    finally:
        for proc in workers:
            _stop(proc)

    counts = _the_generators_outcome(done, rows, expected)
    assert done.read_by_one_reader
    assert sum(CardBatchShard.objects.values_list("rows_merged", flat=True)) == done.rows_merged == counts["accepted"]
