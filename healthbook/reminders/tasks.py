"""The daily reminder job (scheduled in settings: CELERY_BEAT_SCHEDULE): create the reminders
falling due, then send what waits. Safe to rerun: each appointment or dose is reminded once."""

from celery import shared_task
from django.utils import timezone

from healthbook.reminders.services import reminders_create, reminders_send


@shared_task(soft_time_limit=1500, time_limit=1800)
def reminders_daily_task() -> dict:
    created = reminders_create(today=timezone.localdate())
    sent = reminders_send()
    return {**created, **sent}
