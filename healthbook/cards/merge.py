"""Load one chunk of valid rows with COPY and merge it set-wise into citizens, books and cards.

Runs inside the chunk's transaction (pipeline.py): nothing here commits. Steps, all SQL:

1. COPY the rows into a temporary staging table (private to the connection, emptied on commit).
2. Match each row to a citizen by social insurance number, else by personal ID (a citizen
   known without insurance number, e.g. from facility data).
3. Reject rows whose personal ID already belongs to a different insured person (PID_CONFLICT).
4. Find rows of earlier chunks of this batch for the same person: they are superseded
   (DUPLICATE_PERSON); remember this chunk's line per person.
5. Copy cards that are about to change into the history table.
6. Insert new citizens; update changed ones (blank optional cells never erase known values).
7. Open a book for every citizen without one.
8. Insert new cards and update changed ones (INSERT … ON CONFLICT … DO UPDATE).

Merges of concurrent batches are serialised by a transaction-level advisory lock, so two
batches carrying the same new person cannot both insert them.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from healthbook.cards.rows import StagedRow

STAGE_COLUMNS = StagedRow._fields
_MERGE_LOCK = 0x6862_6361_7264  # "hbcard"

_CREATE_STAGE = """
CREATE TEMP TABLE IF NOT EXISTS healthbook_card_stage (
    line bigint NOT NULL, sin text NOT NULL, personal_id text, legacy_id text NOT NULL,
    full_name text NOT NULL, search_name text NOT NULL, birth_date date NOT NULL,
    birth_precision text NOT NULL, birth_year int NOT NULL, sex int NOT NULL,
    ethnicity_code text NOT NULL, nationality_code text NOT NULL, province_id bigint,
    commune_code text NOT NULL, address text NOT NULL, phone text NOT NULL,
    card_number text NOT NULL, beneficiary_group text NOT NULL, benefit_level int,
    issuing_province_code text NOT NULL, facility_code text NOT NULL,
    valid_from date NOT NULL, valid_to date,
    citizen_id bigint, pid_owner bigint, new_citizen boolean NOT NULL DEFAULT false,
    card_state text
) ON COMMIT DELETE ROWS
"""

_MATCH = """
UPDATE healthbook_card_stage s SET
    citizen_id = (SELECT c.id FROM healthbook_citizen c WHERE c.social_insurance_number = s.sin),
    pid_owner = (SELECT c.id FROM healthbook_citizen c WHERE c.personal_id = s.personal_id)
"""

_CONFLICTS = """
DELETE FROM healthbook_card_stage s USING healthbook_citizen o
WHERE o.id = s.pid_owner AND s.pid_owner IS DISTINCT FROM s.citizen_id
  AND (s.citizen_id IS NOT NULL OR o.social_insurance_number IS NOT NULL)
RETURNING s.line, s.personal_id
"""

_ADOPT = """
UPDATE healthbook_card_stage SET citizen_id = pid_owner WHERE citizen_id IS NULL AND pid_owner IS NOT NULL
"""

_SUPERSEDED = """
SELECT p.line, p.social_insurance_number FROM healthbook_card_stage s
JOIN healthbook_card_batch_person p ON p.batch_id = %(batch)s AND p.social_insurance_number = s.sin
"""

_REMEMBER = """
INSERT INTO healthbook_card_batch_person (batch_id, social_insurance_number, line)
SELECT %(batch)s, sin, line FROM healthbook_card_stage
ON CONFLICT (batch_id, social_insurance_number) DO UPDATE SET line = EXCLUDED.line
"""

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

_CARD_STATE = f"""
UPDATE healthbook_card_stage s SET card_state = CASE
    WHEN ({_CARD_OLD}) IS NOT DISTINCT FROM ({_CARD_NEW}) THEN 'same'
    WHEN k.source_batch_id = %(batch)s THEN 'rebatch'
    ELSE 'changed' END
FROM healthbook_card k WHERE k.social_insurance_number = s.sin
"""  # noqa: S608 — only constant column names are interpolated

_HISTORY = f"""
INSERT INTO healthbook_card_history (
    citizen_id, social_insurance_number, {", ".join(col for col, _ in _CARD_FIELDS)},
    source_batch_id, source_line, replaced_at, replaced_by_batch_id)
