"""The access log partitioned by month of `recorded_at` (issue 21, point 2; docs/scale.md, "The
access log, partitioned"), on a populated database: the table is copied into a partitioned one
under the same name, with the same columns, id sequence, indexes, triggers and grants.

- Partitions live in the schema `accesslog_partitions`, owned by the owner role; the
  application role has no USAGE on it, so it can name no partition: it reads and appends
  through `accesslog_entry` only (routing checks the parent's privileges alone). Creating,
  attaching, detaching or dropping a partition needs the owner.
- One partition per calendar month in UTC, from the oldest entry's month to three months ahead;
  later months are created ahead by `manage.py accesslog_partitions` / the beat job
  (accesslog/partitions.py), connected as the owner role. A DEFAULT partition catches an entry
  whose month has no partition yet, so no append ever fails for that; the job reports entries
  found there (an alert, docs/doctor-book.md).
- `seq` cannot have a unique index any more (a unique index on a partitioned table must contain
  the partition key). It stays unique because the chain admits an entry only as head+1 … head+n
  with nothing beyond the head, checked with the head locked (migration 0006); an index on seq
  (not unique) serves those checks and the verifier's walk. The primary key is (id, recorded_at).
- Row triggers (UPDATE/DELETE refused) are declared on the parent and cloned onto every
  partition; the statement triggers (TRUNCATE refused, the chain check on INSERT) fire for
  statements on the parent. Each partition gets two statement triggers of its own
  (accesslog_partition_create): TRUNCATE refused, and INSERT refused when a statement names the
  partition instead of the parent (rows routed through the parent do not fire it), so no role
  writes past the chain check by naming a partition.
"""

from django.db import migrations

COLUMNS = (
    "id, seq, recorded_at, actor_kind, actor_user_id, actor_username, actor_name, actor_role, facility_id,"
    " facility_code, facility_name, client_ref, citizen_id, book_public_id, event, viewed, purpose, outcome,"
    " source_ip, request_id, details, prev_hash, row_hash, key_id"
)

FORWARD = f"""
LOCK TABLE accesslog_chain_head, accesslog_entry IN EXCLUSIVE MODE;
CREATE SCHEMA accesslog_partitions;
REVOKE ALL ON SCHEMA accesslog_partitions FROM PUBLIC;

CREATE FUNCTION accesslog_partition_direct_insert() RETURNS trigger LANGUAGE plpgsql
SET search_path = pg_catalog, public, pg_temp AS $$
BEGIN
    RAISE EXCEPTION 'access-log entries are written through accesslog_entry, not into %', TG_TABLE_NAME
        USING ERRCODE = 'insufficient_privilege';
END $$;

-- One month's partition (UTC), with its own triggers; NULL when it exists already. Run by the
-- owner (the migration, accesslog/partitions.py); nobody else may execute it.
CREATE FUNCTION accesslog_partition_create(month date) RETURNS text LANGUAGE plpgsql
SET search_path = pg_catalog, public, pg_temp AS $$
DECLARE
    first date := date_trunc('month', month)::date;
    name text := 'accesslog_entry_' || to_char(first, 'YYYY_MM');
BEGIN
    IF to_regclass('accesslog_partitions.' || name) IS NOT NULL THEN
        RETURN NULL;
    END IF;
    -- Made apart, then attached: ATTACH takes SHARE UPDATE EXCLUSIVE on the parent (appends go on),
    -- where CREATE TABLE … PARTITION OF would take ACCESS EXCLUSIVE and stop every book page.
    EXECUTE format('CREATE TABLE accesslog_partitions.%I (LIKE public.accesslog_entry INCLUDING DEFAULTS'
                   ' INCLUDING CONSTRAINTS)', name);
    PERFORM accesslog_partition_guard(name);
    EXECUTE format('ALTER TABLE public.accesslog_entry ATTACH PARTITION accesslog_partitions.%I'
                   ' FOR VALUES FROM (%L) TO (%L)',
                   name, first::text || ' 00:00:00+00', (first + interval '1 month')::date::text || ' 00:00:00+00');
    RETURN name;
END $$;

CREATE FUNCTION accesslog_partition_guard(name text) RETURNS void LANGUAGE plpgsql
SET search_path = pg_catalog, public, pg_temp AS $$
BEGIN
    EXECUTE format('CREATE TRIGGER accesslog_partition_no_truncate BEFORE TRUNCATE ON accesslog_partitions.%I'
                   ' FOR EACH STATEMENT EXECUTE FUNCTION public.accesslog_forbid_change()', name);
    EXECUTE format('CREATE TRIGGER accesslog_partition_no_direct_insert BEFORE INSERT ON accesslog_partitions.%I'
                   ' FOR EACH STATEMENT EXECUTE FUNCTION public.accesslog_partition_direct_insert()', name);
END $$;
REVOKE EXECUTE ON FUNCTION accesslog_partition_create(date), accesslog_partition_guard(text),
    accesslog_partition_direct_insert() FROM PUBLIC;

ALTER SEQUENCE accesslog_entry_id_seq OWNED BY NONE;
ALTER TABLE accesslog_entry RENAME TO accesslog_entry_unpartitioned;
CREATE TABLE accesslog_entry (LIKE accesslog_entry_unpartitioned INCLUDING DEFAULTS)
    PARTITION BY RANGE (recorded_at);
ALTER SEQUENCE accesslog_entry_id_seq OWNED BY accesslog_entry.id;

CREATE TABLE accesslog_partitions.accesslog_entry_default PARTITION OF accesslog_entry DEFAULT;
SELECT accesslog_partition_guard('accesslog_entry_default');
SELECT accesslog_partition_create(m::date) FROM generate_series(
    date_trunc('month', coalesce((SELECT min(recorded_at) FROM accesslog_entry_unpartitioned), now()) AT TIME ZONE 'UTC'),
    date_trunc('month', now() AT TIME ZONE 'UTC') + interval '3 months',
    interval '1 month') AS m;

INSERT INTO accesslog_entry ({COLUMNS}) SELECT {COLUMNS} FROM accesslog_entry_unpartitioned;
DROP TABLE accesslog_entry_unpartitioned;

ALTER TABLE accesslog_entry ADD PRIMARY KEY (id, recorded_at);
CREATE INDEX accesslog_entry_seq ON accesslog_entry (seq);
CREATE INDEX accesslog_entry_citizen_order ON accesslog_entry (citizen_id, recorded_at DESC, seq DESC)
    WHERE citizen_id IS NOT NULL;
CREATE INDEX accesslog_entry_actor ON accesslog_entry (actor_user_id, recorded_at DESC)
    WHERE actor_user_id IS NOT NULL;
ALTER TABLE accesslog_entry ADD CONSTRAINT accesslog_entry_keyed CHECK (key_id <> '') NOT VALID;

CREATE TRIGGER accesslog_entry_no_update_delete BEFORE UPDATE OR DELETE ON accesslog_entry
    FOR EACH ROW EXECUTE FUNCTION accesslog_forbid_change();
CREATE TRIGGER accesslog_entry_no_truncate BEFORE TRUNCATE ON accesslog_entry
    FOR EACH STATEMENT EXECUTE FUNCTION accesslog_forbid_change();
CREATE TRIGGER accesslog_entries_in_chain AFTER INSERT ON accesslog_entry
    REFERENCING NEW TABLE AS accesslog_new_entries
    FOR EACH STATEMENT EXECUTE FUNCTION accesslog_entries_extend_head();
REVOKE ALL ON accesslog_entry FROM PUBLIC;
ANALYZE accesslog_entry;
"""

