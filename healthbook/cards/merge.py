"""Load one chunk of valid rows with COPY and merge it set-wise into citizens, books and cards.

Runs inside the chunk's transaction (pipeline.py): nothing here commits. Steps, all SQL:

1. COPY the rows, in insurance-number order, into a temporary staging table (private to the
   connection, emptied on commit); a shard run's chunk comes instead straight from the shared
   staging table (DELETE … RETURNING as the matching pass's source: no temporary copy).
2. One matching pass (`_WORK`) copies them, sorted by insurance number (the sort comes before
   the joins, so the probes walk the indexes in order), into a work table
   with what each row's probes of the big tables' unique indexes found: its citizen (by social
   insurance number, else by personal ID — a citizen known without insurance number, e.g. from
   facility data), a personal-ID conflict with another insured person, whether the citizen has
   a book, the state of its current card, and the line of an earlier chunk of this batch that
   carried the same person. New citizens get their id from the sequence here.
3. Reject the conflicting rows (PID_CONFLICT) and, in a province officer's batch, the rows of
   citizens whose book is in another province (CITIZEN_OTHER_PROVINCE: judged by the stored
   citizen, see `Scope`); report the earlier lines (DUPLICATE_PERSON).
   The line that last carried a person is read from their card (source batch and line); the
   per-person memory table is written only where the card will not say it (see _REMEMBER).
4. Copy cards that are about to change into the history table (IS DISTINCT FROM: only real
   changes).
5. Insert new citizens; update changed ones (blank optional cells never erase known values).
6. Open a book for every citizen without one.
7. Insert new cards and update changed ones (card_state of step 2 says which).

Every statement touches each target table once, set-wise; hash and merge joins are switched
off for the chunk's transaction, so each join is the chunk probing an index and the cost of a
chunk does not grow with the size of the tables (and no ANALYZE of the staging table is needed).
Merges of concurrent batches are serialised by transaction-level advisory locks (lock_merge),
so two batches carrying the same new person cannot both insert them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from healthbook.cards.rows import StagedRow
from healthbook.models import CardBatch

STAGE_COLUMNS = StagedRow._fields
_MERGE_LOCK = 0x6862_6361_7264  # "hbcard"
_SHARD_LOCK = 0x6862_6373  # "hbcs": with the shard number, the two-key advisory lock of a shard

# The staged columns' types (StagedRow order): the temporary tables below are made from them, and
# the readers' binary COPY into the shared staging table (reading.py, migration 0031) names them.
_STAGE_TYPES = {
    "line": "bigint",
    "sin": "text",
    "personal_id": "text",
    "legacy_id": "text",
    "full_name": "text",
    "search_name": "text",
    "birth_date": "date",
    "birth_precision": "text",
    "birth_year": "integer",
    "sex": "integer",
    "ethnicity_code": "text",
    "nationality_code": "text",
    "province_id": "bigint",
    "commune_code": "text",
    "address": "text",
    "phone": "text",
    "card_number": "text",
    "beneficiary_group": "text",
    "benefit_level": "integer",
    "issuing_province_code": "text",
    "facility_code": "text",
    "valid_from": "date",
    "valid_to": "date",
}
_NULLABLE = frozenset({"personal_id", "province_id", "benefit_level", "valid_to"})
STAGE_TYPES = tuple(_STAGE_TYPES[column] for column in STAGE_COLUMNS)
_STAGE_DDL = ", ".join(
    f"{column} {_STAGE_TYPES[column]}{'' if column in _NULLABLE else ' NOT NULL'}" for column in STAGE_COLUMNS
)
# The COPY target, and the work table: the same rows sorted by insurance number with what
# the one matching pass found out about each (both private to the connection).
_CREATE_STAGE = f"""
CREATE TEMP TABLE IF NOT EXISTS healthbook_card_stage ({_STAGE_DDL}) ON COMMIT DELETE ROWS;
CREATE TEMP TABLE IF NOT EXISTS healthbook_card_work ({_STAGE_DDL},
    citizen_id bigint, new_citizen boolean NOT NULL, citizen_changed boolean NOT NULL, conflict boolean NOT NULL,
    outside boolean NOT NULL, has_book boolean NOT NULL,
    card_state text, earlier_line bigint
) ON COMMIT DELETE ROWS
"""
_STAGE_LIST = ", ".join(STAGE_COLUMNS)
_CARD_FIELDS = (
    ("card_number", "card_number"),
    ("beneficiary_group", "beneficiary_group"),
    ("benefit_level", "benefit_level"),
    ("issuing_province_code", "issuing_province_code"),
    ("primary_care_facility_code", "facility_code"),
    ("valid_from", "valid_from"),
    ("valid_to", "valid_to"),
)
_CARD_OLD = ", ".join(f"k.{col}" for col, _ in _CARD_FIELDS)
_CARD_NEW = ", ".join(f"s.{src}" for _, src in _CARD_FIELDS)

# Target column -> new value. Optional cells left blank keep what is known.
_CITIZEN_SET = (
    ("personal_id", "COALESCE(s.personal_id, c.personal_id)"),
    ("social_insurance_number", "s.sin"),
    ("legacy_id_number", "COALESCE(NULLIF(s.legacy_id, ''), c.legacy_id_number)"),
    ("full_name", "s.full_name"),
    ("search_name", "s.search_name"),
    ("birth_date", "s.birth_date"),
    ("birth_date_precision", "s.birth_precision"),
    ("birth_year", "s.birth_year"),
    ("sex", "s.sex"),
    ("ethnicity_code", "COALESCE(NULLIF(s.ethnicity_code, ''), c.ethnicity_code)"),
    ("nationality_code", "COALESCE(NULLIF(s.nationality_code, ''), c.nationality_code)"),
    # Card data wins over facility data (issue 16): a row naming a province replaces the residence
    # and its provenance; a commune of another province than the one on record is not kept.
    ("residence_province_id", "COALESCE(s.province_id, c.residence_province_id)"),
    (
        "residence_commune_code",
        "CASE WHEN s.province_id IS NOT NULL AND s.province_id IS DISTINCT FROM c.residence_province_id "
        "THEN COALESCE(s.commune_code, '') ELSE COALESCE(NULLIF(s.commune_code, ''), c.residence_commune_code) END",
    ),
    ("residence_source", "CASE WHEN s.province_id IS NOT NULL THEN 'card' ELSE c.residence_source END"),
    ("address", "COALESCE(NULLIF(s.address, ''), c.address)"),
    ("phone", "COALESCE(NULLIF(s.phone, ''), c.phone)"),
)
# One pass over the chunk, sorted by insurance number, each row probing the big tables' unique
# indexes once: its citizen by insurance number, else by personal ID; the owner of its personal
# ID (a conflict when that is another insured person); its book; its current card (unchanged,
# changed by an earlier batch, or already written by an earlier chunk of this batch); the line
# of an earlier chunk that carried the same person. New citizens get their id here: the sequence
# is looked up once per statement (an InitPlan), not per row (pg_get_serial_sequence reads the
# catalog: 4-5 µs a new citizen against under 1, bench/RESULTS.md).
_WORK = f"""
INSERT INTO healthbook_card_work ({_STAGE_LIST}, citizen_id, new_citizen, citizen_changed, conflict, outside,
    has_book, card_state, earlier_line)
