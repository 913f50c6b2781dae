"""A favicon, and one short log line per refused request (issue 18)."""

import logging

import pytest
from django.urls import reverse

from core.logsafe import RefusedRequestFilter

pytestmark = pytest.mark.django_db


def test_favicon_is_found(client):
    response = client.get("/favicon.ico")
    assert response.status_code == 301 and response["Location"].endswith("favicon.svg")
    assert 'rel="icon"' in client.get(reverse("account_login")).content.decode()


def test_a_refusal_is_one_line_without_traceback(login, doctor_a, caplog):
    client = login(doctor_a)
    with caplog.at_level(logging.WARNING, logger="django.request"):
        assert client.get(reverse("staff-list")).status_code == 403
    (record,) = [r for r in caplog.records if r.name == "django.request"]
    kept = RefusedRequestFilter().filter(record)
    assert kept and record.exc_info is None and "Forbidden" in record.getMessage()


def test_the_development_servers_line_for_a_refusal_is_dropped_but_errors_keep_their_traceback():
    server = logging.LogRecord("django.server", logging.WARNING, "", 0, '"GET /staff/ HTTP/1.1" 403 10', (), None)
    server.status_code = 403
    assert RefusedRequestFilter().filter(server) is False
    try:
        raise ValueError("boom")
    except ValueError:
        import sys

        error = logging.LogRecord("django.request", logging.ERROR, "", 0, "Internal Server Error", (), sys.exc_info())
    error.status_code = 500
    assert RefusedRequestFilter().filter(error) and error.exc_info is not None


def test_a_refusal_reaches_one_handler_only(settings):
    """With DEBUG on (make run), Django's default handler of the "django" logger printed every
    refusal a second time, unformatted, beside the root handler's line."""
    import logging.config

    from django.utils.log import DEFAULT_LOGGING

    logging.config.dictConfig(DEFAULT_LOGGING)  # what Django configures first
    logging.config.dictConfig(settings.LOGGING)  # then the project's
    handlers = []
    logger = logging.getLogger("django.security.csrf")
    while logger:
        handlers += logger.handlers
        logger = logger.parent if logger.propagate else None
    assert len(handlers) == 1
