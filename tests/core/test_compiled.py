"""core.compiled: a queryset compiled once and run with other values."""

import pytest

from accounts.models import User
from core.compiled import CompiledQuery
from tests import factories as f
from tests.conftest import TRANSACTIONAL


def test_runs_the_compiled_sql_with_the_real_values(db):
    a, b = f.ministry(username="a.user"), f.ministry(username="b.user")
    query = CompiledQuery(lambda s: User.objects.filter(pk=s["pk"]).order_by("pk")[:1], {"pk": -987654321})
    assert [u.username for u in query.run({"pk": a.pk})] == ["a.user"]
    assert [u.username for u in query.run({"pk": b.pk})] == ["b.user"]
    assert query.run({"pk": -1}) == []


def test_a_sentinel_missing_from_the_sql_is_refused(db):
    query = CompiledQuery(lambda s: User.objects.filter(pk=1)[:1], {"pk": -987654321})
    with pytest.raises(ValueError, match="sentinels not found"):
        query.run({"pk": 1})


def _prepared_statements() -> list[str]:
    from django.db import connection

    with connection.cursor() as cur:
        cur.execute("SELECT statement FROM pg_prepared_statements")
        return [row[0] for row in cur.fetchall()]


def test_the_statement_is_prepared_once_per_connection(db):
    a = f.ministry(username="a.user")
    query = CompiledQuery(lambda s: User.objects.filter(pk=s["pk"]).order_by("pk")[:1], {"pk": -987654321})
    for _ in range(3):
        assert [u.username for u in query.run({"pk": a.pk})] == ["a.user"]
    assert len([s for s in _prepared_statements() if "accounts_user" in s]) == 1


def test_without_prepared_statements_the_same_query_runs_unprepared(db):
    from django.db import connection

    a = f.ministry(username="a.user")
    query = CompiledQuery(lambda s: User.objects.filter(pk=s["pk"]).order_by("pk")[:1], {"pk": -987654321})
    connection.ensure_connection()
    saved, connection.connection.prepare_threshold = connection.connection.prepare_threshold, None
    try:  # None is what DB_PREPARED_STATEMENTS=0 configures
        assert [u.username for u in query.run({"pk": a.pk})] == ["a.user"]
        assert not [s for s in _prepared_statements() if "accounts_user" in s]
    finally:
        connection.connection.prepare_threshold = saved


def test_a_compiled_query_shows_in_the_query_log(db, django_assert_num_queries):
    a = f.ministry(username="a.user")
    query = CompiledQuery(lambda s: User.objects.filter(pk=s["pk"]).order_by("pk")[:1], {"pk": -987654321})
    with django_assert_num_queries(1) as captured:
        query.run({"pk": a.pk})
    assert f'"accounts_user"."id" = {a.pk}' in captured.captured_queries[0]["sql"]


@TRANSACTIONAL
def test_a_dropped_connection_is_replaced_before_the_query_as_django_cursors_do():
    import psycopg
    from django.db import connection

    a = f.ministry(username="a.user")
    query = CompiledQuery(lambda s: User.objects.filter(pk=s["pk"]).order_by("pk")[:1], {"pk": -987654321})
    query.run({"pk": a.pk})
    pid = connection.connection.info.backend_pid
    d = connection.settings_dict
    with psycopg.connect(
        dbname=d["NAME"], host=d["HOST"], port=d["PORT"], user=d["USER"], password=d["PASSWORD"], autocommit=True
    ) as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", [pid])
    connection.health_check_done = False  # a new request: the first query checks the connection
    assert [u.username for u in query.run({"pk": a.pk})] == ["a.user"]
    assert connection.connection.info.backend_pid != pid
