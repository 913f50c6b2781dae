"""T6: the access log cannot be rewritten by the application's database role, nor re-chained by
anyone who has the database alone.

Two attacks of issue 15, point 6, as an attacker would try them:

1. The application's database role (DATABASE_URL) owned the log table, so it could switch the
   append-only triggers off (or drop them, or the table) and then change history.
2. The hourly checkpoint task verified only the entries since the last checkpoint and sealed
   them again: an entry edited after the last checkpoint, with every later hash recomputed and
   the chain head moved to the new hash (all of which the database alone allows), passed both
   the task and a full `verify_access_log`.
"""

from __future__ import annotations

import hashlib
import json

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection, transaction
from django.db.utils import DatabaseError

from accesslog.services import Actor, access_log_record

pytestmark = pytest.mark.django_db

# The columns hashed before the chain was keyed (accesslog/migrations/0002): what an attacker who
# reads the migration and the database knows.
LEGACY_FIELDS = (
    "seq",
    "recorded_at",
    "actor_kind",
    "actor_user_id",
    "actor_username",
    "actor_name",
    "actor_role",
    "facility_id",
    "facility_code",
    "facility_name",
    "client_ref",
    "citizen_id",
    "book_public_id",
    "event",
    "viewed",
    "purpose",
    "outcome",
    "source_ip",
    "request_id",
    "details",
    "prev_hash",
)


def write(n: int, who: str = "bs") -> None:
    for i in range(n):
        access_log_record(
            actor=Actor(kind="person", username=f"{who}{i}", name="Bác sĩ Thử"),
            event="view",
            viewed="book",
            outcome=0,
            purpose="TREAT",
            details={"i": i},
        )


def head() -> tuple[int, str]:
    with connection.cursor() as cur:
        cur.execute("SELECT seq, row_hash FROM accesslog_chain_head WHERE id = 1")
        seq, row_hash = cur.fetchone()
    return seq, row_hash.strip()


def _columns() -> set[str]:
    with connection.cursor() as cur:
        cur.execute("SELECT column_name FROM information_schema.columns WHERE table_name = 'accesslog_entry'")
        return {r[0] for r in cur.fetchall()}


def _plain_hash(prev_hash: str, entry: dict) -> str:
    """SHA-256 over the canonical JSON, as the migration's chain defines it (no secret needed)."""

    def norm(name, value):
        if value is None:
            return None
        if name == "recorded_at":
            import datetime as dt

            return value.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        if name in ("book_public_id", "source_ip"):
            return str(value)
        if name == "details" and isinstance(value, str):
            return json.loads(value)
        if name == "prev_hash":
            return value.strip()
        return value

    data = {name: norm(name, entry.get(name)) for name in LEGACY_FIELDS}
    canonical = json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
    return hashlib.sha256(prev_hash.encode("ascii") + b"\n" + canonical).hexdigest()


def rechain_from(seq: int, *, username: str) -> None:
    """The forgery: as the table owner with the triggers off, change the entry at `seq`, recompute
    every hash from there to the newest entry with what the database holds, move the chain head
    onto the new last hash. Any per-entry marker of a keyed hash is set back to "unkeyed" (and
    any constraint against that dropped: the owner may)."""
    keyed_marker = "key_id" in _columns()
    with transaction.atomic(), connection.cursor() as cur:
        cur.execute("ALTER TABLE accesslog_entry DROP CONSTRAINT IF EXISTS accesslog_entry_keyed")
        cur.execute("ALTER TABLE accesslog_entry DISABLE TRIGGER USER")
        cur.execute("ALTER TABLE accesslog_chain_head DISABLE TRIGGER USER")
        cur.execute(
            f"SELECT {', '.join(LEGACY_FIELDS)} FROM accesslog_entry WHERE seq >= %s ORDER BY seq",  # noqa: S608
            [seq],
        )
        rows = [dict(zip(LEGACY_FIELDS, r, strict=True)) for r in cur.fetchall()]
        prev = rows[0]["prev_hash"].strip()
        rows[0]["actor_username"] = username
        for entry in rows:
            entry["prev_hash"] = prev
            prev = _plain_hash(prev, entry)
            marker = ", key_id = ''" if keyed_marker else ""
            cur.execute(
                f"UPDATE accesslog_entry SET actor_username = %s, prev_hash = %s, row_hash = %s{marker} WHERE seq = %s",
                [entry["actor_username"], entry["prev_hash"], prev, entry["seq"]],
            )
        cur.execute("UPDATE accesslog_chain_head SET row_hash = %s WHERE id = 1", [prev])
        cur.execute("ALTER TABLE accesslog_entry ENABLE TRIGGER USER")
        cur.execute("ALTER TABLE accesslog_chain_head ENABLE TRIGGER USER")


