"""S4 (one-time codes used once, no way round the TOTP step) and S5 (sessions end when they must)."""

from datetime import timedelta

from allauth.mfa.recovery_codes.internal.auth import RecoveryCodes
from django.contrib.sessions.models import Session
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts import services
from tests import factories as f
from tests.conftest import enrol_totp
from tests.e2e.browser import totp_now
from tests.factories import TEST_PASSWORD
from tests.security.crawl import endpoints
from tests.security.url_rules import Public


def _user(username="victim"):
    user = f.doctor(f.FacilityFactory(code="01001", province=f.province("01")), username=username)
    return user, enrol_totp(user).data["secret"]


def _password_step(client, username="victim"):
    response = client.post(reverse("account_login"), {"login": username, "password": TEST_PASSWORD})
    assert response.status_code == 302 and response["Location"] == reverse("mfa_authenticate"), response
    return response


def _code_step(client, code) -> bool:
    client.post(reverse("mfa_authenticate"), {"code": code})
    return "_auth_user_id" in client.session


def test_s4_a_totp_code_works_once(db, proof):
    row = proof.row("S4", "the same TOTP code twice (two logins within its 30 s window)")
    _user_obj, secret = _user()
    code = totp_now(secret)
    first, second = Client(), Client()
    _password_step(first)
    accepted_first = _code_step(first, code)
    _password_step(second)
    accepted_again = _code_step(second, code)
    row.set(
        times=2,
        figure=f"first use {'accepted' if accepted_first else 'REFUSED'}, "
        f"reuse {'ACCEPTED' if accepted_again else 'refused'} "
        f"(reuse accepted: {int(accepted_again)})",
    )
    assert accepted_first and not accepted_again


def test_s4_a_recovery_code_works_once(db, proof):
    row = proof.row("S4", "each of 3 recovery codes used twice")
    user, _secret = _user()
    codes = RecoveryCodes.activate(user).get_unused_codes()[:3]
    first_ok = reuse_ok = 0
    for code in codes:
        for attempt in (1, 2):
            client = Client()
            _password_step(client)
            ok = _code_step(client, code)
            first_ok += ok and attempt == 1
            reuse_ok += ok and attempt == 2
    row.set(times=6, figure=f"{first_ok}/3 first uses accepted, reuse accepted: {reuse_ok}")
    assert first_ok == 3 and reuse_ok == 0


def test_s4_no_page_or_api_is_reachable_between_password_and_code(db, proof):
    row = proof.row("S4", "every non-public URL requested after the password step, before the TOTP code")
    _user()
    client = Client()
    _password_step(client)
    reached = []
    urls = [e for e in endpoints() if not isinstance(e.rule, Public)]
    for endpoint in urls:
        response = client.get(endpoint.path())
        ok_refusal = response.status_code in (401, 403, 404, 405) or (
            response.status_code == 302
            and ("login" in response["Location"] or response["Location"].startswith("/django-admin/"))
        )
        if not ok_refusal or "_auth_user_id" in client.session:
            reached.append(f"{endpoint.path()} -> {response.status_code}")
    row.set(times=len(urls), figure=f"{len(urls)} URLs tried with a half-finished login, bypass: {len(reached)}")
    assert not reached, reached


def _full_login(client, secret) -> None:
    _password_step(client)
    assert _code_step(client, totp_now(secret))


def test_s5_sessions_end_when_they_must(db, proof):
    row = proof.row("S5", "fixation, reuse after logout, after deactivation, after 30 min idle")
    user, secret = _user()
    stale_valid = []

    # Fixation: a session id planted before login is not the one used after it.
    client = Client()
    client.get(reverse("account_login"))
    session = client.session
    session["planted"] = True
    session.save()
    planted = session.session_key
    client.cookies["sessionid"] = planted
    _full_login(client, secret)
    if client.session.session_key == planted or Session.objects.filter(session_key=planted).exists():
        stale_valid.append("planted session id survived login")

    # Logout: the old cookie is dead on the server, not only in the browser.
    old = client.cookies["sessionid"].value
    client.post(reverse("account_logout"))
    replay = Client()
    replay.cookies["sessionid"] = old
    if replay.get(reverse("home")).status_code == 200:
        stale_valid.append("session still valid after logout")

    # Deactivation ends every session of the account at once (two devices).
    # The TOTP code above is spent for 30 s: the next logins use recovery codes.
    codes = RecoveryCodes.activate(user).get_unused_codes()
    devices = []
    for code in codes[:2]:
        c = Client()
        _password_step(c)
        assert _code_step(c, code)
        devices.append(c)
    admin = f.ministry(username="boss")
    services.staff_deactivate(acting_user=admin, user=user)
    for n, c in enumerate(devices):
        if c.get(reverse("home")).status_code == 200:
            stale_valid.append(f"device {n + 1} still signed in after deactivation")

    # Idle timeout: a session untouched for longer than SESSION_COOKIE_AGE is refused.
    user.is_active = True
    user.save(update_fields=["is_active"])
    idle = Client()
    _password_step(idle)
    assert _code_step(idle, codes[2])
    Session.objects.filter(session_key=idle.session.session_key).update(
        expire_date=timezone.now() - timedelta(seconds=1)
    )
    if idle.get(reverse("home")).status_code == 200:
        stale_valid.append("session valid after the idle timeout")

    row.set(
        times=5,
        figure=f"5 stale sessions tried (planted, logged out, 2 deactivated, idle), still valid: {len(stale_valid)}",
    )
    assert not stale_valid, stale_valid
