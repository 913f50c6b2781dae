"""R3: PostgreSQL crashes (`pg_ctl stop -m immediate`: every backend killed, no checkpoint) and
comes back (WAL replay) while a card batch is being imported and facility software is pushing
submissions. Everything runs against a throwaway cluster of our own (initdb in a temporary
directory, a free port), filled from the test database pytest migrated (pg_dump | psql): a
gunicorn serving the API, a Celery worker with its beat, a Redis of our own, and client threads
posting submissions over HTTP the whole time.

Figures: 2xx answers whose submission is missing (or differs) after the restart: 0; answers
during the outage: 503 with the JSON error body (no stack trace, no 500); time until the API
answers 2xx again; the import ends with exactly the generated counts (the chunk in flight is
rolled back and done again, none twice).
"""

import hashlib
import http.client
import json
import subprocess
import threading
import time
from collections import Counter

import psycopg
import pytest
from django.db import connection

from tests.conftest import TRANSACTIONAL
from tests.faults import harness as h

pytestmark = [
    pytest.mark.worker,
    TRANSACTIONAL,
    pytest.mark.skipif(bool(h.pg_available()), reason=h.pg_available() or "-"),
    pytest.mark.skipif(bool(h.redis_missing()), reason=h.redis_missing() or "-"),
]

CLIENTS = 4


def _clone_test_database(cluster: h.PgCluster, name: str) -> None:
    """The migrated schema and the fixtures' rows, copied from pytest's test database."""
    s = connection.settings_dict
    h.wait_for(
        lambda: (
            subprocess.run(
                [str(cluster.bindir / "createdb"), "-h", "127.0.0.1", "-p", str(cluster.port), "-U", "postgres", name],
                capture_output=True,
            ).returncode
            == 0
        ),
        10,
        "createdb",
    )
    dump = subprocess.run(
        [
            str(cluster.bindir / "pg_dump"),
            "-h",
            s["HOST"] or "127.0.0.1",
            "-p",
            str(s["PORT"] or 5432),
            "-U",
            s["USER"],
            "--no-owner",
            "--no-privileges",
            s["NAME"],
        ],
        capture_output=True,
        check=True,
        timeout=120,
    )
    subprocess.run(
        [
            str(cluster.bindir / "psql"),
            "-q",
            "-v",
            "ON_ERROR_STOP=1",
            "-h",
            "127.0.0.1",
            "-p",
            str(cluster.port),
            "-U",
            "postgres",
            "-d",
            name,
        ],
        input=dump.stdout,
        capture_output=True,
        check=True,
        timeout=120,
    )


class Pusher(threading.Thread):
    """Facility software: POSTs distinct envelopes with an Idempotency-Key, records every answer."""

    def __init__(self, n: int, port: int, key: str, stop: threading.Event):
        super().__init__(daemon=True)
        self.n, self.port, self.key, self.stop = n, port, key, stop
        self.answers: list[dict] = []

    def run(self):
        i = 0
        while not self.stop.is_set():
            i += 1
            body = (
                f'<?xml version="1.0" encoding="utf-8"?><GIAMDINHHS><THONGTINDONVI><MACSKCB>01001</MACSKCB>'
                f"</THONGTINDONVI><R3>{self.n}-{i}-{time.time_ns()}</R3></GIAMDINHHS>"
            ).encode()
            answer = {"t": time.monotonic(), "sha256": hashlib.sha256(body).hexdigest()}
            try:
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=15)
                conn.request(
                    "POST",
                    "/api/v1/submissions/",
                    body=body,
                    headers={
                        "Content-Type": "application/xml",
                        "Authorization": f"Api-Key {self.key}",
                        "Idempotency-Key": f"r3-{self.n}-{i}",
                    },
                )
                response = conn.getresponse()
                answer |= {
                    "status": response.status,
                    "type": response.getheader("Content-Type", ""),
                    "body": response.read().decode("utf-8", "replace"),
                }
                conn.close()
            except OSError as exc:
                answer |= {"status": 0, "type": "", "body": repr(exc)}
            answer["done"] = time.monotonic()
            self.answers.append(answer)
            time.sleep(0.3)  # about 13 POSTs a second in all: the worker also processes each


def _batch_rows(url: str) -> int:
    try:
        with psycopg.connect(url, connect_timeout=2) as conn:
            row = conn.execute("SELECT rows_read, status FROM healthbook_card_batch").fetchone()
            return -1 if row is None else (10**12 if row[1] in ("done", "failed") else row[0])
    except psycopg.Error:
        return -1


