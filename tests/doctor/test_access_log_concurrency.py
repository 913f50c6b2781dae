"""Parallel appends from many threads keep one unbroken chain (the chain head row serialises them)."""

import threading

from django.db import connection

from accesslog.chain import chain_verify
from accesslog.services import Actor, access_log_record
from tests.conftest import TRANSACTIONAL

pytestmark = TRANSACTIONAL


def test_parallel_appends_form_one_verified_chain():
    with connection.cursor() as cur:
        cur.execute("SELECT seq FROM accesslog_chain_head")
        start = cur.fetchone()[0]
    errors = []

    def worker(n):
        try:
            for i in range(25):
                access_log_record(
                    actor=Actor(kind="person", username=f"t{n}"), event="view", viewed=f"book:{i}", outcome=0
                )
        except Exception as exc:  # noqa: BLE001 — reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    result = chain_verify()
    assert result.ok, result.line()
    assert result.head_seq == start + 200
