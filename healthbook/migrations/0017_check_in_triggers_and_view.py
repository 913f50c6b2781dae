"""Check-ins are shown on the book's timeline: their writes bump the book's content version like
the other tables the cached timeline reads (migration 0013). And the dashboards' door to them:
the view the daily rollups read for the province's alert on unusual check-ins."""

from django.db import migrations

TABLE = "healthbook_check_in"

FORWARD = f"""
CREATE TRIGGER {TABLE}_touch_ins AFTER INSERT ON {TABLE} REFERENCING NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION healthbook_book_content_touch();
CREATE TRIGGER {TABLE}_touch_upd AFTER UPDATE ON {TABLE} REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION healthbook_book_content_touch();
CREATE TRIGGER {TABLE}_touch_del AFTER DELETE ON {TABLE} REFERENCING OLD TABLE AS old_rows
  FOR EACH STATEMENT EXECUTE FUNCTION healthbook_book_content_touch();
CREATE VIEW healthbook_check_in_view AS
    SELECT id, facility_id, created_at, first_contact, other_province FROM {TABLE};
"""

BACKWARD = "DROP VIEW IF EXISTS healthbook_check_in_view;" + "".join(
    f"DROP TRIGGER IF EXISTS {TABLE}_touch_{op} ON {TABLE};" for op in ("ins", "upd", "del")
)


class Migration(migrations.Migration):
    dependencies = [("healthbook", "0016_check_ins_and_identity_review")]
    operations = [migrations.RunSQL(FORWARD, BACKWARD)]
