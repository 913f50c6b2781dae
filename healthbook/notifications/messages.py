"""The words of each kind of message, in Vietnamese (the citizen's app and SMS speak it), built
at delivery time from the outbox row's `context` and the citizen row (no personal data is
copied into the outbox)."""

import datetime as dt

from django.utils import timezone, translation
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.translation import gettext as _

from healthbook.models import Notification
from healthbook.notifications.senders import OutgoingMessage


def _day(value) -> str:
    day = parse_date(str(value or "")[:10])
    return day.strftime("%d/%m/%Y") if day else ""


def _moment(value) -> str:
    moment = parse_datetime(str(value or ""))
    if moment is None:
        return ""
    if timezone.is_naive(moment):
        moment = timezone.make_aware(moment, dt.UTC)
    return timezone.localtime(moment).strftime("%H:%M %d/%m/%Y")  # Asia/Ho_Chi_Minh


def title_and_text(notification: Notification) -> tuple[str, str]:
    c = notification.context or {}
    kind = notification.kind
    with translation.override("vi"):
        if kind == Notification.Kind.FOLLOW_UP:
            facility = c.get("facility") or (notification.facility.name if notification.facility_id else "")
            return _("Follow-up appointment"), _(
                "You have a follow-up appointment on %(day)s%(at)s. Please remember to come."
            ) % {
                "day": _day(c.get("due_date")),
                "at": (_(" at %(facility)s") % {"facility": facility}) if facility else "",
            }
        if kind == Notification.Kind.VACCINATION:
            return _("Vaccination due"), _(
                "Dose %(dose)s of vaccine %(vaccine)s for %(name)s falls due on %(day)s."
            ) % {
                "dose": c.get("dose") or "",
                "vaccine": c.get("vaccine_code") or "",
                "name": notification.citizen.full_name,
                "day": _day(c.get("due_date")),
            }
        if kind == Notification.Kind.EMERGENCY_ACCESS:
            return _("Book opened in an emergency"), _(
                "Your health book was opened in an emergency by %(doctor)s, %(facility)s, at %(time)s. "
                "The provincial health department reviews every emergency access."
            ) % {
                "doctor": c.get("doctor") or "",
                "facility": notification.facility.name if notification.facility_id else "",
                "time": _moment(c.get("at")),
            }
        if kind == Notification.Kind.COPY_READY:
            return _("Copy of the book ready"), _(
                "The copy of your health book you asked for is ready. Download it in the app before %(day)s."
            ) % {"day": _day(c.get("expires_on"))}
        if kind == Notification.Kind.COHORT_REMINDER:
            return _("Health reminder from the province"), _(
                "The health department of %(province)s reminds you to come for a check-up (%(reason)s). Please "
                "visit your commune health station or the facility that treats you."
            ) % {"province": c.get("province") or "", "reason": c.get("reason") or ""}
    return kind, ""


def outgoing(notification: Notification) -> OutgoingMessage:
    citizen = notification.citizen
    title, text = title_and_text(notification)
    return OutgoingMessage(
        message_id=str(notification.public_id),
        kind=notification.kind,
        citizen_public_id=str(citizen.public_id),
        personal_id=citizen.personal_id or "",
        phone=citizen.phone or "",
        title=title,
        text=text,
        created_at=notification.created_at,
        data={k: v for k, v in (notification.context or {}).items() if isinstance(v, str | int | None)},
    )
