from django.contrib import admin

from healthbook.models import Reminder


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