def test_t6_rechained_forgery_within_the_hour_is_caught(proof, settings, tmp_path):
    from accesslog.tasks import access_log_checkpoint_task

    row = proof.row(
        "T6",
        "re-chain after the hourly checkpoint: edit an entry written since, recompute every later hash "
        "and the chain head with what the database holds, then run the checkpoint task and a full verify",
    )
    settings.SSKDT_ACCESS_LOG_CHECKPOINT = str(tmp_path / "checkpoints.jsonl")
    write(3)
    assert access_log_checkpoint_task().startswith("OK")
    sealed = (tmp_path / "checkpoints.jsonl").read_text()
    write(4, who="later")
    target = head()[0] - 2
    rechain_from(target, username="someone-else")

    task = access_log_checkpoint_task()
    full_ok = True
    try:
        call_command("verify_access_log")
    except CommandError:
        full_ok = False
    resealed = (tmp_path / "checkpoints.jsonl").read_text() != sealed
    row.set(
        times=2,
        figure=f"checkpoint task: {task.split(':')[0]}; re-sealed over the forgery: {'yes' if resealed else 'no'}; "
        f"full verify: {'passed' if full_ok else 'caught it'}",
    )
    assert not task.startswith("OK"), task
    assert not resealed
    assert not full_ok


# --- the application role -------------------------------------------------------------------

APP_ROLE_ATTEMPTS = [
    ("UPDATE a row", "UPDATE accesslog_entry SET actor_username = 'x'"),
    ("DELETE rows", "DELETE FROM accesslog_entry"),
    ("TRUNCATE", "TRUNCATE accesslog_entry"),
    ("DELETE the chain head", "DELETE FROM accesslog_chain_head"),
    ("TRUNCATE the chain head", "TRUNCATE accesslog_chain_head"),
    ("disable its triggers", "ALTER TABLE accesslog_entry DISABLE TRIGGER USER"),
    ("disable every trigger", "ALTER TABLE accesslog_entry DISABLE TRIGGER ALL"),
    ("disable the head's triggers", "ALTER TABLE accesslog_chain_head DISABLE TRIGGER USER"),
    ("drop a trigger", "DROP TRIGGER accesslog_entry_no_update_delete ON accesslog_entry"),
    ("alter the table", "ALTER TABLE accesslog_entry ADD COLUMN note text"),
    ("drop the table", "DROP TABLE accesslog_entry"),
    (
        "replace a trigger function",
        "CREATE OR REPLACE FUNCTION accesslog_forbid_change() RETURNS trigger LANGUAGE plpgsql AS "
        "$$ BEGIN RETURN NULL; END $$",
    ),
    ("switch triggers off for the session", "SET session_replication_role = replica"),
    ("hand the table to itself", "ALTER TABLE accesslog_entry OWNER TO CURRENT_USER"),
    (
        "grant itself more",  # PostgreSQL only warns that nothing was granted: check the effect
        "GRANT UPDATE, DELETE, TRUNCATE ON accesslog_entry TO CURRENT_USER; DO $$ BEGIN IF NOT "
        "has_table_privilege(current_user, 'accesslog_entry', 'UPDATE') THEN RAISE EXCEPTION 'not granted'; "
        "END IF; END $$",
    ),
]


def _owner() -> str:
    with connection.cursor() as cur:
        cur.execute("SELECT tableowner FROM pg_tables WHERE tablename = 'accesslog_entry'")
        return cur.fetchone()[0]


def _as_role(role: str, statement: str) -> bool:
    """Run `statement` as `role` (SET LOCAL ROLE in a transaction rolled back afterwards);
    True if PostgreSQL refused it."""
    sql = statement
    try:
        with transaction.atomic(), connection.cursor() as cur:
            cur.execute(f"SET LOCAL ROLE {connection.ops.quote_name(role)}")
            cur.execute(sql)
            cur.execute("RESET ROLE")
            raise _Rollback
    except DatabaseError:
        return True
    except _Rollback:
        return False


