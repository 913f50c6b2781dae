"""The chain's rules checked per statement, not per row, so a line list of 5,000 people is one
INSERT and one head advance (issue 20), with the same trust model (accesslog/chain.py).

Before, a BEFORE INSERT row trigger checked each entry against the head and the head could only
move by one: n entries cost n INSERTs and n head advances. Now:

- AFTER INSERT, once per statement, over the statement's new rows (a transition table): the
  chain head is locked (FOR UPDATE: every writer of entries is serialised by it, whether it
  locked the head itself or not) and the new rows must be exactly seq head+1 … head+n, the
  first linking to the head's hash and each to the one before (prev_hash = previous row_hash),
  and no other entry may lie beyond the head (an entry inserted earlier without a head advance,
  by a writer that committed: no two entries ever share a seq, which is what makes seq unique
  without a unique index on a partitioned table). The check runs only in READ COMMITTED, where
  each of its queries sees every committed entry; an INSERT in another isolation level is
  refused (a REPEATABLE READ snapshot could miss a committed entry beyond the head).
- BEFORE UPDATE of the head (one row: once per advance): it may only move forward, by any k,
  onto the entry written at its new seq, with all k entries between present and linked from
  the old head's hash.

Their reads of the log are written `ORDER BY seq LIMIT k`, so that the plan is an index scan of
seq (k rows) whatever the statistics say, generic or custom: `count(*) … WHERE seq > $1` was
estimated at a third of the table and read all of it, so every append grew slower with the log
(measured: 1,100 → 200 appends/s over 100,000 entries; 20 ms per append on a table never analysed).

The hash itself is never checked here: the key never reaches the database (the verifier does).
"""

from django.db import migrations

FORWARD = """
DROP TRIGGER accesslog_entry_in_chain ON accesslog_entry;
DROP FUNCTION accesslog_entry_extends_head();

CREATE FUNCTION accesslog_entries_extend_head() RETURNS trigger LANGUAGE plpgsql
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
CREATE TRIGGER accesslog_entries_in_chain AFTER INSERT ON accesslog_entry
    REFERENCING NEW TABLE AS accesslog_new_entries
    FOR EACH STATEMENT EXECUTE FUNCTION accesslog_entries_extend_head();

CREATE OR REPLACE FUNCTION accesslog_head_moves_forward() RETURNS trigger LANGUAGE plpgsql
SET search_path = pg_catalog, public, pg_temp AS $$
DECLARE n bigint; bad bigint; last_hash char(64);
BEGIN
    IF NEW.id <> OLD.id OR NEW.seq <= OLD.seq THEN
        RAISE EXCEPTION 'access-log chain head may only move forward'
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
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

BACKWARD = """
DROP TRIGGER accesslog_entries_in_chain ON accesslog_entry;
DROP FUNCTION accesslog_entries_extend_head();
CREATE FUNCTION accesslog_entry_extends_head() RETURNS trigger LANGUAGE plpgsql
SET search_path = pg_catalog, public, pg_temp AS $$
DECLARE head_seq bigint; head_hash char(64);
BEGIN
    SELECT seq, row_hash INTO head_seq, head_hash FROM accesslog_chain_head WHERE id = 1;
    IF NEW.seq <> head_seq + 1 OR NEW.prev_hash <> head_hash THEN
        RAISE EXCEPTION 'access-log entry % does not extend the chain head %', NEW.seq, head_seq
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER accesslog_entry_in_chain BEFORE INSERT ON accesslog_entry
    FOR EACH ROW EXECUTE FUNCTION accesslog_entry_extends_head();
CREATE OR REPLACE FUNCTION accesslog_head_moves_forward() RETURNS trigger LANGUAGE plpgsql
SET search_path = pg_catalog, public, pg_temp AS $$
BEGIN
    IF NEW.seq <> OLD.seq + 1 OR NOT EXISTS (
        SELECT 1 FROM accesslog_entry WHERE seq = NEW.seq AND row_hash = NEW.row_hash
    ) THEN
        RAISE EXCEPTION 'access-log chain head may only advance onto the entry just written'
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    RETURN NEW;
END $$;
"""


class Migration(migrations.Migration):
    dependencies = [("accesslog", "0005_keyed_chain")]

    operations = [migrations.RunSQL(FORWARD, BACKWARD)]
