"""The chain is keyed from now on (issue 15, T6): a `key_id` per entry, never empty again.

- `key_id` names the key an entry was sealed with (HMAC-SHA-256, accesslog/chain.py); the
  entries written before keep '' and their plain SHA-256, and still verify.
- A CHECK refuses a new entry without a key (NOT VALID: the older rows are not checked), so no
  code path can append an entry that anyone could have computed.
- The trigger functions look tables up in `public` before the session's temporary schema, so a
  role cannot shadow the chain head with a temporary table of its own.
- Privileges: the table owner keeps every right; the application role gets SELECT and INSERT
  on the entries, SELECT and UPDATE on the head (core/dbroles.py, after each migration).
"""

from django.db import migrations

FORWARD = """
ALTER TABLE accesslog_entry ADD COLUMN key_id varchar(16) NOT NULL DEFAULT '';
ALTER TABLE accesslog_entry ADD CONSTRAINT accesslog_entry_keyed CHECK (key_id <> '') NOT VALID;
ALTER FUNCTION accesslog_forbid_change() SET search_path = pg_catalog, public, pg_temp;
ALTER FUNCTION accesslog_entry_extends_head() SET search_path = pg_catalog, public, pg_temp;
ALTER FUNCTION accesslog_head_moves_forward() SET search_path = pg_catalog, public, pg_temp;
REVOKE ALL ON accesslog_entry, accesslog_chain_head FROM PUBLIC;
"""

BACKWARD = """
ALTER FUNCTION accesslog_forbid_change() RESET search_path;
ALTER FUNCTION accesslog_entry_extends_head() RESET search_path;
ALTER FUNCTION accesslog_head_moves_forward() RESET search_path;
ALTER TABLE accesslog_entry DROP CONSTRAINT accesslog_entry_keyed;
ALTER TABLE accesslog_entry DROP COLUMN key_id;
"""


class Migration(migrations.Migration):
    dependencies = [("accesslog", "0004_emergency_verdicts_final")]

    operations = [migrations.RunSQL(FORWARD, BACKWARD)]