class _Rollback(Exception):
    pass


def test_t6_application_role_can_neither_change_nor_unprotect_the_log(proof, app_role):
    row = proof.row(
        "T6",
        "as the application's database role: UPDATE, DELETE, TRUNCATE the log and its head; disable, drop "
        "or replace its triggers; ALTER or DROP the table; session_replication_role; take ownership or grant "
        "itself privileges; membership of the owner role",
    )
    write(2)
    refused = {what: _as_role(app_role, sql) for what, sql in APP_ROLE_ATTEMPTS}
    with connection.cursor() as cur:
        cur.execute(
            "SELECT p FROM unnest(ARRAY['UPDATE', 'DELETE', 'TRUNCATE', 'TRIGGER']) AS p"
            " WHERE has_table_privilege(%s, 'accesslog_entry', p)",
            [app_role],
        )
        privileges = [r[0] for r in cur.fetchall()]
        cur.execute("SELECT pg_has_role(%s, %s, 'MEMBER')", [app_role, _owner()])
        member_of_owner = cur.fetchone()[0]
    allowed = [what for what, ok in refused.items() if not ok]
    row.set(
        times=len(APP_ROLE_ATTEMPTS),
        figure=f"refused {len(APP_ROLE_ATTEMPTS) - len(allowed)}/{len(APP_ROLE_ATTEMPTS)}; "
        f"privileges UPDATE/DELETE/TRUNCATE/TRIGGER held: {len(privileges)}; owner is not the app role: "
        f"{'yes' if _owner() != app_role else 'no'}; member of the owner role: {'yes' if member_of_owner else 'no'}",
    )
    assert allowed == [], allowed
    assert not member_of_owner
    assert privileges == []
    assert _owner() != app_role


# --- the keyed chain -----------------------------------------------------------------------------


def _legacy_append(n: int) -> None:
    """Entries as they were written before the chain was keyed (plain SHA-256, key_id ''), which
    the migration's CHECK no longer admits: dropped for this test (rolled back with it)."""
    import datetime as dt

    with connection.cursor() as cur:
        cur.execute("ALTER TABLE accesslog_entry DROP CONSTRAINT IF EXISTS accesslog_entry_keyed")
        for i in range(n):
            seq, prev = head()
            entry = {name: None for name in LEGACY_FIELDS}
            entry.update(
                seq=seq + 1,
                recorded_at=dt.datetime.now(dt.UTC),
                actor_kind="person",
                actor_username=f"cu{i}",
                actor_name="",
                actor_role="",
                facility_code="",
                facility_name="",
                client_ref="",
                event="view",
                viewed="book",
                purpose="",
                outcome=0,
                request_id="",
                details={},
                prev_hash=prev,
            )
            row_hash = _plain_hash(prev, entry)
            cols = [*LEGACY_FIELDS, "row_hash"]
            values = [json.dumps(entry[c]) if c == "details" else entry[c] for c in LEGACY_FIELDS] + [row_hash]
            cur.execute(
                f"INSERT INTO accesslog_entry ({', '.join(cols)}) VALUES ({', '.join(['%s'] * len(cols))})",  # noqa: S608
                values,
            )
            cur.execute(
                "UPDATE accesslog_chain_head SET seq = %s, row_hash = %s, updated_at = now() WHERE id = 1",
                [seq + 1, row_hash],
            )


def test_entries_from_before_the_key_still_verify_and_keying_never_stops(tmp_path):
    from accesslog.chain import chain_verify

    _legacy_append(3)
    write(3)
    result = chain_verify()
    assert result.ok, result.line()
    assert result.keyed_from == head()[0] - 2  # the first keyed entry
    _legacy_append(1)  # an unkeyed entry after keyed ones: a downgrade
    result = chain_verify()
    assert not result.ok and result.broken_seq == head()[0] and "without the key" in result.reason


def test_a_new_entry_without_the_key_is_refused_by_the_database():
    write(1)
    seq, prev = head()
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cur:
        cur.execute(
            "INSERT INTO accesslog_entry (seq, recorded_at, actor_kind, event, outcome, prev_hash, row_hash)"
            " VALUES (%s, now(), 'person', 'view', 0, %s, repeat('0', 64))",
            [seq + 1, prev],
        )


