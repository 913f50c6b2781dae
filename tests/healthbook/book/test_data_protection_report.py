"""The ministry's data-protection report of copy requests: counts per month, outcomes, median
and longest handling time, on the page and in its CSV (issue 19, point 3)."""

import datetime as dt
import uuid

import pytest
from django.urls import reverse
from django.utils import timezone

from healthbook.copies.report import copy_requests_by_month
from healthbook.models import CopyRequest
from tests.healthbook.book import factories as df

pytestmark = pytest.mark.django_db


def _request(citizen, status, *, handled_minutes=None):
    row = CopyRequest.objects.create(public_id=uuid.uuid4(), citizen=citizen, status=status)
    if handled_minutes is not None:
        CopyRequest.objects.filter(pk=row.pk).update(
            finished_at=row.requested_at + dt.timedelta(minutes=handled_minutes)
        )


def test_counts_outcomes_and_handling_times(client, login, ministry_admin, django_assert_num_queries):
    person = df.citizen()
    S = CopyRequest.Status
    _request(person, S.DOWNLOADED, handled_minutes=2)
    _request(person, S.DOWNLOADED, handled_minutes=4)
    _request(person, S.EXPIRED, handled_minutes=30)
    _request(person, S.FAILED, handled_minutes=1)
    _request(person, S.PENDING)
    with django_assert_num_queries(1):
        month = copy_requests_by_month()[0]
    assert month["month"].strftime("%m/%Y") == timezone.localdate().strftime("%m/%Y")
    assert (month["requested"], month["downloaded"], month["expired"], month["failed"], month["waiting"]) == (
        5,
        2,
        1,
        1,
        1,
    )
    assert month["median"] == dt.timedelta(minutes=3) and month["longest"] == dt.timedelta(minutes=30)

    login(ministry_admin)
    page = client.get(reverse("data-protection"))
    assert page.status_code == 200 and "180" in page.content.decode() and "1800" in page.content.decode()
    csv = client.get(reverse("data-protection-csv"))
    assert csv.status_code == 200 and csv["Content-Type"].startswith("text/csv")
    assert csv.content.decode().splitlines()[1].split(",")[1:] == ["5", "2", "1", "1", "1", "180", "1800"]


def test_other_roles_do_not_see_the_report(client, login, doctor_a, ministry_editor):
    login(doctor_a)
    assert client.get(reverse("data-protection")).status_code == 403
