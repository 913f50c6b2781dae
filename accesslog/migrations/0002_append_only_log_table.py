"""The access-log table, its chain head and the triggers that make it append-only.

Written in SQL because Django must never alter or flush it (the models are unmanaged):
- BEFORE UPDATE OR DELETE (each row) and BEFORE TRUNCATE raise, whatever the role: only a
  superuser who first disables the triggers can change history, and the hash chain plus the
  external checkpoint then expose it (accesslog/chain.py).
- BEFORE INSERT checks that the new entry extends the chain head (its seq is the next one
  and its prev_hash is the head's hash), so no code path can write outside the chain.
- The chain head may only move forward by one, onto an entry that exists with that hash.
Production additionally revokes UPDATE, DELETE, TRUNCATE from the application role
(docs/doctor-book.md).
"""

from django.db import migrations

GENESIS = "0" * 64

CREATE = f"""
CREATE TABLE accesslog_entry (
    id bigserial PRIMARY KEY,
    seq bigint NOT NULL UNIQUE,
    recorded_at timestamptz NOT NULL,
    actor_kind varchar(8) NOT NULL,
    actor_user_id integer NULL,
    actor_username varchar(150) NOT NULL DEFAULT '',
    actor_name varchar(150) NOT NULL DEFAULT '',
    actor_role varchar(32) NOT NULL DEFAULT '',
    facility_id integer NULL,
    facility_code varchar(16) NOT NULL DEFAULT '',
    facility_name varchar(255) NOT NULL DEFAULT '',
    client_ref varchar(64) NOT NULL DEFAULT '',
    citizen_id integer NULL,
    book_public_id uuid NULL,
    event varchar(24) NOT NULL,
    viewed varchar(200) NOT NULL DEFAULT '',
    purpose varchar(8) NOT NULL DEFAULT '',
    outcome smallint NOT NULL,
    source_ip inet NULL,
    request_id varchar(64) NOT NULL DEFAULT '',
    details jsonb NOT NULL DEFAULT '{{}}'::jsonb,
    prev_hash char(64) NOT NULL,
    row_hash char(64) NOT NULL
);
CREATE INDEX accesslog_entry_citizen ON accesslog_entry (citizen_id, recorded_at DESC)
    WHERE citizen_id IS NOT NULL;
CREATE INDEX accesslog_entry_actor ON accesslog_entry (actor_user_id, recorded_at DESC)
    WHERE actor_user_id IS NOT NULL;

CREATE TABLE accesslog_chain_head (
    id smallint PRIMARY KEY CHECK (id = 1),
    seq bigint NOT NULL,
    row_hash char(64) NOT NULL,
    updated_at timestamptz NOT NULL
);
INSERT INTO accesslog_chain_head (id, seq, row_hash, updated_at) VALUES (1, 0, '{GENESIS}', now());

CREATE FUNCTION accesslog_forbid_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'accesslog_entry is append-only: % refused', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END $$;

CREATE TRIGGER accesslog_entry_no_update_delete BEFORE UPDATE OR DELETE ON accesslog_entry
    FOR EACH ROW EXECUTE FUNCTION accesslog_forbid_change();
CREATE TRIGGER accesslog_entry_no_truncate BEFORE TRUNCATE ON accesslog_entry
    FOR EACH STATEMENT EXECUTE FUNCTION accesslog_forbid_change();
CREATE TRIGGER accesslog_head_no_delete BEFORE DELETE ON accesslog_chain_head
    FOR EACH ROW EXECUTE FUNCTION accesslog_forbid_change();
CREATE TRIGGER accesslog_head_no_truncate BEFORE TRUNCATE ON accesslog_chain_head
    FOR EACH STATEMENT EXECUTE FUNCTION accesslog_forbid_change();

CREATE FUNCTION accesslog_entry_extends_head() RETURNS trigger LANGUAGE plpgsql AS $$
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

CREATE FUNCTION accesslog_head_moves_forward() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.seq <> OLD.seq + 1 OR NOT EXISTS (
        SELECT 1 FROM accesslog_entry WHERE seq = NEW.seq AND row_hash = NEW.row_hash
    ) THEN
        RAISE EXCEPTION 'access-log chain head may only advance onto the entry just written'
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER accesslog_head_forward BEFORE UPDATE ON accesslog_chain_head
    FOR EACH ROW EXECUTE FUNCTION accesslog_head_moves_forward();
"""

DROP = """
DROP TABLE IF EXISTS accesslog_entry;
DROP TABLE IF EXISTS accesslog_chain_head;
DROP FUNCTION IF EXISTS accesslog_forbid_change();
DROP FUNCTION IF EXISTS accesslog_entry_extends_head();
DROP FUNCTION IF EXISTS accesslog_head_moves_forward();
"""


class Migration(migrations.Migration):
    dependencies = [("accesslog", "0001_emergency_access_and_citizen_app")]

    operations = [migrations.RunSQL(CREATE, DROP)]