BACKWARD = f"""
LOCK TABLE accesslog_chain_head, accesslog_entry IN EXCLUSIVE MODE;
ALTER SEQUENCE accesslog_entry_id_seq OWNED BY NONE;
ALTER TABLE accesslog_entry RENAME TO accesslog_entry_partitioned;
CREATE TABLE accesslog_entry (LIKE accesslog_entry_partitioned INCLUDING DEFAULTS);
ALTER SEQUENCE accesslog_entry_id_seq OWNED BY accesslog_entry.id;
INSERT INTO accesslog_entry ({COLUMNS}) SELECT {COLUMNS} FROM accesslog_entry_partitioned ORDER BY seq;
DROP TABLE accesslog_entry_partitioned;
DROP SCHEMA accesslog_partitions;
DROP FUNCTION accesslog_partition_create(date);
DROP FUNCTION accesslog_partition_guard(text);
DROP FUNCTION accesslog_partition_direct_insert();
ALTER TABLE accesslog_entry ADD PRIMARY KEY (id);
ALTER TABLE accesslog_entry ADD CONSTRAINT accesslog_entry_seq_key UNIQUE (seq);
CREATE INDEX accesslog_entry_citizen_order ON accesslog_entry (citizen_id, recorded_at DESC, seq DESC)
    WHERE citizen_id IS NOT NULL;
CREATE INDEX accesslog_entry_actor ON accesslog_entry (actor_user_id, recorded_at DESC)
    WHERE actor_user_id IS NOT NULL;
ALTER TABLE accesslog_entry ADD CONSTRAINT accesslog_entry_keyed CHECK (key_id <> '') NOT VALID;
CREATE TRIGGER accesslog_entry_no_update_delete BEFORE UPDATE OR DELETE ON accesslog_entry
    FOR EACH ROW EXECUTE FUNCTION accesslog_forbid_change();
CREATE TRIGGER accesslog_entry_no_truncate BEFORE TRUNCATE ON accesslog_entry
    FOR EACH STATEMENT EXECUTE FUNCTION accesslog_forbid_change();
CREATE TRIGGER accesslog_entries_in_chain AFTER INSERT ON accesslog_entry
    REFERENCING NEW TABLE AS accesslog_new_entries
    FOR EACH STATEMENT EXECUTE FUNCTION accesslog_entries_extend_head();
REVOKE ALL ON accesslog_entry FROM PUBLIC;
"""


class Migration(migrations.Migration):
    dependencies = [("accesslog", "0006_set_based_chain_checks")]

    operations = [migrations.RunSQL(FORWARD, BACKWARD)]
