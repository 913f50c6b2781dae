"""The daily connectivity e-mail to each province's officers.

For one (complete) day it lists the facilities that went silent, those whose rejection rate
jumped and those whose check-ins were unusual (in number, of people from other provinces, or
first-ever contacts, against the facility's own 28 days before: a facility could open books by
checking in people it never treats), all read from the facility rollups, with the number of
silent facilities, every emergency ("break-the-glass") opening by the province's doctors that
day (read through accesslog.selectors) and a link to the dashboard. A ConnectivityDigest row
per (province, day) is created and locked before sending and stamped after, so rerunning the job the same day — or two
workers running it at once — sends each province's digest once.
"""

import datetime as dt
import logging
from collections import defaultdict

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import Q
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from accesslog.selectors import emergency_openings_between
from accounts.models import User
from core.roles import Role
from geo.models import Province
from provinces.models import ConnectivityDigest, FacilityDayRollup, ProvinceDayRollup

log = logging.getLogger(__name__)


def _officers_by_province() -> dict[int, list[User]]:
    officers: dict[int, list[User]] = defaultdict(list)
    for user in User.objects.filter(role=Role.PROVINCE_OFFICER, is_active=True).exclude(email="").order_by("pk"):
        officers[user.province_id].append(user)
    return officers


def connectivity_digests_send(*, day: dt.date) -> dict:
    """Send the digest of `day` to the officers of every province that has some (once)."""
    officers = _officers_by_province()
    events: dict[int, list[FacilityDayRollup]] = defaultdict(list)
    for row in (
        FacilityDayRollup.objects.filter(day=day)
        .filter(Q(went_silent=True) | Q(rejection_jumped=True) | Q(checkins_unusual=True))
        .select_related("facility")
        .order_by("facility__code")
    ):
        events[row.province_id].append(row)
    silent = dict(ProvinceDayRollup.objects.filter(day=day).values_list("province_id", "facilities_silent"))
    start = timezone.make_aware(dt.datetime.combine(day, dt.time.min))
    emergencies = emergency_openings_between(start=start, end=start + dt.timedelta(days=1))
    sent = skipped = 0
    for province in Province.objects.filter(pk__in=list(officers)).order_by("code"):
        if _send_one(
            province=province,
            day=day,
            officers=officers[province.pk],
            events=events[province.pk],
            silent=silent.get(province.pk),
            emergencies=emergencies.get(province.pk, []),
        ):
            sent += 1
        else:
            skipped += 1
    return {"digests_sent": sent, "digests_already_sent": skipped}


def _send_one(
    *,
    province: Province,
    day: dt.date,
    officers: list[User],
    events: list[FacilityDayRollup],
    silent: int | None,
    emergencies: list,
) -> bool:
    ConnectivityDigest.objects.get_or_create(province=province, day=day)
    with transaction.atomic():
        digest = (
            ConnectivityDigest.objects.select_for_update(skip_locked=True)
            .filter(province=province, day=day, sent_at__isnull=True)
            .first()
        )
        if digest is None:
            return False
        went_silent = [r for r in events if r.went_silent]
        jumped = [r for r in events if r.rejection_jumped]
        unusual = [r for r in events if r.checkins_unusual]
        url = settings.SSKDT_PORTAL_BASE_URL.rstrip("/") + reverse("dashboard-province", args=[province.code])
        for officer in officers:
            with translation.override(officer.language or settings.LANGUAGE_CODE):
                context = {
                    "province": province,
                    "day": day,
                    "went_silent": went_silent,
                    "jumped": jumped,
                    "unusual": unusual,
                    "silent": silent,
                    "url": url,
                    "officer": officer,
                    "emergencies": emergencies,
                    "review_url": settings.SSKDT_PORTAL_BASE_URL.rstrip("/") + reverse("emergency-review-list"),
                }
                subject = _("Connectivity on %(day)s: %(province)s") % {
                    "day": day.strftime("%d/%m/%Y"),
                    "province": province.name_vi,
                }
                body = render_to_string("provinces/email_connectivity_digest.txt", context)
            send_mail(subject, body, None, [officer.email])
        digest.recipients = len(officers)
        digest.went_silent = len(went_silent)
        digest.rejection_jumped = len(jumped)
        digest.checkins_unusual = len(unusual)
        digest.sent_at = timezone.now()
        digest.save(update_fields=["recipients", "went_silent", "rejection_jumped", "checkins_unusual", "sent_at"])
    log.info("connectivity digest %s %s sent to %d officers", province.code, day, len(officers))
    return True
