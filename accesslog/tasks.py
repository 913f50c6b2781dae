"""Periodic anchoring of the access-log chain outside the database."""

from celery import shared_task

from accesslog.chain import chain_verify, checkpoint_read, checkpoint_write


@shared_task(ignore_result=True, time_limit=1800, soft_time_limit=1700)
def access_log_checkpoint_task() -> str:
    """Verify the entries added since the last checkpoint and, if they fit, move the
    checkpoint to the current head. A broken chain leaves the checkpoint where it was."""
    previous = checkpoint_read()
    result = chain_verify(checkpoint=previous, since=previous)
    if result.ok:
        checkpoint_write(result)
    return result.line()
