import pytest

from tests.conftest import TRANSACTIONAL
from tests.e2e.browser import totp_now
from tests.factories import TEST_PASSWORD, FacilityFactory, doctor, province

pytestmark = [pytest.mark.browser, TRANSACTIONAL]


def test_doctor_logs_in_enrols_totp_and_sees_the_doctor_home_in_vietnamese(live_server, page):
    facility = FacilityFactory(code="01001", name="Bệnh viện Thử nghiệm A", province=province("01"))
    doctor(facility, username="bs.thu", full_name="Nguyễn Văn Thử")

    page.goto(f"{live_server.url}/accounts/login/")
    assert page.locator("html").get_attribute("lang") == "vi"
    page.fill("#id_login", "bs.thu")
    page.fill("#id_password", TEST_PASSWORD)
    page.click("main button[type=submit]")

    # No authenticator yet: the portal sends the doctor to TOTP enrolment before anything else.
    page.wait_for_url("**/accounts/2fa/totp/activate/")
    secret = page.input_value("#authenticator_secret")
    page.fill("input[name=code]", totp_now(secret))
    page.click("main form button[type=submit]")
    page.wait_for_load_state()

    page.goto(f"{live_server.url}/")
    assert page.url == f"{live_server.url}/"
    body = page.inner_text("main")
    assert "Xin chào, Nguyễn Văn Thử" in body
    assert "Tìm công dân" in body
    assert "Bệnh viện Thử nghiệm A" in body
