"""Periodic jobs of the facility registry (beat: config/settings.py)."""

from celery import shared_task

from facilities.credentials import api_keys_expiry_remind


@shared_task(ignore_result=True, time_limit=600)
def api_key_expiry_remind_task() -> int:
    """Daily: e-mail facility administrators about API keys expiring within
    SSKDT_API_KEY_REMINDER_DAYS (each key once)."""
    return api_keys_expiry_remind()
