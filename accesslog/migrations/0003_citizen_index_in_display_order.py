"""The "who viewed this book" panel and the citizen's list read the newest entries of one
citizen ordered by (recorded_at DESC, seq DESC). The index led by (citizen_id, recorded_at)
alone made PostgreSQL fetch and sort every entry of the citizen on each book page (a
citizen's log only grows); this one is in the display order, so a page reads ten entries."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("accesslog", "0002_append_only_log_table")]

    operations = [
        migrations.RunSQL(
            "CREATE INDEX accesslog_entry_citizen_order ON accesslog_entry (citizen_id, recorded_at DESC, seq DESC)"
            " WHERE citizen_id IS NOT NULL; DROP INDEX accesslog_entry_citizen",
            "CREATE INDEX accesslog_entry_citizen ON accesslog_entry (citizen_id, recorded_at DESC)"
            " WHERE citizen_id IS NOT NULL; DROP INDEX accesslog_entry_citizen_order",
        ),
    ]
