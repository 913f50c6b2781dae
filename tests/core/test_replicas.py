"""core/replicas.py without a replica: nothing changes when DATABASE_REPLICA_URLS is unset, and the
write detection that keeps reads after a write on the primary reads the SQL the portal sends.

The routing itself, with a real primary and a real streaming replica, is proved by
tests/faults/test_r12_read_replicas.py (R12)."""

import pytest
from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connection

from accesslog import chain
from core import replicas


@pytest.fixture
def unit():
    """A fresh request state (what it wrote), restored afterwards."""
    token = replicas._unit.set(replicas._Unit())
    yield replicas._current()
    replicas._unit.reset(token)


def test_without_replica_urls_nothing_is_routed(db, django_assert_num_queries):
    assert settings.DATABASE_REPLICA_URLS == []
    assert settings.DATABASE_ROUTERS == []
    assert list(settings.DATABASES) == [DEFAULT_DB_ALIAS]
    assert "core.replicas.ReplicaStickinessMiddleware" not in settings.MIDDLEWARE
    with django_assert_num_queries(1), replicas.lag_tolerant() as alias:  # no lag check, no extra query
        assert alias == DEFAULT_DB_ALIAS
        assert replicas.connection.alias == DEFAULT_DB_ALIAS
        with replicas.connection.cursor() as cur:
            cur.execute("SELECT 1")
    connection.ensure_connection()
    assert replicas._track_writes not in connection.execute_wrappers  # no write tracking either


@pytest.mark.parametrize(
    ("sql", "written", "pinned"),
    [
        ('INSERT INTO "healthbook_book" ("citizen_id") VALUES (%s)', {"healthbook_book"}, True),
        ('UPDATE "provinces_province_day_rollup" SET "books_total" = %s', {"provinces_province_day_rollup"}, True),
        ('DELETE FROM "codelists_concept" WHERE id = 1', {"codelists_concept"}, True),
        ("SELECT seq, row_hash FROM accesslog_chain_head WHERE id = 1 FOR UPDATE", set(), False),
        ("BEGIN; SELECT seq FROM accesslog_chain_head WHERE id = 1 FOR UPDATE", set(), False),
        ("SELECT 1 FROM healthbook_card_batch WHERE id = 1 FOR NO KEY UPDATE SKIP LOCKED", set(), False),
        ("SELECT * FROM t FOR UPDATE OF t", set(), False),
        ("INSERT INTO a (x) VALUES (1) ON CONFLICT (x) DO UPDATE SET x = excluded.x", {"a"}, True),
        (
            "WITH moved AS (UPDATE public.healthbook_card SET x = 1 RETURNING id) SELECT count(*) FROM moved",
            {"healthbook_card"},
            True,
        ),
        ('UPDATE "django_session" SET "expire_date" = %s WHERE "session_key" = %s', {"django_session"}, False),
        ("SELECT name FROM codelists_concept WHERE code = 'UPDATE'", set(), False),
        # the access log's own append (accesslog/chain.py): isolated, the book's content may still
        # come from a replica after it
        ("BEGIN; " + chain._HEAD_SQL, set(), False),
        (
            "SET LOCAL synchronous_commit = off; " + chain._INSERT_SQL + "; COMMIT; " + chain._FLUSH_SQL,
            {"accesslog_entry", "accesslog_chain_head"},
            False,
        ),
    ],
)
def test_writes_are_read_from_the_sql(unit, sql, written, pinned):
    replicas.note_write(sql)
    assert unit.written == written
    assert unit.pinned is pinned and replicas.wrote() is pinned


def test_a_write_to_an_isolated_table_keeps_only_that_table_on_the_primary(unit):
    replicas.note_write(chain._INSERT_SQL)
    unit.alias, unit.depth = "replica_1", 1  # as inside a lag-tolerant block that chose a replica
    assert replicas.read_alias("accesslog_entry") == DEFAULT_DB_ALIAS
    assert replicas.read_alias("healthbook_encounter") == "replica_1"
    replicas.note_write('UPDATE "healthbook_book" SET "content_version" = 2')
    assert replicas.read_alias("healthbook_encounter") == DEFAULT_DB_ALIAS
    assert replicas.read_alias() == DEFAULT_DB_ALIAS


def test_outside_a_block_every_read_is_on_the_primary(unit):
    assert replicas.read_alias("provinces_province_day_rollup") == DEFAULT_DB_ALIAS
    router = replicas.ReplicaRouter()
    from provinces.models import ProvinceDayRollup

    assert router.db_for_read(ProvinceDayRollup) == DEFAULT_DB_ALIAS
    assert router.db_for_write(ProvinceDayRollup) == DEFAULT_DB_ALIAS
    assert router.allow_migrate("replica_1", "provinces") is False
    assert router.allow_migrate(DEFAULT_DB_ALIAS, "provinces") is True


def test_the_access_log_is_declared_isolated():
    assert {"accesslog_entry", "accesslog_chain_head", "django_session"} <= replicas.isolated_tables()
    assert "healthbook_book" not in replicas.isolated_tables()


def test_a_replica_read_as_another_role_is_refused():
    databases = {
        "default": {"USER": "sskdt_app"},
        "replica_1": {"USER": "sskdt_app"},
        "replica_2": {"USER": "postgres"},
    }
    errors = replicas.replica_role_errors(databases, "sskdt_app")
    assert [e.id for e in errors] == ["sskdt.E010"]
    assert "replica_2" in errors[0].msg


def test_replica_settings_mirror_the_primary_in_tests():
    default = {"OPTIONS": {"prepare_threshold": 5}}
    out = replicas.database_settings(
        ["postgres://sskdt_app@r1:5432/x", "postgres://sskdt_app@r2:5432/x"],
        default,
        lambda url: {"USER": "sskdt_app", "HOST": url.split("@")[1].split(":")[0]},
    )
    assert list(out) == ["replica_1", "replica_2"]
    assert out["replica_2"]["HOST"] == "r2"
    assert out["replica_1"]["OPTIONS"] == {"prepare_threshold": 5, "connect_timeout": 3}
    assert out["replica_1"]["TEST"] == {"MIRROR": "default"}
