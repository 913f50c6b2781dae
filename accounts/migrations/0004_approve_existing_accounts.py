"""Accounts that existed before approvals (issue 15) keep working: each is marked approved when it
joined. New doctors and ministry administrators wait for a second party (accounts.services)."""

from django.db import migrations
from django.db.models import F


def approve_existing(apps, schema_editor):
    User = apps.get_model("accounts", "User")  # noqa: N806
    User.objects.filter(approved_at__isnull=True).exclude(role="").update(approved_at=F("date_joined"))


class Migration(migrations.Migration):
    dependencies = [("accounts", "0003_user_approval_and_certificate")]

    operations = [migrations.RunPython(approve_existing, migrations.RunPython.noop)]
