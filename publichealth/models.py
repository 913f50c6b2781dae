"""A province public-health officer's opening of a cohort's line list (issue 20, point 2).

An opening records who, which cohort (its version), which province and commune, and the stated
purpose; it keeps the ids of the citizens it listed, in list order, so that the pages, the
export and the reminders show and reach exactly the people the access log names (the nightly
job may change the cohort meanwhile). It lasts SSKDT_COHORT_LIST_MINUTES; then the officer
states a purpose again.
"""

import uuid

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accesslog.models import PublicHealthPurpose


class LineListOpening(models.Model):
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    province = models.ForeignKey("geo.Province", on_delete=models.PROTECT, related_name="+")
    commune_code = models.CharField(_("commune"), max_length=5, blank=True)
    cohort_version_id = models.BigIntegerField()
    cohort_key = models.CharField(max_length=64)
    cohort_name = models.CharField(_("cohort"), max_length=200)
    purpose = models.CharField(_("purpose"), max_length=16, choices=PublicHealthPurpose.choices)
    purpose_text = models.CharField(_("purpose, in your words"), max_length=300)
    citizen_ids = ArrayField(models.IntegerField(), default=list)
    opened_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    exports = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-opened_at"]
        verbose_name = _("line list opening")
        verbose_name_plural = _("line list openings")
        indexes = [models.Index(fields=["user", "-opened_at"], name="ph_opening_user")]

    def __str__(self) -> str:
        return f"{self.cohort_name} ({self.province_id}) {self.opened_at:%Y-%m-%d %H:%M}"

    @property
    def is_live(self) -> bool:
        """Pages and exports work until the opening expires (then a purpose is stated again)."""
        return timezone.now() < self.expires_at
