"""Many entries in one statement (issue 20, migration 0006): a batch is accepted only as the
exact continuation of the chain head, and the head only moves onto entries written, whatever
the shape of the statement — the database's statement-level checks, tried as an attacker would."""

from __future__ import annotations

import threading

import pytest
from django.db import connection, transaction
from django.db.utils import DatabaseError
from django.test.utils import CaptureQueriesContext

from accesslog import chain
from accesslog.chain import chain_verify, entries_append_many
from accesslog.services import Actor, access_log_record
from tests.conftest import TRANSACTIONAL

COLUMNS = ", ".join(chain._INSERT_FIELDS)
ROW = chain._ROW_SQL


def head() -> tuple[int, str]:
    with connection.cursor() as cur:
        cur.execute("SELECT seq, row_hash FROM accesslog_chain_head WHERE id = 1")
        seq, row_hash = cur.fetchone()
    return seq, row_hash.strip()


def made(n: int, start: tuple[int, str] | None = None) -> list[dict]:
    """n entries correctly chained after `start` (the head by default), not yet written."""
    seq, prev = start or head()
    entries = []
    for i in range(n):
        entry = {name: None for name in chain.FIELDS}
        entry.update(actor_kind="person", actor_username=f"b{i}", event="view", viewed="book", outcome=0, details={})
        for text in chain._MAX:
            entry[text] = entry[text] or ""
        chain._chain(entry, seq, prev)
        seq, prev = entry["seq"], entry["row_hash"]
        entries.append(entry)
    return entries


def insert(entries: list[dict], cur=None) -> None:
    params = [p for e in entries for p in chain._insert_params(e)[: len(chain._INSERT_FIELDS)]]
    sql = f"INSERT INTO accesslog_entry ({COLUMNS}) VALUES {', '.join([ROW] * len(entries))}"  # noqa: S608
    if cur is not None:
        cur.execute(sql, params)
        return
    with connection.cursor() as c:
        c.execute(sql, params)


def advance(seq: int, row_hash: str) -> None:
    with connection.cursor() as cur:
        cur.execute("UPDATE accesslog_chain_head SET seq = %s, row_hash = %s WHERE id = 1", [seq, row_hash])


def refused(fn) -> bool:
    try:
        with transaction.atomic():
            fn()
    except DatabaseError:
        return True
    return False


def write(n: int) -> None:
    for i in range(n):
        access_log_record(actor=Actor(kind="person", username=f"bs{i}"), event="view", viewed="book", outcome=0)


@pytest.mark.django_db
def test_a_bulk_append_is_one_insert_and_one_head_advance_per_chunk(settings, monkeypatch):
    write(1)
    start = head()[0]
    monkeypatch.setattr(chain, "BULK_CHUNK", 4)
    rows = [{"actor_kind": "person", "event": "cohort_list", "outcome": 0, "citizen_id": i} for i in range(10)]
    with CaptureQueriesContext(connection) as queries:
        entries = entries_append_many(rows)
    chained = [q["sql"] for q in queries.captured_queries if "accesslog_" in q["sql"]]
    assert len(chained) == 6  # three chunks: lock the head; one INSERT of the chunk + one head advance
    assert sum(s.count("UPDATE accesslog_chain_head") for s in chained) == 3
    assert [e["seq"] for e in entries] == list(range(start + 1, start + 11))
    result = chain_verify()
    assert result.ok, result.line()
    assert result.head_seq == start + 10


@pytest.mark.django_db
def test_a_correct_batch_and_its_head_advance_are_accepted():
    write(1)
    batch = made(5)
    insert(batch)
    advance(batch[-1]["seq"], batch[-1]["row_hash"])
    assert head() == (batch[-1]["seq"], batch[-1]["row_hash"])
    assert chain_verify().ok


@pytest.mark.django_db
def test_batches_that_do_not_continue_the_head_are_refused():
    write(2)
    good = made(4)

    def with_gap():
        insert([good[0], good[2]])

    def broken_link():
        bad = [dict(e) for e in good]
        bad[2]["prev_hash"] = "f" * 64
        insert(bad)

    def not_from_the_head():
        insert(good[1:])

    def duplicated_seq():
        insert([good[0], {**good[1], "seq": good[0]["seq"]}])

    def from_an_older_head():
        with connection.cursor() as cur:
            cur.execute("SELECT seq, row_hash FROM accesslog_entry WHERE seq = %s", [head()[0] - 1])
            seq, row_hash = cur.fetchone()
        insert(made(2, (seq, row_hash.strip())))

    def unordered_but_complete():  # the rows' order in the statement does not matter, their seqs do
        insert(list(reversed(good)))
        raise _Accepted

    for attempt in (with_gap, broken_link, not_from_the_head, duplicated_seq, from_an_older_head):
        assert refused(attempt), attempt.__name__
    with pytest.raises(_Accepted):
        with transaction.atomic():
            unordered_but_complete()
    assert chain_verify().ok


