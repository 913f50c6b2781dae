"""What the dashboard pages show: tiles, the map data, the population note, the date range."""

import json
import re

import pytest

from tests.provinces.conftest import compute

pytestmark = pytest.mark.django_db


def test_national_page_has_map_of_34_tiles_and_legend(login, ministry_admin, hanoi_network):
    compute()
    html = login(ministry_admin).get("/dashboards/national/").content.decode()
    data = json.loads(
        re.search(r'<script id="province-map-data" type="application/json">(.*?)</script>', html, re.S).group(1)
    )
    assert len(data["layout"]["tiles"]) == 34
    assert set(data["values"]) == {t["code"] for t in data["layout"]["tiles"]}
    assert 'id="map-legend"' in html and "coverage-0" in html
    assert "js/province_map.js" in html and "chartjs-4.6.1/chart.umd.min.js" in html


def test_population_note_is_visible_with_its_source(login, ministry_admin, hanoi_network):
    compute()
    html = login(ministry_admin).get("/dashboards/national/").content.decode()
    assert 'id="population-note"' in html
    assert "113,6" in html or "113.6" in html


def test_people_using_is_shown_against_the_target(login, officer_hanoi, hanoi_network):
    from tests.provinces.conftest import citizen, encounter, today

    encounter(citizen("01"), hanoi_network["busy"], today())
    compute()
    response = login(officer_hanoi).get("/dashboards/province/01/")
    assert response.context["data"]["kpis"]["users"] == 1
    assert 'data-kpi="users">1<' in response.content.decode()


def test_invalid_range_shows_an_error_and_the_default_range(login, ministry_admin, hanoi_network):
    compute()
    response = login(ministry_admin).get("/dashboards/national/?start=31/12/2026&end=01/01/2026")
    assert response.status_code == 200
    assert 'aria-invalid="true"' in response.content.decode()
    assert response.context["data"]["as_of"] is not None


def test_page_without_rollups_says_so(login, ministry_admin):
    html = login(ministry_admin).get("/dashboards/national/").content.decode()
    assert "alert-warning" in html


def test_officer_page_shows_only_their_province(login, officer_hanoi, hanoi_network):
    compute()
    html = login(officer_hanoi).get("/dashboards/province/01/").content.decode()
    assert "Phòng khám Im Lặng" in html  # the silent facility of Hà Nội
    assert "Trạm Y tế Phía Nam" not in html  # HCMC's facility


def test_home_pages_link_to_the_dashboards(login, officer_hanoi, ministry_admin):
    assert "/dashboards/province/01/" in login(officer_hanoi).get("/").content.decode()
    assert "/dashboards/national/" in login(ministry_admin).get("/").content.decode()
