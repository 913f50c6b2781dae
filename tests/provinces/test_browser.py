"""End to end in Chromium: a province officer sees only their province and downloads an XLSX
export; the ministry sees the national tile map."""

import io

import pytest
from openpyxl import load_workbook

from tests.conftest import TRANSACTIONAL
from tests.facilities.test_browser import browser, sign_in  # noqa: F401  (fixture and helper)
from tests.provinces.conftest import compute

pytestmark = [pytest.mark.browser, TRANSACTIONAL]


def test_officer_sees_own_province_and_downloads_xlsx(live_server, browser, officer_hanoi, hanoi_network):  # noqa: F811
    compute()
    page = browser.new_context(locale="vi-VN", accept_downloads=True).new_page()
    sign_in(page, live_server.url, officer_hanoi)
    page.get_by_role("link", name="Bảng điều khiển", exact=True).click()
    page.wait_for_load_state("networkidle")
    assert page.url.endswith("/dashboards/province/01/")
    assert page.locator("#province-name").inner_text() == officer_hanoi.province.name_vi
    silent = page.locator("#silent-table").inner_text()
    assert "Phòng khám Im Lặng" in silent
    assert "Trạm Y tế Phía Nam" not in page.content()  # HCMC's facility
    with page.expect_download() as info:
        page.locator('[data-export="completeness-xlsx"]').click()
    download = info.value
    assert download.suggested_filename.startswith("tinh-01-completeness-")
    sheet = load_workbook(io.BytesIO(open(download.path(), "rb").read())).active  # noqa: SIM115
    codes = {row[0] for row in sheet.iter_rows(min_row=2, values_only=True)}
    assert codes == {"01101", "01102"}
    response = page.goto(f"{live_server.url}/dashboards/province/79/")
    assert response.status == 404
    response = page.goto(f"{live_server.url}/dashboards/national/")
    assert response.status == 403


def test_ministry_sees_the_national_map(live_server, browser, ministry_admin, hanoi_network):  # noqa: F811
    compute()
    page = browser.new_context(locale="vi-VN").new_page()
    sign_in(page, live_server.url, ministry_admin)
    page.goto(f"{live_server.url}/dashboards/national/")
    page.wait_for_selector("#province-map svg")
    tiles = page.locator("#province-map svg a.province-tile")
    assert tiles.count() == 34
    hanoi = page.locator('#province-map a[data-code="01"]')
    assert "Hà Nội" in hanoi.get_attribute("aria-label")
    # Quantile classes: one legend item per class that has provinces (here books in two provinces).
    assert 1 <= page.locator("#map-legend li").count() <= 5
    assert page.locator("#chart-books").is_visible()
    hanoi.click()
    page.wait_for_load_state("networkidle")
    assert page.url.endswith("/dashboards/province/01/")


def test_a_browser_in_us_english_types_dates_dd_mm_yyyy(live_server, browser, officer_hanoi, hanoi_network):  # noqa: F811
    """Issue 18: the range boxes are text boxes read day first, whatever the browser's locale (a
    browser date picker would show mm/dd/yyyy to this browser); the page stays Vietnamese."""
    import datetime as dt

    from django.utils import timezone

    compute()
    page = browser.new_context(locale="en-US").new_page()
    sign_in(page, live_server.url, officer_hanoi)
    page.goto(f"{live_server.url}/dashboards/province/01/")
    assert page.evaluate("document.documentElement.lang") == "vi"
    start = page.locator("input[name=start]")
    assert start.get_attribute("type") == "text" and start.get_attribute("placeholder") == "dd/mm/yyyy"
    day = timezone.localdate() - dt.timedelta(days=40)  # a day of the month > 12 reads only one way
    day = day.replace(day=13) if day.day <= 12 else day
    start.fill(day.strftime("%d/%m/%Y"))
    page.locator("input[name=end]").fill(timezone.localdate().strftime("%d/%m/%Y"))
    with page.expect_navigation():
        page.get_by_role("button", name="Xem").click()
    assert f"Đang xem từ {day:%d/%m/%Y}" in page.content()
    assert page.locator("input[name=start]").input_value() == day.strftime("%d/%m/%Y")