SELECT {_STAGE_LIST},
    CASE WHEN conflict OR outside THEN NULL
         ELSE COALESCE(matched, nextval((SELECT pg_get_serial_sequence('healthbook_citizen', 'id')::regclass))) END,
    matched IS NULL AND NOT conflict, citizen_changed, conflict, outside, has_book, card_state, earlier_line
FROM (
    SELECT s.*, COALESCE(c.id, p.id) AS matched,
        -- A province officer's batch (scope) changes only citizens whose book is in that province,
        -- judged by the stored citizen: its residence, else its card's issuing province (old code);
        -- only a citizen nothing stored places anywhere is judged by the row (checked row by row).
        (%(scope)s::bigint IS NOT NULL AND COALESCE(c.id, p.id) IS NOT NULL AND NOT CASE
            WHEN (CASE WHEN c.id IS NULL THEN p.residence_province_id ELSE c.residence_province_id END) IS NOT NULL
                THEN (CASE WHEN c.id IS NULL THEN p.residence_province_id ELSE c.residence_province_id END)
                     = %(scope)s::bigint
            WHEN k.issuing_province_code <> '' THEN k.issuing_province_code = ANY(%(scope_old)s::text[])
            ELSE true END) AS outside,
        (c.id IS NULL OR ({", ".join(f"c.{col}" for col, _ in _CITIZEN_SET)})
            IS DISTINCT FROM ({", ".join(expr for _, expr in _CITIZEN_SET)})) AS citizen_changed,
        (p.id IS NOT NULL AND p.id IS DISTINCT FROM c.id
         AND (c.id IS NOT NULL OR p.social_insurance_number IS NOT NULL)) AS conflict,
        EXISTS (SELECT 1 FROM healthbook_book b WHERE b.citizen_id = COALESCE(c.id, p.id)) AS has_book,
        CASE WHEN k.id IS NULL THEN NULL
             WHEN ({_CARD_OLD}) IS NOT DISTINCT FROM ({_CARD_NEW}) THEN 'same'
             WHEN k.source_batch_id = %(batch)s THEN 'rebatch'
             ELSE 'changed' END AS card_state,
        GREATEST(bp.line, CASE WHEN k.source_batch_id = %(batch)s THEN k.source_line END) AS earlier_line
    FROM (SELECT * FROM {{source}} ORDER BY sin) s
    LEFT JOIN healthbook_citizen c ON c.social_insurance_number = s.sin
    -- The owner of the personal ID, looked up only when the citizen found by insurance number
    -- does not already carry it (a one-time filter: no index probe for most updates).
    LEFT JOIN LATERAL (
        SELECT p.id, p.social_insurance_number, p.residence_province_id FROM healthbook_citizen p
        WHERE p.personal_id = s.personal_id AND (c.id IS NULL OR c.personal_id IS DISTINCT FROM s.personal_id)
        OFFSET 0  -- keeps the subquery (and its one-time filter) from being flattened into a join
    ) p ON true
    LEFT JOIN healthbook_card k ON k.social_insurance_number = s.sin
    LEFT JOIN healthbook_card_batch_person bp ON bp.batch_id = %(batch)s AND bp.social_insurance_number = s.sin
) m
"""  # noqa: S608 — only constant column names are interpolated
_WORK_FROM_STAGE = _WORK.replace("{source}", "healthbook_card_stage")
_SPAN = "SELECT count(*), max(line) FROM healthbook_card_work"


def matching_pass_from(take: str) -> str:
    """The matching pass over the rows a `DELETE … RETURNING` the stage columns takes (a shard's
    chunk, straight from the shared staging table)."""
    return f"WITH taken AS ({take}) " + _WORK.replace("{source}", "taken")


_CONFLICTS = """
DELETE FROM healthbook_card_work WHERE conflict RETURNING line, personal_id
"""
_OUTSIDE = """
DELETE FROM healthbook_card_work WHERE outside RETURNING line, sin
"""

_SUPERSEDED = """
SELECT earlier_line, sin FROM healthbook_card_work WHERE earlier_line IS NOT NULL
"""

# Which line of a batch last carried a person is known from the card itself while the card
# row says it came from that batch (source_batch_id, source_line). The per-person memory table
# is written only where the card does not say it: the row left the card as it was ('same'), or
# this chunk overwrites a card written by another batch still in progress (its line is kept
# for that batch). A later line of the same batch is always the greater one.
_REMEMBER = """
INSERT INTO healthbook_card_batch_person (batch_id, social_insurance_number, line)
SELECT %(batch)s, sin, line FROM healthbook_card_work WHERE card_state = 'same'
ON CONFLICT (batch_id, social_insurance_number) DO UPDATE SET line = EXCLUDED.line
"""
_OTHERS_IN_PROGRESS = """
SELECT array_agg(id) FROM healthbook_card_batch WHERE status = ANY(%(live)s) AND id <> %(batch)s
"""
_REMEMBER_FOR_OTHERS = """
INSERT INTO healthbook_card_batch_person (batch_id, social_insurance_number, line)
SELECT k.source_batch_id, k.social_insurance_number, k.source_line
FROM healthbook_card_work s JOIN healthbook_card k ON k.social_insurance_number = s.sin
WHERE s.card_state = 'changed' AND k.source_batch_id = ANY(%(others)s)
ON CONFLICT (batch_id, social_insurance_number) DO UPDATE
SET line = GREATEST(healthbook_card_batch_person.line, EXCLUDED.line)
"""

_HISTORY = f"""
INSERT INTO healthbook_card_history (
    citizen_id, social_insurance_number, {", ".join(col for col, _ in _CARD_FIELDS)},
    source_batch_id, source_line, replaced_at, replaced_by_batch_id)
