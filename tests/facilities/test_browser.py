"""End to end in Chromium: a province officer approves a pending facility; the facility
administrator creates an API key and sees it exactly once."""

import os
import re

import pytest
from allauth.mfa.utils import decrypt
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from facilities.credentials import api_key_authenticate
from facilities.models import FacilityStatus
from tests.conftest import TRANSACTIONAL, enrol_totp
from tests.e2e.browser import CHROMIUM, CHROMIUM_ARGS, totp_now
from tests.factories import TEST_PASSWORD

pytestmark = [pytest.mark.browser, TRANSACTIONAL]


@pytest.fixture
def browser():
    if not os.path.exists(CHROMIUM):
        pytest.fail(f"{CHROMIUM} is missing: install Debian's chromium (apt-get install -y chromium)")
    # Playwright's sync API runs an event loop in this thread; the ORM calls of the test
    # itself are still plain synchronous code.
    os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


def sign_in(page, base_url, user):
    secret = decrypt(enrol_totp(user).data["secret"])
    page.goto(f"{base_url}/accounts/login/")
    page.fill("#id_login", user.username)
    page.fill("#id_password", TEST_PASSWORD)
    page.click("main form button[type=submit]")
    page.wait_for_selector("input[name=code]")
    # The code of this 30-second window, computed only at the moment it is typed. A code typed in
    # the last instant of its window reaches the server in the next one and is refused (no
    # tolerance), as it would be for a person: then type the new window's code, as they would.
    for _ in range(3):
        page.fill("input[name=code]", totp_now(secret))
        page.locator("main form button[type=submit]").first.click()
        try:
            page.wait_for_url(lambda url: "/accounts/" not in url, timeout=15_000)
            break
        except PlaywrightTimeout:
            page.wait_for_selector("input[name=code]")
    assert "/accounts/" not in page.url, page.content()[:2000]


def test_officer_approves_and_facility_admin_sees_key_once(
    live_server, browser, officer_hanoi, pending_hanoi, facility_admin_a, approved_a
):
    officer_page = browser.new_context(locale="vi-VN").new_page()
    sign_in(officer_page, live_server.url, officer_hanoi)
    officer_page.goto(f"{live_server.url}/facilities/queue/")
    row = officer_page.locator(f"#queue-{pending_hanoi.code}")
    assert pending_hanoi.name in row.inner_text()
    row.get_by_role("link", name="Phê duyệt cơ sở").click()
    officer_page.fill("#id_reason", "Giấy phép hoạt động hợp lệ")
    officer_page.check("#id_confirm")
    officer_page.get_by_role("button", name="Phê duyệt cơ sở").click()
    officer_page.wait_for_load_state("networkidle")
    assert officer_page.locator(f"#queue-{pending_hanoi.code}").count() == 0
    pending_hanoi.refresh_from_db()
    assert pending_hanoi.status == FacilityStatus.APPROVED
    assert pending_hanoi.status_changes.first().actor == officer_hanoi

    admin_page = browser.new_context(locale="vi-VN").new_page()
    sign_in(admin_page, live_server.url, facility_admin_a)
    admin_page.get_by_role("link", name="Khóa API và chứng thư").click()
    admin_page.fill("#id_name", "Máy chủ HIS chính")
    admin_page.get_by_role("button", name="Tạo khóa").click()
    admin_page.wait_for_selector("#new-key-panel")
    key = admin_page.input_value("#new-key-value")
    assert re.fullmatch(r"sskdt_[0-9a-f]{12}_\S{43}", key)
    row = api_key_authenticate(key)
    assert row is not None and row.facility_id == approved_a.pk
    admin_page.goto(f"{live_server.url}/facilities/{approved_a.code}/credentials/")
    assert key not in admin_page.content()
    assert row.prefix in admin_page.locator("#api-key-table").inner_text()
