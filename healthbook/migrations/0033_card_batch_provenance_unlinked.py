"""The card batch provenance columns without database foreign keys (issue 21).

book.created_by_batch, card.source_batch, card history's source_batch and replaced_by_batch name
the batch that wrote a row. A foreign key checked the same batch row once per row written —
2.5 million checks in a million-row import, about 11 s of one core (bench/RESULTS.md). What the
keys guaranteed is kept another way:
- a row never names a batch that does not exist: only the card merge writes these columns, for the
  batch whose row its transaction holds (FOR UPDATE in a batch's own chunks, FOR KEY SHARE in a
  shard's chunks — the lock each foreign-key check took, once a chunk), so the batch cannot be
  deleted before the chunk commits;
- deleting a batch clears them, as ON DELETE SET NULL would: the ORM does (on_delete=SET_NULL),
  and for any other DELETE the statement trigger below. It first takes the card merge lock
  exclusively (merge._MERGE_LOCK, 0x686263617264): a merge in progress may be copying a card of
  the deleted batch into the history; it commits first, new merges wait for this transaction.
"""

import django.db.models.deletion
from django.db import migrations, models

UNLINK = """
CREATE FUNCTION healthbook_card_batch_unlink() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_advisory_xact_lock(x'686263617264'::bigint);
    UPDATE healthbook_book SET created_by_batch_id = NULL WHERE created_by_batch_id IN (SELECT id FROM gone);
    UPDATE healthbook_card SET source_batch_id = NULL WHERE source_batch_id IN (SELECT id FROM gone);
    UPDATE healthbook_card_history SET source_batch_id = NULL WHERE source_batch_id IN (SELECT id FROM gone);
    UPDATE healthbook_card_history SET replaced_by_batch_id = NULL WHERE replaced_by_batch_id IN (SELECT id FROM gone);
    RETURN NULL;
END $$;
CREATE TRIGGER healthbook_card_batch_unlink AFTER DELETE ON healthbook_card_batch
    REFERENCING OLD TABLE AS gone FOR EACH STATEMENT EXECUTE FUNCTION healthbook_card_batch_unlink();
"""
DROP_UNLINK = """
DROP TRIGGER healthbook_card_batch_unlink ON healthbook_card_batch;
DROP FUNCTION healthbook_card_batch_unlink();
"""


class Migration(migrations.Migration):
    dependencies = [
        ("healthbook", "0032_card_batch_read_ranges"),
    ]

    operations = [
        migrations.RunSQL(UNLINK, DROP_UNLINK),
        migrations.AlterField(
            model_name="healthbook",
            name="created_by_batch",
            field=models.ForeignKey(
                blank=True,
                db_constraint=False,
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="+",
                to="healthbook.cardbatch",
            ),
        ),
        migrations.AlterField(
            model_name="insurancecard",
            name="source_batch",
            field=models.ForeignKey(
                blank=True,
                db_constraint=False,
                db_index=False,
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="+",
                to="healthbook.cardbatch",
                verbose_name="source batch",
            ),
        ),
        migrations.AlterField(
            model_name="insurancecardhistory",
            name="replaced_by_batch",
            field=models.ForeignKey(
                blank=True,
                db_constraint=False,
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="+",
                to="healthbook.cardbatch",
            ),
        ),
        migrations.AlterField(
            model_name="insurancecardhistory",
            name="source_batch",
            field=models.ForeignKey(
                blank=True,
                db_constraint=False,
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="+",
                to="healthbook.cardbatch",
                verbose_name="source batch",
            ),
        ),
    ]
