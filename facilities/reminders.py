"""Reminders to silent facilities: a province officer asks a facility that has stopped sending
data, by e-mail to its registered contact, to check its connection.

One reminder per facility and day whoever asks (the facility row is locked, and a unique
constraint backs it); the mail goes out inside the transaction that records it, so a failed send
records nothing and the officer can try again.
"""

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.mail import send_mail
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from accounts.models import User
from accounts.services import audit_record
from facilities import access
from facilities.health import facility_is_silent, silent_after_days
from facilities.models import Facility, FacilityReminder


class ReminderAlreadySent(Exception):
    """The facility was already reminded today; `reminder` is that reminder."""

    def __init__(self, reminder: FacilityReminder):
        super().__init__(reminder.facility_id)
        self.reminder = reminder


@transaction.atomic
def facility_silent_remind(*, facility: Facility, acting_user: User) -> FacilityReminder:
    """E-mail a silent facility's registered contact (in Vietnamese) and record who sent it."""
    facility = Facility.objects.select_for_update().select_related("province").get(pk=facility.pk)
    if not access.can_remind(acting_user, facility):
        raise PermissionDenied
    today = timezone.localdate()
    sent = FacilityReminder.objects.filter(facility=facility, kind=FacilityReminder.Kind.SILENT, day=today).first()
    if sent is not None:
        raise ReminderAlreadySent(sent)
    if not facility_is_silent(facility):
        raise ValidationError(_("The facility is not silent: it has sent accepted data recently."))
    if not facility.contact_email:
        raise ValidationError(
            _("The facility has no registered contact e-mail; call its contact or ask it to complete its profile.")
        )
    reminder = FacilityReminder.objects.create(
        facility=facility,
        kind=FacilityReminder.Kind.SILENT,
        day=today,
        sent_to=facility.contact_email,
        sent_by=acting_user,
    )
    with translation.override("vi"):
        subject = _("%(facility)s has sent no data to the Electronic Health Book for %(days)s days") % {
            "facility": facility.name,
            "days": silent_after_days(),
        }
        body = render_to_string(
            "facilities/email_silent_reminder.txt",
            {
                "facility": facility,
                "officer": acting_user,
                "days": silent_after_days(),
                "url": settings.SSKDT_PORTAL_BASE_URL.rstrip("/") + reverse("facility-detail", args=[facility.code]),
            },
        )
    send_mail(subject, body, None, [facility.contact_email])
    audit_record(
        actor=acting_user,
        action="facility_silent_remind",
        target=facility,
        details={"to": facility.contact_email, "day": today.isoformat()},
    )
    return reminder


def reminders_sent_today(codes) -> dict[str, FacilityReminder]:
    """The silent-facility reminders sent today to the facilities with these codes (one query)."""
    return {
        r.facility.code: r
        for r in FacilityReminder.objects.filter(
            facility__code__in=list(codes), kind=FacilityReminder.Kind.SILENT, day=timezone.localdate()
        ).select_related("sent_by", "facility")
    }
