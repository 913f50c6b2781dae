"""A staff member's first day, from the account created on the staff page to the home page.

Issue 18's blocker: the set-password link did not verify the address, so allauth refused TOTP
enrolment and every page sent the new user back to it.
"""

import re

import pytest
from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret
from django.core import mail

from tests.conftest import TRANSACTIONAL
from tests.e2e.browser import totp_now
from tests.factories import TEST_PASSWORD, FacilityFactory, province, province_officer

pytestmark = [pytest.mark.browser, TRANSACTIONAL]

NEW_PASSWORD = "Mat-khau-moi-2026!"  # noqa: S105 — a test account only


def _sign_in_with_totp(page, base, username, password, secret):
    page.goto(f"{base}/accounts/login/")
    page.fill("#id_login", username)
    page.fill("#id_password", password)
    page.click("main button[type=submit]")
    page.wait_for_url("**/accounts/2fa/authenticate/")
    page.fill("input[name=code]", totp_now(secret))
    page.click("main form button[type=submit]")
    page.wait_for_url(f"{base}/")


def test_account_created_on_the_staff_page_follows_the_mail_sets_password_enrols_totp_and_gets_home(live_server, page):
    facility = FacilityFactory(code="01002", name="Trạm Y tế Thử nghiệm", province=province("01"))
    officer = province_officer("01", username="so.yte", full_name="Trần Thị Sở")
    secret = generate_totp_secret()
    TOTP.activate(officer, secret)
    base = live_server.url

    _sign_in_with_totp(page, base, "so.yte", TEST_PASSWORD, secret)
    page.goto(f"{base}/staff/new/")
    page.fill("#id_full_name", "Lê Văn Mới")
    page.fill("#id_username", "qtv.moi")
    page.fill("#id_email", "qtv.moi@test.invalid")
    page.select_option("#id_role", "facility_admin")
    page.select_option("#id_facility", value=str(facility.pk))
    page.click("main form button[type=submit]")
    page.wait_for_url("**/staff/*/")

    # The invitation is the portal's own mail, in Vietnamese, named after the portal.
    assert len(mail.outbox) == 1
    invitation = mail.outbox[0]
    assert invitation.to == ["qtv.moi@test.invalid"]
    assert "Sổ sức khỏe điện tử" in invitation.subject
    assert "127.0.0.1" not in invitation.subject
    assert "mời" in invitation.subject.lower()
    assert "Lê Văn Mới" in invitation.body
    assert "qtv.moi" in invitation.body
    assert "đặt lại" not in invitation.body.lower()  # not the "forgot your password" mail
    assert "hết hạn" in invitation.body
    link = re.search(r"https?://\S+/accounts/password/reset/key/\S+", invitation.body).group(0)

    # The new member opens the link in their own browser.
    page.context.clear_cookies()
    page.goto(link)
    page.fill("input[name=password1]", NEW_PASSWORD)
    page.fill("input[name=password2]", NEW_PASSWORD)
    page.click("main form button[type=submit]")
    page.wait_for_load_state()
    assert "/accounts/password/reset/key/done/" in page.url

    page.goto(f"{base}/accounts/login/")
    page.fill("#id_login", "qtv.moi")
    page.fill("#id_password", NEW_PASSWORD)
    page.click("main button[type=submit]")
    page.wait_for_url("**/accounts/2fa/totp/activate/")
    totp_secret = page.input_value("#authenticator_secret")
    page.fill("input[name=code]", totp_now(totp_secret))
    page.click("main form button[type=submit]")
    page.wait_for_load_state()

    # Recovery codes straight after enrolment, without asking for the password again.
    assert "/accounts/2fa/recovery-codes/" in page.url
    assert "xác minh địa chỉ email" not in page.inner_text("main")
    codes = page.input_value("#recovery_codes").split()
    assert len(codes) == 10 and all(re.fullmatch(r"[0-9a-f]{8}", code) for code in codes)
    page.click("text=Về trang chủ")
    page.wait_for_load_state()
    assert page.url == f"{base}/"
    body = page.inner_text("main")
    assert "Xin chào, Lê Văn Mới" in body
    assert "Trạm Y tế Thử nghiệm" in body
    # the office laptop's screen: the bar on one line, the language box showing its words
    page.set_viewport_size({"width": 1366, "height": 768})
    assert page.locator("nav.navbar").bounding_box()["height"] < 70
    assert page.locator("#language-select").bounding_box()["width"] > 100
