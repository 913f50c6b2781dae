"""The whole clinical record (issue 17): conditions, allergies, procedures, diagnostic reports;
FHIR lab and vital-sign observations, medication statements and dispenses, and resources kept as
received upserted by (facility, source_key); the reason for visit, treatment method and blood group
of XML1 and who performed an XML3 service (columns with a database default, so bulk loaders that
do not name them keep working). Conditions and allergies are read by the book's cached header:
their writes bump the book's content version like the others (migration 0013)."""

import django.db.models.deletion
from django.db import migrations, models

# the header reads these two (book.header._HEADER_SQL); procedures and reports are on no cached page
TABLES = ("healthbook_condition", "healthbook_allergy")


def _triggers(table: str) -> str:
    return f"""
CREATE TRIGGER {table}_touch_ins AFTER INSERT ON {table} REFERENCING NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION healthbook_book_content_touch();
CREATE TRIGGER {table}_touch_upd AFTER UPDATE ON {table} REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION healthbook_book_content_touch();
CREATE TRIGGER {table}_touch_del AFTER DELETE ON {table} REFERENCING OLD TABLE AS old_rows
  FOR EACH STATEMENT EXECUTE FUNCTION healthbook_book_content_touch();
"""


class Migration(migrations.Migration):

    dependencies = [
        ('facilities', '0008_tax_code_trust_anchors_certificate_trust'),
        ('healthbook', '0021_citizen_view_commune'),
    ]

    operations = [
        migrations.CreateModel(
            name='Allergy',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('occurred_at', models.DateTimeField(blank=True, null=True, verbose_name='date')),
                ('source_key', models.CharField(blank=True, help_text='STT within the visit, or the FHIR resource id', max_length=120)),
                ('code', models.CharField(blank=True, max_length=100, verbose_name='code')),
                ('code_system', models.CharField(blank=True, max_length=255)),
                ('display', models.CharField(blank=True, max_length=1024, verbose_name='substance')),
                ('type', models.CharField(blank=True, max_length=20)),
                ('category', models.CharField(blank=True, max_length=100, verbose_name='category')),
                ('criticality', models.CharField(blank=True, max_length=20, verbose_name='criticality')),
                ('clinical_status', models.CharField(blank=True, max_length=20, verbose_name='clinical status')),
                ('verification_status', models.CharField(blank=True, max_length=20)),
                ('reactions', models.TextField(blank=True, verbose_name='reactions')),
                ('onset_on', models.DateField(blank=True, null=True)),
                ('recorded_on', models.DateField(blank=True, null=True)),
                ('note', models.TextField(blank=True)),
            ],
            options={
                'verbose_name': 'allergy or intolerance',
                'verbose_name_plural': 'allergies and intolerances',
                'db_table': 'healthbook_allergy',
                'abstract': False,
            },
        ),
        migrations.CreateModel(
            name='ClinicalProcedure',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('occurred_at', models.DateTimeField(blank=True, null=True, verbose_name='date')),
                ('source_key', models.CharField(blank=True, help_text='STT within the visit, or the FHIR resource id', max_length=120)),
                ('code', models.CharField(blank=True, max_length=100, verbose_name='code')),
                ('code_system', models.CharField(blank=True, max_length=255)),
                ('display', models.CharField(blank=True, max_length=1024, verbose_name='procedure')),
                ('status', models.CharField(blank=True, max_length=20)),
                ('performed_at', models.DateTimeField(blank=True, null=True, verbose_name='performed at')),
                ('performed_on', models.DateField(blank=True, null=True)),
                ('performer', models.CharField(blank=True, max_length=255, verbose_name='performed by')),
                ('note', models.TextField(blank=True)),
            ],
            options={
                'verbose_name': 'procedure',
                'verbose_name_plural': 'procedures',
                'db_table': 'healthbook_procedure',
                'abstract': False,
            },
        ),
        migrations.CreateModel(
            name='Condition',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('occurred_at', models.DateTimeField(blank=True, null=True, verbose_name='date')),
                ('source_key', models.CharField(blank=True, help_text='STT within the visit, or the FHIR resource id', max_length=120)),
                ('code', models.CharField(blank=True, max_length=100, verbose_name='code')),
                ('code_system', models.CharField(blank=True, max_length=255)),
                ('display', models.CharField(blank=True, max_length=1024, verbose_name='condition')),
                ('category', models.CharField(blank=True, max_length=50, verbose_name='category')),
                ('clinical_status', models.CharField(blank=True, max_length=20, verbose_name='clinical status')),
                ('verification_status', models.CharField(blank=True, max_length=20)),
                ('severity', models.CharField(blank=True, max_length=255)),
                ('onset_on', models.DateField(blank=True, null=True, verbose_name='onset')),
                ('abatement_on', models.DateField(blank=True, null=True, verbose_name='resolved on')),
                ('recorded_on', models.DateField(blank=True, null=True)),
                ('note', models.TextField(blank=True)),
            ],
            options={
                'verbose_name': 'condition',
                'verbose_name_plural': 'conditions',
                'db_table': 'healthbook_condition',
                'abstract': False,
            },
        ),
        migrations.CreateModel(
            name='DiagnosticReport',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('occurred_at', models.DateTimeField(blank=True, null=True, verbose_name='date')),
                ('source_key', models.CharField(blank=True, help_text='STT within the visit, or the FHIR resource id', max_length=120)),
                ('code', models.CharField(blank=True, max_length=100, verbose_name='code')),
                ('code_system', models.CharField(blank=True, max_length=255)),
                ('display', models.CharField(blank=True, max_length=1024, verbose_name='report')),
                ('status', models.CharField(blank=True, max_length=20)),
                ('category', models.CharField(blank=True, max_length=50)),
                ('issued_at', models.DateTimeField(blank=True, null=True)),
                ('conclusion', models.TextField(blank=True, verbose_name='conclusion')),
            ],
            options={
                'verbose_name': 'diagnostic report',
                'verbose_name_plural': 'diagnostic reports',
                'db_table': 'healthbook_diagnostic_report',
                'abstract': False,
            },
        ),
        migrations.AddField(
            model_name='encounter',
            name='blood_group',
            field=models.CharField(blank=True, db_default='', default='', max_length=20, verbose_name='blood group (NHOM_MAU)'),
        ),
        migrations.AddField(
            model_name='encounter',
            name='reason_for_visit',
            field=models.TextField(blank=True, db_default='', default='', verbose_name='reason for visit (LY_DO_VV)'),
        ),
        migrations.AddField(
            model_name='encounter',
            name='treatment_method',
            field=models.TextField(blank=True, db_default='', default='', verbose_name='treatment method (PP_DIEU_TRI)'),
        ),
        migrations.AddField(
            model_name='labobservation',
            name='category',
            field=models.CharField(blank=True, db_default='', default='', max_length=50),
        ),
        migrations.AddField(
            model_name='labobservation',
            name='code_system',
            field=models.CharField(blank=True, db_default='', default='', max_length=255),
        ),
        migrations.AddField(
            model_name='labobservation',
            name='interpretation',
            field=models.CharField(blank=True, db_default='', default='', max_length=20, verbose_name='interpretation'),
        ),
        migrations.AddField(
            model_name='labobservation',
            name='report_key',
            field=models.CharField(blank=True, db_default='', default='', help_text='source_key of its DiagnosticReport', max_length=120),
        ),
        migrations.AddField(
            model_name='medication',
            name='kind',
            field=models.CharField(blank=True, db_default='', default='', help_text='FHIR: request, statement or dispense; empty for XML2 (a drug given)', max_length=10),
        ),
        migrations.AddField(
            model_name='medication',
            name='status',
            field=models.CharField(blank=True, db_default='', default='', help_text='FHIR status as sent', max_length=20),
        ),
        migrations.AddField(
            model_name='serviceitem',
            name='performer',
            field=models.CharField(blank=True, db_default='', default='', max_length=255, verbose_name='performed by'),
        ),
        migrations.AlterField(
            model_name='receivedtable',
            name='table',
            field=models.CharField(max_length=64),
        ),
        migrations.AddConstraint(
            model_name='labobservation',
            constraint=models.UniqueConstraint(fields=('facility', 'source_key'), name='lab_observation_source_unique'),
        ),
        migrations.AddConstraint(
            model_name='receivedtable',
            constraint=models.UniqueConstraint(fields=('facility', 'source_key'), name='received_table_source_unique'),
        ),
        migrations.AddField(
            model_name='allergy',
            name='book',
            field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to='healthbook.healthbook'),
        ),
        migrations.AddField(
            model_name='allergy',
            name='encounter',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.CASCADE, related_name='%(class)ss', to='healthbook.encounter'),
        ),
        migrations.AddField(
            model_name='allergy',
            name='facility',
            field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to='facilities.facility'),
        ),
        migrations.AddField(
            model_name='allergy',
            name='submission',
            field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to='healthbook.submission'),
        ),
        migrations.AddField(
            model_name='clinicalprocedure',
            name='book',
            field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to='healthbook.healthbook'),
        ),
        migrations.AddField(
            model_name='clinicalprocedure',
            name='encounter',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.CASCADE, related_name='%(class)ss', to='healthbook.encounter'),
        ),
        migrations.AddField(
            model_name='clinicalprocedure',
            name='facility',
            field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to='facilities.facility'),
        ),
        migrations.AddField(
            model_name='clinicalprocedure',
            name='submission',
            field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to='healthbook.submission'),
        ),
        migrations.AddField(
            model_name='condition',
            name='book',
            field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to='healthbook.healthbook'),
        ),
        migrations.AddField(
            model_name='condition',
            name='encounter',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.CASCADE, related_name='%(class)ss', to='healthbook.encounter'),
        ),
        migrations.AddField(
            model_name='condition',
            name='facility',
            field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to='facilities.facility'),
        ),
        migrations.AddField(
            model_name='condition',
            name='submission',
            field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to='healthbook.submission'),
        ),
        migrations.AddField(
            model_name='diagnosticreport',
            name='book',
            field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to='healthbook.healthbook'),
        ),
        migrations.AddField(
            model_name='diagnosticreport',
            name='encounter',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.CASCADE, related_name='%(class)ss', to='healthbook.encounter'),
        ),
        migrations.AddField(
            model_name='diagnosticreport',
            name='facility',
            field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to='facilities.facility'),
        ),
        migrations.AddField(
            model_name='diagnosticreport',
            name='submission',
            field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to='healthbook.submission'),
        ),
        migrations.AddIndex(
            model_name='allergy',
            index=models.Index(fields=['book', '-occurred_at'], name='allergy_book_time'),
        ),
        migrations.AddConstraint(
            model_name='allergy',
            constraint=models.UniqueConstraint(fields=('facility', 'source_key'), name='allergy_source_unique'),
        ),
        migrations.AddIndex(
            model_name='clinicalprocedure',
            index=models.Index(fields=['book', '-occurred_at'], name='procedure_book_time'),
        ),
        migrations.AddConstraint(
            model_name='clinicalprocedure',
            constraint=models.UniqueConstraint(fields=('facility', 'source_key'), name='procedure_source_unique'),
        ),
        migrations.AddIndex(
            model_name='condition',
            index=models.Index(fields=['book', '-occurred_at'], name='condition_book_time'),
        ),
        migrations.AddConstraint(
            model_name='condition',
            constraint=models.UniqueConstraint(fields=('facility', 'source_key'), name='condition_source_unique'),
        ),
        migrations.AddIndex(
            model_name='diagnosticreport',
            index=models.Index(fields=['book', '-occurred_at'], name='diagnostic_report_book_time'),
        ),
        migrations.AddConstraint(
            model_name='diagnosticreport',
            constraint=models.UniqueConstraint(fields=('facility', 'source_key'), name='diagnostic_report_source_unique'),
        ),
        migrations.RunSQL(
            "".join(_triggers(t) for t in TABLES),
            "".join(f"DROP TRIGGER IF EXISTS {t}_touch_{op} ON {t};" for t in TABLES for op in ("ins", "upd", "del")),
        ),
    ]
