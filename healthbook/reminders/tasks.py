"""The daily reminder job (scheduled in settings: CELERY_BEAT_SCHEDULE): create the reminders
falling due, each with its message in the outbox (delivered after commit by
healthbook.notifications). Safe to rerun: each appointment or dose is reminded once."""

from celery import shared_task
from django.utils import timezone

from healthbook.reminders.services import reminders_create


@shared_task(soft_time_limit=1500, time_limit=1800)
def reminders_daily_task() -> dict:
    return reminders_create(today=timezone.localdate())
