"""S1, S2, S3: brute force against the login, with and without a rotating X-Forwarded-For."""

from collections import Counter

from django.conf import settings
from django.test import Client
from django.urls import reverse

from accounts.models import AuthEvent
from tests import factories as f
from tests.conftest import enrol_totp
from tests.factories import TEST_PASSWORD

ATTEMPTS = 200


def _limits() -> dict[str, int]:
    """{'ip': n, 'key': n} from allauth's login_failed rate (SSKDT_LOGIN_FAILED_RATE)."""
    out = {}
    for part in settings.ACCOUNT_RATE_LIMITS["login_failed"].split(","):
        amount, _period, kind = part.strip().split("/")
        out[kind] = int(amount)
    return out


def _signed_in(client) -> bool:
    return "_auth_user_id" in client.session


def _reached_mfa_step(response) -> bool:
    return response.status_code == 302 and response["Location"] == reverse("mfa_authenticate")


def _attempt(client, login, password, **extra):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"  # so that the refusal can be recognised below
    return client.post(reverse("account_login"), {"login": login, "password": password}, **extra)


def _refused_by_limit(response) -> bool:
    return response.status_code == 429 or "Too many failed login attempts" in response.content.decode()


def test_s1_brute_force_one_account_is_locked_and_every_attempt_recorded(db, proof):
    row = proof.row("S1", f"{ATTEMPTS} wrong passwords against one account, then the right one")
    user = f.doctor(f.FacilityFactory(code="01001", province=f.province("01")), username="victim")
    enrol_totp(user)
    client = Client()
    succeeded, refused_from = 0, None
    statuses = Counter()
    for n in range(1, ATTEMPTS + 1):
        response = _attempt(client, "victim", f"guess-{n}")
        statuses[response.status_code] += 1
        succeeded += _signed_in(client) or _reached_mfa_step(response)
        if refused_from is None and _refused_by_limit(response):
            refused_from = n
    right = _attempt(client, "victim", TEST_PASSWORD)  # the right password, while locked
    right_ok = _signed_in(client) or _reached_mfa_step(right)
    rows = AuthEvent.objects.filter(kind=AuthEvent.Kind.LOGIN_FAILED, username_tried="victim").count()
    row.set(
        times=ATTEMPTS + 1,
        figure=f"{ATTEMPTS} attempts, {succeeded} succeeded; locked from attempt {refused_from} "
        f"(limit {_limits()['key']}/key); right password while locked: "
        f"{'ACCEPTED' if right_ok else 'refused'}; {rows} failed-login records for {ATTEMPTS + 1} attempts; "
        f"statuses {dict(statuses)}",
    )
    assert succeeded == 0 and not right_ok
    assert refused_from is not None and refused_from <= _limits()["key"] + 1
    assert rows == ATTEMPTS + 1, "every refused attempt, also those stopped by the limit, must be on record"


def test_s2_rotating_forwarded_for_is_ignored(db, proof):
    row = proof.row("S2", f"{ATTEMPTS} wrong passwords, a new X-Forwarded-For each time, then the right one")
    user = f.doctor(f.FacilityFactory(code="01001", province=f.province("01")), username="victim")
    enrol_totp(user)
    client = Client()
    succeeded = 0
    for n in range(ATTEMPTS):
        response = _attempt(client, "victim", f"guess-{n}", HTTP_X_FORWARDED_FOR=f"203.0.113.{n % 250}, 10.1.{n}.1")
        succeeded += _signed_in(client) or _reached_mfa_step(response)
    right = _attempt(client, "victim", TEST_PASSWORD, HTTP_X_FORWARDED_FOR="198.51.100.7")
    right_ok = _signed_in(client) or _reached_mfa_step(right)
    ips = set(AuthEvent.objects.filter(kind=AuthEvent.Kind.LOGIN_FAILED).values_list("ip_address", flat=True))
    row.set(
        times=ATTEMPTS + 1,
        figure=f"{ATTEMPTS} attempts, {succeeded} succeeded; right password while locked "
        f"{'ACCEPTED' if right_ok else 'refused'}; distinct client IPs seen: {len(ips)}",
    )
    assert succeeded == 0 and not right_ok
    assert len(ips) == 1, f"the X-Forwarded-For header reached the records: {ips}"


def test_s1_password_spraying_across_accounts_hits_the_address_limit(db, proof):
    accounts = 50
    row = proof.row("S1", f"password spraying: one password against {accounts} accounts from one address")
    fac = f.FacilityFactory(code="01001", province=f.province("01"))
    for n in range(accounts):
        user = f.doctor(fac, username=f"spray{n}")
        if n == accounts - 1:  # the last account really uses the sprayed password
            user.set_password("Spring-2026-spray!")
            user.save()
    client = Client()
    succeeded = refused = 0
    for n in range(accounts):
        response = _attempt(client, f"spray{n}", "Spring-2026-spray!")
        succeeded += _signed_in(client) or _reached_mfa_step(response)
        refused += _refused_by_limit(response)
    row.set(
        times=accounts,
        figure=f"{accounts} accounts tried, {succeeded} succeeded, {refused} refused by the per-address limit "
        f"({_limits()['ip']}/min/address)",
    )
    assert succeeded == 0
    assert refused >= accounts - _limits()["ip"]


def test_s3_django_admin_login_is_behind_the_portal_login_and_mfa(db, proof):
    row = proof.row("S3", f"{ATTEMPTS} wrong passwords on /django-admin/login/, then the right one")
    admin = f.UserFactory(username="ops", role="", is_staff=True, is_superuser=True)
    enrol_totp(admin)
    client = Client()
    url = reverse("admin:login")
    succeeded = 0
    for n in range(ATTEMPTS):
        client.post(url, {"username": "ops", "password": f"guess-{n}"})
        succeeded += _signed_in(client)
    client.post(url, {"username": "ops", "password": TEST_PASSWORD})
    right_ok = _signed_in(client)
    admin_page = client.get(reverse("admin:index"), follow=True)
    row.set(
        times=ATTEMPTS + 1,
        figure=f"{ATTEMPTS} attempts, {succeeded} succeeded; right password without TOTP: "
        f"{'SIGNED IN (MFA bypassed)' if right_ok else 'not signed in'}; admin index leads to "
        f"{admin_page.request['PATH_INFO']}",
    )
    assert succeeded == 0
    assert not right_ok, "the admin login must not sign anyone in without the portal's MFA step"
    assert admin_page.request["PATH_INFO"] == reverse("account_login")
