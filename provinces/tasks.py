"""Periodic jobs of the dashboards (scheduled in settings: CELERY_BEAT_SCHEDULE).

Each task calls one service; all are safe to rerun (the rollups are upserts, the digest is
claimed once per province-day).
"""

import datetime as dt

from celery import shared_task
from django.utils import timezone

from provinces.connectivity import connectivity_digests_send
from provinces.rollups import rollups_compute_today, rollups_compute_yesterday

_LIMITS = {"soft_time_limit": 1500, "time_limit": 1800}


@shared_task(**_LIMITS)
def rollups_today_task() -> dict:
    run = rollups_compute_today()
    return {"facility_rows": run.facility_rows, "province_rows": run.province_rows}


@shared_task(**_LIMITS)
def rollups_yesterday_task() -> dict:
    """Close yesterday (a complete day now), then send yesterday's connectivity digests."""
    run = rollups_compute_yesterday()
    connectivity_digests_task.delay(day=run.end.isoformat())
    return {"facility_rows": run.facility_rows, "province_rows": run.province_rows}


@shared_task(**_LIMITS)
def connectivity_digests_task(day: str | None = None) -> dict:
    target = dt.date.fromisoformat(day) if day else timezone.localdate() - dt.timedelta(days=1)
    return connectivity_digests_send(day=target)
