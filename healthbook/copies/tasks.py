"""The copy jobs: make one copy, and drop the bytes of expired ones (hourly)."""

from celery import shared_task

from healthbook.copies import jobs


@shared_task(acks_late=True)
def copy_request_task(pk: int) -> None:
    jobs.copy_request_produce(pk)


@shared_task
def copies_expire_task() -> int:
    return jobs.copies_expire()
