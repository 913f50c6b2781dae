"""Who reaches which dashboard and export: ministry everywhere, an officer only their own
province (another province is a 404), everyone else 403, anonymous to the login page."""

import pytest

from provinces.views import NATIONAL_TABLES, PROVINCE_TABLES

pytestmark = pytest.mark.django_db

NATIONAL_URLS = ["/dashboards/national/"] + [
    f"/dashboards/national/export/{t}.{fmt}" for t in NATIONAL_TABLES for fmt in ("csv", "xlsx")
]


def province_urls(code: str) -> list[str]:
    return [f"/dashboards/province/{code}/"] + [
        f"/dashboards/province/{code}/export/{t}.{fmt}" for t in PROVINCE_TABLES for fmt in ("csv", "xlsx")
    ]


@pytest.mark.parametrize("url", NATIONAL_URLS + province_urls("01") + ["/dashboards/"])
def test_anonymous_is_sent_to_login(client, url):
    response = client.get(url)
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


@pytest.mark.parametrize("url", NATIONAL_URLS + province_urls("01") + province_urls("79"))
def test_ministry_sees_every_dashboard_and_export(login, ministry_admin, ministry_editor, url):
    for user in (ministry_admin, ministry_editor):
        assert login(user).get(url).status_code == 200


@pytest.mark.parametrize("url", province_urls("01"))
def test_officer_sees_own_province(login, officer_hanoi, url):
    assert login(officer_hanoi).get(url).status_code == 200


@pytest.mark.parametrize("url", province_urls("79") + ["/dashboards/province/99/"])
def test_officer_gets_404_for_another_province(login, officer_hanoi, url):
    assert login(officer_hanoi).get(url).status_code == 404


@pytest.mark.parametrize("url", NATIONAL_URLS)
def test_officer_gets_403_on_national(login, officer_hanoi, url):
    assert login(officer_hanoi).get(url).status_code == 403


@pytest.mark.parametrize("url", NATIONAL_URLS + province_urls("01") + ["/dashboards/"])
def test_facility_staff_and_outsiders_get_403(login, doctor_a, facility_admin_a, outsider, url):
    for user in (doctor_a, facility_admin_a, outsider):
        assert login(user).get(url).status_code == 403


def test_dashboard_entry_redirects_by_role(login, officer_hanoi, ministry_admin, client):
    assert login(officer_hanoi).get("/dashboards/")["Location"] == "/dashboards/province/01/"
    assert login(ministry_admin).get("/dashboards/")["Location"] == "/dashboards/national/"


@pytest.mark.parametrize(
    "url",
    [
        "/dashboards/national/export/nope.csv",
        "/dashboards/national/export/ranking.pdf",
        "/dashboards/province/01/export/ranking.csv",
    ],
)
def test_unknown_export_is_404(login, ministry_admin, url):
    assert login(ministry_admin).get(url).status_code == 404


def test_navigation_shows_dashboards_to_officers_and_ministry(login, officer_hanoi, doctor_a):
    assert 'href="/dashboards/"' in login(officer_hanoi).get("/").content.decode()


def test_navigation_hides_dashboards_from_doctors(login, doctor_a):
    assert 'href="/dashboards/"' not in login(doctor_a).get("/").content.decode()
