"""`make run` starts the fake notification gateway as one step and points both channels at it,
unless a real gateway is configured."""

from config import localdev

KEYS = [f"SSKDT_NOTIFY_{c}_{k}" for c in ("VNEID", "SMS") for k in ("URL", "KEY_ID", "SECRET")]


def test_the_launcher_starts_the_fake_gateway_and_points_the_channels_at_it(monkeypatch):
    import os

    for key in [*KEYS, "SSKDT_FAKE_GATEWAY_PORT"]:
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("SSKDT_FAKE_GATEWAY_PORT", "18999")
    monkeypatch.setattr(localdev, "_spawn", lambda cmd: cmd)
    command = localdev._fake_gateway_spawn()
    assert command[1:5] == ["-m", "config.fakegateway", "--port", "18999"]
    assert os.environ["SSKDT_NOTIFY_VNEID_URL"] == "http://127.0.0.1:18999/vneid/notifications"
    assert os.environ["SSKDT_NOTIFY_SMS_URL"] == "http://127.0.0.1:18999/sms/messages"
    assert os.environ["SSKDT_NOTIFY_VNEID_SECRET"] == os.environ["SSKDT_NOTIFY_SMS_SECRET"] != ""


def test_a_configured_gateway_is_left_alone(monkeypatch):
    monkeypatch.setenv("SSKDT_NOTIFY_VNEID_URL", "https://gateway.example/notify")
    monkeypatch.setattr(localdev, "_spawn", lambda cmd: cmd)
    assert localdev._fake_gateway_spawn() is None
