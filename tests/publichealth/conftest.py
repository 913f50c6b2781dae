"""Public-health officers of two provinces and generated people of Hà Nội (no real data)."""

import datetime as dt

import pytest

from healthbook.consent.services import by_citizen, closure_add
from healthbook.models import Citizen
from tests import factories as f
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
