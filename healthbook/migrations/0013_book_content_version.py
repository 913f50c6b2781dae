"""The book's content version: a counter bumped by triggers on every table whose rows the
book pages cache (the header's clinical facts and the timeline), so a cached fragment is
keyed by the state of the book it was rendered from and a new or corrected record can never
be shown from an old one, whichever code path wrote it (intake, import, admin, tests).

Statement-level triggers with transition tables: one UPDATE per statement, whatever the
number of rows. The books are locked in id order within the statement, as the intake locks
encounters in key order, so concurrent writers queue instead of deadlocking.
"""

from django.db import migrations, models

# The tables read by healthbook.history's header and timeline queries (a test checks that
# the two lists agree): keep in step with history.CACHED_SOURCES.
TABLES = (
    "healthbook_encounter",
    "healthbook_lab_observation",
    "healthbook_medication",
    "healthbook_immunization",
    "healthbook_pregnancy_checkup",
    "healthbook_follow_up",
    "healthbook_birth_certificate",
    "healthbook_sick_leave",
    "healthbook_discharge_paper",
    "healthbook_referral",
    "healthbook_document",
)

FUNCTION = """
CREATE OR REPLACE FUNCTION healthbook_book_content_touch() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'INSERT' THEN
    UPDATE healthbook_book b SET content_version = b.content_version + 1
      FROM (SELECT id FROM healthbook_book WHERE id IN (SELECT book_id FROM new_rows)
             ORDER BY id FOR NO KEY UPDATE) t WHERE b.id = t.id;
  ELSIF TG_OP = 'UPDATE' THEN
    UPDATE healthbook_book b SET content_version = b.content_version + 1
      FROM (SELECT id FROM healthbook_book
             WHERE id IN (SELECT book_id FROM new_rows UNION SELECT book_id FROM old_rows)
             ORDER BY id FOR NO KEY UPDATE) t WHERE b.id = t.id;
  ELSE
    UPDATE healthbook_book b SET content_version = b.content_version + 1
      FROM (SELECT id FROM healthbook_book WHERE id IN (SELECT book_id FROM old_rows)
             ORDER BY id FOR NO KEY UPDATE) t WHERE b.id = t.id;
  END IF;
  RETURN NULL;
END $$;
"""


def _triggers(table: str) -> str:
    return f"""
CREATE TRIGGER {table}_touch_ins AFTER INSERT ON {table} REFERENCING NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION healthbook_book_content_touch();
CREATE TRIGGER {table}_touch_upd AFTER UPDATE ON {table} REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION healthbook_book_content_touch();
CREATE TRIGGER {table}_touch_del AFTER DELETE ON {table} REFERENCING OLD TABLE AS old_rows
  FOR EACH STATEMENT EXECUTE FUNCTION healthbook_book_content_touch();
"""


def _drop(table: str) -> str:
    return "".join(f"DROP TRIGGER IF EXISTS {table}_touch_{op} ON {table};" for op in ("ins", "upd", "del"))


class Migration(migrations.Migration):
    dependencies = [
        ("healthbook", "0012_name_words"),
    ]

    operations = [
        migrations.AddField(
            model_name="healthbook",
            name="content_version",
            field=models.BigIntegerField(db_default=0, default=0, editable=False),
        ),
        migrations.RunSQL(
            FUNCTION + "".join(_triggers(t) for t in TABLES),
            "".join(_drop(t) for t in TABLES) + "DROP FUNCTION IF EXISTS healthbook_book_content_touch();",
        ),
    ]
