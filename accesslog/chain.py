"""The hash chain of the access log: append, verify (checkpoints: accesslog/checkpoints.py).

Each entry stores `row_hash = HMAC-SHA-256(key, prev_hash || "\\n" || canonical JSON)`; the
canonical JSON holds every column but `id` and `row_hash` (so `seq`, `prev_hash` and `key_id`
are covered: moving, editing or dropping an entry breaks the chain at that entry). The key is
SSKDT_ACCESS_LOG_KEY, a secret the database never holds: whoever has the database alone — its
owner, a superuser, a stolen backup — cannot compute a hash, so cannot edit an entry and
re-chain the entries after it (issue 15, T6). `key_id` names the key an entry was sealed with
(a key id derived from the secret, see ChainKey), so keys can be rotated
(SSKDT_ACCESS_LOG_OLD_KEYS keeps the retired ones for verification).

Entries written before the chain was keyed (key_id '') keep their plain
`SHA-256(prev_hash || "\\n" || canonical JSON without key_id)` and still verify. Keying starts at
the first keyed entry and never stops: an unkeyed entry after a keyed one is a downgrade and
breaks the chain (a CHECK constraint refuses new unkeyed rows, migration 0004), and the external
checkpoints record where keying started (`keyed_from`), so a chain rewritten as "unkeyed"
from before that point is caught too.

Appends are serialised by locking the one chain-head row FOR UPDATE, in a short transaction
of their own and two round trips (begin, lock and read the head; insert, advance the head,
commit and, "group", wait for the flush). The HMAC is computed in Python between the two round
trips, as the plain hash was: the key never reaches the database. How the commit reaches the
disk is SSKDT_ACCESS_LOG_COMMIT:

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

The verifier walks the chain in seq order and names the first entry that does not fit; the
chain head and the external checkpoints catch the deletion of the newest entries, which the
chain alone cannot show.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import hmac
import json
from collections.abc import Iterable
from dataclasses import dataclass

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
# Hashed as well in keyed entries (and only there: the entries before keying hashed FIELDS).
KEYED_FIELDS = FIELDS + ("key_id",)
_INSERT_FIELDS = KEYED_FIELDS + ("row_hash",)
_COLUMNS = ", ".join(_INSERT_FIELDS)
_ROW_SQL = "(" + ", ".join(["%s"] * len(_INSERT_FIELDS)) + ")"
_HEAD_ADVANCE_SQL = "UPDATE accesslog_chain_head SET seq = %s, row_hash = %s, updated_at = %s WHERE id = 1"
_INSERT_SQL = f"INSERT INTO accesslog_entry ({_COLUMNS}) VALUES {_ROW_SQL}; {_HEAD_ADVANCE_SQL}"  # noqa: S608
# The bulk form: one array per column (unnest keeps their order), so a chunk of 2,000 entries is a
# statement of 26 parameters, not 46,000 placeholders for the driver to parse and bind one by one.
_ARRAY_TYPES = {
    "seq": "bigint",
    "recorded_at": "timestamptz",
    "actor_user_id": "integer",
    "facility_id": "integer",
    "citizen_id": "integer",
    "book_public_id": "uuid",
    "outcome": "smallint",
    "source_ip": "inet",
    "details": "jsonb",
}
_BULK_INSERT_SQL = (
    f"INSERT INTO accesslog_entry ({_COLUMNS}) SELECT * FROM unnest("  # noqa: S608
    + ", ".join(f"%s::{_ARRAY_TYPES.get(name, 'text')}[]" for name in _INSERT_FIELDS)
    + f"); {_HEAD_ADVANCE_SQL}"
)


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
    """The bytes that are hashed for one entry (sorted keys, no spaces, UTF-8); `key_id` is
    part of them in keyed entries only."""
    names = KEYED_FIELDS if (entry.get("key_id") or "").strip() else FIELDS
    data = {name: _norm(name, entry.get(name)) for name in names}
    if "key_id" in data:
        data["key_id"] = data["key_id"].strip()
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


@dataclass(frozen=True)
class ChainKey:
    """A secret that seals entries and checkpoints. Its id, stored with each entry, is an HMAC
    of a constant under the secret: it names the key without revealing anything about it."""

    id: str
    secret: bytes


@functools.lru_cache(maxsize=8)
def _chain_key(secret: str) -> ChainKey:
    raw = secret.encode("utf-8")
    return ChainKey(hmac.new(raw, b"sskdt access log key id", hashlib.sha256).hexdigest()[:12], raw)


def current_key() -> ChainKey:
    return _chain_key(settings.SSKDT_ACCESS_LOG_KEY)


def known_keys() -> dict[str, ChainKey]:
    """The current key and the retired ones (SSKDT_ACCESS_LOG_OLD_KEYS), by id."""
    keys = [current_key(), *(_chain_key(s) for s in getattr(settings, "SSKDT_ACCESS_LOG_OLD_KEYS", ()))]
    return {k.id: k for k in keys}


class UnknownKey(Exception):
    """An entry or checkpoint names a key this process does not hold."""


def entry_hash(prev_hash: str, entry: dict, *, keys: dict[str, ChainKey] | None = None) -> str:
    """The row hash of `entry` after `prev_hash`: HMAC with the key its `key_id` names, or the
    plain SHA-256 of the entries written before the chain was keyed (no `key_id`)."""
    message = prev_hash.encode("ascii") + b"\n" + canonical(entry)
    key_id = (entry.get("key_id") or "").strip()
    if not key_id:
        return hashlib.sha256(message).hexdigest()
    key = (keys if keys is not None else known_keys()).get(key_id)
    if key is None:
        raise UnknownKey(key_id)
    return hmac.new(key.secret, message, hashlib.sha256).hexdigest()


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
    key = current_key()
    entry["seq"] = head_seq + 1
    entry["prev_hash"] = head_hash.strip()
    entry["recorded_at"] = timezone.now()
    entry["key_id"] = key.id
    entry["row_hash"] = entry_hash(entry["prev_hash"], entry, keys={key.id: key})


def _row_params(entry: dict) -> list:
    return [json.dumps(entry[n], ensure_ascii=False) if n == "details" else entry[n] for n in _INSERT_FIELDS]


def _head_params(entry: dict) -> list:
    """The head advanced onto `entry`; `updated_at` is the entry's `recorded_at`, which tells the
    head's trigger the one partition to find the entry in when it moves by one (migration 0008:
    a book page's append then probes one month, not all of them)."""
    return [entry["seq"], entry["row_hash"], entry["recorded_at"]]


