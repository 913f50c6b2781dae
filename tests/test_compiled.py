"""config.compiled: a queryset compiled once and run with other values."""

import pytest

from accounts.models import User
from config.compiled import CompiledQuery
from tests import factories as f


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
