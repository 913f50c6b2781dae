"""The nightly cohorts job (scheduled in settings: CELERY_BEAT_SCHEDULE): safe to rerun, each
run replaces each province's members in one transaction."""

from celery import shared_task

from cohorts.services import memberships_compute


@shared_task(soft_time_limit=3300, time_limit=3600)
def cohorts_compute_task() -> dict:
    runs = memberships_compute()
    return {"runs": len(runs), "members": sum(run.members for run in runs if run.province_id)}
