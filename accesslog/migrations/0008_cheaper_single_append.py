"""The single append made cheaper (issue 21, "Single append": 1,066 → 737 → 593 appends/s with
migrations 0006 and 0007), the rules of migrations 0006/0007 unchanged (accesslog/chain.py).

Measured (bench/RESULTS.md, "Access-log single append made cheaper": the checks ≈ 230 → 90 µs per
append in the database, a 2,000-entry statement's the same): of the statement trigger's time,
most went to its three queries, each a plan of its own run through SPI (the head locked, the new
rows checked, the entries beyond the head counted); the head check probed the seq index of every
monthly partition (seq is not the partition key) and ran a window over the range. Now:

- The AFTER INSERT statement trigger asks its three questions in one query: the head locked
  (FOR UPDATE, a MATERIALIZED CTE read once), the statement's rows numbered and linked from the
  head's hash (one pass over the transition table), and the entries beyond the head counted
  (`ORDER BY seq LIMIT n + 1` over every partition, as before). Same rules, same errors.
- The head's BEFORE UPDATE trigger takes a short way for the advance of every book page — by one,
  onto the entry just written: that entry is looked up by seq in the partition of the head's new
  `updated_at` (the portal sets it to the entry's `recorded_at`, accesslog/chain.py), and must
  carry the head's new hash and link to its old one. Found, the advance is the general rule's
  k = 1 case: one entry beyond the old head, at its seq, linked to its hash, with the new hash.
  The general check's count (no second entry at that seq) is not repeated: no statement can put
  a second entry there, since the insert trigger refuses any statement while an entry other than
  its own rows lies beyond the head (checked with the head locked, over every partition, in READ
  COMMITTED); only a superuser with the triggers off could, and the verifier names that entry
  ("expected seq"). Any other advance — by k > 1 (a line list's chunk), or with an `updated_at`
  that is not the entry's month and instant, or onto an entry not found there — takes the general
  check of migration 0006, unchanged.

The `updated_at` only says where to look: finding the entry there proves it exists; a wrong value
costs the general check, never a wrong answer. Nothing else changes (tables, triggers, grants):
functions replaced in place, so it runs on a populated log in an instant, and back.
"""

from django.db import migrations

EXTEND_0006 = """
CREATE OR REPLACE FUNCTION accesslog_entries_extend_head() RETURNS trigger LANGUAGE plpgsql
SET search_path = pg_catalog, public, pg_temp AS $$
DECLARE head_seq bigint; head_hash char(64); n bigint; bad bigint; beyond bigint;
BEGIN
    IF current_setting('transaction_isolation') <> 'read committed' THEN
        RAISE EXCEPTION 'access-log entries are appended in READ COMMITTED only'
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    SELECT seq, row_hash INTO head_seq, head_hash FROM accesslog_chain_head WHERE id = 1 FOR UPDATE;
    SELECT count(*), count(*) FILTER (WHERE s.seq <> head_seq + s.pos OR s.prev_hash <> s.link)
      INTO n, bad
      FROM (SELECT seq, prev_hash, row_number() OVER w AS pos,
                   coalesce(lag(row_hash) OVER w, head_hash) AS link
              FROM accesslog_new_entries WINDOW w AS (ORDER BY seq)) s;
    IF bad > 0 THEN
        RAISE EXCEPTION 'access-log entries % do not extend the chain head % one by one', n, head_seq
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    -- ORDER BY + LIMIT: an index scan of seq whatever the statistics say (n + 1 rows at most).
    SELECT count(*) INTO beyond
      FROM (SELECT 1 FROM accesslog_entry WHERE seq > head_seq ORDER BY seq LIMIT n + 1) e;
    IF beyond <> n THEN
        RAISE EXCEPTION 'access-log chain head % has % entries beyond it, % written now', head_seq, beyond, n
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    RETURN NULL;
END $$;
"""

