"""The head's short way (migration 0008): an advance by one is checked against the entry in the
partition of the head's new `updated_at`, not by a probe of every monthly partition. It must
refuse whatever the general check refuses, and the portal must keep giving it the entry's time."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection

from accesslog import chain
from accesslog.chain import chain_verify
from accesslog.partitions import partitions_ensure
from tests.accesslog.test_access_log_batches import head, insert, made, refused, write
from tests.accesslog.test_access_log_chain import as_attacker

pytestmark = pytest.mark.django_db

COLUMNS = ", ".join(chain._INSERT_FIELDS)


def advance_at(seq: int, row_hash: str, when: dt.datetime) -> None:
    """The head advance as the portal sends it: `updated_at` is the entry's `recorded_at`."""
    with connection.cursor() as cur:
        cur.execute(chain._HEAD_ADVANCE_SQL, [seq, row_hash, when])


def forge(entry: dict) -> None:
    """Write `entry` as the superuser with the triggers off (no chain check at all)."""
    as_attacker(
        f"INSERT INTO accesslog_entry ({COLUMNS}) VALUES {chain._ROW_SQL}",  # noqa: S608
        chain._row_params(entry),
    )


def test_a_book_page_append_moves_the_head_by_one_with_its_entrys_time():
    """The short way is taken only if the head's updated_at is the entry's recorded_at: the
    portal's append must keep sending it (else every page pays the general check again)."""
    write(3)
    seq, row_hash = head()
    with connection.cursor() as cur:
        cur.execute(
            "SELECT h.updated_at = e.recorded_at FROM accesslog_chain_head h"
            " JOIN accesslog_entry e ON e.seq = h.seq AND e.row_hash = h.row_hash WHERE h.id = 1"
        )
        assert cur.fetchone() == (True,)
    assert chain_verify().ok


def test_the_short_way_refuses_what_the_general_check_refuses():
    write(2)
    seq, row_hash = head()
    entry = made(1)[0]
    insert([entry])
    when = entry["recorded_at"]
    assert refused(lambda: advance_at(seq + 1, "a" * 64, when))  # a hash that is not the entry's
    assert refused(lambda: advance_at(seq + 2, entry["row_hash"], when))  # past the entry written
    assert refused(lambda: advance_at(seq, row_hash, when))  # nowhere
    # The wrong instant only sends it the general way, which finds the entry.
    advance_at(seq + 1, entry["row_hash"], when + dt.timedelta(microseconds=1))
    assert head() == (seq + 1, entry["row_hash"])
    assert chain_verify().ok


def test_the_short_way_cannot_take_the_head_onto_an_entry_that_does_not_link():
    """An entry put at head+1 by a superuser with the triggers off, not linked to the head's hash,
    found at the very seq and instant the advance names: refused."""
    write(1)
    seq, _ = head()
    entry = made(1, (seq, "f" * 64))[0]  # links to a hash that is not the head's
    forge(entry)
    try:
        assert refused(lambda: advance_at(seq + 1, entry["row_hash"], entry["recorded_at"]))
    finally:
        as_attacker("DELETE FROM accesslog_entry WHERE seq > %s", [seq])


def test_the_short_way_cannot_step_onto_a_deleted_entry():
    write(1)
    seq, _ = head()
    entry = made(1)[0]
    insert([entry])
    as_attacker("DELETE FROM accesslog_entry WHERE seq = %s", [seq + 1])
    assert refused(lambda: advance_at(seq + 1, entry["row_hash"], entry["recorded_at"]))


def test_a_second_entry_at_a_seq_forged_in_another_month_is_named_by_the_verifier():
    """The short way does not count the entries at its seq (the insert trigger never lets a second
    one in, tests/accesslog/test_access_log_partitions.py); one forged with the triggers off, in
    another month's partition, is the verifier's to find."""
    partitions_ensure(1)
    write(1)
    start = head()
    mine = made(1, start)[0]
    insert([mine])
    twin = made(1, start)[0]
    twin["recorded_at"] = (twin["recorded_at"].replace(day=1) + dt.timedelta(days=40)).replace(day=2)
    twin["row_hash"] = chain.entry_hash(twin["prev_hash"], twin)
    forge(twin)
    try:
        # Taken the short way (the general check would count two entries at that seq and refuse):
        # this is what shows the short way is the one a book page's append takes.
        assert not refused(lambda: advance_at(mine["seq"], mine["row_hash"], mine["recorded_at"]))
        result = chain_verify()
        assert not result.ok and result.broken_seq == start[0] + 1, result.line()
        assert "expected seq" in result.reason or "prev_hash" in result.reason
    finally:
        as_attacker("DELETE FROM accesslog_entry WHERE seq > %s", [start[0]])
        as_attacker("UPDATE accesslog_chain_head SET seq = %s, row_hash = %s WHERE id = 1", list(start))


def test_without_a_chain_head_no_entry_is_accepted():
    """The one-query insert check finds no head row (deleted by a superuser with the triggers off):
    refused, as the three-query check of 0006 refused it."""
    write(1)
    start = head()
    as_attacker("DELETE FROM accesslog_chain_head")
    assert refused(lambda: insert(made(1, start)))
