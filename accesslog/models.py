"""Who opened which health book: the hash-chained access log, emergency ("break-the-glass")
grants and the citizen app's API clients.

The log table and its chain head are written in SQL by the migration (append-only
triggers, no foreign keys: an audit entry outlives the rows it names) and are unmanaged
here, so Django never creates, alters or truncates them; the models are for reading.
"""

import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class ActorKind(models.TextChoices):
    PERSON = "person", _("Person")
    MACHINE = "machine", _("Software")
    CITIZEN = "citizen", _("The citizen (own read)")


class Purpose(models.TextChoices):
    """Purpose of use (HL7 v3 ActReason): treatment, emergency treatment, or public health (a
    province public-health officer's line list of a cohort, issue 20)."""

    TREAT = "TREAT", _("Treatment")
    ETREAT = "ETREAT", _("Emergency treatment")
    PUBHLTH = "PUBHLTH", _("Public health")


class PublicHealthPurpose(models.TextChoices):
    """Why a public-health officer opens a cohort's line list (stated before the list opens,
    written in every access-log entry of the list, shown to the citizen)."""

    OUTREACH = "outreach", _("Reminding people to come for care")
    FOLLOW_UP = "follow_up", _("Following up missed check-ups or treatment")
    VACCINATION = "vaccination", _("Catch-up vaccination campaign")
    MATERNAL = "maternal", _("Maternal and child health programme")
    SURVEILLANCE = "surveillance", _("Disease surveillance or outbreak response")
    OTHER = "other", _("Other (explain below)")


class Outcome(models.IntegerChoices):
    """AuditEvent outcome codes: 0 success, 4 minor failure (here: access refused)."""

    SUCCESS = 0, _("Allowed")
    DENIED = 4, _("Refused")


class AccessLogEntry(models.Model):
    """One read of a citizen's health book (or a search, or the start of an emergency access)
    by a person or by software, allowed or refused.

    `row_hash` = HMAC-SHA-256 under SSKDT_ACCESS_LOG_KEY of `prev_hash` + canonical JSON of the
    entry (plain SHA-256 before the chain was keyed), `seq` is the position in the chain; see
    accesslog/chain.py.
    """

    id = models.BigAutoField(primary_key=True)
    seq = models.BigIntegerField(unique=True)
    recorded_at = models.DateTimeField()
    actor_kind = models.CharField(max_length=8, choices=ActorKind.choices)
    actor_user_id = models.IntegerField(null=True)
    actor_username = models.CharField(max_length=150)
    actor_name = models.CharField(max_length=150)
    actor_role = models.CharField(max_length=32)
    facility_id = models.IntegerField(null=True)
    facility_code = models.CharField(max_length=16)
    facility_name = models.CharField(max_length=255)
    client_ref = models.CharField(max_length=64)
    citizen_id = models.IntegerField(null=True)
    book_public_id = models.UUIDField(null=True)
    event = models.CharField(max_length=24)
    viewed = models.CharField(max_length=200)
    purpose = models.CharField(max_length=8, choices=Purpose.choices)
    outcome = models.SmallIntegerField(choices=Outcome.choices)
    source_ip = models.GenericIPAddressField(null=True)
    request_id = models.CharField(max_length=64)
    details = models.JSONField(default=dict)
    prev_hash = models.CharField(max_length=64)
    row_hash = models.CharField(max_length=64)
    key_id = models.CharField(max_length=16)  # '' for the entries before the chain was keyed

    class Meta:
        managed = False
        db_table = "accesslog_entry"
        ordering = ["-seq"]
        verbose_name = _("access log entry")
        verbose_name_plural = _("access log entries")

    def __str__(self) -> str:
        return f"#{self.seq} {self.actor_username} {self.event} {self.viewed}"

    @property
    def recorded_at_text(self) -> str:
        """dd/mm/yyyy hh:mm in local time (the panels' format, without the template date filter)."""
        return timezone.localtime(self.recorded_at).strftime("%d/%m/%Y %H:%M")


class ChainHead(models.Model):
    """The newest entry of the chain (one row), locked FOR UPDATE to serialise appends."""

    id = models.SmallIntegerField(primary_key=True)
    seq = models.BigIntegerField()
    row_hash = models.CharField(max_length=64)
    updated_at = models.DateTimeField()

    class Meta:
        managed = False
        db_table = "accesslog_chain_head"

    def __str__(self) -> str:
        return f"head #{self.seq}"


class EmergencyReason(models.TextChoices):
    UNCONSCIOUS = "unconscious", _("Patient unconscious or unable to consent")
    LIFE_THREAT = "life_threat", _("Life-threatening emergency")
    TRANSFER = "transfer", _("Emergency transfer arrived without records")
    URGENT_CARE = "urgent_care", _("Urgent care needed before the relationship is recorded")
    OTHER = "other", _("Other (explain below)")


class EmergencyAccess(models.Model):
    """A doctor's emergency ("break-the-glass") access to one citizen's book: a reason from
    the list, optional text, a fixed lifetime, and a final review by the province (a provincial
    officer of the facility's province)."""

    class Review(models.TextChoices):
        PENDING = "pending", _("Waiting for review")
        JUSTIFIED = "justified", _("Justified")
        UNJUSTIFIED = "unjustified", _("Not justified")

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="emergency_accesses")
    facility = models.ForeignKey("facilities.Facility", on_delete=models.PROTECT, related_name="emergency_accesses")
    citizen = models.ForeignKey("healthbook.Citizen", on_delete=models.PROTECT, related_name="emergency_accesses")
    reason = models.CharField(_("reason"), max_length=16, choices=EmergencyReason.choices)
    reason_text = models.CharField(_("explanation"), max_length=500, blank=True)
    via_api = models.BooleanField(default=False)
    started_at = models.DateTimeField(_("started at"))
    expires_at = models.DateTimeField(_("expires at"))
    review_status = models.CharField(_("review"), max_length=12, choices=Review.choices, default=Review.PENDING)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    reviewed_at = models.DateTimeField(null=True, blank=True)
    review_note = models.CharField(_("review note"), max_length=500, blank=True)

    class Meta:
        ordering = ["-started_at"]
        verbose_name = _("emergency access")
        verbose_name_plural = _("emergency accesses")
        indexes = [
            models.Index(fields=["user", "citizen", "expires_at"], name="emergency_user_citizen"),
            models.Index(fields=["facility", "review_status", "started_at"], name="emergency_review_queue"),
        ]

    def __str__(self) -> str:
        return f"{self.user_id} → {self.citizen_id} ({self.reason})"


class CitizenAppClient(models.Model):
    """A credential of the citizen-facing app (VNeID) that may read citizens' access logs.

    A separate kind of API client from facility keys: it reads only access logs, never
    clinical data. Key format `sskdtc_<prefix>_<secret>`; only a SHA-256 digest is kept.
    """

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    name = models.CharField(_("name"), max_length=100, unique=True)
    prefix = models.CharField(max_length=16, unique=True)
    key_hash = models.CharField(max_length=64)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("citizen app client")
        verbose_name_plural = _("citizen app clients")

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"
