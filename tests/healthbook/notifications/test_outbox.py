"""The outbox (issue 17 point 6): once per citizen+reason+period, delivered through the signed
HTTP contract to a real (fake) gateway, retried with backoff, dead letters on refusal or after
the last attempt, no duplicate after a lost answer."""

import datetime as dt

import pytest
import requests
from django.db import IntegrityError, transaction
from django.utils import timezone

from healthbook.models import Notification
from healthbook.notifications import signing
from healthbook.notifications.dispatch import notifications_dispatch, notifications_sweep, retry_delay
from healthbook.notifications.services import copy_ready_notify, enqueue_notification, enqueue_notifications_from
from tests.healthbook.notifications.conftest import KEY_ID, SECRET
from tests.provinces.conftest import citizen, facility, today

pytestmark = pytest.mark.django_db

S = Notification.Status


def _due_now():
    Notification.objects.update(next_attempt_at=timezone.now() - dt.timedelta(seconds=1))


def _follow_up(person, key="appointment:1", **kwargs):
    return enqueue_notification(
        citizen_id=person.pk,
        kind=Notification.Kind.FOLLOW_UP,
        dedupe_key=key,
        context={"due_date": "2026-12-09", "facility": "Trạm Y tế Nhắc Lịch"},
        **kwargs,
    )


def test_one_message_per_citizen_reason_and_period():
    person = citizen("01")
    assert _follow_up(person) is not None
    assert _follow_up(person) is None  # the same reason and period: nothing written
    assert _follow_up(person, key="appointment:2") is not None
    assert _follow_up(citizen("01")) is not None  # another citizen
    assert Notification.objects.count() == 3


def test_the_database_refuses_a_duplicate_written_any_other_way():
    person = citizen("01")
    row = _follow_up(person)
    with pytest.raises(IntegrityError), transaction.atomic():
        Notification.objects.create(
            citizen=person, kind=row.kind, dedupe_key=row.dedupe_key, channel="sms",
            next_attempt_at=timezone.now(), created_at=timezone.now(),
        )  # fmt: skip


def test_the_message_lives_and_dies_with_the_callers_transaction():
    person = citizen("01")
    with pytest.raises(RuntimeError), transaction.atomic():
        _follow_up(person)
        raise RuntimeError("the fact was not written")
    assert not Notification.objects.exists()


def test_province_is_the_citizens_else_the_facilitys():
    clinic = facility("79601", "79", name="Trạm Y tế Phường")
    assert _follow_up(citizen("01")).__class__ is Notification
    _follow_up(citizen(None), facility_id=clinic.pk)
    provinces = sorted(Notification.objects.values_list("province__code", flat=True))
    assert provinces == ["01", "79"]


def test_unknown_kind_or_channel_is_a_programming_error():
    person = citizen("01")
    with pytest.raises(ValueError):
        enqueue_notification(citizen_id=person.pk, kind="lottery", dedupe_key="x")
    with pytest.raises(ValueError):
        enqueue_notification(citizen_id=person.pk, kind="follow_up", dedupe_key="x", channel="pigeon")


def test_delivered_signed_with_the_message_id_as_idempotency_key(gateway):
    person = citizen("01")
    row = _follow_up(person)
    assert notifications_dispatch() == {"claimed": 1, "sent": 1, "retrying": 0, "dead": 0}
    [got] = gateway.state.received
    assert got["path"] == "/vneid/notifications" and got["key_id"] == KEY_ID
    assert got["message_id"] == str(row.public_id) == got["body"]["message_id"]
    assert got["body"]["recipient"] == {"personal_id": person.personal_id}
    assert "09/12/2026" in got["body"]["body"] and "Trạm Y tế Nhắc Lịch" in got["body"]["body"]
    sent = Notification.objects.get()
    assert (sent.status, sent.attempts, sent.last_error) == (S.SENT, 1, "")
    assert notifications_dispatch()["claimed"] == 0  # sent once


def test_sms_goes_through_the_same_outbox(gateway):
    person = citizen("01")
    type(person).objects.filter(pk=person.pk).update(phone="0912345678")
    _follow_up(person, channel="sms")
    assert notifications_dispatch()["sent"] == 1
    [got] = gateway.state.received
    assert got["path"] == "/sms/messages" and got["body"]["to"] == "0912345678"


