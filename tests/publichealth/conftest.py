"""Public-health officers of two provinces and generated people of Hà Nội (no real data)."""

import datetime as dt

import pytest

from healthbook.consent.services import by_citizen, closure_add
from healthbook.models import Citizen
from tests import factories as f
from tests.citizenapi.conftest import platform  # noqa: F401  (the VNeID platform's signing key)
from tests.healthbook.book import factories as df


@pytest.fixture
def ph_hanoi(db):
    return f.UserFactory(
        username="ytcc.hanoi.test", role="public_health_officer", province=f.province("01"), full_name="Đỗ Thị Hằng"
    )


@pytest.fixture
def ph_hcm(db):
    return f.UserFactory(username="ytcc.hcm.test", role="public_health_officer", province=f.province("79"))


@pytest.fixture
def hanoi_people(db):
    """Four people living in Hà Nội (one of whom closed the book to everyone) and one in HCMC."""
    hanoi, hcm = f.province("01"), f.province("79")
    people = [
        df.citizen(name="Nguyễn Văn Huyết", birth=dt.date(1958, 3, 2), sex=1, province=hanoi),
        df.citizen(name="Lê Thị Áp", birth=dt.date(1963, 11, 20), sex=2, province=hanoi),
        df.citizen(name='=HYPERLINK("http://x","y")', birth=dt.date(1970, 1, 1), sex=1, province=hanoi),
    ]
    Citizen.objects.filter(pk=people[0].pk).update(phone="0912000111")
    closed = df.citizen(name="Phạm Văn Đóng", birth=dt.date(1955, 6, 6), sex=1, province=hanoi)
    closure_add(closed, by=by_citizen())
    far = df.citizen(name="Trần Văn Xa", province=hcm)
    return {"listed": people, "closed": closed, "far": far}


@pytest.fixture
def cohort(db):
    """The shipped hypertension cohort (cohorts migration 0002), current version."""
    from cohorts.selectors import current_version

    return current_version("hypertension-follow-up-missed")


def members_add(version, citizens, *, province_code: str, commune_code: str = "") -> None:
    """What the nightly job would have written for these citizens (cohorts.services)."""
    from django.utils import timezone

    from cohorts.models import CohortMembership, CohortRun

    province = f.province(province_code)
    run = CohortRun.objects.create(
        province=province, as_of=timezone.localdate(), started_at=timezone.now(), finished_at=timezone.now()
    )
    CohortMembership.objects.bulk_create(
        CohortMembership(version=version, citizen=c, province=province, commune_code=commune_code, run=run)
        for c in citizens
    )


@pytest.fixture
def members(cohort, hanoi_people):
    members_add(cohort, [*hanoi_people["listed"], hanoi_people["closed"]], province_code="01")
    members_add(cohort, [hanoi_people["far"]], province_code="79")
    return hanoi_people
