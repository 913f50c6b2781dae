"""A message to a citizen asked for by an app below the health book (the access log's emergency
grants, for one): the health book's outbox listens (healthbook.notifications.services,
connected when Django starts) and writes the message in the sender's transaction, as
`enqueue_notification` would. Apps at or above the health book call that function directly.

    notification_requested.send(sender=…, citizen_id=…, kind="emergency_access",
                                dedupe_key="emergency:<grant>", context={…}, facility_id=…)
"""

from django.dispatch import Signal

notification_requested = Signal()