SELECT k.citizen_id, k.social_insurance_number, {_CARD_OLD}, k.source_batch_id, k.source_line, now(), %(batch)s
FROM healthbook_card k JOIN healthbook_card_work s ON s.sin = k.social_insurance_number
WHERE s.card_state = 'changed'
"""  # noqa: S608 — only constant column names are interpolated

_CITIZEN_INSERT = """
INSERT INTO healthbook_citizen (
    id, public_id, personal_id, social_insurance_number, legacy_id_number, full_name, search_name,
    birth_date, birth_date_precision, birth_year, sex, ethnicity_code, nationality_code,
    residence_province_id, residence_commune_code, residence_source, address, phone, created_at, updated_at)
SELECT citizen_id, healthbook_uuid7(), personal_id, sin, legacy_id, full_name, search_name,
    birth_date, birth_precision, birth_year, sex, ethnicity_code, nationality_code,
    province_id, commune_code, CASE WHEN province_id IS NOT NULL THEN 'card' ELSE '' END, address, phone, now(), now()
FROM healthbook_card_work WHERE new_citizen ORDER BY citizen_id
"""

_CITIZEN_UPDATE = f"""
UPDATE healthbook_citizen c SET {", ".join(f"{col} = {expr}" for col, expr in _CITIZEN_SET)}, updated_at = now()
FROM healthbook_card_work s
WHERE c.id = s.citizen_id AND NOT s.new_citizen AND s.citizen_changed
  AND ({", ".join(f"c.{col}" for col, _ in _CITIZEN_SET)})
      IS DISTINCT FROM ({", ".join(expr for _, expr in _CITIZEN_SET)})
