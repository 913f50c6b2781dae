"""API keys expire (issue 15, point 7). Existing keys get `created_at + SSKDT_API_KEY_DAYS`, but
never less than SSKDT_API_KEY_REMINDER_DAYS from now: no key stops working before its facility
has been reminded and has had time to switch to a new one."""

from datetime import timedelta

from django.conf import settings
from django.db import migrations, models
from django.utils import timezone

import facilities.models


def expiry_for_existing_keys(apps, schema_editor):
    key_model = apps.get_model("facilities", "FacilityApiKey")
    floor = timezone.now() + timedelta(days=settings.SSKDT_API_KEY_REMINDER_DAYS)
    lifetime = timedelta(days=settings.SSKDT_API_KEY_DAYS)
    # One statement for all rows (no per-row loop): GREATEST(created_at + lifetime, floor).
    with schema_editor.connection.cursor() as cur:
        cur.execute(
            f"UPDATE {schema_editor.quote_name(key_model._meta.db_table)} "  # noqa: S608 — the model's own table
            "SET expires_at = GREATEST(created_at + %s, %s) WHERE expires_at IS NULL",
            [lifetime, floor],
        )


class Migration(migrations.Migration):
    # The update and the NOT NULL in separate transactions (no pending trigger events at ALTER).
    atomic = False

    dependencies = [
        ("facilities", "0008_tax_code_trust_anchors_certificate_trust"),
    ]

    operations = [
        migrations.AddField(
            model_name="facilityapikey",
            name="expires_at",
            field=models.DateTimeField(null=True, verbose_name="expires"),
        ),
        migrations.AddField(
            model_name="facilityapikey",
            name="expiry_reminded_at",
            field=models.DateTimeField(blank=True, null=True, verbose_name="expiry reminder sent"),
        ),
        migrations.RunPython(expiry_for_existing_keys, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="facilityapikey",
            name="expires_at",
            field=models.DateTimeField(
                default=facilities.models.api_key_default_expiry, verbose_name="expires"
            ),
        ),
    ]
