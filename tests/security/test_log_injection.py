"""S25: CR/LF and terminal escapes in usernames, headers and paths cannot forge or split log lines."""

import logging
import re

from django.test import Client
from django.urls import reverse

from accounts.models import AuthEvent

HOSTILE = [
    "ghost\r\n2026-01-01 00:00:00,000 INFO accounts login ok user=ministry_admin",
    "ghost\x1b[2J\x1b[31mRED",
    'ghost","level":"INFO","msg":"forged',
    "ghost\x00\x08\x7f",
]
CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def _configured_handlers():
    """The project's own log handlers (from settings.LOGGING), not pytest's capture handlers."""
    return [h for h in logging.getLogger().handlers if not type(h).__module__.startswith("_pytest")]


def test_s25_hostile_input_stays_on_one_escaped_line(db, caplog, proof):
    caplog.set_level(logging.DEBUG)
    client = Client()
    for username in HOSTILE:
        client.post(
            reverse("account_login"), {"login": username, "password": "wrong-password"}, HTTP_USER_AGENT=username
        )
        client.get("/no-such-page/%0d%0aINFO%20forged%1b[31m/")
        # Our own code logs what it is given (file names, identifiers …): the formatter must cope.
        logging.getLogger("accounts").warning("login refused for %s", username)
    handlers = _configured_handlers()
    assert handlers, "settings.LOGGING configures no handler on the root logger"
    lines = [h.format(r) for r in caplog.records for h in handlers if h.filter(r)]
    broken = [line for line in lines if CONTROL.search(line)]
    stored = list(AuthEvent.objects.values_list("username_tried", "user_agent"))
    stored_broken = [s for pair in stored for s in pair if CONTROL.search(s)]
    proof.record(
        "S25",
        "CR/LF, ANSI, NUL and JSON-breaking characters in usernames, User-Agent, URL paths "
        "and in arguments our own code logs",
        times=len(HOSTILE) * 3,
        figure=f"{len(lines)} log lines written, {len(broken)} split or carrying control characters; "
        f"{len(stored)} failed-login records, {len(stored_broken)} fields with control characters",
    )
    assert len(stored) == len(HOSTILE) - 1  # the login form refuses the NUL one before any check
    assert not broken, broken[:5]
    assert not stored_broken, stored_broken[:5]
