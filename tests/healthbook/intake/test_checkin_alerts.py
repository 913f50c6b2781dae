"""A facility's check-ins against its own recent volume and catchment (issue 15, point 2): a burst
of first-ever check-ins of people from other provinces alerts the facility's province on its
dashboard and in the daily digest; an ordinary day does not."""

import datetime as dt

import pytest
from django.core import mail
from django.utils import timezone

from provinces.connectivity import connectivity_digests_send
from provinces.models import FacilityDayRollup
from provinces.rollups import rollups_compute
from tests.factories import province
from tests.healthbook.book import factories as df

from .carepath import checkin_envelope, checkin_rows
from .conftest import FACILITY, process

pytestmark = pytest.mark.django_db


def _burst(sender, pki, n: int, province_code: str):
    people = [df.citizen(name=f"Người Lạ {i}", province=province(province_code)) for i in range(n)]
    return process(sender.post(checkin_envelope(pki["valid"], FACILITY, [checkin_rows(p, FACILITY) for p in people])))


def test_a_burst_of_first_ever_check_ins_from_other_provinces_alerts_the_province(
    sender, pki, officer_hanoi, login, settings
):
    settings.SSKDT_CHECKIN_ALERT_MIN = 20
    sub = _burst(sender, pki, 25, "79")
    assert sub.status == "accepted", list(sub.problems.values_list("code", "table", "field"))
    today = timezone.localdate()
    rollups_compute(start=today, end=today)
    day = FacilityDayRollup.objects.get(facility=sender.facility, day=today)
    assert (day.checkins, day.checkins_other_province, day.checkins_first_contact) == (25, 25, 25)
    assert day.checkins_unusual
    body = login(officer_hanoi).get("/dashboards/province/01/").content.decode()
    assert "Tiếp đón bất thường" in body and sender.facility.name in body
    connectivity_digests_send(day=today)
    (message,) = mail.outbox
    assert sender.facility.code in message.body and "25" in message.body


def test_an_ordinary_day_raises_no_alert(sender, pki, settings):
    settings.SSKDT_CHECKIN_ALERT_MIN = 20
    _burst(sender, pki, 5, "01")
    today = timezone.localdate()
    rollups_compute(start=today - dt.timedelta(days=1), end=today)
    day = FacilityDayRollup.objects.get(facility=sender.facility, day=today)
    assert day.checkins == 5 and day.checkins_other_province == 0 and not day.checkins_unusual