def test_sms_without_a_phone_number_is_a_dead_letter_at_once(gateway):
    _follow_up(citizen("01"), channel="sms")
    assert notifications_dispatch()["dead"] == 1
    assert Notification.objects.get().last_error == "no phone number"
    assert gateway.state.requests == 0


def test_the_fake_gateway_refuses_a_bad_signature_and_a_stale_timestamp(gateway, settings):
    body = signing.canonical_body({"message_id": "m-1"})
    url = settings.NOTIFY_VNEID_URL
    good = signing.signed_headers(key_id=KEY_ID, secret=SECRET, body=body, message_id="m-1")
    forged = signing.signed_headers(key_id=KEY_ID, secret="guessed", body=body, message_id="m-1")
    stale = signing.signed_headers(key_id=KEY_ID, secret=SECRET, body=body, message_id="m-1", now=0)
    tampered = body.replace(b"m-1", b"m-2")
    assert requests.post(url, data=body, headers=forged, timeout=5).json() == {"reason": "bad_signature"}
    assert requests.post(url, data=body, headers=stale, timeout=5).json() == {"reason": "stale_timestamp"}
    assert requests.post(url, data=tampered, headers=good, timeout=5).status_code == 401
    assert requests.post(url, data=body, headers=good, timeout=5).status_code == 202
    assert [r["reason"] for r in gateway.state.refused] == ["bad_signature", "stale_timestamp", "bad_signature"]


def test_wrong_secret_is_refused_by_the_gateway_and_becomes_a_dead_letter(gateway, settings):
    settings.NOTIFY_VNEID_SECRET = "not-the-registered-secret"
    _follow_up(citizen("01"))
    assert notifications_dispatch()["dead"] == 1
    dead = Notification.objects.get()
    assert (dead.status, dead.last_error) == (S.DEAD, "HTTP 401: bad_signature")
    assert gateway.state.received == []


def test_5xx_is_retried_with_exponential_backoff(gateway, settings):
    settings.NOTIFY_RETRY_BASE_SECONDS = 60
    gateway.control(fail_status=503, fail_count=2)
    _follow_up(citizen("01"))
    before = timezone.now()
    assert notifications_dispatch()["retrying"] == 1
    row = Notification.objects.get()
    assert (row.status, row.attempts, row.last_error) == (S.RETRYING, 1, "HTTP 503: gateway_unavailable")
    assert before + dt.timedelta(seconds=59) < row.next_attempt_at < timezone.now() + dt.timedelta(seconds=61)
    assert notifications_dispatch()["claimed"] == 0  # not before its time
    _due_now()
    assert notifications_dispatch()["retrying"] == 1
    row.refresh_from_db()
    assert row.attempts == 2 and row.next_attempt_at > timezone.now() + dt.timedelta(seconds=119)
    _due_now()
    assert notifications_dispatch()["sent"] == 1
    assert len(gateway.state.received) == 1


def test_backoff_doubles_and_is_capped(settings):
    settings.NOTIFY_RETRY_BASE_SECONDS, settings.NOTIFY_RETRY_MAX_SECONDS = 60, 600
    assert [retry_delay(n).total_seconds() for n in (1, 2, 3, 4, 5)] == [60, 120, 240, 480, 600]


def test_timeout_is_retried_then_a_dead_letter_after_the_last_attempt(settings):
    settings.NOTIFY_VNEID_URL, settings.NOTIFY_VNEID_KEY_ID, settings.NOTIFY_VNEID_SECRET = (
        "http://127.0.0.1:9/nothing-listens", KEY_ID, SECRET,
    )  # fmt: skip
    settings.NOTIFY_MAX_ATTEMPTS = 3
    _follow_up(citizen("01"))
    for _ in range(2):
        assert notifications_dispatch()["retrying"] == 1
        _due_now()
    assert notifications_dispatch()["dead"] == 1
    dead = Notification.objects.get()
    assert dead.attempts == 3 and dead.last_error.startswith("connection:")
    _due_now()
    assert notifications_dispatch()["claimed"] == 0


def test_4xx_is_a_dead_letter_with_the_gateways_reason(gateway):
    gateway.control(refuse_status=422)
    _follow_up(citizen("01"))
    assert notifications_dispatch()["dead"] == 1
    assert Notification.objects.get().last_error == "HTTP 422: recipient_unknown"


