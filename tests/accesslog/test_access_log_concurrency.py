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


def _append_statements(settings, mode: str, *, inside_transaction: bool = False) -> list[str]:
    from django.db import transaction
    from django.test.utils import CaptureQueriesContext

    settings.SSKDT_ACCESS_LOG_COMMIT = mode
    with CaptureQueriesContext(connection) as queries:
        if inside_transaction:
            with transaction.atomic():
                access_log_record(actor=Actor(kind="person", username="d"), event="view", viewed="book", outcome=0)
        else:
            access_log_record(actor=Actor(kind="person", username="d"), event="view", viewed="book", outcome=0)
    return [q["sql"] for q in queries.captured_queries]


def test_group_commit_waits_for_the_disk_after_releasing_the_chain_head(settings):
    sql = _append_statements(settings, "group")
    assert len(sql) == 2 and sql[0].startswith("BEGIN")  # two round trips, the first locks the head
    parts = [p.strip() for p in sql[1].split(";")]
    at = {
        name: next(i for i, p in enumerate(parts) if name in p)
        for name in (
            "synchronous_commit = off",
            "INSERT INTO accesslog_entry",
            "UPDATE accesslog_chain_head",
            "synchronous_commit = on",
            "pg_logical_emit_message",
        )
    }
    commit = parts.index("COMMIT")
    # The head is held without a flush (async commit), then the caller waits for the WAL flush
    # in a synchronous commit of its own, once the head is released.
    assert at["synchronous_commit = off"] < at["INSERT INTO accesslog_entry"] < at["UPDATE accesslog_chain_head"]
    assert at["UPDATE accesslog_chain_head"] < commit < at["synchronous_commit = on"] < at["pg_logical_emit_message"]
    assert chain_verify().ok


def test_sync_and_async_modes(settings):
    sync = _append_statements(settings, "sync")
    assert not any("synchronous_commit" in s or "pg_logical_emit_message" in s for s in sync)
    unsafe = _append_statements(settings, "async")
    assert any("synchronous_commit = off" in s for s in unsafe)
    assert not any("pg_logical_emit_message" in s for s in unsafe)


def test_an_append_inside_a_callers_transaction_commits_with_it_synchronously(settings):
    # SET LOCAL would make the caller's whole transaction commit without waiting for the disk.
    for mode in ("group", "async"):
        sql = _append_statements(settings, mode, inside_transaction=True)
        assert not any("synchronous_commit" in s or "pg_logical_emit_message" in s for s in sql)


def test_a_failed_append_leaves_no_transaction_open_and_no_entry():
    import pytest
    from psycopg.pq import TransactionStatus

    with connection.cursor() as cur:
        cur.execute("SELECT seq FROM accesslog_chain_head")
        start = cur.fetchone()[0]
    with pytest.raises(TypeError):  # fails between the two round trips, with the head locked
        access_log_record(
            actor=Actor(kind="person", username="d"),
            event="view",
            viewed="book",
            outcome=0,
            details={"not json": object()},
        )
    assert connection.connection.info.transaction_status == TransactionStatus.IDLE
    access_log_record(actor=Actor(kind="person", username="d"), event="view", viewed="book", outcome=0)
    result = chain_verify()
    assert result.ok and result.head_seq == start + 1
