"""Delivery channels of the outbox: one class per channel with the same shape.

`send(message)` delivers one message and returns, or raises `SendRetry` (the channel may accept
it later: timeout, connection refused, 5xx, 429) or `SendRefused` (it never will: 4xx, no
phone number, no personal ID): the outbox retries the first with backoff and makes the second a
dead letter at once. The HTTP senders sign the body and send the message id as the idempotency
key (healthbook.notifications.signing; the contract is docs/notifications.md). The channel
classes are settings.NOTIFY_SENDERS (channel → dotted path).
"""

import datetime as dt
from dataclasses import dataclass, field

import requests
from django.conf import settings
from django.core.mail import send_mail
from django.utils.module_loading import import_string

from healthbook.notifications import signing


class SendRetry(Exception):
    """Not delivered this time; the channel may accept it later."""


class SendRefused(Exception):
    """The channel refused the message for good (the reason is the message)."""


@dataclass(frozen=True)
class OutgoingMessage:
    """What a channel needs: the stable id, the addressee, the Vietnamese title and text."""

    message_id: str
    kind: str
    citizen_public_id: str
    personal_id: str
    phone: str
    title: str
    text: str
    created_at: dt.datetime
    data: dict = field(default_factory=dict)


def _reason(response) -> str:
    """The gateway's machine reason, when its answer says one (JSON `reason` or `error`)."""
    try:
        body = response.json()
    except ValueError:
        return ""
    if isinstance(body, dict):
        return str(body.get("reason") or body.get("error") or "")[:120]
    return ""


class HttpGatewaySender:
    """POST one signed JSON message to a gateway (settings NOTIFY_<CHANNEL>_URL, _KEY_ID,
    _SECRET). Each call is one attempt: the outbox spaces the retries."""

    channel = ""

    def __init__(self):
        self.session = requests.Session()  # one per batch: connections kept alive between messages

    def config(self) -> tuple[str, str, str]:
        prefix = f"NOTIFY_{self.channel.upper()}"
        return (
            getattr(settings, f"{prefix}_URL"),
            getattr(settings, f"{prefix}_KEY_ID"),
            getattr(settings, f"{prefix}_SECRET"),
        )

    def payload(self, message: OutgoingMessage) -> dict:
        raise NotImplementedError

    def send(self, message: OutgoingMessage) -> None:
        url, key_id, secret = self.config()
        if not (url and key_id and secret):
            raise SendRetry(f"{self.channel} gateway not configured")
        body = signing.canonical_body(self.payload(message))
        headers = signing.signed_headers(key_id=key_id, secret=secret, body=body, message_id=message.message_id)
        try:
            response = self.session.post(
                url,
                data=body,
                headers=headers,
                timeout=(settings.NOTIFY_CONNECT_TIMEOUT, settings.NOTIFY_READ_TIMEOUT),
                allow_redirects=False,
            )
        except requests.Timeout as exc:
            raise SendRetry(f"timeout: {type(exc).__name__}") from exc
        except requests.RequestException as exc:
            raise SendRetry(f"connection: {type(exc).__name__}") from exc
        status = response.status_code
        if 200 <= status < 300:
            return
        reason = _reason(response)
        text = f"HTTP {status}" + (f": {reason}" if reason else "")
        if status == 429 or status >= 500:
            raise SendRetry(text)
        raise SendRefused(text)


class VneidGatewaySender(HttpGatewaySender):
    """The national notification gateway: a notice in the citizen's VNeID app, addressed by the
    personal ID number."""

    channel = "vneid"

    def payload(self, message: OutgoingMessage) -> dict:
        if not message.personal_id:
            raise SendRefused("no personal ID")
        return {
            "message_id": message.message_id,
            "recipient": {"personal_id": message.personal_id},
            "kind": message.kind,
            "title": message.title,
            "body": message.text,
            "data": message.data,
            "created_at": message.created_at.isoformat(),
        }


class SmsGatewaySender(HttpGatewaySender):
    """An HTTP SMS gateway (brandname SMS): the same signed contract, the text to one phone."""

    channel = "sms"

    def payload(self, message: OutgoingMessage) -> dict:
        if not message.phone:
            raise SendRefused("no phone number")
        return {
            "message_id": message.message_id,
            "to": message.phone,
            "sender": settings.NOTIFY_SMS_BRANDNAME,
            "text": message.text,
        }


class EmailSender:
    """Development and fallback channel: every message to one inbox (NOTIFY_EMAIL_TO)."""

    channel = "email"

    def send(self, message: OutgoingMessage) -> None:
        try:
            send_mail(f"{message.title} [{message.message_id}]", message.text, None, [settings.NOTIFY_EMAIL_TO])
        except OSError as exc:
            raise SendRetry(f"mail: {exc}") from exc


def sender_for(channel: str):
    path = settings.NOTIFY_SENDERS.get(channel)
    if not path:
        raise SendRefused(f"no sender for channel {channel!r}")
    return import_string(path)()