def test_a_retry_after_a_lost_answer_is_not_delivered_twice(gateway):
    gateway.control(lose_response_count=1)
    _follow_up(citizen("01"))
    assert notifications_dispatch()["retrying"] == 1  # delivered, but the answer was lost
    _due_now()
    assert notifications_dispatch()["sent"] == 1
    assert len(gateway.state.received) == 1 and gateway.state.duplicates == 1


def test_a_claim_left_by_a_dead_worker_is_taken_again_after_it_lapses(gateway):
    _follow_up(citizen("01"))
    Notification.objects.update(status=S.SENDING, attempts=1, next_attempt_at=timezone.now() + dt.timedelta(minutes=5))
    assert notifications_dispatch()["claimed"] == 0  # still someone's
    _due_now()
    assert notifications_dispatch()["sent"] == 1
    assert Notification.objects.get().attempts == 2


def test_the_sweep_claims_set_wise_and_skips_rows_locked_elsewhere(gateway, settings, django_assert_max_num_queries):
    settings.NOTIFY_BATCH = 10
    people = [citizen("01") for _ in range(25)]
    for person in people:
        _follow_up(person)
    # 3 batches: each claims in one statement, loads in one, records in one (plus transaction statements)
    with django_assert_max_num_queries(3 * 8):
        assert notifications_sweep()["sent"] == 25
    assert len({r["message_id"] for r in gateway.state.received}) == 25


def test_bulk_enqueue_from_a_select_is_one_statement(django_assert_num_queries):
    people = [citizen("01") for _ in range(5)]
    ids = [p.pk for p in people]
    source = (
        "SELECT id AS citizen_id, 'vaccination' AS kind, 'cohort:2026-12' AS dedupe_key, "
        "NULL::bigint AS facility_id, '{}'::jsonb AS context FROM healthbook_citizen WHERE id = ANY(%s)"
    )
    with django_assert_num_queries(1):
        assert enqueue_notifications_from(source_sql=source, params=[ids]) == 5
    assert enqueue_notifications_from(source_sql=source, params=[ids]) == 0


def test_copy_ready_is_one_message_per_copy_request(gateway):
    person = citizen("01")
    assert copy_ready_notify(citizen_id=person.pk, copy_request_id=7, expires_on=dt.date(2026, 12, 20))
    assert copy_ready_notify(citizen_id=person.pk, copy_request_id=7, expires_on=dt.date(2026, 12, 20)) is None
    notifications_dispatch()
    [got] = gateway.state.received
    assert got["body"]["kind"] == "copy_ready" and "20/12/2026" in got["body"]["body"]
    assert today()  # the dashboards' clock is the same


def test_a_broker_that_is_down_loses_nothing(monkeypatch, django_capture_on_commit_callbacks):
    from healthbook.notifications import services

    def refuse(*args, **kwargs):
        raise ConnectionError("broker down")

    monkeypatch.setattr(services.notifications_dispatch_task, "delay", refuse)
    with django_capture_on_commit_callbacks(execute=True):
        _follow_up(citizen("01"))
    assert Notification.objects.get().status == S.PENDING  # still there for the sweep


def test_reminders_waiting_from_before_the_outbox_get_their_message():
    import importlib
    from types import SimpleNamespace

    from django.db import connection

    from healthbook.models import Reminder

    migration = importlib.import_module("healthbook.migrations.0026_outbox_for_waiting_reminders")
    person = citizen("01")
    tomorrow, yesterday = today() + dt.timedelta(days=1), today() - dt.timedelta(days=1)
    Reminder.objects.create(kind="follow_up", subject_key="appointment:1", citizen=person, due_date=tomorrow)
    Reminder.objects.create(kind="follow_up", subject_key="appointment:2", citizen=person, due_date=yesterday)
    Reminder.objects.create(
        kind="follow_up", subject_key="appointment:3", citizen=person, due_date=tomorrow, status="sent"
    )
    migration.forward(None, SimpleNamespace(connection=connection))
    migration.forward(None, SimpleNamespace(connection=connection))  # twice: nothing more
    message = Notification.objects.get()
    assert (message.dedupe_key, message.status, message.context["due_date"]) == (
        "appointment:1",
        S.PENDING,
        tomorrow.isoformat(),
    )