EXTEND = """
CREATE OR REPLACE FUNCTION accesslog_entries_extend_head() RETURNS trigger LANGUAGE plpgsql
SET search_path = pg_catalog, public, pg_temp AS $$
DECLARE head_seq bigint; n bigint; bad bigint; beyond bigint;
BEGIN
    IF current_setting('transaction_isolation') <> 'read committed' THEN
        RAISE EXCEPTION 'access-log entries are appended in READ COMMITTED only'
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    -- One query: the head locked and read once; the new rows numbered and linked (each to the one
    -- before, the first to the head's hash) in one pass over the transition table; the entries
    -- beyond the head counted, by an index scan of seq (ORDER BY + LIMIT, whatever the statistics
    -- say: n + 1 rows at most).
    WITH head AS MATERIALIZED (
        SELECT seq, row_hash FROM accesslog_chain_head WHERE id = 1 FOR UPDATE
    ), checked AS (
        SELECT count(*) AS n,
               count(*) FILTER (WHERE s.seq <> head.seq + s.pos OR s.prev_hash <> coalesce(s.link, head.row_hash)) AS bad
          FROM (SELECT seq, prev_hash, row_number() OVER w AS pos, lag(row_hash) OVER w AS link
                  FROM accesslog_new_entries WINDOW w AS (ORDER BY seq)) s, head
    )
    SELECT head.seq, checked.n, checked.bad,
           (SELECT count(*) FROM (SELECT 1 FROM accesslog_entry e WHERE e.seq > head.seq ORDER BY e.seq
                                   LIMIT checked.n + 1) b)
      INTO head_seq, n, bad, beyond
      FROM head, checked;
    IF head_seq IS NULL THEN
        RAISE EXCEPTION 'access-log chain head is missing'
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    IF bad > 0 THEN
        RAISE EXCEPTION 'access-log entries % do not extend the chain head % one by one', n, head_seq
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    IF beyond <> n THEN
        RAISE EXCEPTION 'access-log chain head % has % entries beyond it, % written now', head_seq, beyond, n
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    RETURN NULL;
END $$;
"""

# The general check, as in migration 0006; the new function puts the short way before it.
_HEAD_GENERAL = """\
    SELECT count(*), count(*) FILTER (WHERE s.seq <> OLD.seq + s.pos OR s.prev_hash <> s.link),
           max(s.row_hash) FILTER (WHERE s.seq = NEW.seq)
      INTO n, bad, last_hash
      FROM (SELECT seq, prev_hash, row_hash, row_number() OVER w AS pos,
                   coalesce(lag(row_hash) OVER w, OLD.row_hash) AS link
              FROM (SELECT seq, prev_hash, row_hash FROM accesslog_entry
                     WHERE seq > OLD.seq AND seq <= NEW.seq ORDER BY seq LIMIT NEW.seq - OLD.seq + 1) e
            WINDOW w AS (ORDER BY seq)) s;
    IF n <> NEW.seq - OLD.seq OR bad > 0 OR last_hash IS DISTINCT FROM NEW.row_hash THEN
        RAISE EXCEPTION 'access-log chain head may only advance onto the entries just written'
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    RETURN NEW;
END $$;
"""

_HEAD_START = """
CREATE OR REPLACE FUNCTION accesslog_head_moves_forward() RETURNS trigger LANGUAGE plpgsql
SET search_path = pg_catalog, public, pg_temp AS $$
DECLARE n bigint; bad bigint; last_hash char(64);
BEGIN
    IF NEW.id <> OLD.id OR NEW.seq <= OLD.seq THEN
        RAISE EXCEPTION 'access-log chain head may only move forward'
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
"""

HEAD_0006 = _HEAD_START + _HEAD_GENERAL

HEAD = (
    _HEAD_START
    + """
    -- The short way (a book page's append): by one, onto the entry written at NEW.seq, looked up in
    -- the one partition of NEW.updated_at (its recorded_at), linked to the old head's hash.
    IF NEW.seq = OLD.seq + 1 AND EXISTS (
        SELECT 1 FROM accesslog_entry
         WHERE seq = NEW.seq AND recorded_at = NEW.updated_at
           AND row_hash = NEW.row_hash AND prev_hash = OLD.row_hash
    ) THEN
        RETURN NEW;
    END IF;
"""
    + _HEAD_GENERAL
)


class Migration(migrations.Migration):
    dependencies = [("accesslog", "0007_partition_by_month")]

    operations = [migrations.RunSQL(EXTEND + HEAD, EXTEND_0006 + HEAD_0006)]
