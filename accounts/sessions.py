"""Database sessions with an idle timeout renewed at most once a minute.

The portal's sessions end after SESSION_COOKIE_AGE (30 minutes) without a request. Django
implements that with SESSION_SAVE_EVERY_REQUEST, which writes the session row — a
transaction and a disk flush — on every signed-in request. Here the row is rewritten only
when its expiry was last pushed forward at least SSKDT_SESSION_RENEW_SECONDS (60) ago, so a
session ends between 29 and 30 minutes after its last request: never later than the timeout,
at most a minute earlier. The expiry stays in the database row (`expire_date`), which is
what the load query filters on, so an expired session is refused exactly as before.

Settings: SESSION_ENGINE = "accounts.sessions", and IdleSessionMiddleware in place of
Django's SessionMiddleware (SESSION_SAVE_EVERY_REQUEST stays off).
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.sessions.backends import db
from django.contrib.sessions.middleware import SessionMiddleware
from django.db import connections, router
from django.utils import timezone


class SessionStore(db.SessionStore):
    """Django's database store that remembers the expiry of the row it loaded."""

    loaded_expire_date = None

    def load(self):
        # Django's _get_session_from_db as one plain statement (the ORM's compilation cost more
        # than the query on every signed-in request).
        row = None
        if self.session_key is not None:
            with connections[router.db_for_read(self.model)].cursor() as cur:
                cur.execute(
                    "SELECT session_data, expire_date FROM django_session WHERE session_key = %s AND expire_date > %s",
                    [self.session_key, timezone.now()],
                )
                row = cur.fetchone()
        if row is None:
            self._session_key = None
            self.loaded_expire_date = None
            return {}
        self.loaded_expire_date = row[1]
        return self.decode(row[0])

    def renewal_due(self) -> bool:
        """True when the stored expiry was last renewed SSKDT_SESSION_RENEW_SECONDS ago or more
        (or the row was not read in this request)."""
        self._get_session()  # loads the row once per request (already done by the auth middleware)
        if self.loaded_expire_date is None:
            return True
        remaining = (self.loaded_expire_date - timezone.now()).total_seconds()
        return remaining <= self.get_expiry_age() - settings.SSKDT_SESSION_RENEW_SECONDS


class IdleSessionMiddleware(SessionMiddleware):
    """SessionMiddleware that renews the idle timeout at most once per renewal interval."""

    def process_response(self, request, response):
        session = getattr(request, "session", None)
        if (
            session is not None
            and not session.modified
            and not session.is_empty()
            and response.status_code < 500
            and getattr(session, "renewal_due", None) is not None
            and session.renewal_due()
        ):
            session.modified = True
        return super().process_response(request, response)
