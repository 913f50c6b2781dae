"""Submissions from facility software: the raw bytes as received, their status and problems.

Nothing received is lost: the exact request body is written to `SubmissionPayload` (bytea)
in the same transaction as the `Submission` row, before any parsing. Keeping it in the
database (not in a file under MEDIA_ROOT) makes the store atomic with the row and readable
by every worker host; the body lives in its own table so that lists of submissions never
read it.
"""

import uuid

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class Submission(models.Model):
    """One POST to /api/v1/submissions/ by a facility's software.

    Status moves received → processing → accepted / accepted_with_warnings / rejected. A
    rejected submission keeps its bytes and problems and may be reprocessed (which starts
    again from received). `attempts` counts processing runs; `claimed_at` is when the
    current run claimed it (the sweeper re-queues runs that stay claimed too long).
    """

    class Kind(models.TextChoices):
        XML130 = "xml130", _("XML 130 envelope")
        FHIR = "fhir", _("FHIR bundle")

    class Status(models.TextChoices):
        RECEIVED = "received", _("Received")
        PROCESSING = "processing", _("Processing")
        ACCEPTED = "accepted", _("Accepted")
        ACCEPTED_WITH_WARNINGS = "accepted_with_warnings", _("Accepted with warnings")
        REJECTED = "rejected", _("Rejected")
        HELD = "held", _("Held for identity review")

    class Review(models.TextChoices):
        RELEASED = "released", _("Released after review")
        REJECTED = "rejected", _("Rejected after review")

    # Processing is over: accepted, rejected, or held until a reviewer decides (never picked up again
    # by the worker or the sweeper on its own).
    FINAL = (Status.ACCEPTED, Status.ACCEPTED_WITH_WARNINGS, Status.REJECTED, Status.HELD)

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    facility = models.ForeignKey(
        "facilities.Facility", verbose_name=_("facility"), on_delete=models.PROTECT, related_name="submissions"
    )
    api_key = models.ForeignKey(
        "facilities.FacilityApiKey", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    received_at = models.DateTimeField(_("received at"), db_index=False)
    kind = models.CharField(_("format"), max_length=8, choices=Kind.choices)
    content_type = models.CharField(_("content type"), max_length=100)
    size_bytes = models.PositiveIntegerField(_("size (bytes)"))
    sha256 = models.CharField(_("SHA-256 of the body"), max_length=64)
    signature_header = models.TextField(_("X-Signature header"), blank=True)
    idempotency_key = models.CharField(_("Idempotency-Key"), max_length=255, null=True, blank=True)
    request_hash = models.CharField(max_length=64, help_text="SHA-256 of body + content type + signature header")
    duplicate_of = models.ForeignKey(
        "self",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        help_text="An earlier accepted submission of the facility with the same bytes.",
    )

    status = models.CharField(_("status"), max_length=24, choices=Status.choices, default=Status.RECEIVED)
    attempts = models.PositiveIntegerField(default=0)
    claimed_at = models.DateTimeField(null=True, blank=True)
    processed_at = models.DateTimeField(_("processed at"), null=True, blank=True)
    visits_count = models.PositiveIntegerField(_("visits"), default=0)
    encounters_created = models.PositiveIntegerField(default=0)
    encounters_updated = models.PositiveIntegerField(default=0)
    encounters_unchanged = models.PositiveIntegerField(default=0)
    error_count = models.PositiveIntegerField(_("errors"), default=0)
    warning_count = models.PositiveIntegerField(_("warnings"), default=0)
    signature_fingerprint = models.CharField(max_length=64, blank=True)
    signature_verified = models.BooleanField(default=False)
    reprocessed_by = models.ForeignKey(
        "accounts.User", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    # A submission whose patient contradicts the matched book (name, birth date, sex, personal ID)
    # is held; a named reviewer of the facility's province (or the ministry administrator)
    # releases it (it is then processed again and attached) or rejects it.
    review_status = models.CharField(_("review"), max_length=10, choices=Review.choices, blank=True)
    reviewed_by = models.ForeignKey(
        "accounts.User",
        verbose_name=_("reviewed by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    reviewed_at = models.DateTimeField(_("reviewed at"), null=True, blank=True)
    review_note = models.CharField(_("review note"), max_length=500, blank=True)

    class Meta:
        db_table = "healthbook_submission"
        ordering = ["-received_at", "-id"]
        verbose_name = _("submission")
        verbose_name_plural = _("submissions")
        indexes = [
            models.Index(fields=["facility", "-received_at"], name="submission_facility_time"),
            models.Index(fields=["-received_at"], name="submission_time"),
            models.Index(fields=["status", "claimed_at"], name="submission_status_claim"),
            models.Index(fields=["facility", "sha256"], name="submission_facility_sha"),
            # the worker's batch claim: a facility's queued submissions, oldest first (a small index)
            models.Index(fields=["facility", "id"], condition=Q(status="received"), name="submission_queued"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["facility", "idempotency_key"],
                condition=Q(idempotency_key__isnull=False),
                name="submission_idempotency_key_unique",
            ),
        ]

    def __str__(self) -> str:
        return str(self.public_id)

    @property
    def is_final(self) -> bool:
        return self.status in self.FINAL

    @property
    def is_held(self) -> bool:
        return self.status == self.Status.HELD


class SubmissionPayload(models.Model):
    """The exact bytes of a submission's request body, kept forever (also when rejected)."""

    submission = models.OneToOneField(Submission, on_delete=models.CASCADE, primary_key=True, related_name="payload")
    body = models.BinaryField()

    class Meta:
        db_table = "healthbook_submission_payload"

    def __str__(self) -> str:
        return f"payload of {self.submission_id}"


class SubmissionProblem(models.Model):
    """One finding about a submission: stable code, where it is, and the English msgid of its
    message (shown translated). Errors reject the submission; warnings keep the data."""

    class Severity(models.TextChoices):
        ERROR = "error", _("Error")
        WARNING = "warning", _("Warning")

    submission = models.ForeignKey(Submission, on_delete=models.CASCADE, related_name="problems")
    severity = models.CharField(_("severity"), max_length=8, choices=Severity.choices)
    code = models.CharField(_("code"), max_length=40)
    table = models.CharField(_("table or resource"), max_length=50, blank=True)
    record_key = models.CharField(_("record key"), max_length=120, blank=True)
    field = models.CharField(_("field"), max_length=60, blank=True)
    value = models.CharField(_("value"), max_length=200, blank=True)
    message = models.TextField(_("message"), help_text="English msgid; rendered with gettext")
    detail = models.CharField(max_length=300, blank=True)

    class Meta:
        db_table = "healthbook_submission_problem"
        ordering = ["submission", "id"]
        verbose_name = _("submission problem")
        verbose_name_plural = _("submission problems")

    def __str__(self) -> str:
        return f"{self.code} {self.table}/{self.record_key}/{self.field}"
