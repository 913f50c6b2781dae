"""Delivery channels of the reminders: the interface a channel implements, the development
e-mail channel, and the SMS and VNeID adapters to be completed against their providers.
The channel in use is settings.REMINDER_SENDER (a dotted path to a class here or elsewhere)."""

import datetime as dt
from dataclasses import dataclass
from typing import Protocol

from django.conf import settings
from django.core.mail import send_mail
from django.utils.module_loading import import_string
from django.utils.translation import gettext as _


class ReminderSendError(Exception):
    """The channel did not accept the message (it may be retried)."""


@dataclass(frozen=True)
class ReminderMessage:
    """What a sender needs: who, when, what, and the Vietnamese text to deliver."""

    reminder_id: int
    kind: str
    citizen_public_id: str
    personal_id: str
    phone: str
    due_date: dt.date
    facility_name: str
    vaccine_code: str
    dose: int | None
    text: str


class ReminderSender(Protocol):
    """The interface of a delivery channel (see docs/dashboards.md, "Reminder senders").

    `send` delivers one message or raises ReminderSendError; it must be idempotent on
    `message.reminder_id` where the channel allows (pass it as the provider's message key).
    """

    channel: str

    def send(self, message: ReminderMessage) -> None: ...


class EmailReminderSender:
    """Development channel: every reminder goes to one inbox (settings.REMINDER_EMAIL_TO)."""

    channel = "email"

    def send(self, message: ReminderMessage) -> None:
        subject = _("Reminder %(id)s") % {"id": message.reminder_id}
        try:
            send_mail(subject, message.text, None, [settings.REMINDER_EMAIL_TO])
        except OSError as exc:
            raise ReminderSendError(str(exc)) from exc


class SmsReminderSender:
    """Interface for an SMS gateway (brandname SMS): to be implemented against the chosen
    provider; sends `message.text` to `message.phone`."""

    channel = "sms"

    def send(self, message: ReminderMessage) -> None:
        raise ReminderSendError("SMS gateway not configured")


class VneidReminderSender:
    """Interface for a VNeID notification: to be implemented against the national identity
    platform's notification API; addresses the citizen by `message.personal_id`."""

    channel = "vneid"

    def send(self, message: ReminderMessage) -> None:
        raise ReminderSendError("VNeID notification adapter not configured")


def reminder_sender() -> ReminderSender:
    return import_string(settings.REMINDER_SENDER)()
