"""Tell every process when the versions of a code list change: a statement trigger on the
version and system tables sends a notification on channel `sskdt_codelists`, delivered when the
change commits (codelists/in_force.py listens and forgets its cache)."""

from django.db import migrations

FORWARD = """
CREATE FUNCTION codelists_versions_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('sskdt_codelists', TG_TABLE_NAME);
    RETURN NULL;
END $$;

CREATE TRIGGER codelists_version_changed
    AFTER INSERT OR DELETE OR UPDATE OF status, effective_from, effective_to, published_at, label
    ON codelists_codesystemversion FOR EACH STATEMENT EXECUTE FUNCTION codelists_versions_changed();
CREATE TRIGGER codelists_version_truncated
    AFTER TRUNCATE ON codelists_codesystemversion FOR EACH STATEMENT EXECUTE FUNCTION codelists_versions_changed();
CREATE TRIGGER codelists_system_changed
    AFTER INSERT OR DELETE OR UPDATE OF key, groups ON codelists_codesystem
    FOR EACH STATEMENT EXECUTE FUNCTION codelists_versions_changed();
CREATE TRIGGER codelists_system_truncated
    AFTER TRUNCATE ON codelists_codesystem FOR EACH STATEMENT EXECUTE FUNCTION codelists_versions_changed();
"""

BACKWARD = """
DROP TRIGGER IF EXISTS codelists_system_truncated ON codelists_codesystem;
DROP TRIGGER IF EXISTS codelists_system_changed ON codelists_codesystem;
DROP TRIGGER IF EXISTS codelists_version_truncated ON codelists_codesystemversion;
DROP TRIGGER IF EXISTS codelists_version_changed ON codelists_codesystemversion;
DROP FUNCTION IF EXISTS codelists_versions_changed();
"""


class Migration(migrations.Migration):
    dependencies = [("codelists", "0004_icd10_groups")]
    operations = [migrations.RunSQL(FORWARD, BACKWARD)]
