from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("codelists", "0002_frozen_versions")]

    operations = [
        migrations.AddField(
            model_name="codesystem",
            name="groups",
            field=models.JSONField(
                blank=True,
                default=dict,
                help_text="Named groups of codes by code prefix, e.g. the chronic conditions the book shows.",
                verbose_name="code groups",
            ),
        ),
    ]
