"""The daily connectivity e-mail: to each province's officers, once per day, listing the
facilities that went silent or whose rejection rate jumped."""

import datetime as dt

import pytest
from django.core import mail

from provinces.connectivity import connectivity_digests_send
from provinces.models import ConnectivityDigest
from tests import factories as f
from tests.provinces.conftest import compute, facility, health, today

pytestmark = pytest.mark.django_db


@pytest.fixture
def silent_since_8_days(db):
    fac = facility("01701", "01", name="Trạm Y tế Vừa Im Lặng")
    for back in range(8, 40):
        health(fac, today() - dt.timedelta(days=back), received=3)
    compute(today() - dt.timedelta(days=2))
    return fac


def test_officers_get_one_digest_per_day(silent_since_8_days, officer_hanoi, officer_hcm):
    yesterday = today() - dt.timedelta(days=1)
    result = connectivity_digests_send(day=yesterday)
    assert result == {"digests_sent": 2, "digests_already_sent": 0}
    assert connectivity_digests_send(day=yesterday) == {"digests_sent": 0, "digests_already_sent": 2}
    assert len(mail.outbox) == 2
    to_hanoi = next(m for m in mail.outbox if m.to == [officer_hanoi.email])
    assert "Trạm Y tế Vừa Im Lặng" in to_hanoi.body
    assert "/dashboards/province/01/" in to_hanoi.body
    to_hcm = next(m for m in mail.outbox if m.to == [officer_hcm.email])
    assert "Trạm Y tế Vừa Im Lặng" not in to_hcm.body
    digest = ConnectivityDigest.objects.get(province__code="01", day=yesterday)
    assert (digest.went_silent, digest.recipients) == (1, 1) and digest.sent_at


def test_digest_is_in_the_officers_language(silent_since_8_days, officer_hanoi):
    officer_hanoi.language = "vi"
    officer_hanoi.save(update_fields=["language"])
    connectivity_digests_send(day=today() - dt.timedelta(days=1))
    assert "Kết nối" in mail.outbox[0].subject or "kết nối" in mail.outbox[0].subject


def test_provinces_without_officers_get_nothing(silent_since_8_days):
    assert connectivity_digests_send(day=today() - dt.timedelta(days=1))["digests_sent"] == 0
    assert mail.outbox == []


def test_inactive_officers_are_not_mailed(silent_since_8_days):
    f.province_officer("01", username="left", is_active=False)
    connectivity_digests_send(day=today() - dt.timedelta(days=1))
    assert mail.outbox == []


def test_went_silent_is_on_the_province_dashboard(silent_since_8_days, login, officer_hanoi):
    data = login(officer_hanoi).get("/dashboards/province/01/").context["data"]
    assert [row[1] for row in data["connectivity"].rows] == ["01701"]
    assert [row[0] for row in data["silent"].rows] == ["01701"]
