"""Encounters and the detail tables read most (labs, medications, services, notes) become
PostgreSQL tables partitioned by HASH (facility_id), 16 partitions (issue 21; reasoning in
docs/scale.md "Partitioned clinical tables").

Why by facility and not by time or book: PostgreSQL enforces a unique key on a partitioned table
only when it contains the partition key. The intake upserts on (facility, key) for encounters and
(facility, source_key) for labs and medications (`INSERT … ON CONFLICT`, healthbook.intake.merge):
both contain the facility, so they stay enforced by the database, and one facility's submission
writes into one partition of each table. Partitioned by time or by book, those keys could no
longer be unique without a second, unpartitioned key table written on every visit. A detail row
refers to its encounter by the composite (encounter_id, facility_id) → encounter (id, facility_id)
(a detail row always has its encounter's facility: both come from the same submission). The cost:
a book's timeline (`WHERE book_id = … ORDER BY occurred_at DESC`) probes the (book, occurred_at)
index of every partition (Merge Append) — measured in bench/RESULTS.md.

`id` stays Django's primary key (its values unique by their sequence); the database's primary key
is (id, facility_id). PostgreSQL 15 has no identity column on a partitioned table, so `id` takes
its value from a plain sequence owned by the column, continuing from the identity's last value.
Django keeps its model state: the only state change is `db_constraint=False` on the foreign keys
to Encounter (the composite keys are added here in SQL; EncounterHistory has no facility column
and keeps no database key, see models.clinical).

Works on a populated database, in the migration's transaction: for each table, the rows are copied
(`INSERT … SELECT`) into a new partitioned table under the old name, then the indexes, unique
keys, foreign keys, CHECKs, the book content-version triggers (migration 0013) and the views
reading it (the cohorts views, migration 0028, replaced in place, their grants kept) are made
again from the catalog of the old table, which is dropped. The application role's grants follow
from `migrate` (core.dbroles). Reversible: the reverse makes plain tables again the same way (the
ids then keep the plain sequence instead of an identity).
"""

import django.db.models.deletion
from django.db import migrations, models


PARTITIONS = 16
TABLES = (
    "healthbook_encounter",
    "healthbook_medication",
    "healthbook_service_item",
    "healthbook_lab_observation",
    "healthbook_clinical_note",
)
# every table with an encounter_id and a facility_id (models.clinical.ClinicalRecord)
CHILDREN = (
    "healthbook_medication",
    "healthbook_service_item",
    "healthbook_lab_observation",
    "healthbook_clinical_note",
    "healthbook_follow_up",
    "healthbook_immunization",
    "healthbook_pregnancy_checkup",
    "healthbook_discharge_paper",
    "healthbook_record_summary",
    "healthbook_birth_certificate",
    "healthbook_sick_leave",
    "healthbook_referral",
    "healthbook_document",
    "healthbook_received_table",
    "healthbook_condition",
    "healthbook_allergy",
    "healthbook_procedure",
    "healthbook_diagnostic_report",
)