def _insert_params(entry: dict) -> list:
    return [*_row_params(entry), *_head_params(entry)]


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


# How many entries one bulk INSERT carries (one transaction holding the chain head).
BULK_CHUNK = 2000


def entries_append_many(rows: list[dict]) -> list[dict]:
    """Append many entries (one per citizen of a public-health line list, issue 20) to the
    chain and return them.

    The chain cannot be written by an `INSERT … SELECT` over the people listed: each entry's
    HMAC is computed here with a key the database never holds. So the head is locked,
    BULK_CHUNK entries are chained in Python (microseconds each), then written by one INSERT
    (an array per column) and the head advanced once onto the last of them, in one round trip;
    that transaction commits, then the next chunk. The database checks the chunk as a whole
    (migration 0006: statement-level trigger over the new rows, head advance by k onto the
    entries written). Each transaction holds the head for one
    INSERT of up to BULK_CHUNK rows (a few tens of milliseconds); between chunks other appenders
    (a doctor's page) get it. Outside a transaction the entries commit chunk by chunk (a failure
    leaves the chunks before it: entries of a list that may not have been shown, never a list
    shown without its entries); inside the caller's transaction they commit with it.
    """
    if not rows:
        return []
    entries = []
    for fields in rows:
        entry = {name: fields.get(name) for name in FIELDS}
        entry["details"] = fields.get("details") or {}
        for text, limit in _MAX.items():
            entry[text] = (entry[text] or "")[:limit]
        entries.append(entry)
    for start in range(0, len(entries), BULK_CHUNK):
        chunk = entries[start : start + BULK_CHUNK]
        with transaction.atomic(), connection.cursor() as cur:
            cur.execute(_HEAD_SQL)
            head_seq, head_hash = cur.fetchone()
            rows = []
            for entry in chunk:
                _chain(entry, head_seq, head_hash)
                head_seq, head_hash = entry["seq"], entry["row_hash"]
                rows.append(_row_params(entry))
            columns = [[str(v) if v is not None else None for v in column] for column in zip(*rows, strict=True)]
            cur.execute(_BULK_INSERT_SQL, [*columns, *_head_params(chunk[-1])])
    return entries


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
    keyed_from: int | None = None  # the first keyed entry, when the walk saw or was told it

    def line(self) -> str:
        if self.ok:
            return f"OK: {self.entries} entries verified, head seq {self.head_seq} hash {self.head_hash}"
        where = f"entry seq {self.broken_seq}" + (f" (id {self.broken_id})" if self.broken_id else "")
        return f"BROKEN at {where}: {self.reason}"


