"""R8: the access log is append-only for any role, and every tampering a superuser can do
with the triggers disabled is detected by the verifier (edit, delete, reorder, drop the tail)."""

import json

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection, transaction
from django.db.utils import DatabaseError

from accesslog.chain import chain_verify
from accesslog.checkpoints import checkpoint_read, checkpoint_write
from accesslog.services import Actor, access_log_record

pytestmark = pytest.mark.django_db


def write(n: int = 5):
    for i in range(n):
        access_log_record(
            actor=Actor(kind="person", username=f"bs{i}", name="Bác sĩ Thử"),
            event="view",
            viewed="book",
            outcome=0,
            purpose="TREAT",
            details={"i": i, "ghi chú": "ồ"},
        )


def as_attacker(sql: str, params=()):
    """Run SQL as the superuser with the append-only triggers switched off."""
    with connection.cursor() as cur:
        cur.execute("ALTER TABLE accesslog_entry DISABLE TRIGGER USER")
        cur.execute("ALTER TABLE accesslog_chain_head DISABLE TRIGGER USER")
        cur.execute(sql, params)
        cur.execute("ALTER TABLE accesslog_entry ENABLE TRIGGER USER")
        cur.execute("ALTER TABLE accesslog_chain_head ENABLE TRIGGER USER")


def head_seq() -> int:
    with connection.cursor() as cur:
        cur.execute("SELECT seq FROM accesslog_chain_head")
        return cur.fetchone()[0]


def test_untouched_chain_verifies():
    write()
    result = chain_verify()
    assert result.ok and result.head_seq == head_seq() and result.line().startswith("OK")


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE accesslog_entry SET actor_username = 'x'",
        "DELETE FROM accesslog_entry",
        "TRUNCATE accesslog_entry",
        "DELETE FROM accesslog_chain_head",
        "UPDATE accesslog_chain_head SET seq = seq - 1",
    ],
)
def test_changes_are_refused_even_for_the_table_owner(statement):
    write(2)
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cur:
        cur.execute(statement)


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE accesslog_entry SET actor_username = 'x'",
        "DELETE FROM accesslog_entry",
        "TRUNCATE accesslog_entry",
    ],
)
def test_application_role_cannot_change_history(statement, app_role):
    """Even given every table privilege (which it does not have: test_access_log_trust.py), the
    application role is still stopped by the triggers."""
    write(2)
    with connection.cursor() as cur:
        cur.execute(f"GRANT ALL ON accesslog_entry, accesslog_chain_head TO {connection.ops.quote_name(app_role)}")
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cur:
        cur.execute(f"SET LOCAL ROLE {connection.ops.quote_name(app_role)}")
        cur.execute(statement)


def test_insert_outside_the_chain_is_refused():
    write(1)
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cur:
        cur.execute(
            "INSERT INTO accesslog_entry (seq, recorded_at, actor_kind, event, outcome, prev_hash, row_hash)"
            " VALUES (999, now(), 'person', 'view', 0, repeat('0', 64), repeat('0', 64))"
        )


def test_edited_entry_is_found():
    write()
    target = head_seq() - 2
    as_attacker("UPDATE accesslog_entry SET actor_username = 'someone-else' WHERE seq = %s", [target])
    result = chain_verify()
    assert not result.ok and result.broken_seq == target and "edited" in result.reason


def test_edited_entry_with_a_hash_recomputed_without_the_key_is_found_at_that_entry():
    """Before the chain was keyed, a recomputed hash made the edit show only at the next link;
    now nobody without SSKDT_ACCESS_LOG_KEY can recompute it, so the edited entry itself fails."""
    from accesslog.chain import FIELDS, entry_hash

    write()
    target = head_seq() - 2
    with connection.cursor() as cur:
        cur.execute(f"SELECT {', '.join(FIELDS)} FROM accesslog_entry WHERE seq = %s", [target])  # noqa: S608
        entry = dict(zip(FIELDS, cur.fetchone(), strict=True))
    entry["actor_username"] = "forged"
    as_attacker(
        "UPDATE accesslog_entry SET actor_username = 'forged', row_hash = %s WHERE seq = %s",
        [entry_hash(entry["prev_hash"].strip(), entry), target],  # no key_id: what the database alone allows
    )
    result = chain_verify()
    assert not result.ok and result.broken_seq == target and "edited" in result.reason


