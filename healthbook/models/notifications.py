"""The outbox of messages to citizens (healthbook.notifications writes and delivers them).

A message row is written in the same transaction as the fact that causes it (a reminder
created, an emergency access opened, a copy made ready) and delivered after commit by a Celery
task, or by the periodic sweep for anything left behind. docs/notifications.md tells the story.
"""

import uuid

from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class Notification(models.Model):
    """One message to one citizen through one channel.

    `(citizen, kind, dedupe_key)` is unique: the reason (`kind`) and what it is about for which
    period (`dedupe_key`, e.g. "appointment:812" or "emergency:<doctor>:<day>") name a message once, so
    however often a job runs a citizen never gets the same message twice. `public_id` is the
    stable message id sent to the gateway as the idempotency key: a retry after a lost answer is
    recognised by the gateway and not delivered again.
    """

    class Kind(models.TextChoices):
        FOLLOW_UP = "follow_up", _("Follow-up appointment")
        VACCINATION = "vaccination", _("Vaccination due")
        EMERGENCY_ACCESS = "emergency_access", _("Book opened in an emergency")
        COPY_READY = "copy_ready", _("Copy of the book ready")
        # A province's public-health reminder to the members of a cohort (issue 20), once per
        # cohort and month ("cohort:<cohort key>:<yyyy-mm>").
        COHORT_REMINDER = "cohort_reminder", _("Health reminder from the province")

    class Channel(models.TextChoices):
        VNEID = "vneid", _("VNeID app")
        SMS = "sms", pgettext_lazy("channel", "SMS")
        EMAIL = "email", pgettext_lazy("channel", "E-mail")

    class Status(models.TextChoices):
        PENDING = "pending", _("To send")
        SENDING = "sending", _("Being sent")
        SENT = "sent", _("Sent")
        RETRYING = "retrying", _("Failed, will retry")
        DEAD = "dead", _("Not delivered")

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    citizen = models.ForeignKey("healthbook.Citizen", on_delete=models.CASCADE, related_name="notifications")
    kind = models.CharField(_("kind"), max_length=24, choices=Kind.choices)
    dedupe_key = models.CharField(max_length=160)
    channel = models.CharField(_("channel"), max_length=8, choices=Channel.choices)
    # The province (citizen's residence, else the facility's) and facility the message concerns:
    # who sees it among the dead letters (core.scope).
    province = models.ForeignKey("geo.Province", on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    facility = models.ForeignKey(
        "facilities.Facility", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    context = models.JSONField(default=dict, blank=True)  # what the text needs (no personal IDs)
    status = models.CharField(_("status"), max_length=8, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    # When the next attempt may start; while "sending", when the claim lapses (a worker died).
    next_attempt_at = models.DateTimeField()
    last_error = models.CharField(_("last error"), max_length=300, blank=True)
    created_at = models.DateTimeField(_("created at"))
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        constraints = [
            models.UniqueConstraint(fields=["citizen", "kind", "dedupe_key"], name="notification_once_per_reason"),
        ]
        indexes = [
            # the sweep: what is due, oldest first
            models.Index(
                fields=["next_attempt_at"],
                name="notification_due",
                condition=models.Q(status__in=["pending", "sending", "retrying"]),
            ),
            # the dead letters of a province
            models.Index(
                fields=["province", "-created_at"],
                name="notification_dead_province",
                condition=models.Q(status__in=["retrying", "dead"]),
            ),
            models.Index(fields=["citizen", "-created_at"], name="notification_citizen"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.dedupe_key} → {self.channel} ({self.status})"