"""  # noqa: S608 — only constant column names are interpolated

# A new citizen's book: a plain INSERT (its citizen was created by this transaction, nobody else
# can have opened its book). An existing citizen without a book: ON CONFLICT, since a facility's
# data may open it at the same moment.
_BOOK_ROWS = """
INSERT INTO healthbook_book (public_id, citizen_id, created_via, created_by_batch_id, created_at)
SELECT healthbook_uuid7(), citizen_id, 'card_import', %(batch)s, now() FROM healthbook_card_work
"""
_BOOKS = _BOOK_ROWS + "WHERE new_citizen ORDER BY citizen_id"
_BOOKS_EXISTING = (
    _BOOK_ROWS + "WHERE NOT new_citizen AND NOT has_book ORDER BY citizen_id ON CONFLICT (citizen_id) DO NOTHING"
)

# Cards are written only by this merge, under the merge locks, so the matching pass's card_state
# says which rows insert and which update: a plain INSERT and an UPDATE, not INSERT … ON CONFLICT
# DO UPDATE, which inserts speculatively and locks each existing card before updating it (one
# more WAL record a renewal). A card inserted meanwhile by another batch (two batches of different
# shard counts at once) is a unique violation: the chunk is merged again alone (shards.py).
_CARDS = f"""
INSERT INTO healthbook_card (
    citizen_id, social_insurance_number, {", ".join(col for col, _ in _CARD_FIELDS)},
    source_batch_id, source_line, updated_at)
