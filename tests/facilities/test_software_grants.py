"""A doctor grants facility software a short-lived token (OAuth2 authorization code + PKCE), through
the real pages and endpoints: consent, code, exchange, use, and every way it must fail."""

import base64
import datetime as dt
import hashlib
import secrets
from urllib.parse import parse_qs, urlsplit

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.models import AuditEvent
from facilities.credentials import api_key_create, api_key_revoke
from facilities.models import FacilityStatus, PractitionerToken, SoftwareAuthorizationCode
from tests import factories as f
from tests.healthbook.book import factories as df

pytestmark = pytest.mark.django_db

REDIRECT = "https://his.benhvien-a.test/oauth/callback"


@pytest.fixture
def his_a(facility_a):
    facility_a.status = FacilityStatus.CONNECTED
    facility_a.approved_at = timezone.now()
    facility_a.save(update_fields=["status", "approved_at"])
    return api_key_create(facility=facility_a, name="HIS A", acting_user=None, redirect_uris=REDIRECT)


@pytest.fixture
def patient_a(facility_a):
    person = df.citizen(name="Nguyễn Văn Bệnh")
    df.visit(person.book, facility_a, dx="I10", labs=1)
    return person


def pkce():
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    return verifier, challenge


def params(key, challenge, **over):
    return {
        "response_type": "code",
        "client_id": key.row.prefix,
        "redirect_uri": REDIRECT,
        "scope": "user/*.read",
        "state": "xyz",
        "code_challenge": challenge,
        "code_challenge_method": "S256",
        **over,
    }


def authorise(client, key, challenge, **over):
    """The doctor (signed in) allows the software: return the redirect's query."""
    response = client.post(reverse("oauth-authorize"), {**params(key, challenge, **over), "allow": "1"})
    assert response.status_code == 302, response.content.decode()[:500]
    location = response["Location"]
    assert location.startswith(REDIRECT)
    return {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}


def exchange(client, key, code, verifier, **over):
    data = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": REDIRECT,
        "code_verifier": verifier,
        "client_id": key.row.prefix,
        **over,
    }
    return client.post(reverse("oauth-token"), data, HTTP_AUTHORIZATION=f"Api-Key {key.key}")


def test_consent_code_token_and_a_read_with_it(client, login, doctor_a, his_a, patient_a):
    verifier, challenge = pkce()
    login(doctor_a)
    page = client.get(reverse("oauth-authorize"), params(his_a, challenge))
    assert (
        page.status_code == 200
        and "HIS A" in page.content.decode()
        and "Bệnh viện Thử nghiệm A" in page.content.decode()
    )
    answer = authorise(client, his_a, challenge)
    assert answer["state"] == "xyz" and answer["code"]
    client.logout()
    token = exchange(client, his_a, answer["code"], verifier)
    assert token.status_code == 200 and token["Cache-Control"] == "no-store"
    body = token.json()
    assert body["token_type"] == "Bearer" and body["practitioner"] == "doctor_a" and body["expires_in"] == 30 * 60
    history = client.get(
        reverse("api-citizen-history", kwargs={"book": patient_a.book.public_id}),
        HTTP_AUTHORIZATION=f"Bearer {body['access_token']}",
        HTTP_X_PURPOSE_OF_USE="TREAT",
    )
    assert history.status_code == 200
    actions = set(AuditEvent.objects.values_list("action", flat=True))
    assert {"software_authorize", "practitioner_token_issue"} <= actions
    stored = PractitionerToken.objects.get()
    assert body["access_token"] not in stored.token_hash and stored.last_used_at is not None
    assert not SoftwareAuthorizationCode.objects.filter(code_hash=answer["code"]).exists()  # digest only


def test_refusing_sends_access_denied_back(client, login, doctor_a, his_a):
    _verifier, challenge = pkce()
    login(doctor_a)
    response = client.post(reverse("oauth-authorize"), {**params(his_a, challenge), "allow": "0"})
    assert response.status_code == 302 and "error=access_denied" in response["Location"]
    assert not SoftwareAuthorizationCode.objects.exists()


@pytest.mark.parametrize(
    "over,error",
    [
        ({"client_id": "000000000000"}, "invalid_client"),
        ({"redirect_uri": "https://attacker.test/steal"}, "invalid_request"),
    ],
)
def test_unknown_software_or_return_address_is_told_to_the_user_never_redirected(
    client, login, doctor_a, his_a, over, error
):
    _verifier, challenge = pkce()
    login(doctor_a)
    for method in (client.get, client.post):
        response = method(reverse("oauth-authorize"), {**params(his_a, challenge, **over), "allow": "1"})
        assert response.status_code == 400 and f'data-error="{error}"' in response.content.decode()
    assert not SoftwareAuthorizationCode.objects.exists()


@pytest.mark.parametrize(
    "over,error",
    [
        ({"code_challenge_method": "plain"}, "invalid_request"),
        ({"code_challenge": ""}, "invalid_request"),
        ({"response_type": "token"}, "unsupported_response_type"),
        ({"scope": "system/*.*"}, "invalid_scope"),
    ],
)
def test_a_bad_request_from_known_software_goes_back_to_it(client, login, doctor_a, his_a, over, error):
    _verifier, challenge = pkce()
    login(doctor_a)
    response = client.get(reverse("oauth-authorize"), params(his_a, challenge, **over))
    assert response.status_code == 302 and f"error={error}" in response["Location"]


