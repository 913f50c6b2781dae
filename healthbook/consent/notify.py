"""The moments of the citizen's side the app is told of (issue 19, point 4), through the outbox
(healthbook.notifications). "Your book was opened in an emergency" is written by
accesslog's `emergency_access_start` itself, in the grant's transaction (core.notify signal), for
every path that opens one; "your copy is ready" is written here."""

from django.utils import timezone

from healthbook.notifications.services import copy_ready_notify


def notify_citizen_copy_ready(copy_request) -> None:
    """The citizen's copy of the book is ready to download: call it in the transaction that marks
    the request ready (`copy_request`: CopyRequest, with its expiry); one message per request."""
    copy_ready_notify(
        citizen_id=copy_request.citizen_id,
        copy_request_id=copy_request.pk,
        expires_on=timezone.localdate(copy_request.expires_at),
    )
