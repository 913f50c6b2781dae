"""The book's follow-ups tab shows the reminders and notices sent to the citizen with their
delivery state, through book_view (access decided and logged); an emergency opening writes the
"your book was opened in an emergency" message in the outbox with the grant."""

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from accesslog.models import AccessLogEntry, EmergencyAccess, Outcome
from healthbook.models import Notification, Reminder
from healthbook.notifications.dispatch import notifications_dispatch
from tests.healthbook.notifications.conftest import gateway  # noqa: F401 — the fake gateway fixture

pytestmark = pytest.mark.django_db


def _reminder_sent(person, facility, *, status="sent"):
    due = timezone.localdate() + dt.timedelta(days=2)
    reminder = Reminder.objects.create(
        kind="follow_up", subject_key=f"appointment:{person.pk}", citizen=person, facility=facility, due_date=due
    )
    now = timezone.now()
    Notification.objects.create(
        citizen=person, kind="follow_up", dedupe_key=reminder.subject_key, channel="vneid", status=status,
        attempts=1, sent_at=now if status == "sent" else None, next_attempt_at=now, created_at=now,
        last_error="" if status == "sent" else "HTTP 422: recipient_unknown",
    )  # fmt: skip
    return reminder


def test_follow_ups_tab_shows_reminders_with_delivery_state_and_logs_the_read(login, doctor_a, facility_a, patient_a):
    _reminder_sent(patient_a, facility_a)
    url = reverse("book-follow-ups", kwargs={"public_id": patient_a.book.public_id})
    body = login(doctor_a).get(url).content.decode()
    panel = body.split('id="book-reminders"')[1]
    assert "Nhắc lịch đã gửi cho người dân" in panel
    assert "Đã gửi · Ứng dụng VNeID" in panel and facility_a.name in panel
    entry = AccessLogEntry.objects.order_by("-seq").first()
    assert (entry.citizen_id, entry.viewed, entry.outcome) == (patient_a.pk, "follow-ups", Outcome.SUCCESS)


def test_a_dead_letter_shows_as_not_delivered(login, doctor_a, facility_a, patient_a):
    _reminder_sent(patient_a, facility_a, status="dead")
    url = reverse("book-follow-ups", kwargs={"public_id": patient_a.book.public_id})
    panel = login(doctor_a).get(url).content.decode().split('id="book-reminders"')[1]
    assert "Không gửi được" in panel


def test_without_a_relationship_the_panel_is_not_shown_and_the_refusal_is_logged(
    login, doctor_b, facility_a, patient_a
):
    _reminder_sent(patient_a, facility_a)
    url = reverse("book-follow-ups", kwargs={"public_id": patient_a.book.public_id})
    response = login(doctor_b).get(url)
    assert response.status_code == 403 and 'id="book-reminders"' not in response.content.decode()
    entry = AccessLogEntry.objects.order_by("-seq").first()
    assert (entry.citizen_id, entry.outcome) == (patient_a.pk, Outcome.DENIED)


def test_emergency_opening_tells_the_citizen_through_the_outbox(login, doctor_b, facility_b, patient_a, gateway):  # noqa: F811
    url = reverse("book-emergency", kwargs={"public_id": patient_a.book.public_id})
    client = login(doctor_b)
    client.post(url, {"reason": "unconscious"})
    grant = EmergencyAccess.objects.get()
    message = Notification.objects.get(kind="emergency_access")
    assert (message.citizen_id, message.facility_id) == (patient_a.pk, facility_b.pk)
    assert message.dedupe_key == f"emergency:{doctor_b.pk}:{timezone.localdate(grant.started_at).isoformat()}"
    assert notifications_dispatch()["sent"] == 1
    [got] = gateway.state.received
    text = got["body"]["body"]
    assert doctor_b.display_name in text and facility_b.name in text and "cấp cứu" in text
    # the book's tab lists the notice (the doctor now holds the emergency access)
    tab = reverse("book-follow-ups", kwargs={"public_id": patient_a.book.public_id})
    notices = client.get(tab).content.decode().split('id="book-notices"')[1]
    assert "Sổ được mở trong trường hợp cấp cứu" in notices


def test_no_message_when_the_emergency_cap_refuses(login, doctor_b, patient_a, settings):
    settings.SSKDT_EMERGENCY_CAP_PER_DOCTOR = 0
    url = reverse("book-emergency", kwargs={"public_id": patient_a.book.public_id})
    login(doctor_b).post(url, {"reason": "unconscious"})
    assert not EmergencyAccess.objects.exists() and not Notification.objects.exists()


def test_emergency_read_through_the_api_also_tells_the_citizen(client, key_a, doctor_a, facility_a, stranger):
    from tests.healthbook.book.conftest import facility_headers

    url = reverse("api-citizen-history", kwargs={"book": stranger.book.public_id})
    headers = facility_headers(key_a, "doctor_a", "ETREAT", **{"X-Emergency-Reason": "unconscious"})
    assert client.get(url, **headers).status_code == 200
    message = Notification.objects.get(citizen=stranger, kind="emergency_access")
    assert message.facility_id == facility_a.pk and message.province.code == "79"  # the citizen's province
    assert client.get(url, **headers).status_code == 200  # a second opening the same day: no second message
    assert Notification.objects.filter(citizen=stranger).count() == 1
