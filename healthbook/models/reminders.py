"""Reminders to citizens of their follow-up appointments and children's vaccination doses
(healthbook.reminders creates and sends them)."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Reminder(models.Model):
    """A reminder to a citizen: a follow-up appointment (XML14 or FHIR Appointment) a few
    days ahead, or a child's vaccination dose falling due by the immunisation schedule.

    `subject_key` names what the reminder is about ("appointment:<source>:<id>" or
    "dose:<citizen>:<vaccine>:<dose>"); it is unique per kind, so the daily job can run
    any number of times and never creates — or sends — a second reminder for the same
    appointment or dose.
    """

    class Kind(models.TextChoices):
        FOLLOW_UP = "follow_up", _("Follow-up appointment")
        VACCINATION = "vaccination", _("Vaccination")

    class Status(models.TextChoices):
        PENDING = "pending", _("To send")
        SENDING = "sending", _("Being sent")
        SENT = "sent", _("Sent")
        FAILED = "failed", _("Failed")

    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    subject_key = models.CharField(max_length=120)
    citizen = models.ForeignKey("healthbook.Citizen", on_delete=models.CASCADE, related_name="reminders")
    facility = models.ForeignKey(
        "facilities.Facility", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    due_date = models.DateField(_("due date"))
    vaccine_code = models.CharField(_("vaccine"), max_length=40, blank=True)
    dose = models.PositiveSmallIntegerField(_("dose"), null=True, blank=True)
    channel = models.CharField(_("channel"), max_length=32, blank=True)
    status = models.CharField(_("status"), max_length=8, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)

    class Meta:
        db_table = "provinces_reminder"  # created by the dashboards app, where reminders began
        ordering = ["due_date", "id"]
        verbose_name = _("reminder")
        verbose_name_plural = _("reminders")
        constraints = [
            models.UniqueConstraint(fields=["kind", "subject_key"], name="reminder_once_per_subject"),
            models.UniqueConstraint(
                fields=["citizen", "vaccine_code", "dose"],
                condition=models.Q(kind="vaccination"),
                name="reminder_once_per_dose",
            ),
        ]
        indexes = [
            models.Index(fields=["status", "due_date"], name="reminder_status_due"),
            models.Index(fields=["citizen", "due_date"], name="reminder_citizen_due"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.subject_key} {self.due_date}"
