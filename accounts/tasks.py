from celery import shared_task
from django.core.management import call_command


@shared_task(ignore_result=True, time_limit=600)
def sessions_purge_expired_task() -> None:
    """Remove expired sessions (the 30-minute idle limit makes many)."""
    call_command("clearsessions")
