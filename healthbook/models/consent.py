"""The citizen's say over who reads the book (issue 19, points 2-3): closures, share codes and
their uses, and requests for a copy of the book.

Closures and share codes are history: each is a row with who asked, when and how (`by`: the
channel, the platform token's id, and whether a parent or guardian acted for a child); only its
revocation is written later, once (`revoked_at`, `revoked_by`), and the database refuses any
other change and any deletion (migration 0023's trigger). The access rule reads them
(healthbook.book.access) in its one decision query.
"""

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class BookClosure(models.Model):
    """The citizen closed the book to non-emergency access: by everyone (`facility` empty) or by
    one named facility. A share code for a facility opens it to that facility again."""

    citizen = models.ForeignKey("healthbook.Citizen", on_delete=models.PROTECT, related_name="closures")
    facility = models.ForeignKey("facilities.Facility", on_delete=models.PROTECT, null=True, blank=True)
    created_at = models.DateTimeField(_("closed at"), auto_now_add=True)
    by = models.JSONField(default=dict)
    revoked_at = models.DateTimeField(_("reopened at"), null=True, blank=True)
    revoked_by = models.JSONField(null=True, blank=True)

    class Meta:
        verbose_name = _("book closure")
        verbose_name_plural = _("book closures")
        indexes = [
            models.Index(fields=["citizen", "facility"], condition=Q(revoked_at__isnull=True), name="closure_live"),
        ]

    def __str__(self) -> str:
        return f"closure {self.pk}"


class ShareCode(models.Model):
    """A short code the citizen gives one facility (shown as a QR code in the app): a doctor of
    that facility who enters it opens the book until it expires. Only a keyed hash is kept."""

    citizen = models.ForeignKey("healthbook.Citizen", on_delete=models.PROTECT, related_name="share_codes")
    facility = models.ForeignKey("facilities.Facility", on_delete=models.PROTECT)
    code_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(_("issued at"), auto_now_add=True)
    expires_at = models.DateTimeField(_("expires at"))
    by = models.JSONField(default=dict)
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)
    revoked_by = models.JSONField(null=True, blank=True)

    class Meta:
        verbose_name = _("share code")
        verbose_name_plural = _("share codes")
        indexes = [models.Index(fields=["citizen", "-created_at"], name="sharecode_citizen")]

    def __str__(self) -> str:
        return f"share code {self.pk}"


class ShareCodeAttempt(models.Model):
    """One code entered by a doctor: right (`ok`, the book opens to the facility while the code
    lives) or wrong (counted against the doctor and the citizen: brute force is stopped)."""

    user = models.ForeignKey("accounts.User", on_delete=models.PROTECT)
    facility = models.ForeignKey("facilities.Facility", on_delete=models.PROTECT)
    citizen = models.ForeignKey("healthbook.Citizen", on_delete=models.PROTECT, null=True, blank=True)
    code = models.ForeignKey(ShareCode, on_delete=models.PROTECT, null=True, blank=True, related_name="attempts")
    at = models.DateTimeField(auto_now_add=True)
    ok = models.BooleanField(default=False)
    reason = models.CharField(max_length=32, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["citizen", "facility"], condition=Q(ok=True), name="sharecode_open"),
            models.Index(fields=["user", "at"], condition=Q(ok=False), name="sharecode_fail_user"),
            models.Index(fields=["citizen", "at"], condition=Q(ok=False), name="sharecode_fail_citizen"),
        ]

    def __str__(self) -> str:
        return f"share code attempt {self.pk}"


class CopyRequest(models.Model):
    """A citizen's request for a full copy of the book (the right of access and copy, Law
    91/2025): a FHIR Bundle and a readable PDF in one ZIP, made by a job, kept in the database,
    downloadable once until it expires. Its times and outcome feed the ministry's
    data-protection report."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Being prepared")
        READY = "ready", _("Ready to download")
        DOWNLOADED = "downloaded", _("Downloaded")
        EXPIRED = "expired", _("Expired without download")
        FAILED = "failed", _("Failed")

    public_id = models.UUIDField(unique=True)
    citizen = models.ForeignKey("healthbook.Citizen", on_delete=models.PROTECT, related_name="copy_requests")
    by = models.JSONField(default=dict)
    requested_at = models.DateTimeField(_("requested at"), auto_now_add=True)
    status = models.CharField(_("status"), max_length=12, choices=Status.choices, default=Status.PENDING)
    finished_at = models.DateTimeField(_("ready at"), null=True, blank=True)
    expires_at = models.DateTimeField(_("expires at"), null=True, blank=True)
    downloaded_at = models.DateTimeField(_("downloaded at"), null=True, blank=True)
    failure = models.CharField(max_length=200, blank=True)
    content = models.BinaryField(null=True, blank=True)
    content_size = models.PositiveIntegerField(default=0)
    content_sha256 = models.CharField(max_length=64, blank=True)

    class Meta:
        verbose_name = _("copy request")
        verbose_name_plural = _("copy requests")
        indexes = [
            models.Index(fields=["citizen", "-requested_at"], name="copyrequest_citizen"),
            models.Index(fields=["requested_at"], name="copyrequest_month"),
            models.Index(fields=["expires_at"], condition=Q(status="ready"), name="copyrequest_ready"),
        ]

    def __str__(self) -> str:
        return str(self.public_id)
