"""An emergency access, once reviewed, never changes, and no grant is ever deleted: the verdict of
the province is final (issue 15). The service refuses a second verdict; this trigger refuses it for
every other writer too (admin, shell, a later bug)."""

from django.db import migrations

FORWARD = """
CREATE FUNCTION accesslog_emergency_verdict_final() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        RAISE EXCEPTION 'emergency access % is a record: it cannot be deleted', OLD.public_id
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    IF OLD.review_status <> 'pending' THEN
        RAISE EXCEPTION 'emergency access % was reviewed: its verdict is final', OLD.public_id
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER accesslog_emergency_verdict_final
    BEFORE UPDATE OR DELETE ON accesslog_emergencyaccess
    FOR EACH ROW EXECUTE FUNCTION accesslog_emergency_verdict_final();
"""

REVERSE = """
DROP TRIGGER IF EXISTS accesslog_emergency_verdict_final ON accesslog_emergencyaccess;
DROP FUNCTION IF EXISTS accesslog_emergency_verdict_final();
"""


class Migration(migrations.Migration):
    dependencies = [("accesslog", "0003_citizen_index_in_display_order")]

    operations = [migrations.RunSQL(FORWARD, REVERSE)]
