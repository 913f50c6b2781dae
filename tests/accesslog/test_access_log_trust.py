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
    onto the new last hash. Any per-entry marker of a keyed hash is set back to "unkeyed"."""
    keyed_marker = "key_id" in _columns()
    with transaction.atomic(), connection.cursor() as cur:
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
    ("take the owner's role", "SET ROLE NONE; SET ROLE {owner}"),
]


@pytest.fixture
def app_role(db):
    """The role the application runs as: DATABASE_URL's user."""
    from django.conf import settings

    return getattr(settings, "SSKDT_DATABASE_APP_ROLE", "") or connection.settings_dict["USER"]


def _owner() -> str:
    with connection.cursor() as cur:
        cur.execute("SELECT tableowner FROM pg_tables WHERE tablename = 'accesslog_entry'")
        return cur.fetchone()[0]


def _as_role(role: str, statement: str) -> bool:
    """Run `statement` as `role` (SET LOCAL ROLE in a transaction rolled back afterwards);
    True if PostgreSQL refused it."""
    sql = statement.format(owner=connection.ops.quote_name(_owner()))
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
        "or replace its triggers; ALTER or DROP the table; session_replication_role; SET ROLE to the owner",
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
    allowed = [what for what, ok in refused.items() if not ok]
    row.set(
        times=len(APP_ROLE_ATTEMPTS),
        figure=f"refused {len(APP_ROLE_ATTEMPTS) - len(allowed)}/{len(APP_ROLE_ATTEMPTS)}; "
        f"privileges UPDATE/DELETE/TRUNCATE/TRIGGER held: {len(privileges)}; owner is not the app role: "
        f"{'yes' if _owner() != app_role else 'no'}",
    )
    assert allowed == [], allowed
    assert privileges == []
    assert _owner() != app_role
