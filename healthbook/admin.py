from django.contrib import admin

from core.admin import RecordAdmin
from healthbook.models import Notification, Reminder


@admin.register(Reminder)
class ReminderAdmin(admin.ModelAdmin):
    list_display = ("kind", "due_date", "status", "channel", "sent_at", "attempts")
    list_filter = ("kind", "status", "channel")
    raw_id_fields = ("citizen", "facility")
    readonly_fields = (
        "kind",
        "subject_key",
        "citizen",
        "facility",
        "due_date",
        "vaccine_code",
        "dose",
        "channel",
        "status",
        "attempts",
        "last_error",
        "created_at",
        "sent_at",
    )


@admin.register(Notification)
class NotificationAdmin(RecordAdmin):
    """The outbox, read-only: a message is retried from the province's dead letters page (audited)."""

    list_display = ("kind", "channel", "status", "attempts", "created_at", "sent_at")
    list_filter = ("kind", "channel", "status")
    raw_id_fields = ("citizen", "facility")
    exclude = ("context",)
