from celery import shared_task
from django.conf import settings

from citizenapi.services import token_uses_purge


@shared_task
def token_uses_purge_task() -> int:
    """Forget the ids of expired citizen tokens (hourly)."""
    return token_uses_purge(skew_seconds=settings.SSKDT_CITIZEN_TOKEN_SKEW_SECONDS)