SELECT s.citizen_id, s.sin, {_CARD_NEW}, %(batch)s, s.line, now()
FROM healthbook_card_work s WHERE s.card_state IS NULL
"""  # noqa: S608 — only constant column names are interpolated
_CARDS_RENEWED = f"""
UPDATE healthbook_card k SET
    citizen_id = s.citizen_id,
    {", ".join(f"{col} = s.{src}" for col, src in _CARD_FIELDS)},
    source_batch_id = %(batch)s, source_line = s.line, updated_at = now()
FROM healthbook_card_work s
WHERE k.social_insurance_number = s.sin AND s.card_state IN ('changed', 'rebatch')
"""  # noqa: S608 — only constant column names are interpolated

_COUNTS = """
SELECT count(*) FILTER (WHERE new_citizen),
       count(*) FILTER (WHERE card_state IS NULL),
       count(*) FILTER (WHERE card_state = 'changed')
FROM healthbook_card_work
"""


@dataclass(frozen=True)
class Scope:
    """The province of an officer's batch: its id and the old (63-unit) codes that are part of it
    today, as a stored card's issuing province is written."""

    province_id: int
    old_codes: tuple[str, ...]


@dataclass
class MergeResult:
    conflicts: list[tuple[int, str]] = field(default_factory=list)  # (line, personal ID)
    outside: list[tuple[int, str]] = field(default_factory=list)  # (line, SIN) of another province's citizens
    superseded: list[tuple[int, str]] = field(default_factory=list)  # (earlier line, SIN)
    rows: int = 0  # a shard's chunk: its rows, conflicts included
    last_line: int | None = None  # a shard's chunk: its last line
    citizens_created: int = 0
    books_created: int = 0
    cards_created: int = 0
    cards_updated: int = 0


def _by_sin(row: StagedRow) -> str:
    return row.sin


_COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def copy_text(value) -> str:
    if value is None:
        return "\\N"
    if isinstance(value, str):
        return value.translate(_COPY_ESCAPES)
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def copy_payload(rows: list[StagedRow]) -> bytes:
    """The rows as COPY text data, in insurance-number order (the matching pass then walks the
    unique indexes on it in order). Built by the validating thread, off the merge's path."""
    lines = ["\t".join(map(copy_text, row)) for row in sorted(rows, key=_by_sin)]
    lines.append("")
    return "\n".join(lines).encode() if rows else b""


def _copy_rows(cursor, payload: bytes) -> None:
    with cursor.copy(f"COPY healthbook_card_stage ({', '.join(STAGE_COLUMNS)}) FROM STDIN") as copy:
        copy.write(payload)


