"""Published code-list versions never change: enforced by the database itself.

- A published or retired version cannot be deleted; the only change allowed is
  published → retired with its `effective_to` set (done when a newer version is published).
- No concept or mapping of a published or retired version can be inserted, updated or
  deleted, whoever writes (service, admin, raw SQL, COPY). The concept checks are
  statement-level with transition tables so that bulk loads pay one check per statement.

Violations raise SQLSTATE 23001 (restrict_violation), which Django reports as IntegrityError.
"""

from django.db import migrations

FROZEN_COLUMNS = (
    "system_id, label, effective_from, change_note, based_on_id, source_checksum, created_by_id, created_at, "
    "last_edited_by_id, last_edited_at, edit_count, submitted_by_id, submitted_at, review_comment, "
    "published_by_id, published_at"
)


def _row(prefix: str) -> str:
    return "ROW(" + ", ".join(f"{prefix}.{c.strip()}" for c in FROZEN_COLUMNS.split(",")) + ")"


FORWARD = f"""
CREATE OR REPLACE FUNCTION codelists_version_guard() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF OLD.status IN ('published', 'retired') THEN
    IF TG_OP = 'DELETE' THEN
      RAISE EXCEPTION 'code-list version % is published and immutable: it cannot be deleted', OLD.id
        USING ERRCODE = 'restrict_violation';
    END IF;
    IF NEW.status NOT IN ('published', 'retired')
       OR (OLD.status = 'retired' AND NEW.status <> 'retired')
       OR {_row("NEW")} IS DISTINCT FROM {_row("OLD")} THEN
      RAISE EXCEPTION 'code-list version % is published and immutable: only retiring it is allowed', OLD.id
        USING ERRCODE = 'restrict_violation';
    END IF;
  END IF;
  IF TG_OP = 'DELETE' THEN
    RETURN OLD;
  END IF;
  RETURN NEW;
END $$;

CREATE TRIGGER codelists_version_guard
  BEFORE UPDATE OR DELETE ON codelists_codesystemversion
  FOR EACH ROW EXECUTE FUNCTION codelists_version_guard();

CREATE OR REPLACE FUNCTION codelists_concept_guard() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP IN ('INSERT', 'UPDATE') THEN
    PERFORM 1 FROM codelists_codesystemversion v
      WHERE v.id IN (SELECT DISTINCT version_id FROM new_rows) FOR SHARE;
    IF EXISTS (SELECT 1 FROM codelists_codesystemversion v
               WHERE v.id IN (SELECT DISTINCT version_id FROM new_rows)
                 AND v.status IN ('published', 'retired')) THEN
      RAISE EXCEPTION 'concepts of a published code-list version are immutable'
        USING ERRCODE = 'restrict_violation';
    END IF;
  END IF;
  IF TG_OP IN ('UPDATE', 'DELETE') THEN
    IF EXISTS (SELECT 1 FROM codelists_codesystemversion v
               WHERE v.id IN (SELECT DISTINCT version_id FROM old_rows)
                 AND v.status IN ('published', 'retired')) THEN
      RAISE EXCEPTION 'concepts of a published code-list version are immutable'
        USING ERRCODE = 'restrict_violation';
    END IF;
  END IF;
  RETURN NULL;
END $$;

CREATE TRIGGER codelists_concept_guard_insert
  AFTER INSERT ON codelists_concept REFERENCING NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION codelists_concept_guard();
CREATE TRIGGER codelists_concept_guard_update
  AFTER UPDATE ON codelists_concept REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION codelists_concept_guard();
CREATE TRIGGER codelists_concept_guard_delete
  AFTER DELETE ON codelists_concept REFERENCING OLD TABLE AS old_rows
  FOR EACH STATEMENT EXECUTE FUNCTION codelists_concept_guard();

CREATE OR REPLACE FUNCTION codelists_mapping_guard() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  concept_ids bigint[];
BEGIN
  IF TG_OP = 'DELETE' THEN
    concept_ids := ARRAY[OLD.concept_id];
  ELSIF TG_OP = 'UPDATE' THEN
    concept_ids := ARRAY[OLD.concept_id, NEW.concept_id];
  ELSE
    concept_ids := ARRAY[NEW.concept_id];
  END IF;
  IF EXISTS (SELECT 1 FROM codelists_concept c JOIN codelists_codesystemversion v ON v.id = c.version_id
             WHERE c.id = ANY(concept_ids) AND v.status IN ('published', 'retired')) THEN
    RAISE EXCEPTION 'mappings of a published code-list version are immutable'
      USING ERRCODE = 'restrict_violation';
  END IF;
  IF TG_OP = 'DELETE' THEN
    RETURN OLD;
  END IF;
  RETURN NEW;
END $$;

CREATE TRIGGER codelists_mapping_guard
  BEFORE INSERT OR UPDATE OR DELETE ON codelists_conceptmapping
  FOR EACH ROW EXECUTE FUNCTION codelists_mapping_guard();
"""

REVERSE = """
DROP TRIGGER IF EXISTS codelists_mapping_guard ON codelists_conceptmapping;
DROP FUNCTION IF EXISTS codelists_mapping_guard();
DROP TRIGGER IF EXISTS codelists_concept_guard_insert ON codelists_concept;
DROP TRIGGER IF EXISTS codelists_concept_guard_update ON codelists_concept;
DROP TRIGGER IF EXISTS codelists_concept_guard_delete ON codelists_concept;
DROP FUNCTION IF EXISTS codelists_concept_guard();
DROP TRIGGER IF EXISTS codelists_version_guard ON codelists_codesystemversion;
DROP FUNCTION IF EXISTS codelists_version_guard();
"""


class Migration(migrations.Migration):
    dependencies = [("codelists", "0001_schema")]
    operations = [migrations.RunSQL(FORWARD, REVERSE)]
