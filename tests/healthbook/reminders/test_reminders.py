"""Reminders: follow-ups N days ahead and vaccinations due by the schedule, created once per
appointment or dose, each with its message in the outbox (sent once), shown in the book."""

import datetime as dt

import pytest
from django.core import mail
from django.db import IntegrityError, transaction

from codelists.lookups import vaccination_schedule
from healthbook.models import Notification, Reminder
from healthbook.notifications.dispatch import notifications_dispatch
from healthbook.notifications.selectors import reminders_with_delivery
from healthbook.reminders.services import reminders_create
from tests.provinces.conftest import appointment, citizen, facility, immunization, today

pytestmark = pytest.mark.django_db


@pytest.fixture
def clinic(db):
    return facility("01601", "01", name="Trạm Y tế Nhắc Lịch")


def test_follow_up_three_days_ahead_is_created_once(clinic):
    person = citizen("01")
    appointment(person, clinic, today() + dt.timedelta(days=3))
    appointment(person, clinic, today() + dt.timedelta(days=4))  # beyond the default 3 days
    assert reminders_create(today=today())["follow_ups_created"] == 1
    assert reminders_create(today=today())["follow_ups_created"] == 0
    reminder = Reminder.objects.get()
    assert (reminder.kind, reminder.citizen, reminder.facility) == (Reminder.Kind.FOLLOW_UP, person, clinic)


def test_days_ahead_is_configurable(clinic, settings):
    settings.REMINDER_DAYS_AHEAD = 5
    appointment(citizen("01"), clinic, today() + dt.timedelta(days=5))
    assert reminders_create(today=today())["follow_ups_created"] == 1


def test_a_reminder_is_written_with_its_message_and_sent_once(clinic, settings):
    settings.NOTIFY_DEFAULT_CHANNEL = "email"
    person = citizen("01")
    appointment(person, clinic, today() + dt.timedelta(days=2))
    reminders_create(today=today())
    reminder, message = Reminder.objects.get(), Notification.objects.get()
    assert (message.citizen, message.kind, message.dedupe_key) == (person, "follow_up", reminder.subject_key)
    assert message.facility == clinic and message.province.code == "01"
    assert notifications_dispatch()["sent"] == 1
    assert notifications_dispatch()["claimed"] == 0
    reminders_create(today=today())
    assert Notification.objects.count() == 1 and notifications_dispatch()["claimed"] == 0
    assert len(mail.outbox) == 1
    assert "Trạm Y tế Nhắc Lịch" in mail.outbox[0].body


def test_vaccination_messages_carry_the_dose(vaccine_list, clinic):
    born = _born_months_ago(2, plus_days=2)
    if born.day != (today() + dt.timedelta(days=2)).day:
        pytest.skip("month-end birthday: the due day shifts")
    child = citizen("01", born=born)
    created = reminders_create(today=today())["vaccinations_created"]
    messages = Notification.objects.filter(citizen=child, kind="vaccination")
    assert messages.count() == created
    assert {(m.context["vaccine_code"], m.context["dose"]) for m in messages} >= {("TCMR-OPV", 1)}


def test_database_refuses_a_second_reminder_for_the_same_appointment(clinic):
    person = citizen("01")
    Reminder.objects.create(kind="follow_up", subject_key="appointment:1", citizen=person, due_date=today())
    with pytest.raises(IntegrityError), transaction.atomic():
        Reminder.objects.create(kind="follow_up", subject_key="appointment:1", citizen=person, due_date=today())


def test_database_refuses_a_second_reminder_for_the_same_dose(clinic):
    person = citizen("01")
    Reminder.objects.create(
        kind="vaccination", subject_key="dose:a", citizen=person, due_date=today(), vaccine_code="TCMR-OPV", dose=1
    )
    with pytest.raises(IntegrityError), transaction.atomic():
        Reminder.objects.create(
            kind="vaccination", subject_key="dose:b", citizen=person, due_date=today(), vaccine_code="TCMR-OPV", dose=1
        )


def test_schedule_comes_from_the_vaccine_code_list(vaccine_list):
    doses = {(d.vaccine_code, d.dose): (d.age_value, d.age_unit) for d in vaccination_schedule(today())}
    assert doses[("TCMR-DPT-VGB-HIB", 1)] == (2, "month")
    assert doses[("TCMR-BCG", 1)] == (0, "day")
    assert not any(code == "TCMR-UV" for code, _ in doses)  # no schedule given in the list


def _born_months_ago(months: int, plus_days: int) -> dt.date:
    d = today() + dt.timedelta(days=plus_days)
    year, month = d.year, d.month - months
    while month < 1:
        month += 12
        year -= 1
    return dt.date(year, month, min(d.day, 28))


def test_child_gets_a_reminder_for_doses_falling_due(vaccine_list, clinic):
    born = _born_months_ago(2, plus_days=2)
    if born.day != (today() + dt.timedelta(days=2)).day:
        pytest.skip("month-end birthday: the due day shifts")
    child = citizen("01", born=born)
    created = reminders_create(today=today())["vaccinations_created"]
    codes = set(Reminder.objects.filter(citizen=child).values_list("vaccine_code", "dose"))
    assert ("TCMR-DPT-VGB-HIB", 1) in codes and ("TCMR-OPV", 1) in codes
    assert created == len(codes)
    assert reminders_create(today=today())["vaccinations_created"] == 0


def test_dose_already_given_gets_no_reminder(vaccine_list, clinic):
    born = _born_months_ago(2, plus_days=1)
    if born.day != (today() + dt.timedelta(days=1)).day:
        pytest.skip("month-end birthday: the due day shifts")
    child = citizen("01", born=born)
    immunization(child, clinic, "TCMR-OPV", today() - dt.timedelta(days=1))  # given a little early
    reminders_create(today=today())
    codes = set(Reminder.objects.filter(citizen=child).values_list("vaccine_code", "dose"))
    assert ("TCMR-OPV", 1) not in codes and ("TCMR-DPT-VGB-HIB", 1) in codes


def test_adults_get_no_vaccination_reminders(vaccine_list):
    citizen("01", born=dt.date(1980, 1, 1))
    assert reminders_create(today=today())["vaccinations_created"] == 0


def test_an_unconfigured_gateway_keeps_the_message_for_later(clinic, settings):
    settings.NOTIFY_VNEID_URL = ""
    appointment(citizen("01"), clinic, today() + dt.timedelta(days=1))
    reminders_create(today=today())
    assert notifications_dispatch()["retrying"] == 1
    message = Notification.objects.get()
    assert message.status == "retrying" and message.last_error == "vneid gateway not configured"


def test_reminders_are_visible_for_the_book(clinic):
    person, other = citizen("01"), citizen("01")
    appointment(person, clinic, today() + dt.timedelta(days=1))
    appointment(other, clinic, today() + dt.timedelta(days=1))
    reminders_create(today=today())
    assert [r.citizen for r in reminders_with_delivery(person)] == [person]


def test_book_partial_lists_the_reminders(clinic):
    from django.template.loader import render_to_string
    from django.utils import translation

    person = citizen("01")
    appointment(person, clinic, today() + dt.timedelta(days=1))
    reminders_create(today=today())
    with translation.override("vi"):
        html = render_to_string("healthbook/_book_reminders.html", {"reminders": reminders_with_delivery(person)})
    assert "Trạm Y tế Nhắc Lịch" in html and "Lịch tái khám" in html and "Chờ gửi" in html
