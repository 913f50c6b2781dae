"""The Celery application. Periodic jobs are listed in CELERY_BEAT_SCHEDULE (settings)."""

import os

from celery import Celery
from celery.signals import after_setup_logger, after_setup_task_logger

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("sskdt")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()  # <app>.tasks of every installed app
# The health book's sub-systems keep their tasks in their own packages.
app.autodiscover_tasks(
    ["healthbook.cards", "healthbook.intake", "healthbook.reminders", "healthbook.notifications", "healthbook.copies"]
)


@after_setup_logger.connect
@after_setup_task_logger.connect
def _mask_personal_ids(logger, **kwargs):
    """The worker logs through its own handlers: they mask personal IDs as Django's do."""
    from core.logsafe import PersonalIdFilter

    for handler in logger.handlers:
        if not any(isinstance(f, PersonalIdFilter) for f in handler.filters):
            handler.addFilter(PersonalIdFilter())