_SELECT = "SELECT id, {cols}, row_hash FROM accesslog_entry WHERE seq > %s ORDER BY seq".format(  # noqa: S608
    cols=", ".join(KEYED_FIELDS)  # constant column names
)


def chain_verify(*, checkpoints: Iterable = (), since=None, checkpoint=None) -> VerifyResult:
    """Walk the chain in order and return OK or the first entry that does not fit.

    `checkpoints`: anchors kept outside the database (accesslog.checkpoints.Checkpoint: seq,
    row_hash, count, keyed_from); each must still be in the chain, the chain must reach the
    newest, and entries from a checkpoint's `keyed_from` on must be keyed. `since`: start
    after a trusted checkpoint instead of the genesis (incremental verification: sound because
    nobody without the key can make an entry that links to it). `checkpoint`: one more anchor.
    """
    anchors = [cp for cp in [*checkpoints, checkpoint] if cp is not None]
    keys = known_keys()
    with connection.cursor() as cur:
        cur.execute("SELECT seq, row_hash FROM accesslog_chain_head WHERE id = 1")
        head_seq, head_hash = cur.fetchone()
    head_hash = head_hash.strip()
    prev_seq, prev_hash = (since.seq, since.row_hash) if since else (0, GENESIS)
    keyed_from = min((cp.keyed_from for cp in [*anchors, since] if cp and cp.keyed_from), default=None)
    keyed_seen = since is not None and keyed_from is not None and keyed_from <= since.seq
    by_seq: dict[int, list] = {}
    for cp in anchors:
        by_seq.setdefault(cp.seq, []).append(cp)
    count = 0
    names = ("id",) + KEYED_FIELDS + ("row_hash",)

    def result(ok: bool, seq=None, entry_id=None, reason="") -> VerifyResult:
        return VerifyResult(ok, count, head_seq, head_hash, seq, entry_id, reason, keyed_from)

    # A named (server-side) cursor streams the chain without loading it into memory.
    connection.ensure_connection()
    with transaction.atomic(), connection.connection.cursor(name="accesslog_verify") as cur:
        cur.itersize = 5000
        cur.execute(_SELECT, [prev_seq])
        for row in cur:
            entry = dict(zip(names, row, strict=True))
            seq, stored, key_id = entry["seq"], entry["row_hash"].strip(), entry["key_id"].strip()
            if seq != prev_seq + 1:
                return result(False, seq, entry["id"], f"expected seq {prev_seq + 1}: entries are missing or moved")
            if entry["prev_hash"].strip() != prev_hash:
                return result(
                    False,
                    seq,
                    entry["id"],
                    "prev_hash does not match the previous entry (deleted, reordered or edited)",
                )
            if key_id:
                keyed_seen = True
                keyed_from = keyed_from or seq
            elif keyed_seen or (keyed_from is not None and seq >= keyed_from):
                return result(
                    False, seq, entry["id"], "an entry without the key after keyed ones (rewritten without the key)"
                )
            try:
                expected = entry_hash(prev_hash, entry, keys=keys)
            except UnknownKey:
                return result(False, seq, entry["id"], f"sealed with a key this portal does not hold (key id {key_id})")
            if not hmac.compare_digest(expected, stored):
                return result(False, seq, entry["id"], "content does not match its hash (edited)")
            for cp in by_seq.get(seq, ()):
                if stored != cp.row_hash or (cp.count is not None and cp.count != seq):
                    return result(False, seq, entry["id"], "differs from the external checkpoint")
            prev_seq, prev_hash = seq, stored
            count += 1
    if (prev_seq, prev_hash) != (head_seq, head_hash):
        return result(
            False,
            prev_seq + 1,
            None,
            f"the chain head says seq {head_seq} but the last entry is seq {prev_seq} (newest entries deleted)",
        )
    beyond = [cp.seq for cp in anchors if cp.seq > prev_seq]
    if beyond:
        return result(
            False,
            max(beyond),
            None,
            f"the external checkpoint names seq {max(beyond)}, which is no longer in the "
            "chain (newest entries deleted and the head rewritten)",
        )
    return result(True)
