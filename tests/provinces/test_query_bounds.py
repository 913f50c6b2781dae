"""Dashboard pages and exports make the same, bounded number of queries whatever the data size."""

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from facilities.models import FacilityStatus, Ownership
from tests.provinces.conftest import citizen, compute, facility, health, today

pytestmark = pytest.mark.django_db

MAX_QUERIES = 25
PAGES = [
    "/dashboards/national/",
    "/dashboards/province/01/",
    "/dashboards/national/export/ranking.xlsx",
    "/dashboards/province/01/export/completeness.csv",
    "/dashboards/province/01/export/connectivity.xlsx",
    "/dashboards/national/?start=01/01/2025",
]


def _grow(n_facilities: int, days: int, start_number: int):
    d = today()
    for i in range(n_facilities):
        status = [FacilityStatus.CONNECTED, FacilityStatus.APPROVED, FacilityStatus.PENDING][i % 3]
        fac = facility(
            f"01{start_number + i:03d}", "01", status=status, ownership=[Ownership.PUBLIC, Ownership.PRIVATE][i % 2]
        )
        for back in range(0, days, 1 + i % 3):
            health(fac, d - dt.timedelta(days=back), received=5, rejected=i % 2)
    for _ in range(n_facilities):
        citizen("01", card=(d - dt.timedelta(days=10), None))
    compute(d - dt.timedelta(days=days))


def _counts(client) -> dict[str, int]:
    counts = {}
    client.get(PAGES[0])  # the first request of a session also records the session itself
    for url in PAGES:
        with CaptureQueriesContext(connection) as ctx:
            response = client.get(url)
        assert response.status_code == 200, url
        counts[url] = len(ctx.captured_queries)
    return counts


def test_pages_stay_within_the_bound(login, ministry_admin, django_assert_max_num_queries):
    client = login(ministry_admin)
    _grow(3, 10, 100)
    for url in PAGES:
        with django_assert_max_num_queries(MAX_QUERIES):
            assert client.get(url).status_code == 200


def test_query_count_does_not_grow_with_the_data(login, ministry_admin):
    client = login(ministry_admin)
    _grow(3, 10, 100)
    small = _counts(client)
    _grow(24, 60, 200)
    assert _counts(client) == small


def test_officer_page_is_bounded_too(login, officer_hanoi, django_assert_max_num_queries):
    client = login(officer_hanoi)
    _grow(6, 20, 300)
    with django_assert_max_num_queries(MAX_QUERIES):
        assert client.get("/dashboards/province/01/").status_code == 200
