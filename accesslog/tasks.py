"""Periodic anchoring of the access-log chain outside the database; its partitions made ahead."""

import logging

from celery import shared_task

from accesslog.chain import chain_verify
from accesslog.checkpoints import CheckpointSinkError, checkpoint_write, checkpoints_read
from accesslog.partitions import partitions_ensure

logger = logging.getLogger(__name__)


@shared_task(ignore_result=True, time_limit=1800, soft_time_limit=1700)
def access_log_checkpoint_task() -> str:
    """Verify the chain from the newest authentic checkpoint read back from the external sink
    (from the genesis when there is none) and, only if every entry since fits, seal the new head
    there. Nothing is sealed that was not verified from the previous external checkpoint: not
    when the sink cannot be read, not over a broken chain (the checkpoints stay where they were
    and the failure is logged as an error for the operators)."""
    try:
        held = checkpoints_read()
    except CheckpointSinkError as exc:
        logger.error("access-log checkpoint not written: the previous checkpoints cannot be read (%s)", exc)
        return f"ERROR: the previous checkpoints cannot be read ({exc}); nothing sealed"
    previous = held.newest
    result = chain_verify(since=previous, checkpoints=[previous] if previous else [])
    if not result.ok:
        logger.error("access-log chain broken, no checkpoint written: %s", result.line())
        return result.line()
    if held.forged:
        logger.error("access-log checkpoints: %s", held.summary())
    if previous is not None and (previous.seq, previous.row_hash) == (result.head_seq, result.head_hash):
        return result.line() + " (unchanged since the last checkpoint)"
    try:
        checkpoint_write(result)
    except CheckpointSinkError as exc:
        logger.error("access-log checkpoint not written: %s", exc)
        return f"ERROR: the checkpoint could not be written ({exc})"
    return result.line()


@shared_task(ignore_result=True, time_limit=600, soft_time_limit=540)
def access_log_partitions_task() -> str:
    """Daily: the access log's partitions for this month and SSKDT_ACCESS_LOG_PARTITIONS_AHEAD
    months after it exist (made as the owner role); entries in the DEFAULT partition, or fewer
    months ready than asked, are logged as an error for the operators."""
    try:
        state = partitions_ensure()
    except Exception as exc:
        logger.error("access-log partitions not created: %s", exc)
        raise
    if not state.ok:
        logger.error("access-log partitions: %s", state.line())
    return state.line()
