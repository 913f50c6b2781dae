"""Reads of the outbox: the failed messages a member of staff may see, and the messages of one
citizen (the book's reminder panel)."""

from django.db.models import OuterRef, QuerySet, Subquery

from healthbook.models import Notification, Reminder
from healthbook.notifications.access import notifications_visible_to

FAILED = (Notification.Status.DEAD, Notification.Status.RETRYING)


def dead_letters_for(user, *, status: str | None = None, limit: int = 200) -> list[Notification]:
    """Failed messages in the user's scope, newest first: dead letters and those still retrying
    (`status` narrows to one of them). One query; the citizen comes along for the masked ID."""
    statuses = [status] if status in FAILED else list(FAILED)
    qs = (
        notifications_visible_to(user)
        .filter(status__in=statuses)
        .select_related("citizen", "facility")
        .only(
            "public_id",
            "kind",
            "channel",
            "status",
            "attempts",
            "last_error",
            "created_at",
            "next_attempt_at",
            "citizen__personal_id",
            "facility__name",
            "facility__code",
        )
        .order_by("-created_at", "-id")
    )
    return list(qs[:limit])


def reminders_with_delivery(citizen, *, limit: int = 20) -> QuerySet:
    """The citizen's reminders, newest due date first, each with its message's delivery state
    (`delivery_status`, `delivery_channel`, `delivery_sent_at`, `delivery_attempts`): one query."""
    message = Notification.objects.filter(
        citizen_id=OuterRef("citizen_id"), kind=OuterRef("kind"), dedupe_key=OuterRef("subject_key")
    )
    return (
        Reminder.objects.filter(citizen=citizen)
        .select_related("facility")
        .annotate(
            delivery_status=Subquery(message.values("status")[:1]),
            delivery_channel=Subquery(message.values("channel")[:1]),
            delivery_sent_at=Subquery(message.values("sent_at")[:1]),
            delivery_attempts=Subquery(message.values("attempts")[:1]),
        )
        .order_by("-due_date", "-id")[:limit]
    )


def other_messages_for(citizen, *, limit: int = 20) -> list[Notification]:
    """The citizen's messages that are not reminders (emergency openings, copies ready)."""
    return list(
        Notification.objects.filter(citizen=citizen)
        .exclude(kind__in=[Notification.Kind.FOLLOW_UP, Notification.Kind.VACCINATION])
        .select_related("facility")
        .order_by("-created_at", "-id")[:limit]
    )