def test_whole_chain_rewritten_without_the_key_is_caught_by_the_checkpoint(settings, tmp_path):
    """The database alone can rewrite every entry as "unkeyed" from the genesis; the checkpoint
    kept outside says where keying started, and which hash the head had."""
    from accesslog.chain import chain_verify
    from accesslog.checkpoints import checkpoint_write
    from accesslog.tasks import access_log_checkpoint_task

    settings.SSKDT_ACCESS_LOG_CHECKPOINT = str(tmp_path / "cp.jsonl")
    write(4)
    checkpoint_write(chain_verify())
    rechain_from(1, username="rewritten")
    with pytest.raises(CommandError):
        call_command("verify_access_log")
    assert not access_log_checkpoint_task().startswith("OK")


def test_rotated_keys_still_verify_what_they_sealed(settings):
    from accesslog.chain import chain_verify

    write(2)
    old = settings.SSKDT_ACCESS_LOG_KEY
    settings.SSKDT_ACCESS_LOG_KEY = "rotated-" + "n3w" * 12
    write(2)
    assert not chain_verify().ok and "does not hold" in chain_verify().reason
    settings.SSKDT_ACCESS_LOG_OLD_KEYS = [old]
    assert chain_verify().ok


# --- checkpoints ---------------------------------------------------------------------------


def test_a_forged_checkpoint_is_refused_and_never_used_as_a_start(settings, tmp_path, capsys):
    from accesslog.chain import chain_verify
    from accesslog.checkpoints import checkpoint_write, checkpoints_read
    from accesslog.tasks import access_log_checkpoint_task

    path = tmp_path / "cp.jsonl"
    settings.SSKDT_ACCESS_LOG_CHECKPOINT = str(path)
    write(3)
    sealed = checkpoint_write(chain_verify())
    write(2)
    rechain_from(head()[0] - 1, username="forged")  # made after the checkpoint …
    seq, row_hash = head()
    forged = {**sealed.as_json(), "seq": seq, "row_hash": row_hash, "count": seq}  # … and "sealed" without the key
    with path.open("a") as fh:
        fh.write(json.dumps(forged) + "\n")
    held = checkpoints_read()
    assert held.newest == sealed and len(held.forged) == 1
    assert not access_log_checkpoint_task().startswith("OK")  # verified from the authentic one
    with pytest.raises(CommandError):
        call_command("verify_access_log")
    assert "FAILED authentication" in capsys.readouterr().out


def test_old_single_checkpoint_file_is_read_and_compared(settings, tmp_path, capsys):
    """The checkpoint file of before (one JSON object, no key) is still held against the chain."""
    from accesslog.chain import chain_verify

    write(2)
    path = tmp_path / "access-log-checkpoint.json"
    result = chain_verify()
    path.write_text(json.dumps({"seq": result.head_seq, "row_hash": result.head_hash, "written_at": "x"}))
    call_command("verify_access_log", "--checkpoints", str(path))
    assert "1 written before the key" in capsys.readouterr().out
    path.write_text(json.dumps({"seq": result.head_seq, "row_hash": "0" * 64, "written_at": "x"}))
    with pytest.raises(CommandError):
        call_command("verify_access_log", "--checkpoints", str(path))


def test_after_a_restore_a_rebase_checkpoint_supersedes_the_lost_tail(settings, tmp_path, capsys):
    from accesslog.chain import chain_verify
    from accesslog.checkpoints import checkpoint_write
    from tests.accesslog.test_access_log_chain import as_attacker

    settings.SSKDT_ACCESS_LOG_CHECKPOINT = str(tmp_path / "cp.jsonl")
    write(5)
    checkpoint_write(chain_verify())
    keep = head()[0] - 2  # a point-in-time restore lost the two newest entries and their head
    as_attacker("DELETE FROM accesslog_entry WHERE seq > %s", [keep])
    as_attacker(
        "UPDATE accesslog_chain_head SET seq = e.seq, row_hash = e.row_hash FROM accesslog_entry e WHERE e.seq = %s",
        [keep],
    )
    with pytest.raises(CommandError):
        call_command("verify_access_log")
    call_command("verify_access_log", "--rebase")
    capsys.readouterr()
    call_command("verify_access_log")
    assert "superseded by a restore" in capsys.readouterr().out
