"""The access log partitioned by month (issue 21, point 2; migration 0007): entries land in their
month, the chain verifies across partitions, seq stays unique without a unique index, partitions
are made ahead as the owner only, and no role gets around the append-only rules by naming a
partition."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection, transaction
from django.db.utils import DatabaseError

from accesslog import chain
from accesslog.chain import chain_verify, entries_append_many
from accesslog.partitions import partitions_ensure
from tests.accesslog.test_access_log_trust import _as_role
from tests.conftest import TRANSACTIONAL

pytestmark = pytest.mark.django_db
PARTS = "accesslog_partitions"


def append_at(when: dt.datetime, n: int = 1) -> list[dict]:
    """n entries recorded at `when` (a past or future month), chained and sealed with the key as
    the portal would (the time is the only thing changed)."""
    written = []
    with transaction.atomic(), connection.cursor() as cur:
        cur.execute(chain._HEAD_SQL)
        seq, prev = cur.fetchone()
        for i in range(n):
            entry = {name: None for name in chain.FIELDS}
            entry.update(actor_kind="person", event="view", viewed="book", outcome=0, details={}, citizen_id=i)
            for text in chain._MAX:
                entry[text] = entry[text] or ""
            chain._chain(entry, seq, prev)
            entry["recorded_at"] = when + dt.timedelta(seconds=i)
            entry["row_hash"] = chain.entry_hash(entry["prev_hash"], entry)
            cur.execute(chain._INSERT_SQL, chain._insert_params(entry))
            seq, prev = entry["seq"], entry["row_hash"]
            written.append(entry)
    return written


def where(seq: int) -> str:
    with connection.cursor() as cur:
        cur.execute("SELECT tableoid::regclass::text FROM accesslog_entry WHERE seq = %s", [seq])
        return cur.fetchone()[0]


def month_name(when: dt.datetime) -> str:
    return f"{PARTS}.accesslog_entry_{when:%Y_%m}"


def test_entries_land_in_their_month_and_the_chain_verifies_across_partitions(settings, tmp_path):
    from accesslog.tasks import access_log_checkpoint_task

    settings.SSKDT_ACCESS_LOG_CHECKPOINT = str(tmp_path / "cp.jsonl")
    now = dt.datetime.now(dt.UTC)
    partitions_ensure(2)
    later = (now.replace(day=1) + dt.timedelta(days=40)).replace(day=3)
    first = append_at(now)
    assert access_log_checkpoint_task().startswith("OK")  # a checkpoint in this month's partition …
    nxt = append_at(later, 3)  # … then entries of next month
    entries_append_many([{"actor_kind": "person", "event": "cohort_list", "outcome": 0, "citizen_id": 9}] * 4)
    assert where(first[0]["seq"]) == month_name(now)
    assert where(nxt[0]["seq"]) == month_name(later)
    result = chain_verify()
    assert result.ok, result.line()
    task = access_log_checkpoint_task()  # verifies from the checkpoint, across the partitions
    assert task.startswith("OK"), task


def test_seq_has_no_unique_index_and_stays_unique_by_the_chain():
    """A unique index on a partitioned table must contain the partition key, so seq has none; the
    chain check (head locked, rows exactly head+1 … head+n, nothing beyond the head) keeps it
    unique, across partitions too."""
    with connection.cursor() as cur:
        cur.execute(
            "SELECT count(*) FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = i.indkey[0]"
            " WHERE i.indrelid = 'accesslog_entry'::regclass AND i.indisunique AND i.indnatts = 1 AND a.attname = 'seq'"
        )
        assert cur.fetchone()[0] == 0
    now = dt.datetime.now(dt.UTC)
    partitions_ensure(1)
    written = append_at(now, 2)
    seq, prev = written[0]["seq"], written[0]["prev_hash"]
    # The same seq again, in another month's partition (where a per-partition index would not see it).
    other = now.replace(day=1) + dt.timedelta(days=40)
    for start in ((seq - 1, prev), (seq, written[0]["row_hash"])):
        entry = {name: None for name in chain.FIELDS}
        entry.update(actor_kind="person", event="view", viewed="book", outcome=0, details={})
        for text in chain._MAX:
            entry[text] = entry[text] or ""
        chain._chain(entry, *start)
        entry["recorded_at"] = other
        with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cur:
            cur.execute(chain._INSERT_SQL, chain._insert_params(entry))
    with connection.cursor() as cur:
        cur.execute("SELECT count(*) - count(DISTINCT seq) FROM accesslog_entry")
        assert cur.fetchone()[0] == 0
    assert chain_verify().ok


def test_an_entry_of_a_month_without_partition_goes_to_the_default_and_is_reported(capsys):
    far = dt.datetime(2061, 3, 5, tzinfo=dt.UTC)
    written = append_at(far)
    assert where(written[0]["seq"]) == f"{PARTS}.accesslog_entry_default"  # kept, never refused
    assert chain_verify().ok
    state = partitions_ensure(1)
    assert not state.ok and state.in_default == 1
    with pytest.raises(CommandError):
        call_command("accesslog_partitions", "--check")
    assert "1 entries in the default partition" in capsys.readouterr().out
    with pytest.raises(DatabaseError), transaction.atomic():  # that month cannot be attached over it
        with connection.cursor() as cur:
            cur.execute("SELECT accesslog_partition_create(%s)", [far.date()])


def test_the_job_makes_the_months_ahead_once(settings):
    from accesslog.tasks import access_log_partitions_task

    assert settings.CELERY_BEAT_SCHEDULE["accesslog-partitions"]["task"] == "accesslog.tasks.access_log_partitions_task"
    today = dt.date(2031, 11, 20)
    state = partitions_ensure(3, today=today)
    assert state.created == [f"accesslog_entry_{m}" for m in ("2031_11", "2031_12", "2032_01", "2032_02")]
    assert state.months_ahead == 3
    again = partitions_ensure(3, today=today)
    assert again.created == [] and again.ok
    assert access_log_partitions_task().startswith("OK")
    call_command("accesslog_partitions", "--ahead", "2")


def test_every_partition_keeps_the_append_only_rules_for_the_owner():
    """Row triggers are cloned onto each partition; TRUNCATE and INSERT naming a partition are
    refused by the partition's own statement triggers (rows routed through the parent pass)."""
    now = dt.datetime.now(dt.UTC)
    partitions_ensure(1)
    append_at(now, 2)
    part = month_name(now)
    for statement in (
        f"UPDATE {part} SET actor_username = 'x'",
        f"DELETE FROM {part}",
        f"TRUNCATE {part}",
        f"TRUNCATE {PARTS}.accesslog_entry_default",
        f"INSERT INTO {part} SELECT * FROM accesslog_entry LIMIT 1",
        f"INSERT INTO {PARTS}.accesslog_entry_default SELECT * FROM accesslog_entry LIMIT 1",
    ):
        with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cur:
            cur.execute(statement)
    assert chain_verify().ok


