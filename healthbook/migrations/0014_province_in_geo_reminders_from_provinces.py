"""Provinces are geo's now, and reminders to citizens belong to the health book (healthbook.reminders):
the tables keep their names (provinces_province, provinces_reminder) and rows; Django's state only."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('facilities', '0005_province_in_geo'),
        ('geo', '0001_province_tables_from_provinces'),
        ('healthbook', '0013_book_content_version'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name='cardbatch',
                    name='scope_province',
                    field=models.ForeignKey(blank=True, help_text="Set for a provincial officer's batch: rows of other provinces are rejected.", null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='geo.province', verbose_name='limited to province'),
                ),
                migrations.AlterField(
                    model_name='citizen',
                    name='residence_province',
                    field=models.ForeignKey(blank=True, db_index=False, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='geo.province', verbose_name='province of residence'),
                ),
                migrations.CreateModel(
                    name='Reminder',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('kind', models.CharField(choices=[('follow_up', 'Follow-up appointment'), ('vaccination', 'Vaccination')], max_length=16, verbose_name='kind')),
                        ('subject_key', models.CharField(max_length=120)),
                        ('due_date', models.DateField(verbose_name='due date')),
                        ('vaccine_code', models.CharField(blank=True, max_length=40, verbose_name='vaccine')),
                        ('dose', models.PositiveSmallIntegerField(blank=True, null=True, verbose_name='dose')),
                        ('channel', models.CharField(blank=True, max_length=32, verbose_name='channel')),
                        ('status', models.CharField(choices=[('pending', 'To send'), ('sending', 'Being sent'), ('sent', 'Sent'), ('failed', 'Failed')], default='pending', max_length=8, verbose_name='status')),
                        ('attempts', models.PositiveSmallIntegerField(default=0)),
                        ('last_error', models.CharField(blank=True, max_length=300)),
                        ('created_at', models.DateTimeField(auto_now_add=True)),
                        ('sent_at', models.DateTimeField(blank=True, null=True, verbose_name='sent at')),
                        ('citizen', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='reminders', to='healthbook.citizen')),
                        ('facility', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to='facilities.facility')),
                    ],
                    options={
                        'verbose_name': 'reminder',
                        'verbose_name_plural': 'reminders',
                        'db_table': 'provinces_reminder',
                        'ordering': ['due_date', 'id'],
                        'indexes': [models.Index(fields=['status', 'due_date'], name='reminder_status_due'), models.Index(fields=['citizen', 'due_date'], name='reminder_citizen_due')],
                        'constraints': [models.UniqueConstraint(fields=('kind', 'subject_key'), name='reminder_once_per_subject'), models.UniqueConstraint(condition=models.Q(('kind', 'vaccination')), fields=('citizen', 'vaccine_code', 'dose'), name='reminder_once_per_dose')],
                    },
                ),
            ],
            database_operations=[],
        ),
    ]
