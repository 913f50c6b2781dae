"""Give lists loaded before property declarations existed the declarations of
codelists/seed/properties.json (load_codelists applies the same file to a new installation)."""

import json
from pathlib import Path

from django.db import migrations

SEED = Path(__file__).resolve().parent.parent / "seed" / "properties.json"


def forward(apps, schema_editor):
    CodeSystem = apps.get_model("codelists", "CodeSystem")
    declared = json.loads(SEED.read_text(encoding="utf-8"))
    for key, definitions in declared.items():
        CodeSystem.objects.filter(key=key, property_definitions=[]).update(property_definitions=definitions)


class Migration(migrations.Migration):
    dependencies = [("codelists", "0008_codesystem_property_definitions")]
    operations = [migrations.RunPython(forward, migrations.RunPython.noop)]
