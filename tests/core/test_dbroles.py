"""The application role's grants (core/dbroles.py): it reads and writes the portal's rows and
appends to the access log, and changes no schema, no migration record, no whole table."""

import pytest
from django.db import connection, transaction
from django.db.utils import DatabaseError

from accesslog.chain import chain_verify
from accesslog.services import Actor, access_log_record

pytestmark = pytest.mark.django_db


def _as(role: str, sql: str) -> bool:
    """True if PostgreSQL refused `sql` run as `role` (rolled back either way)."""
    try:
        with transaction.atomic(), connection.cursor() as cur:
            cur.execute(f"SET LOCAL ROLE {connection.ops.quote_name(role)}")
            cur.execute(sql)
            raise _Done
    except DatabaseError:
        return True
    except _Done:
        return False


class _Done(Exception):
    pass


def test_application_role_works_on_rows_and_appends_to_the_log(app_role):
    with transaction.atomic():
        with connection.cursor() as cur:
            cur.execute(f"SET LOCAL ROLE {connection.ops.quote_name(app_role)}")
            cur.execute("SELECT count(*) FROM provinces_province")
            assert cur.fetchone()[0] > 0
            cur.execute("UPDATE provinces_province SET name_vi = name_vi WHERE code = '01'")
        access_log_record(actor=Actor(kind="person", username="app-role"), event="view", viewed="book", outcome=0)
        assert chain_verify().ok


@pytest.mark.parametrize(
    "sql",
    [
        "CREATE TABLE app_made (a int)",
        "TRUNCATE provinces_province CASCADE",
        "ALTER TABLE provinces_province ADD COLUMN note text",
        "DELETE FROM django_migrations",
        "INSERT INTO django_migrations (app, name, applied) VALUES ('x', 'y', now())",
        "CREATE TRIGGER t BEFORE UPDATE ON provinces_province FOR EACH ROW"
        " EXECUTE FUNCTION suppress_redundant_updates_trigger()",
    ],
)
def test_application_role_changes_no_schema(app_role, sql):
    assert _as(app_role, sql)