# Rebuild `t` as a table partitioned by HASH (facility_id) into `parts` partitions, or as a plain
# table when parts = 0, keeping its rows, id sequence, indexes, keys, triggers and the views on it.
REBUILD = r"""
CREATE FUNCTION pg_temp.healthbook_rebuild(t text, parts int) RETURNS void LANGUAGE plpgsql AS $fn$
DECLARE
  old text := t || '_unpartitioned';
  seq text := t || '_id_seq';
  last bigint;
  is_identity boolean;
  idx text[];
  cons text[];
  trg text[];
  views text[];
  d text;
  i int;
BEGIN
  SELECT coalesce(array_agg(replace(pg_get_indexdef(x.indexrelid), ' ON ONLY ', ' ON ')), '{}') INTO idx
    FROM pg_index x WHERE x.indrelid = t::regclass AND NOT EXISTS (
      SELECT 1 FROM pg_constraint c WHERE c.conindid = x.indexrelid AND c.conrelid = t::regclass);
  SELECT coalesce(array_agg(format('ALTER TABLE %I ADD CONSTRAINT %I %s', t, conname,
           CASE WHEN contype = 'p' THEN
             CASE WHEN parts > 0 THEN 'PRIMARY KEY (id, facility_id)' ELSE 'PRIMARY KEY (id)' END
           ELSE pg_get_constraintdef(oid) END)), '{}') INTO cons
    FROM pg_constraint WHERE conrelid = t::regclass AND contype IN ('p', 'u', 'f') AND conparentid = 0;
  SELECT coalesce(array_agg(pg_get_triggerdef(oid)), '{}') INTO trg
    FROM pg_trigger WHERE tgrelid = t::regclass AND NOT tgisinternal AND tgparentid = 0;
  SELECT coalesce(array_agg(DISTINCT format('CREATE OR REPLACE VIEW %s AS %s', v.oid::regclass,
           pg_get_viewdef(v.oid))), '{}') INTO views
    FROM pg_depend dep JOIN pg_rewrite r ON r.oid = dep.objid JOIN pg_class v ON v.oid = r.ev_class
    WHERE dep.refobjid = t::regclass AND v.oid <> t::regclass;
  IF EXISTS (SELECT 1 FROM pg_constraint WHERE confrelid = t::regclass AND conrelid <> t::regclass
               AND conparentid = 0) THEN
    RAISE EXCEPTION '% is still referenced by a foreign key', t;
  END IF;

  EXECUTE format('ALTER TABLE %I RENAME TO %I', t, old);
  EXECUTE format('SELECT last_value FROM %s', pg_get_serial_sequence(old, 'id')) INTO last;
  SELECT attidentity <> '' INTO is_identity FROM pg_attribute WHERE attrelid = old::regclass AND attname = 'id';
  IF is_identity THEN
    EXECUTE format('ALTER TABLE %I ALTER COLUMN id DROP IDENTITY', old);
    EXECUTE format('CREATE SEQUENCE %I AS bigint', seq);
    PERFORM setval(seq, last);
  ELSE
    EXECUTE format('ALTER SEQUENCE %I OWNED BY NONE', seq);
  END IF;
  EXECUTE format('CREATE TABLE %I (LIKE %I INCLUDING DEFAULTS INCLUDING CONSTRAINTS INCLUDING STORAGE '
                 'INCLUDING COMMENTS) %s', t, old,
                 CASE WHEN parts > 0 THEN 'PARTITION BY HASH (facility_id)' ELSE '' END);
  EXECUTE format('ALTER TABLE %I ALTER COLUMN id SET DEFAULT nextval(%L::regclass)', t, seq);
  EXECUTE format('ALTER SEQUENCE %I OWNED BY %I.id', seq, t);
  FOR i IN 0 .. parts - 1 LOOP
    EXECUTE format('CREATE TABLE %I PARTITION OF %I FOR VALUES WITH (MODULUS %s, REMAINDER %s)',
                   t || '_p' || lpad(i::text, 2, '0'), t, parts, i);
  END LOOP;
  EXECUTE format('INSERT INTO %I SELECT * FROM %I', t, old);
  FOREACH d IN ARRAY views LOOP EXECUTE d; END LOOP;
  EXECUTE format('DROP TABLE %I', old);
  FOREACH d IN ARRAY cons LOOP EXECUTE d; END LOOP;
  FOREACH d IN ARRAY idx LOOP EXECUTE d; END LOOP;
  FOREACH d IN ARRAY trg LOOP EXECUTE d; END LOOP;
  EXECUTE format('ANALYZE %I', t);
END $fn$;
"""


def _composite_keys() -> str:
    return "".join(
        f"ALTER TABLE {t} ADD CONSTRAINT {t}_encounter_fk FOREIGN KEY (encounter_id, facility_id) "
        "REFERENCES healthbook_encounter (id, facility_id) DEFERRABLE INITIALLY DEFERRED;"
        for t in CHILDREN
    )


FORWARD = (
    REBUILD
    + "".join(f"SELECT pg_temp.healthbook_rebuild('{t}', {PARTITIONS});" for t in TABLES)
    + _composite_keys()
    + "DROP FUNCTION pg_temp.healthbook_rebuild(text, int);"
)
REVERSE = (
    REBUILD
    + "".join(f"ALTER TABLE {t} DROP CONSTRAINT {t}_encounter_fk;" for t in CHILDREN)
    + "".join(f"SELECT pg_temp.healthbook_rebuild('{t}', 0);" for t in TABLES)
    + "DROP FUNCTION pg_temp.healthbook_rebuild(text, int);"
)