def test_deleted_entry_in_the_middle_is_found():
    write()
    target = head_seq() - 2
    as_attacker("DELETE FROM accesslog_entry WHERE seq = %s", [target])
    result = chain_verify()
    assert not result.ok and result.broken_seq == target + 1 and "missing" in result.reason


def test_reordered_entries_are_found():
    write()
    a, b = head_seq() - 3, head_seq() - 2
    as_attacker("UPDATE accesslog_entry SET seq = -1 WHERE seq = %s", [a])
    as_attacker("UPDATE accesslog_entry SET seq = %s WHERE seq = %s", [a, b])
    as_attacker("UPDATE accesslog_entry SET seq = %s WHERE seq = -1", [b])
    result = chain_verify()
    assert not result.ok and result.broken_seq == a


def test_swapped_contents_are_found():
    write()
    a, b = head_seq() - 3, head_seq() - 2
    as_attacker(
        "UPDATE accesslog_entry e SET actor_username = o.actor_username FROM accesslog_entry o"
        " WHERE (e.seq, o.seq) IN ((%s, %s), (%s, %s))",
        [a, b, b, a],
    )
    result = chain_verify()
    assert not result.ok and result.broken_seq == a


def test_deleted_tail_is_found_by_the_chain_head():
    write()
    as_attacker("DELETE FROM accesslog_entry WHERE seq > %s", [head_seq() - 2])
    result = chain_verify()
    assert not result.ok and "newest entries deleted" in result.reason


def test_deleted_tail_with_rewritten_head_is_found_by_the_external_checkpoint(tmp_path):
    write()
    path = tmp_path / "checkpoint.json"
    checkpoint_write(chain_verify(), path)
    keep = head_seq() - 2
    as_attacker("DELETE FROM accesslog_entry WHERE seq > %s", [keep])
    as_attacker(
        "UPDATE accesslog_chain_head SET seq = e.seq, row_hash = e.row_hash FROM accesslog_entry e WHERE e.seq = %s",
        [keep],
    )
    assert chain_verify().ok  # the chain alone cannot tell …
    result = chain_verify(checkpoint=checkpoint_read(path))
    assert not result.ok and "checkpoint" in result.reason  # … the anchor kept outside can


def test_command_prints_ok_and_writes_the_checkpoint(tmp_path, capsys):
    write(3)
    path = tmp_path / "cp.jsonl"
    call_command("verify_access_log", "--checkpoint", str(path), "--write-checkpoint")
    out = capsys.readouterr().out
    assert "\nOK:" in out and json.loads(path.read_text())["seq"] == head_seq()


def test_command_names_the_first_broken_entry(tmp_path, capsys):
    write(4)
    target = head_seq() - 1
    as_attacker("UPDATE accesslog_entry SET viewed = 'nothing' WHERE seq = %s", [target])
    with pytest.raises(CommandError):
        call_command("verify_access_log", "--checkpoint", str(tmp_path / "none.json"))
    assert f"BROKEN at entry seq {target}" in capsys.readouterr().out


def test_checkpoint_task_moves_only_over_a_sound_chain(tmp_path, settings):
    from accesslog.tasks import access_log_checkpoint_task

    settings.SSKDT_ACCESS_LOG_CHECKPOINT = str(tmp_path / "cp.json")
    write(2)
    assert access_log_checkpoint_task().startswith("OK")
    first = checkpoint_read()
    write(2)
    as_attacker("UPDATE accesslog_entry SET viewed = 'x' WHERE seq = %s", [head_seq()])
    assert access_log_checkpoint_task().startswith("BROKEN")
    assert checkpoint_read() == first
