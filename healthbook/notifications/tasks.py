"""Delivery of the outbox: right after the commit that wrote a message, and every minute for
what is left (settings: CELERY_BEAT_SCHEDULE, "healthbook-notifications-sweep")."""

from celery import shared_task

from healthbook.notifications.dispatch import notifications_dispatch, notifications_sweep


@shared_task(soft_time_limit=600, time_limit=660)
def notifications_dispatch_task(ids: list[int] | None = None) -> dict:
    """The messages `ids` just committed, or (None) everything due."""
    return notifications_sweep() if ids is None else notifications_dispatch(ids=ids)


@shared_task(soft_time_limit=1500, time_limit=1800)
def notifications_sweep_task() -> dict:
    return notifications_sweep()
