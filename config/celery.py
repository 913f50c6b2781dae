"""The Celery application. Periodic jobs are listed in CELERY_BEAT_SCHEDULE (settings)."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("sskdt")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()  # <app>.tasks of every installed app
# The health book's sub-systems keep their tasks in their own packages.
app.autodiscover_tasks(["healthbook.cards", "healthbook.intake", "healthbook.reminders"])
