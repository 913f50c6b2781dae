"""Give a loaded ICD-10 list the groups the book's header shows (chronic conditions, recorded
allergies): until now they were constants in the book's code. The same groups ship in
codelists/seed/systems.json, which load_codelists applies to a new installation."""

from django.db import migrations

ICD10_GROUPS = {
    "chronic": ["E10", "E11", "E12", "E13", "E14", "I10", "I11", "I12", "I13", "I15", "I20", "I25", "I50",
                "J44", "J45", "N18", "B18", "K74", "C", "F20", "G40", "E03", "E05", "M05"],
    "allergy": ["Z88", "Z91.0", "T78.4", "T88.7", "L23", "J30"],
}


def forward(apps, schema_editor):
    CodeSystem = apps.get_model("codelists", "CodeSystem")
    CodeSystem.objects.filter(key="icd10", groups={}).update(groups=ICD10_GROUPS)


class Migration(migrations.Migration):
    dependencies = [("codelists", "0003_codesystem_groups")]
    operations = [migrations.RunPython(forward, migrations.RunPython.noop)]