class _Accepted(Exception):
    pass


@pytest.mark.django_db
def test_a_second_statement_beyond_an_unadvanced_head_is_refused():
    """Entries written without moving the head leave the head behind; nothing may be added after
    them (two entries would then claim the same seq), whether it extends them or the head."""
    write(1)
    first = made(2)
    insert(first)  # the head is not advanced
    assert refused(lambda: insert(made(1, (first[-1]["seq"], first[-1]["row_hash"]))))
    assert refused(lambda: insert(made(1)))


@pytest.mark.django_db
def test_the_head_moves_only_forward_onto_entries_written():
    write(2)
    seq, row_hash = head()
    batch = made(3)
    insert(batch)
    assert refused(lambda: advance(seq + 4, batch[-1]["row_hash"]))  # past unwritten entries
    assert refused(lambda: advance(seq + 3, "a" * 64))  # onto a hash that is not the entry's
    assert refused(lambda: advance(seq + 2, batch[-1]["row_hash"]))  # onto the wrong entry's hash
    assert refused(lambda: advance(seq - 1, row_hash))  # backwards
    assert refused(lambda: advance(seq, row_hash))  # nowhere
    advance(seq + 2, batch[1]["row_hash"])  # onto a written entry, by two
    advance(seq + 3, batch[2]["row_hash"])
    assert chain_verify().ok


@pytest.mark.django_db
def test_the_head_cannot_skip_a_deleted_entry():
    """An entry removed (by a superuser with the triggers off) leaves a hole the head cannot jump."""
    from tests.accesslog.test_access_log_chain import as_attacker

    write(1)
    seq, _ = head()
    batch = made(3)
    insert(batch)
    as_attacker("DELETE FROM accesslog_entry WHERE seq = %s", [seq + 2])
    assert refused(lambda: advance(seq + 3, batch[-1]["row_hash"]))


@TRANSACTIONAL
def test_an_insert_outside_read_committed_is_refused():
    """A REPEATABLE READ snapshot could miss an entry committed beyond the head: refused."""
    write(1)
    with connection.cursor() as cur:
        cur.execute("BEGIN ISOLATION LEVEL REPEATABLE READ")
        try:
            with pytest.raises(DatabaseError):
                insert(made(1), cur)
        finally:
            cur.execute("ROLLBACK")
    assert chain_verify().ok


@TRANSACTIONAL
def test_two_sessions_racing_for_the_same_seqs_leave_one_chain():
    """Two writers chain batches after the same head without locking it first (as an attacker
    would) and insert at the same moment: one batch is refused, never two entries with a seq."""
    write(1)
    start = head()
    batches = [made(3, start), made(2, start)]
    barrier = threading.Barrier(2)
    outcome: dict[int, str] = {}

    def session(i):
        try:
            with transaction.atomic():
                barrier.wait(timeout=10)
                insert(batches[i])
                advance(batches[i][-1]["seq"], batches[i][-1]["row_hash"])
            outcome[i] = "written"
        except DatabaseError:
            outcome[i] = "refused"
        finally:
            connection.close()

    threads = [threading.Thread(target=session, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcome.values()) == ["refused", "written"], outcome
    with connection.cursor() as cur:
        cur.execute("SELECT count(*), count(DISTINCT seq) FROM accesslog_entry WHERE seq > %s", [start[0]])
        written = 3 if outcome[0] == "written" else 2
        assert cur.fetchone() == (written, written)
    result = chain_verify()
    assert result.ok, result.line()


@TRANSACTIONAL
def test_a_racer_that_never_advances_the_head_cannot_duplicate_a_seq():
    """Session A writes an entry beyond the head and commits without advancing it; session B, which
    read the same head, then writes its own entry at that seq and advances: refused."""
    write(1)
    start = head()
    from tests.accesslog.test_access_log_chain import as_attacker

    with transaction.atomic():
        insert(made(1, start))  # committed, head left behind
    try:
        with pytest.raises(DatabaseError), transaction.atomic():
            theirs = made(1, start)
            insert(theirs)
            advance(theirs[0]["seq"], theirs[0]["row_hash"])
        with connection.cursor() as cur:
            cur.execute("SELECT count(*) FROM accesslog_entry WHERE seq = %s", [start[0] + 1])
            assert cur.fetchone()[0] == 1
    finally:  # the stray entry jams the chain for the tests after this one (tables kept across tests)
        as_attacker("DELETE FROM accesslog_entry WHERE seq > %s", [start[0]])
    assert chain_verify().ok
