"""Dead letters for the province (issue 17 point 6): officers see their province's failed
messages only, the ministry all; "send again" asks for confirmation, then puts the message back
in the outbox (audited); out of scope is a 404."""

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.models import AuditEvent
from healthbook.models import Notification
from tests.provinces.conftest import citizen

pytestmark = pytest.mark.django_db

S = Notification.Status


def _failed(province_code: str, *, status=S.DEAD, error="HTTP 422: recipient_unknown") -> Notification:
    person = citizen(province_code)
    now = timezone.now()
    return Notification.objects.create(
        citizen=person, kind="follow_up", dedupe_key=f"appointment:{person.pk}", channel="vneid",
        province=person.residence_province, status=status, attempts=6, last_error=error,
        next_attempt_at=now, created_at=now,
    )  # fmt: skip


def test_officer_sees_the_failed_messages_of_the_province_only(login, officer_hanoi, django_assert_max_num_queries):
    hanoi, hcm = _failed("01", error="HTTP 422: hanoi-reason"), _failed("79", error="HTTP 422: hcm-reason")
    retrying = _failed("01", status=S.RETRYING, error="HTTP 503: later")
    Notification.objects.create(  # delivered: not listed
        citizen=hanoi.citizen, kind="vaccination", dedupe_key="dose:x", channel="vneid", province=hanoi.province,
        status=S.SENT, next_attempt_at=timezone.now(), created_at=timezone.now(),
    )  # fmt: skip
    client = login(officer_hanoi)
    client.get(reverse("notification-failed-list"))
    with django_assert_max_num_queries(8):
        body = client.get(reverse("notification-failed-list")).content.decode()
    assert "hanoi-reason" in body and "HTTP 503: later" in body and "hcm-reason" not in body
    assert str(hcm.public_id) not in body and str(retrying.public_id) in body
    assert hanoi.citizen.personal_id not in body  # masked
    assert "Tin nhắn chưa gửi được" in body
    only_dead = client.get(reverse("notification-failed-list"), {"status": "dead"}).content.decode()
    assert "hanoi-reason" in only_dead and "HTTP 503: later" not in only_dead


def test_ministry_sees_every_province(login, ministry_admin):
    _failed("01", error="HTTP 422: hanoi-reason"), _failed("79", error="HTTP 422: hcm-reason")
    body = login(ministry_admin).get(reverse("notification-failed-list")).content.decode()
    assert "hanoi-reason" in body and "hcm-reason" in body


def test_doctors_and_facility_admins_do_not_reach_the_page(login, doctor_a, facility_admin_a):
    assert login(doctor_a).get(reverse("notification-failed-list")).status_code == 403
    assert login(facility_admin_a).get(reverse("notification-failed-list")).status_code == 403


def test_send_again_asks_then_puts_the_message_back_in_the_outbox(login, officer_hanoi):
    dead = _failed("01")
    url = reverse("notification-retry", kwargs={"public_id": dead.public_id})
    client = login(officer_hanoi)
    confirm = client.get(url)
    assert confirm.status_code == 200 and 'method="post"' in confirm.content.decode()
    assert Notification.objects.get(pk=dead.pk).status == S.DEAD  # a GET changes nothing
    response = client.post(url)
    assert response.status_code == 302 and response["Location"] == reverse("notification-failed-list")
    dead.refresh_from_db()
    assert (dead.status, dead.attempts) == (S.PENDING, 0) and dead.next_attempt_at <= timezone.now()
    event = AuditEvent.objects.get(action="notification_retry")
    assert event.actor == officer_hanoi and event.details["attempts"] == 6
    assert client.post(url).status_code == 404  # no longer failed


def test_another_provinces_message_is_a_404(login, officer_hcm):
    dead = _failed("01")
    url = reverse("notification-retry", kwargs={"public_id": dead.public_id})
    client = login(officer_hcm)
    assert client.get(url).status_code == 404
    assert client.post(url).status_code == 404
    assert Notification.objects.get(pk=dead.pk).status == S.DEAD


def test_the_menu_shows_the_page_to_officers(login, officer_hanoi):
    body = login(officer_hanoi).get(reverse("home")).content.decode()
    assert reverse("notification-failed-list") in body