def test_only_a_confirmed_doctor_of_the_keys_facility_may_grant(client, login, his_a, facility_a, doctor_b):
    _verifier, challenge = pkce()
    admin = f.facility_admin(facility_a, username="qt_a")
    for user in (admin, doctor_b):
        login(user)
        response = client.post(reverse("oauth-authorize"), {**params(his_a, challenge), "allow": "1"})
        assert response.status_code == 403
        client.logout()
    assert 'data-error="access_denied"' in response.content.decode()  # the other facility's doctor is told why
    pending = f.doctor(facility_a, username="bs_cho", approved_at=None)
    login(pending)  # the session of an unconfirmed account is not accepted
    response = client.post(reverse("oauth-authorize"), {**params(his_a, challenge), "allow": "1"})
    assert response.status_code == 302 and reverse("account_login") in response["Location"]
    assert not SoftwareAuthorizationCode.objects.exists()


def test_the_code_needs_the_verifier_the_key_and_works_once(client, login, doctor_a, his_a, facility_a):
    verifier, challenge = pkce()
    login(doctor_a)
    code = authorise(client, his_a, challenge)["code"]
    client.logout()
    other_key = api_key_create(facility=facility_a, name="HIS khác", acting_user=None, redirect_uris=REDIRECT)
    assert (
        exchange(client, other_key, code, verifier, client_id=other_key.row.prefix).json()["error"] == "invalid_grant"
    )
    keyless = client.post(reverse("oauth-token"), {"grant_type": "authorization_code", "code": code})
    assert keyless.status_code == 401 and keyless.json()["error"] == "invalid_client"
    assert exchange(client, his_a, code, "x" * 43).json()["error"] == "invalid_grant"  # wrong verifier spends it
    assert exchange(client, his_a, code, verifier).json()["error"] == "invalid_grant"


def test_a_replayed_code_revokes_the_token_it_gave(client, login, doctor_a, his_a):
    verifier, challenge = pkce()
    login(doctor_a)
    code = authorise(client, his_a, challenge)["code"]
    client.logout()
    first = exchange(client, his_a, code, verifier)
    assert first.status_code == 200
    assert exchange(client, his_a, code, verifier).status_code == 400
    assert PractitionerToken.objects.get().revoked_at is not None


def test_an_expired_code_is_refused(client, login, doctor_a, his_a):
    verifier, challenge = pkce()
    login(doctor_a)
    code = authorise(client, his_a, challenge)["code"]
    client.logout()
    SoftwareAuthorizationCode.objects.update(expires_at=timezone.now() - dt.timedelta(seconds=1))
    assert exchange(client, his_a, code, verifier).json()["error"] == "invalid_grant"


@pytest.fixture
def token_a(client, login, doctor_a, his_a):
    verifier, challenge = pkce()
    login(doctor_a)
    code = authorise(client, his_a, challenge)["code"]
    client.logout()
    return exchange(client, his_a, code, verifier).json()["access_token"]


def _read(client, token, patient):
    return client.get(
        reverse("api-citizen-history", kwargs={"book": patient.book.public_id}),
        HTTP_AUTHORIZATION=f"Bearer {token}",
        HTTP_X_PURPOSE_OF_USE="TREAT",
    )


def test_the_token_dies_with_time_the_key_the_doctor_or_the_doctors_own_revocation(
    client, login, token_a, his_a, doctor_a, patient_a
):
    assert _read(client, token_a, patient_a).status_code == 200
    PractitionerToken.objects.update(expires_at=timezone.now() - dt.timedelta(seconds=1))
    assert _read(client, token_a, patient_a).status_code == 401
    PractitionerToken.objects.update(expires_at=timezone.now() + dt.timedelta(minutes=5))
    doctor_a.is_active = False
    doctor_a.save(update_fields=["is_active"])
    assert _read(client, token_a, patient_a).status_code == 401
    doctor_a.is_active = True
    doctor_a.save(update_fields=["is_active"])
    login(doctor_a, mfa=False)
    listed = client.get(reverse("oauth-my-software")).content.decode()
    assert "HIS A" in listed
    token = PractitionerToken.objects.get()
    client.post(reverse("oauth-my-software-revoke", kwargs={"public_id": token.public_id}))
    client.logout()
    assert _read(client, token_a, patient_a).status_code == 401
    PractitionerToken.objects.update(revoked_at=None)
    api_key_revoke(api_key=his_a.row, acting_user=None)
    assert _read(client, token_a, patient_a).status_code == 401


def test_another_doctor_cannot_revoke_my_token(client, login, token_a, facility_a):
    other = f.doctor(facility_a, username="bs_khac")
    login(other)
    token = PractitionerToken.objects.get()
    response = client.post(reverse("oauth-my-software-revoke", kwargs={"public_id": token.public_id}))
    assert response.status_code == 404 and PractitionerToken.objects.get().revoked_at is None


def test_return_addresses_are_checked_when_the_key_is_made(facility_a):
    from django.core.exceptions import ValidationError

    for bad in ("http://his.test/cb", "https://his.test/cb#frag", "javascript:alert(1)", "ftp://x/"):
        with pytest.raises(ValidationError):
            api_key_create(facility=facility_a, name=f"k {bad}", acting_user=None, redirect_uris=bad)
    ok = api_key_create(
        facility=facility_a, name="ok", acting_user=None, redirect_uris="https://a.test/cb\nhttp://127.0.0.1:7000/cb"
    )
    assert ok.row.redirect_uri_list == ["https://a.test/cb", "http://127.0.0.1:7000/cb"]