SELECT k.citizen_id, k.social_insurance_number, {_CARD_OLD}, k.source_batch_id, k.source_line, now(), %(batch)s
FROM healthbook_card k JOIN healthbook_card_stage s ON s.sin = k.social_insurance_number
WHERE s.card_state = 'changed'
"""  # noqa: S608 — only constant column names are interpolated

_CITIZEN_INSERT = """
WITH ins AS (
    INSERT INTO healthbook_citizen (
        public_id, personal_id, social_insurance_number, legacy_id_number, full_name, search_name,
        birth_date, birth_date_precision, birth_year, sex, ethnicity_code, nationality_code,
        residence_province_id, residence_commune_code, address, phone, created_at, updated_at)
    SELECT gen_random_uuid(), personal_id, sin, legacy_id, full_name, search_name,
        birth_date, birth_precision, birth_year, sex, ethnicity_code, nationality_code,
        province_id, commune_code, address, phone, now(), now()
    FROM healthbook_card_stage WHERE citizen_id IS NULL
    RETURNING id, social_insurance_number
)
UPDATE healthbook_card_stage s SET citizen_id = ins.id, new_citizen = true
FROM ins WHERE ins.social_insurance_number = s.sin
"""

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
    ("residence_province_id", "COALESCE(s.province_id, c.residence_province_id)"),
    ("residence_commune_code", "COALESCE(NULLIF(s.commune_code, ''), c.residence_commune_code)"),
    ("address", "COALESCE(NULLIF(s.address, ''), c.address)"),
    ("phone", "COALESCE(NULLIF(s.phone, ''), c.phone)"),
)
_CITIZEN_UPDATE = f"""
UPDATE healthbook_citizen c SET {", ".join(f"{col} = {expr}" for col, expr in _CITIZEN_SET)}, updated_at = now()
FROM healthbook_card_stage s
WHERE c.id = s.citizen_id AND NOT s.new_citizen
  AND ({", ".join(f"c.{col}" for col, _ in _CITIZEN_SET)})
      IS DISTINCT FROM ({", ".join(expr for _, expr in _CITIZEN_SET)})
"""  # noqa: S608 — only constant column names are interpolated

_BOOKS = """
INSERT INTO healthbook_book (public_id, citizen_id, created_via, created_by_batch_id, created_at)
SELECT gen_random_uuid(), s.citizen_id, 'card_import', %(batch)s, now() FROM healthbook_card_stage s
WHERE s.new_citizen OR NOT EXISTS (SELECT 1 FROM healthbook_book b WHERE b.citizen_id = s.citizen_id)
ON CONFLICT (citizen_id) DO NOTHING
"""

_CARDS = f"""
INSERT INTO healthbook_card (
    citizen_id, social_insurance_number, {", ".join(col for col, _ in _CARD_FIELDS)},
    source_batch_id, source_line, updated_at)
SELECT s.citizen_id, s.sin, {_CARD_NEW}, %(batch)s, s.line, now()
FROM healthbook_card_stage s WHERE s.card_state IS DISTINCT FROM 'same'
ON CONFLICT (social_insurance_number) DO UPDATE SET
    citizen_id = EXCLUDED.citizen_id,
    {", ".join(f"{col} = EXCLUDED.{col}" for col, _ in _CARD_FIELDS)},
    source_batch_id = EXCLUDED.source_batch_id, source_line = EXCLUDED.source_line, updated_at = now()
"""  # noqa: S608 — only constant column names are interpolated

_COUNTS = """
SELECT count(*) FILTER (WHERE new_citizen),
       count(*) FILTER (WHERE card_state IS NULL),
       count(*) FILTER (WHERE card_state = 'changed')
FROM healthbook_card_stage
"""


@dataclass
class MergeResult:
    conflicts: list[tuple[int, str]] = field(default_factory=list)  # (line, personal ID)
    superseded: list[tuple[int, str]] = field(default_factory=list)  # (earlier line, SIN)
    citizens_created: int = 0
    books_created: int = 0
    cards_created: int = 0
    cards_updated: int = 0


def _copy_rows(cursor, rows: list[StagedRow]) -> None:
    with cursor.copy(f"COPY healthbook_card_stage ({', '.join(STAGE_COLUMNS)}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)


def merge_chunk(cursor, *, batch_id: int, rows: list[StagedRow]) -> MergeResult:
    """Merge the valid rows of one chunk (no two share a social insurance number or personal ID)."""
    result = MergeResult()
    if not rows:
        return result
    params = {"batch": batch_id}
    cursor.execute(_CREATE_STAGE)
    cursor.execute("TRUNCATE healthbook_card_stage")  # emptied on commit anyway; not inside one outer transaction
    # Losing the last chunks' commits in a database crash is harmless: the batch counters are in
    # the same transactions, so the import resumes from what is durable.
    cursor.execute("SET LOCAL synchronous_commit = off")
    cursor.execute("SET LOCAL gin_pending_list_limit = '32MB'")
    _copy_rows(cursor, rows)
    # Statistics on the staging table make the planner probe the big tables' indexes instead of
    # scanning them (without them each chunk's cost grows with the size of the tables).
    cursor.execute("ANALYZE healthbook_card_stage")
    cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_MERGE_LOCK])
    cursor.execute(_MATCH)
    cursor.execute(_CONFLICTS)
    result.conflicts = cursor.fetchall()
    cursor.execute(_ADOPT)
    cursor.execute(_SUPERSEDED, params)
    result.superseded = cursor.fetchall()
    cursor.execute(_REMEMBER, params)
    cursor.execute(_CARD_STATE, params)
    cursor.execute(_HISTORY, params)
    cursor.execute(_CITIZEN_INSERT)
    cursor.execute(_CITIZEN_UPDATE)
    cursor.execute(_BOOKS, params)
    result.books_created = cursor.rowcount
    cursor.execute(_CARDS, params)
    cursor.execute(_COUNTS)
    result.citizens_created, result.cards_created, result.cards_updated = cursor.fetchone()
    return result


def forget_people(cursor, *, batch_id: int) -> None:
    """Drop the per-person memory of a finished batch."""
    cursor.execute("DELETE FROM healthbook_card_batch_person WHERE batch_id = %s", [batch_id])
