"""End to end in Chromium (the issue's scenario): a doctor signs in with TOTP, searches
"nguyen van", opens a book with a care relationship and its lab chart; opening one without a
relationship is refused; emergency access with a reason opens it, and the access shows in the
book's log and in the province's review queue (the officer of the facility's province)."""

import pytest

from accesslog.models import AccessLogEntry, EmergencyAccess
from tests.conftest import TRANSACTIONAL
from tests.facilities.test_browser import browser, sign_in  # noqa: F401 — the browser fixture
from tests.factories import province
from tests.healthbook.book import factories as df

pytestmark = [pytest.mark.browser, TRANSACTIONAL]


def test_doctor_search_chart_refusal_and_emergency(
    live_server,
    browser,  # noqa: F811 — the fixture imported above
    doctor_a,
    officer_hanoi,
    patient_a,
    facility_b,
):
    other = df.citizen(name="Nguyễn Văn Xa", province=province("79"))
    df.visit(other.book, facility_b, dx="J06")

    page = browser.new_context(locale="vi-VN").new_page()
    sign_in(page, live_server.url, doctor_a)
    page.get_by_role("link", name="Tìm công dân").click()
    page.fill("#id_q", "nguyen van")
    page.get_by_role("button", name="Tìm kiếm").click()
    results = page.locator("#search-results")
    assert "Nguyễn Văn Bệnh" in results.inner_text() and "Nguyễn Văn Xa" in results.inner_text()
    assert patient_a.personal_id not in page.content()

    results.locator("tr", has_text="Nguyễn Văn Bệnh").get_by_role("link", name="Mở sổ").click()
    page.wait_for_selector("#citizen-name")
    assert "Tăng huyết áp" in page.locator("#timeline").inner_text()
    page.get_by_role("link", name="Kết quả xét nghiệm").first.click()
    page.locator("#lab-indicators").get_by_role("link", name="Glucose máu").click()
    page.wait_for_selector("#lab-chart[data-ready='1']")
    assert page.locator("#lab-chart").get_attribute("data-points") == "3"

    # The search is a POST (no personal ID in a URL): search again rather than going back.
    page.get_by_role("link", name="Tìm công dân").click()
    page.fill("#id_q", "nguyen van")
    page.get_by_role("button", name="Tìm kiếm").click()
    page.wait_for_selector("#search-results")
    assert "nguyen" not in page.url
    page.locator("#search-results tr", has_text="Nguyễn Văn Xa").get_by_role("link", name="Mở sổ").click()
    page.wait_for_selector("#emergency-form")
    assert "Bạn không có mối quan hệ điều trị" in page.content() and "J06" not in page.content()

    page.select_option("#id_reason", "unconscious")
    page.get_by_role("button", name="Mở sổ khẩn cấp").click()
    page.wait_for_selector("#emergency-badge")
    assert "J06" in page.locator("#timeline").inner_text()
    assert "khẩn cấp" in page.locator("#viewers").inner_text()
    entries = AccessLogEntry.objects.filter(citizen_id=other.pk).order_by("seq")
    assert [(e.event, e.outcome, e.purpose) for e in entries] == [
        ("view", 4, ""),
        ("emergency_start", 0, "ETREAT"),
        ("view", 0, "ETREAT"),
    ]

    admin = browser.new_context(locale="vi-VN").new_page()
    sign_in(admin, live_server.url, officer_hanoi)
    admin.get_by_role("link", name="Duyệt truy cập khẩn cấp").click()
    grant = EmergencyAccess.objects.get(citizen=other)
    row = admin.locator(f"#grant-{grant.public_id}")
    assert "Nguyễn Văn Xa" in row.inner_text() and doctor_a.full_name in row.inner_text()