def test_the_application_role_can_neither_make_nor_touch_partitions(app_role):
    now = dt.datetime.now(dt.UTC)
    partitions_ensure(1)
    append_at(now, 1)
    part = month_name(now)
    nxt = now.replace(day=1) + dt.timedelta(days=400)
    attempts = {
        "create a partition": f"CREATE TABLE {PARTS}.x PARTITION OF accesslog_entry FOR VALUES FROM "
        "('2090-01-01') TO ('2090-02-01')",
        "create one in public": "CREATE TABLE public.x PARTITION OF accesslog_entry FOR VALUES FROM "
        "('2090-01-01') TO ('2090-02-01')",
        "the owner's function": f"SELECT accesslog_partition_create('{nxt:%Y-%m-%d}')",
        "attach a table": "CREATE TEMP TABLE x (LIKE accesslog_entry); ALTER TABLE accesslog_entry ATTACH PARTITION x "
        "FOR VALUES FROM ('2090-01-01') TO ('2090-02-01')",
        "detach a month": f"ALTER TABLE accesslog_entry DETACH PARTITION {part}",
        "detach the default": f"ALTER TABLE accesslog_entry DETACH PARTITION {PARTS}.accesslog_entry_default",
        "drop a month": f"DROP TABLE {part}",
        "truncate a month": f"TRUNCATE {part}",
        "delete from a month": f"DELETE FROM {part}",
        "read a month directly": f"SELECT count(*) FROM {part}",
        "insert into a month": f"INSERT INTO {part} SELECT * FROM accesslog_entry LIMIT 1",
        "disable a month's triggers": f"ALTER TABLE {part} DISABLE TRIGGER USER",
    }
    allowed = [what for what, sql in attempts.items() if not _as_role(app_role, sql)]
    assert allowed == []
    # … and the job itself, run as the application role, is refused.
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cur:
        cur.execute(f"SET LOCAL ROLE {connection.ops.quote_name(app_role)}")
        partitions_ensure(1, today=nxt.date())


def test_the_application_role_appends_and_reads_through_the_parent(app_role):
    partitions_ensure(1)
    with transaction.atomic(), connection.cursor() as cur:
        cur.execute(f"SET LOCAL ROLE {connection.ops.quote_name(app_role)}")
        entries_append_many([{"actor_kind": "person", "event": "view", "outcome": 0, "citizen_id": 1}] * 3)
        cur.execute("SELECT count(*) FROM accesslog_entry")
        assert cur.fetchone()[0] >= 3
        cur.execute("RESET ROLE")
    assert chain_verify().ok


@TRANSACTIONAL
def test_the_migration_partitions_a_populated_log_and_back():
    """Back to the unpartitioned table (0006) with entries in three months, then forward (0007):
    every entry in its month, the chain whole, the id sequence continued."""
    call_command("migrate", "accesslog", "0006", verbosity=0)
    try:
        now = dt.datetime.now(dt.UTC)
        months = [now - dt.timedelta(days=400), now - dt.timedelta(days=60), now]
        for when in months:
            append_at(when, 3)
        with connection.cursor() as cur:
            cur.execute("SELECT count(*), max(id) FROM accesslog_entry")
            count, max_id = cur.fetchone()
    finally:
        call_command("migrate", "accesslog", verbosity=0)
    result = chain_verify()
    assert result.ok, result.line()
    with connection.cursor() as cur:
        cur.execute("SELECT count(*) FROM accesslog_entry")
        assert cur.fetchone()[0] == count
        cur.execute("SELECT tableoid::regclass::text, count(*) FROM accesslog_entry GROUP BY 1")
        by_partition = dict(cur.fetchall())
    for when in months:
        assert by_partition.get(month_name(when), 0) >= 3
    written = entries_append_many([{"actor_kind": "person", "event": "view", "outcome": 0}])
    with connection.cursor() as cur:
        cur.execute("SELECT id FROM accesslog_entry WHERE seq = %s", [written[0]["seq"]])
        assert cur.fetchone()[0] > max_id
    assert chain_verify().ok