def _crash_under_load(proof, tmp_path, sender, *, rows: int, crashes: int, down_seconds: float):
    data, expected = h.gen_cards(tmp_path, rows, seed=61)
    cluster = h.PgCluster().init()
    redis = h.RedisServer(tmp_path / "redis", aof=False)
    procs, pushers, stop = [], [], threading.Event()
    crash_log = []
    try:
        cluster.start()
        _clone_test_database(cluster, "sskdt")
        url = cluster.url("sskdt")
        redis.start()
        env = h.app_env(
            database_url=url,
            broker_url=redis.url,
            workdir=tmp_path,
            CARD_IMPORT_CHUNK_ROWS=100,
            CARD_IMPORT_TASK_BUDGET_SECONDS=2,
            CARD_IMPORT_STALE_SECONDS=3,
            CARD_IMPORT_SWEEP_SECONDS=1,
            CELERY_VISIBILITY_TIMEOUT=10,
            DB_CONN_MAX_AGE=60,
        )
        port = h.free_port()
        procs.append(h.gunicorn(env, tmp_path, port))
        procs.append(h.celery_worker(env, tmp_path, "r3"))
        h.manage(env, "import_cards", str(data))  # stored, queued to our Redis
        pushers = [Pusher(n, port, sender.key, stop) for n in range(CLIENTS)]
        for p in pushers:
            p.start()
        for k in range(crashes):
            mark = (k + 1) * rows // (crashes + 2)
            h.wait_for(lambda mark=mark: _batch_rows(url) >= mark, 120 + rows / 200, f"the import to pass row {mark}")
            at = _batch_rows(url)
            down = time.monotonic()
            cluster.stop_immediate()
            time.sleep(down_seconds)
            cluster.start()
            crash_log.append({"rows": at, "down": down, "up": time.monotonic()})
            time.sleep(1.5)
        time.sleep(1.0)
        stop.set()
        for p in pushers:
            p.join(30)
        h.wait_for(lambda: _batch_rows(url) >= 10**12, 180 + rows / 100, "the batch to finish", every=0.5)

        answers = [a for p in pushers for a in p.answers]
        with psycopg.connect(url) as conn, conn.cursor() as cur:
            cur.execute(
                "SELECT s.sha256, s.public_id::text FROM healthbook_submission s "
                "JOIN healthbook_submission_payload p ON p.submission_id = s.id "
                "WHERE sha256(p.body) = decode(s.sha256, 'hex')"
            )
            stored = dict(cur.fetchall())
            out = h.import_outcome(cur, expected)
    finally:
        stop.set()
        for proc in procs:
            h.kill_group(proc)
        redis.stop()
        cluster.destroy()

    ok = [a for a in answers if 200 <= a["status"] < 300]
    missing = [a for a in ok if stored.get(a["sha256"]) != json.loads(a["body"]).get("id")]
    bad = [a for a in answers if not 200 <= a["status"] < 300]
    clean_503 = [
        a
        for a in bad
        if a["status"] == 503
        and a["type"].startswith("application/json")
        and json.loads(a["body"]).get("code") == "unavailable"
        and "Traceback" not in a["body"]
    ]
    statuses = Counter(a["status"] for a in answers)
    recovery = []
    for c in crash_log:
        after = [a["done"] for a in ok if a["t"] >= c["up"]]
        recovery.append((min(after) - c["up"]) if after else float("inf"))
    outage = max(c["up"] - c["down"] for c in crash_log)
    proof.row(
        "R3",
        f"PostgreSQL crashed (pg_ctl stop -m immediate) {crashes}x, {down_seconds:.0f} s down, started "
        f"again (WAL replay), mid-import of {rows} rows and under {CLIENTS} clients posting "
        "submissions to gunicorn",
    ).set(
        times=len(answers),
        figure=f"{len(answers)} POSTs ({dict(sorted(statuses.items()))}); 2xx whose data is missing after the "
        f"restart: {len(missing)} of {len(ok)}; non-2xx answered 503 with the JSON error: {len(clean_503)}/{len(bad)}"
        f" (500s {statuses.get(500, 0)}, stack traces 0); API back {max(recovery):.2f} s after the start "
        f"({outage:.1f} s outage); import: lost {out['lost']}, duplicates {out['duplicates']}, exact counts "
        f"{out['exact']}, {out['runs']} runs, {out['status']}",
    )
    assert missing == [] and len(clean_503) == len(bad), (missing[:3], [b for b in bad if b not in clean_503][:3])
    assert len(bad) > 0, "the outage was not seen by the clients"
    assert out["status"] == "done" and out["exact"] and out["lost"] == 0 and out["duplicates"] == 0, out


def test_postgres_crash_under_import_and_api_load(proof, tmp_path, sender, card_codelists, settings):
    _crash_under_load(proof, tmp_path, sender, rows=8000, crashes=1, down_seconds=2)


@pytest.mark.proof_long
def test_postgres_crashes_repeatedly_long(proof, tmp_path, sender, card_codelists, settings):
    _crash_under_load(proof, tmp_path, sender, rows=200_000, crashes=3, down_seconds=3)
