"""The fake gateway (config/fakegateway.py), a real HTTP server in a thread, and the settings
that point the outbox's senders at it."""

import pytest

from config.fakegateway import FakeGateway

KEY_ID, SECRET = "test-portal", "test-only-notify-secret"


@pytest.fixture
def gateway(settings):
    server = FakeGateway(keys={KEY_ID: SECRET}).start()
    for channel, path in (("VNEID", "/vneid/notifications"), ("SMS", "/sms/messages")):
        setattr(settings, f"NOTIFY_{channel}_URL", server.url + path)
        setattr(settings, f"NOTIFY_{channel}_KEY_ID", KEY_ID)
        setattr(settings, f"NOTIFY_{channel}_SECRET", SECRET)
    settings.NOTIFY_DEFAULT_CHANNEL = "vneid"
    settings.NOTIFY_READ_TIMEOUT = 2
    yield server
    server.stop()
