"""Province and OldProvinceCode now belong to geo, Reminder to healthbook: their tables keep their
names and rows (Django's state only). Their content types follow them, so that permissions and
admin history stay attached."""

import django.db.models.deletion
from django.db import migrations, models

MOVED = {"province": "geo", "oldprovincecode": "geo", "reminder": "healthbook"}


def content_types_follow(apps, schema_editor):
    ContentType = apps.get_model("contenttypes", "ContentType")
    for model, app_label in MOVED.items():
        if not ContentType.objects.filter(app_label=app_label, model=model).exists():
            ContentType.objects.filter(app_label="provinces", model=model).update(app_label=app_label)


class Migration(migrations.Migration):

    dependencies = [
        ('accounts', '0002_province_in_geo'),
        ('facilities', '0005_province_in_geo'),
        ('geo', '0001_province_tables_from_provinces'),
        ('healthbook', '0014_province_in_geo_reminders_from_provinces'),
        ('provinces', '0005_facility_day_list_indexes'),
        ('contenttypes', '0002_remove_content_type_name'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name='provincedayrollup',
                    name='province',
                    field=models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='rollups', to='geo.province'),
                ),
                migrations.AlterField(
                    model_name='rollouttarget',
                    name='province',
                    field=models.ForeignKey(blank=True, help_text='Empty for the national target.', null=True, on_delete=django.db.models.deletion.CASCADE, related_name='targets', to='geo.province', verbose_name='province'),
                ),
                migrations.AlterField(
                    model_name='connectivitydigest',
                    name='province',
                    field=models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to='geo.province'),
                ),
                migrations.AlterField(
                    model_name='rejectionreasonday',
                    name='province',
                    field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.CASCADE, related_name='+', to='geo.province'),
                ),
                migrations.AlterField(
                    model_name='facilitydayrollup',
                    name='province',
                    field=models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to='geo.province'),
                ),
                migrations.RemoveField(
                    model_name='reminder',
                    name='citizen',
                ),
                migrations.RemoveField(
                    model_name='reminder',
                    name='facility',
                ),
                migrations.DeleteModel(
                    name='OldProvinceCode',
                ),
                migrations.DeleteModel(
                    name='Province',
                ),
                migrations.DeleteModel(
                    name='Reminder',
                ),
            ],
            database_operations=[],
        ),
        migrations.RunPython(content_types_follow, migrations.RunPython.noop),
    ]
