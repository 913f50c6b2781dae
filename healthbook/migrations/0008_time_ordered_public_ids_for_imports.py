from django.db import migrations

# A UUID in the version-7 layout: 48 bits of Unix time in milliseconds, then random bits (74
# of them, as unguessable as needed for a public identifier). The card import gives new
# citizens and books such ids, so each insert lands at the right edge of the public_id index
# instead of on a random page of it (one random index write less per new citizen and book).
_CREATE = """
CREATE OR REPLACE FUNCTION healthbook_uuid7() RETURNS uuid AS $$
    SELECT encode(
        set_bit(set_bit(
            overlay(uuid_send(gen_random_uuid())
                    PLACING substring(int8send(floor(extract(epoch FROM clock_timestamp()) * 1000)::bigint) FROM 3)
                    FROM 1 FOR 6),
            52, 1), 53, 1),
        'hex')::uuid
$$ LANGUAGE sql VOLATILE PARALLEL SAFE
"""


class Migration(migrations.Migration):

    dependencies = [
        ('healthbook', '0007_card_renewals_as_hot_updates'),
    ]

    operations = [
        migrations.RunSQL(_CREATE, "DROP FUNCTION IF EXISTS healthbook_uuid7()"),
    ]