class Migration(migrations.Migration):

    dependencies = [
        ('healthbook', '0029_notification_kind_cohort_reminder'),
    ]

    operations = [
        migrations.AlterField(
            model_name='allergy',
            name='encounter',
            field=models.ForeignKey(blank=True, db_constraint=False, null=True, on_delete=django.db.models.deletion.CASCADE, related_name='%(class)ss', to='healthbook.encounter'),
        ),
        migrations.AlterField(
            model_name='birthcertificate',
            name='encounter',
            field=models.ForeignKey(blank=True, db_constraint=False, null=True, on_delete=django.db.models.deletion.CASCADE, related_name='%(class)ss', to='healthbook.encounter'),
        ),
        migrations.AlterField(
            model_name='clinicalnote',
            name='encounter',
            field=models.ForeignKey(blank=True, db_constraint=False, null=True, on_delete=django.db.models.deletion.CASCADE, related_name='%(class)ss', to='healthbook.encounter'),
        ),
        migrations.AlterField(
            model_name='clinicalprocedure',
            name='encounter',
            field=models.ForeignKey(blank=True, db_constraint=False, null=True, on_delete=django.db.models.deletion.CASCADE, related_name='%(class)ss', to='healthbook.encounter'),
        ),
        migrations.AlterField(
            model_name='condition',
            name='encounter',
            field=models.ForeignKey(blank=True, db_constraint=False, null=True, on_delete=django.db.models.deletion.CASCADE, related_name='%(class)ss', to='healthbook.encounter'),
        ),
        migrations.AlterField(
            model_name='diagnosticreport',
            name='encounter',
            field=models.ForeignKey(blank=True, db_constraint=False, null=True, on_delete=django.db.models.deletion.CASCADE, related_name='%(class)ss', to='healthbook.encounter'),
        ),
        migrations.AlterField(
            model_name='dischargepaper',
            name='encounter',
            field=models.ForeignKey(blank=True, db_constraint=False, null=True, on_delete=django.db.models.deletion.CASCADE, related_name='%(class)ss', to='healthbook.encounter'),
        ),
        migrations.AlterField(
            model_name='document',
            name='encounter',
            field=models.ForeignKey(blank=True, db_constraint=False, null=True, on_delete=django.db.models.deletion.CASCADE, related_name='%(class)ss', to='healthbook.encounter'),
        ),
        migrations.AlterField(
            model_name='encounterhistory',
            name='encounter',
            field=models.ForeignKey(db_constraint=False, on_delete=django.db.models.deletion.CASCADE, related_name='history', to='healthbook.encounter'),
        ),
        migrations.AlterField(
            model_name='followupappointment',
            name='encounter',
            field=models.ForeignKey(blank=True, db_constraint=False, null=True, on_delete=django.db.models.deletion.CASCADE, related_name='%(class)ss', to='healthbook.encounter'),
        ),
        migrations.AlterField(
            model_name='immunization',
            name='encounter',
            field=models.ForeignKey(blank=True, db_constraint=False, null=True, on_delete=django.db.models.deletion.CASCADE, related_name='%(class)ss', to='healthbook.encounter'),
        ),
        migrations.AlterField(
            model_name='labobservation',
            name='encounter',
            field=models.ForeignKey(blank=True, db_constraint=False, null=True, on_delete=django.db.models.deletion.CASCADE, related_name='%(class)ss', to='healthbook.encounter'),
        ),
        migrations.AlterField(
            model_name='medication',
            name='encounter',
            field=models.ForeignKey(blank=True, db_constraint=False, null=True, on_delete=django.db.models.deletion.CASCADE, related_name='%(class)ss', to='healthbook.encounter'),
        ),
        migrations.AlterField(
            model_name='pregnancycheckup',
            name='encounter',
            field=models.ForeignKey(blank=True, db_constraint=False, null=True, on_delete=django.db.models.deletion.CASCADE, related_name='%(class)ss', to='healthbook.encounter'),
        ),
        migrations.AlterField(
            model_name='receivedtable',
            name='encounter',
            field=models.ForeignKey(blank=True, db_constraint=False, null=True, on_delete=django.db.models.deletion.CASCADE, related_name='%(class)ss', to='healthbook.encounter'),
        ),
        migrations.AlterField(
            model_name='recordsummary',
            name='encounter',
            field=models.ForeignKey(blank=True, db_constraint=False, null=True, on_delete=django.db.models.deletion.CASCADE, related_name='%(class)ss', to='healthbook.encounter'),
        ),
        migrations.AlterField(
            model_name='referral',
            name='encounter',
            field=models.ForeignKey(blank=True, db_constraint=False, null=True, on_delete=django.db.models.deletion.CASCADE, related_name='%(class)ss', to='healthbook.encounter'),
        ),
        migrations.AlterField(
            model_name='serviceitem',
            name='encounter',
            field=models.ForeignKey(blank=True, db_constraint=False, null=True, on_delete=django.db.models.deletion.CASCADE, related_name='%(class)ss', to='healthbook.encounter'),
        ),
        migrations.AlterField(
            model_name='sickleavecertificate',
            name='encounter',
            field=models.ForeignKey(blank=True, db_constraint=False, null=True, on_delete=django.db.models.deletion.CASCADE, related_name='%(class)ss', to='healthbook.encounter'),
        ),
        migrations.RunSQL(FORWARD, REVERSE),
    ]
