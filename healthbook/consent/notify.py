"""The two moments the citizen's app is told of (issue 19, point 4): the book was opened in an
emergency, and a copy of the book is ready. The messages go through the reminders' outbox,
which the lead wires here at merge: each function is the one call point of its kind and runs
after the transaction that made the fact commits (nothing is told of a rolled-back fact)."""

import logging

from django.db import transaction

logger = logging.getLogger(__name__)


def notify_citizen_of_emergency(grant) -> None:
    """An emergency access was opened to the citizen's book (`grant`: accesslog.EmergencyAccess;
    the doctor, facility, reason and end time are on it). Called by every path that opens one:
    the doctor's emergency form and facility software's ETREAT reads."""
    transaction.on_commit(lambda: _emergency(grant.pk))


def notify_citizen_copy_ready(copy_request) -> None:
    """The citizen's copy of the book is ready to download (`copy_request`: CopyRequest, with
    its expiry)."""
    transaction.on_commit(lambda: _copy_ready(copy_request.pk))


def _emergency(grant_pk: int) -> None:  # the outbox message is added here at merge (issue 19, point 4)
    logger.info("citizen notification due: emergency access %s", grant_pk)


def _copy_ready(copy_request_pk: int) -> None:  # the outbox message is added here at merge
    logger.info("citizen notification due: copy request %s ready", copy_request_pk)
