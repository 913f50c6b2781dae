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

Besides the idle timeout, a signed-in session has an absolute lifetime
(SSKDT_SESSION_ABSOLUTE_SECONDS, 12 hours by default) counted from the sign-in whatever the
activity: SessionLifetimeMiddleware signs the user out at the first request after it.
"""

from __future__ import annotations

import time

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.views import redirect_to_login
from django.contrib.sessions.backends import db
from django.contrib.sessions.middleware import SessionMiddleware
from django.db import connections, router
from django.http import JsonResponse
from django.utils import timezone
from django.utils.translation import gettext as _

# Unix time of the sign-in, written by the login recorder (accounts.signals).
SIGNED_IN_AT_KEY = "sskdt_signed_in_at"


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


class SessionLifetimeMiddleware:
    """Sign out a session SSKDT_SESSION_ABSOLUTE_SECONDS after its sign-in, however busy it was
    (the idle timeout alone lets a session that is used every few minutes live for ever).

    A session from before this rule (no sign-in time) starts counting at its next request.
    Pages go to the sign-in page with a message; the session API answers 401 session_expired.
    Goes after AuthenticationMiddleware and MessageMiddleware.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        session = getattr(request, "session", None)
        user = getattr(request, "user", None)
        if session is not None and user is not None and user.is_authenticated:
            now = int(time.time())
            started = session.get(SIGNED_IN_AT_KEY)
            if not isinstance(started, int):
                session[SIGNED_IN_AT_KEY] = now
            elif now - started >= settings.SSKDT_SESSION_ABSOLUTE_SECONDS:
                logout(request)
                text = _("Your session has reached its maximum length; please sign in again.")
                if request.path.startswith("/api/"):
                    return JsonResponse({"code": "session_expired", "message": text, "details": {}}, status=401)
                messages.info(request, text)
                return redirect_to_login(request.get_full_path())
        return self.get_response(request)
