"""The words of citizens' names, for the finder to correct a misspelt family or middle name
(healthbook.models.NameWord, healthbook.selectors), and fuzzystrmatch for its edit distance.

Kept by two statement-level triggers on healthbook_citizen (after INSERT, after UPDATE; a
trigger with transition tables serves one event): each statement adds the words of the rows it
wrote that the dictionary lacks, set-wise — one DISTINCT over the statement's rows and one
probe of the small dictionary per distinct word. Existing citizens are filled here, set-wise.
"""

from django.contrib.postgres.operations import CreateExtension
from django.db import migrations, models

_FUNCTION = """
CREATE OR REPLACE FUNCTION healthbook_name_words_add() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO healthbook_name_word (word)
    SELECT DISTINCT w FROM written, unnest(string_to_array(written.search_name, ' ')) AS w
    WHERE w <> '' AND NOT EXISTS (SELECT 1 FROM healthbook_name_word d WHERE d.word = w)
    ORDER BY w
    ON CONFLICT (word) DO NOTHING;
    RETURN NULL;
END
$$;
CREATE TRIGGER healthbook_citizen_name_words_insert AFTER INSERT ON healthbook_citizen
    REFERENCING NEW TABLE AS written FOR EACH STATEMENT EXECUTE FUNCTION healthbook_name_words_add();
CREATE TRIGGER healthbook_citizen_name_words_update AFTER UPDATE ON healthbook_citizen
    REFERENCING NEW TABLE AS written FOR EACH STATEMENT EXECUTE FUNCTION healthbook_name_words_add();
"""
_DROP_FUNCTION = """
DROP TRIGGER IF EXISTS healthbook_citizen_name_words_update ON healthbook_citizen;
DROP TRIGGER IF EXISTS healthbook_citizen_name_words_insert ON healthbook_citizen;
DROP FUNCTION IF EXISTS healthbook_name_words_add();
"""
_FILL = """
INSERT INTO healthbook_name_word (word)
SELECT DISTINCT w FROM healthbook_citizen, unnest(string_to_array(search_name, ' ')) AS w WHERE w <> ''
ON CONFLICT (word) DO NOTHING
"""


class Migration(migrations.Migration):

    dependencies = [
        ('healthbook', '0011_encounter_created_at_index'),
    ]

    operations = [
        CreateExtension("fuzzystrmatch"),
        migrations.CreateModel(
            name='NameWord',
            fields=[
                ('word', models.CharField(db_collation='C', max_length=255, primary_key=True, serialize=False)),
            ],
            options={
                'verbose_name': 'name word',
                'verbose_name_plural': 'name words',
                'db_table': 'healthbook_name_word',
            },
        ),
        migrations.RunSQL(_FUNCTION, _DROP_FUNCTION),
        migrations.RunSQL(_FILL, migrations.RunSQL.noop),
    ]
