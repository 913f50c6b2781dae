"""The hash chain of the access log: append, verify, checkpoint.

Each entry stores `row_hash = SHA-256(prev_hash || "\\n" || canonical JSON of the entry)`;
the canonical JSON holds every column but `id` and `row_hash` (so `seq` and `prev_hash`
are covered: moving, editing or dropping an entry breaks the chain at that entry).

Appends are serialised by locking the one chain-head row FOR UPDATE, in a short transaction
of their own and two round trips (begin, lock and read the head; insert, advance the head,
commit and, "group", wait for the flush). How the commit reaches the disk is
SSKDT_ACCESS_LOG_COMMIT:

- "group" (default): the transaction commits without waiting for the WAL flush, so the head
  is held for about a millisecond instead of a flush; then, with the head released, the
  caller waits until the WAL is flushed past its entry (a synchronous commit of a WAL
  message, `pg_logical_emit_message`, sent with the COMMIT). Concurrent appenders share their flushes (group
  commit), and no caller returns — no page is shown — before its entry is on disk.
- "sync": the commit waits for the flush while holding the head: the same guarantee, at most
  one append per disk flush portal-wide.
- "async": nobody waits; a database crash can lose the entries of the last WAL-writer delay
  (up to ~600 ms) after their pages were shown. Never a gap: WAL is sequential, so lost
  entries are always the newest ones, together with their chain head.

The verifier walks the chain in seq order and
names the first entry that does not fit; the chain head and an external checkpoint file catch the deletion of the newest
entries, which the chain alone cannot show.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import uuid
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

GENESIS = "0" * 64

# Column order of the table (id excluded); the canonical form uses these names.
FIELDS = (
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
_INSERT_FIELDS = FIELDS + ("row_hash",)
_INSERT_SQL = (  # noqa: S608 — constant column names
    "INSERT INTO accesslog_entry ({cols}) VALUES ({vals});"
    " UPDATE accesslog_chain_head SET seq = %s, row_hash = %s, updated_at = %s WHERE id = 1"
).format(cols=", ".join(_INSERT_FIELDS), vals=", ".join(["%s"] * len(_INSERT_FIELDS)))


def _norm(name: str, value):
    if value is None:
        return None
    if name == "recorded_at":
        return value.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    if name == "book_public_id":
        return str(value)
    if name == "source_ip":
        return str(value)
    if name == "details" and isinstance(value, str):
        return json.loads(value)
    if name in ("prev_hash", "row_hash"):
        return value.strip()
    return value


def canonical(entry: dict) -> bytes:
    """The bytes that are hashed for one entry (sorted keys, no spaces, UTF-8)."""
    data = {name: _norm(name, entry.get(name)) for name in FIELDS}
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def entry_hash(prev_hash: str, entry: dict) -> str:
    return hashlib.sha256(prev_hash.encode("ascii") + b"\n" + canonical(entry)).hexdigest()


def entry_append(fields: dict) -> dict:
    """Append one entry to the chain and return it (with seq, prev_hash, row_hash).

    `fields` holds the columns of FIELDS except seq, recorded_at and prev_hash. Runs in its
    own transaction (a savepoint when called inside one: then the chain head stays locked
    until the caller commits, so callers keep such transactions short).
    """
    entry = {name: fields.get(name) for name in FIELDS}
    entry["details"] = fields.get("details") or {}
    for text in (
        "actor_username",
        "actor_name",
        "actor_role",
        "facility_code",
        "facility_name",
        "client_ref",
        "viewed",
        "purpose",
        "request_id",
    ):
        entry[text] = (entry[text] or "")[: _MAX.get(text, 200)]
    if not connection.in_atomic_block:
        return _append_own(entry, settings.SSKDT_ACCESS_LOG_COMMIT)
    # Inside a caller's transaction the entry commits with it (a savepoint here; SET LOCAL would
    # change how the caller's whole transaction commits, so the caller's mode applies).
    with transaction.atomic(), connection.cursor() as cur:
        cur.execute(_HEAD_SQL)
        _chain(entry, *cur.fetchone())
        cur.execute(_INSERT_SQL, _insert_params(entry))
    return entry


_HEAD_SQL = "SELECT seq, row_hash FROM accesslog_chain_head WHERE id = 1 FOR UPDATE"
# Returns once the WAL is flushed to disk up to now (the entry's commit included). A synchronous
# commit waits for the flush of everything written before it, but PostgreSQL skips the wait for a
# transaction that wrote no WAL; a transactional logical-decoding message is the smallest WAL
# write any role may make (no table, no lock). Concurrent appenders are flushed together.
_FLUSH_SQL = "SET LOCAL synchronous_commit = on; SELECT pg_logical_emit_message(true, 'sskdt.accesslog.flush', '')"


def _chain(entry: dict, head_seq: int, head_hash: str) -> None:
    entry["seq"] = head_seq + 1
    entry["prev_hash"] = head_hash.strip()
    entry["recorded_at"] = timezone.now()
    entry["row_hash"] = entry_hash(entry["prev_hash"], entry)


def _insert_params(entry: dict) -> list:
    values = [json.dumps(entry[n], ensure_ascii=False) if n == "details" else entry[n] for n in _INSERT_FIELDS]
    return [*values, entry["seq"], entry["row_hash"], entry["recorded_at"]]


def _append_own(entry: dict, mode: str) -> dict:
    """An append in a transaction of its own, in two round trips: BEGIN and lock the chain
    head; then insert, advance the head, COMMIT and — "group" — wait for the WAL flush with
    the head released (one message: the statements after COMMIT form a transaction of their
    own, committed synchronously, see _FLUSH_SQL). The head is held for about a round
    trip; "sync" holds it through the flush; "async" does not wait."""
    sql = _INSERT_SQL + "; COMMIT"
    if mode != "sync":
        # Waiting for the flush before COMMIT returns, with the head locked, would cap the whole
        # portal at one append per disk flush (see docs/doctor-book.md).
        sql = "SET LOCAL synchronous_commit = off; " + sql
    if mode == "group":
        sql += "; " + _FLUSH_SQL
    with connection.cursor() as cur:
        try:
            cur.execute("BEGIN; " + _HEAD_SQL)
            cur.nextset()
            _chain(entry, *cur.fetchone())
            cur.execute(sql, _insert_params(entry))
        except BaseException:
            _rollback_quietly(cur)
            raise
    return entry


def _rollback_quietly(cur) -> None:
    """End the transaction BEGIN opened (after COMMIT it is a no-op, after a lost connection
    impossible: the caller's error is the one that matters)."""
    try:
        cur.execute("ROLLBACK")
    except Exception:  # noqa: BLE001, S110 — the original error is re-raised by the caller
        pass


_MAX = {
    "actor_username": 150,
    "actor_name": 150,
    "actor_role": 32,
    "facility_code": 16,
    "facility_name": 255,
    "client_ref": 64,
    "viewed": 200,
    "purpose": 8,
    "request_id": 64,
}


@dataclass(frozen=True)
class VerifyResult:
    ok: bool
    entries: int
    head_seq: int
    head_hash: str
    broken_seq: int | None = None
    broken_id: int | None = None
    reason: str = ""

    def line(self) -> str:
        if self.ok:
            return f"OK: {self.entries} entries verified, head seq {self.head_seq} hash {self.head_hash}"
        where = f"entry seq {self.broken_seq}" + (f" (id {self.broken_id})" if self.broken_id else "")
        return f"BROKEN at {where}: {self.reason}"


@dataclass(frozen=True)
class Checkpoint:
    seq: int
    row_hash: str
    written_at: str = ""


def checkpoint_read(path: str | os.PathLike | None = None) -> Checkpoint | None:
    path = Path(path or settings.SSKDT_ACCESS_LOG_CHECKPOINT)
    if not path.exists():
        return None
    data = json.loads(path.read_text())
    return Checkpoint(int(data["seq"]), str(data["row_hash"]), str(data.get("written_at", "")))


def checkpoint_write(result: VerifyResult, path: str | os.PathLike | None = None) -> Checkpoint:
    """Record the verified head outside the database (atomic rename)."""
    path = Path(path or settings.SSKDT_ACCESS_LOG_CHECKPOINT)
    path.parent.mkdir(parents=True, exist_ok=True)
    cp = Checkpoint(result.head_seq, result.head_hash, timezone.now().isoformat())
    tmp = path.with_suffix(f".{uuid.uuid4().hex}.tmp")
    tmp.write_text(json.dumps({"seq": cp.seq, "row_hash": cp.row_hash, "written_at": cp.written_at}) + "\n")
    os.replace(tmp, path)
    return cp


_SELECT = "SELECT id, {cols}, row_hash FROM accesslog_entry WHERE seq > %s ORDER BY seq".format(  # noqa: S608
    cols=", ".join(FIELDS)  # constant column names
)


def chain_verify(*, checkpoint: Checkpoint | None = None, since: Checkpoint | None = None) -> VerifyResult:
    """Walk the chain in order and return OK or the first entry that does not fit.

    `checkpoint`: an externally kept (seq, hash) that must still be in the chain. `since`:
    start after a trusted checkpoint instead of the genesis (incremental verification).
    """
    with connection.cursor() as cur:
        cur.execute("SELECT seq, row_hash FROM accesslog_chain_head WHERE id = 1")
        head_seq, head_hash = cur.fetchone()
    head_hash = head_hash.strip()
    prev_seq, prev_hash = (since.seq, since.row_hash) if since else (0, GENESIS)
    count = 0
    found_checkpoint = checkpoint is None or checkpoint.seq == 0 or (since is not None and since == checkpoint)
    names = ("id",) + FIELDS + ("row_hash",)
    # A named (server-side) cursor streams the chain without loading it into memory.
    connection.ensure_connection()
    with transaction.atomic(), connection.connection.cursor(name="accesslog_verify") as cur:
        cur.itersize = 5000
        cur.execute(_SELECT, [prev_seq])
        for row in cur:
            entry = dict(zip(names, row, strict=True))
            seq, stored = entry["seq"], entry["row_hash"].strip()

            def broken(reason: str, entry=entry, seq=seq, count=count) -> VerifyResult:
                return VerifyResult(False, count, head_seq, head_hash, seq, entry["id"], reason)

            if seq != prev_seq + 1:
                return broken(f"expected seq {prev_seq + 1}: entries are missing or moved")
            if entry["prev_hash"].strip() != prev_hash:
                return broken("prev_hash does not match the previous entry (deleted, reordered or edited)")
            if entry_hash(prev_hash, entry) != stored:
                return broken("content does not match its hash (edited)")
            if checkpoint and seq == checkpoint.seq:
                if stored != checkpoint.row_hash:
                    return broken("differs from the external checkpoint")
                found_checkpoint = True
            prev_seq, prev_hash = seq, stored
            count += 1
    if (prev_seq, prev_hash) != (head_seq, head_hash):
        return VerifyResult(
            False,
            count,
            head_seq,
            head_hash,
            prev_seq + 1,
            None,
            f"the chain head says seq {head_seq} but the last entry is seq {prev_seq} (newest entries deleted)",
        )
    if not found_checkpoint:
        return VerifyResult(
            False,
            count,
            head_seq,
            head_hash,
            checkpoint.seq,
            None,
            f"the external checkpoint names seq {checkpoint.seq}, which is no longer in the "
            "chain (newest entries deleted and the head rewritten)",
        )
    return VerifyResult(True, count, head_seq, head_hash)
