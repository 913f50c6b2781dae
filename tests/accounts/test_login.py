import pytest
from django.test import override_settings
from django.urls import reverse

from accounts.models import AuthEvent
from tests.conftest import enrol_totp
from tests.factories import TEST_PASSWORD


def _login(client, login, password=TEST_PASSWORD):
    return client.post(reverse("account_login"), {"login": login, "password": password})


@pytest.fixture(autouse=True)
def _clear_rate_limits(db):
    from django.core.cache import cache

    cache.clear()


def test_login_page_is_vietnamese_by_default(client, db):
    body = client.get(reverse("account_login")).content.decode()
    assert "Đăng nhập" in body
    assert 'lang="vi"' in body


def test_login_with_username_or_email(client, doctor_a):
    assert _login(client, "doctor_a").status_code == 302
    client.logout()
    assert _login(client, doctor_a.email).status_code == 302


def test_login_failure_and_success_and_logout_are_recorded(client, doctor_a):
    _login(client, "doctor_a", "wrong-password")
    _login(client, "doctor_a")
    client.post(reverse("account_logout"))
    kinds = list(AuthEvent.objects.order_by("at", "pk").values_list("kind", "username_tried"))
    assert kinds == [("login_failed", "doctor_a"), ("login", "doctor_a"), ("logout", "doctor_a")]


def test_user_without_totp_is_sent_to_enrolment(client, doctor_a):
    _login(client, "doctor_a")
    response = client.get(reverse("home"))
    assert response.status_code == 302 and response["Location"] == reverse("mfa_activate_totp")


def test_api_without_totp_answers_403_mfa_required(client, doctor_a):
    client.force_login(doctor_a)
    response = client.get("/api/v1/me/")
    assert response.status_code == 403 and response.json()["code"] == "mfa_required"


def test_demo_account_must_enrol_too_when_debug_is_off(client, doctor_a):
    doctor_a.is_demo = True
    doctor_a.save(update_fields=["is_demo"])
    client.force_login(doctor_a)
    assert client.get(reverse("home")).status_code == 302


@override_settings(SSKDT_DEMO_SKIPS_MFA=True)
def test_demo_account_may_skip_mfa_while_debug_is_on(client, doctor_a):
    doctor_a.is_demo = True
    doctor_a.save(update_fields=["is_demo"])
    client.force_login(doctor_a)
    assert client.get(reverse("home")).status_code == 200


def test_user_with_totp_must_give_a_code_after_the_password(client, doctor_a):
    enrol_totp(doctor_a)
    response = _login(client, "doctor_a")
    assert response["Location"] == reverse("mfa_authenticate")
    assert client.get(reverse("home")).status_code == 302  # not signed in yet


def test_failed_logins_are_rate_limited_even_with_the_right_password(client, doctor_a):
    for _ in range(5):
        _login(client, "doctor_a", "wrong-password")
    response = _login(client, "doctor_a")
    assert response.status_code == 200
    assert "_auth_user_id" not in client.session


def test_rotating_forwarded_for_does_not_reset_the_limit(client, doctor_a):
    for i in range(5):
        client.post(
            reverse("account_login"), {"login": "doctor_a", "password": "bad"}, HTTP_X_FORWARDED_FOR=f"10.0.0.{i}"
        )
    response = client.post(
        reverse("account_login"), {"login": "doctor_a", "password": TEST_PASSWORD}, HTTP_X_FORWARDED_FOR="10.0.9.9"
    )
    assert "_auth_user_id" not in client.session
    assert response.status_code == 200


def test_session_is_an_idle_timeout_of_30_minutes(login, doctor_a):
    client = login(doctor_a)
    client.get(reverse("home"))
    assert 1790 <= client.session.get_expiry_age() <= 1800


def test_expired_idle_session_signs_out(login, doctor_a):
    from datetime import timedelta

    from django.contrib.sessions.models import Session
    from django.utils import timezone

    client = login(doctor_a)
    client.get(reverse("home"))
    Session.objects.filter(session_key=client.session.session_key).update(
        expire_date=timezone.now() - timedelta(seconds=1)
    )
    response = client.get(reverse("home"))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def _session_row(client):
    from django.contrib.sessions.models import Session

    return Session.objects.get(session_key=client.session.session_key)


def test_signed_in_request_does_not_rewrite_a_session_renewed_within_the_minute(login, doctor_a):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    client = login(doctor_a)
    client.get(reverse("home"))
    before = _session_row(client).expire_date
    with CaptureQueriesContext(connection) as queries:
        assert client.get(reverse("home")).status_code == 200
    assert not [q for q in queries.captured_queries if "UPDATE" in q["sql"] and "django_session" in q["sql"]]
    assert _session_row(client).expire_date == before
    # Never later than 30 minutes after the last request, at most a minute earlier.
    remaining = (before - timezone.now()).total_seconds()
    assert 1800 - 60 - 5 <= remaining <= 1800


def test_idle_timeout_is_renewed_once_the_last_renewal_is_a_minute_old(login, doctor_a):
    from datetime import timedelta

    from django.contrib.sessions.models import Session
    from django.utils import timezone

    client = login(doctor_a)
    client.get(reverse("home"))
    key = client.session.session_key
    Session.objects.filter(session_key=key).update(expire_date=timezone.now() + timedelta(seconds=1800 - 61))
    assert client.get(reverse("home")).status_code == 200
    remaining = (_session_row(client).expire_date - timezone.now()).total_seconds()
    assert 1790 <= remaining <= 1800
    assert client.session.session_key == key  # renewed, not a new session


def test_no_public_sign_up(client, db):
    response = client.get("/accounts/signup/")
    assert response.status_code in (403, 404) or "signup" not in response.get("Location", "")
    assert b"id_password2" not in response.content


def test_first_totp_enrolment_right_after_password_login_needs_no_second_password(client, doctor_a):
    _login(client, "doctor_a")
    assert client.get(reverse("mfa_activate_totp")).status_code == 200


def test_totp_enrolment_without_a_fresh_password_login_asks_to_reauthenticate(client, doctor_a):
    client.force_login(doctor_a)  # a session with no record of a password login
    response = client.get(reverse("mfa_activate_totp"))
    assert response.status_code == 302 and "reauthenticate" in response["Location"]


def test_turning_mfa_off_always_asks_to_reauthenticate(client, doctor_a):
    enrol_totp(doctor_a)
    client.force_login(doctor_a)
    response = client.get(reverse("mfa_deactivate_totp"))
    assert response.status_code == 302 and "reauthenticate" in response["Location"]
