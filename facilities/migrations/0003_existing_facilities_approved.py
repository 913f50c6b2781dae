"""Facilities entered before the registration workflow existed were already vetted:
mark them approved, with a history row saying so."""

from django.db import migrations
from django.utils import timezone


def approve_existing(apps, schema_editor):
    Facility = apps.get_model("facilities", "Facility")
    FacilityStatusChange = apps.get_model("facilities", "FacilityStatusChange")
    now = timezone.now()
    pending = Facility.objects.filter(status="pending", status_changes__isnull=True)
    FacilityStatusChange.objects.bulk_create(
        FacilityStatusChange(
            facility_id=pk, from_status="pending", to_status="approved", at=now,
            reason="Registered before the approval workflow existed.",
        )
        for pk in pending.values_list("pk", flat=True)
    )
    pending.update(status="approved", approved_at=now)


class Migration(migrations.Migration):
    dependencies = [("facilities", "0002_registry_lifecycle_credentials_health")]
    operations = [migrations.RunPython(approve_existing, migrations.RunPython.noop)]