def merge_chunk(
    cursor,
    *,
    batch_id: int,
    rows: list[StagedRow] | None,
    payload: bytes | None = None,
    scope: Scope | None = None,
    fill: tuple[str, dict] | None = None,
    shard: int | None = None,
) -> MergeResult:
    """Merge the valid rows of one chunk (no two share a social insurance number or personal ID);
    `payload`: copy_payload(rows) when already built; `scope`: the province of an officer's batch.

    A shard run (healthbook.cards.shards) passes `fill` instead of rows: its matching pass over the
    chunk it takes out of the staged rows (matching_pass_from) and that statement's parameters,
    and `shard`, its number: it then takes the merge lock shared plus that shard's own lock (see
    lock_merge). The result then carries the chunk's size and last line."""
    result = MergeResult()
    if fill is None and not rows:
        return result
    params = {"batch": batch_id}
    work_params = {
        **params,
        "scope": scope.province_id if scope else None,
        "scope_old": list(scope.old_codes) if scope else [],
    }
    cursor.execute(_CREATE_STAGE)
    # Emptied on commit anyway; emptied here too when chunks share one outer transaction (tests).
    cursor.execute("TRUNCATE healthbook_card_stage, healthbook_card_work")
    cursor.execute("SET LOCAL gin_pending_list_limit = '32MB'")
    # The chunk's data and the batch's progress commit together, so a commit lost in a server
    # crash (asynchronous commit: the last fraction of a second) only sends the batch back to an
    # earlier chunk, which the next run imports again. Waiting for each chunk's WAL flush cost
    # about a fifth of the import time at a million rows.
    cursor.execute("SET LOCAL synchronous_commit = off")
    # The chunk is small next to the tables: every join below is the chunk's rows probing a
    # unique index. Hash and merge joins would scan the whole table on every chunk (cost
    # growing with the table); without them no statistics of the staging table are needed.
    cursor.execute("SET LOCAL enable_hashjoin = off")
    cursor.execute("SET LOCAL enable_mergejoin = off")
    cursor.execute("SET LOCAL jit = off")
    if fill is not None:
        matching, fill_params = fill
        lock_merge(cursor, shard=shard)
        cursor.execute(matching, {**fill_params, **work_params})
        if not cursor.rowcount:
            return result
        cursor.execute(_SPAN)
        result.rows, result.last_line = cursor.fetchone()
    else:
        _copy_rows(cursor, copy_payload(rows) if payload is None else payload)
        lock_merge(cursor, shard=shard)
        cursor.execute(_WORK_FROM_STAGE, work_params)
    cursor.execute(_CONFLICTS)
    result.conflicts = cursor.fetchall()
    if scope is not None:
        cursor.execute(_OUTSIDE)
        result.outside = cursor.fetchall()
    cursor.execute(_SUPERSEDED)
    result.superseded = cursor.fetchall()
    cursor.execute(_REMEMBER, params)
    cursor.execute(_OTHERS_IN_PROGRESS, {**params, "live": list(CardBatch.LIVE)})
    others = cursor.fetchone()[0]
    if others:
        cursor.execute(_REMEMBER_FOR_OTHERS, {"others": others})
    cursor.execute(_HISTORY, params)
    cursor.execute(_CITIZEN_INSERT)
    cursor.execute(_CITIZEN_UPDATE)
    cursor.execute(_BOOKS, params)
    result.books_created = cursor.rowcount
    cursor.execute(_BOOKS_EXISTING, params)
    result.books_created += cursor.rowcount
    cursor.execute(_CARDS, params)
    cursor.execute(_CARDS_RENEWED, params)
    cursor.execute(_COUNTS)
    result.citizens_created, result.cards_created, result.cards_updated = cursor.fetchone()
    cursor.execute("SET LOCAL enable_hashjoin = on")
    cursor.execute("SET LOCAL enable_mergejoin = on")
    return result


def lock_merge(cursor, *, shard: int | None) -> None:
    """Serialise the merges that could write the same person.

    A chunk merged as it is read (shard None) takes the merge lock exclusively: it waits for
    every other merge. A shard run takes it shared, plus the lock of its shard number: two
    shards of one batch never carry the same insurance number or personal ID (settled before
    the merge), so they run side by side; the same shard of two batches at once (same hash of
    the same insurance number) waits. What the shard locks do not cover — two batches carrying
    the same *personal ID* under different insurance numbers in different shards at the same
    moment — ends in a unique violation, and the shard run retries that chunk with the lock held
    exclusively (shards.py), where the second one is seen as a conflict."""
    if shard is None:
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_MERGE_LOCK])
    else:
        cursor.execute(
            "SELECT pg_advisory_xact_lock_shared(%s), pg_advisory_xact_lock(%s, %s)",
            [_MERGE_LOCK, _SHARD_LOCK, shard],
        )


def forget_people(cursor, *, batch_id: int) -> None:
    """Drop the per-person memory and the staged rows left (a failed sharded batch) of a finished batch."""
    cursor.execute("DELETE FROM healthbook_card_batch_person WHERE batch_id = %s", [batch_id])
    cursor.execute("DELETE FROM healthbook_card_batch_row WHERE batch_id = %s", [batch_id])
