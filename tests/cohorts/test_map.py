"""The commune map of a cohort's page (issue 20, point 2): every commune of the province drawn
from the vendored centres, shaded by the communes table's own (suppressed) values: "< 5" and "×"
communes hatched, never shaded by their count, and no count the table hides appears in the map."""

import re

import pytest

from cohorts.maps import _breaks, _shade
from cohorts.services import memberships_compute
from geo.models import Commune, Province
from geo.selectors import commune_point
from tests.cohorts.conftest import days_ago, facility, person, visit
from tests.conftest import TRANSACTIONAL
from tests.facilities.test_browser import browser, sign_in  # noqa: F401  (fixture and helper)

pytestmark = pytest.mark.django_db

KEY = "chronic-not-seen-12-months"


def discs(html: str) -> dict[str, tuple[str, str]]:
    """commune code -> (shade, title) of the map's discs."""
    svg = html.split('id="communes-map"')[1].split("</svg>")[0]
    return {
        code: (shade, title)
        for code, shade, title in re.findall(
            r'<circle data-commune="(\d+)" data-shade="([\w-]+)"[^>]*><title>([^<]*)</title>', svg
        )
    }


def test_every_commune_of_the_country_has_a_centre():
    """The vendored points cover the 3,321 communes of the list in force (by name, else code)."""
    codes = dict(Province.objects.values_list("pk", "code"))
    missing = [
        code
        for code, name, pid in Commune.objects.values_list("code", "name_vi", "province_id")
        if commune_point(codes[pid], code, name) is None
    ]
    assert Commune.objects.count() == 3321
    assert missing == []


def test_the_map_draws_the_tables_suppressed_values(login, officer_hanoi, icd10):
    a, b, c = facility("01101", "01"), facility("01102", "01"), facility("01103", "01")
    for _ in range(3):
        visit(person("01", commune="00004"), a, days_ago(400), "I10")  # 3: "< 5"
    for _ in range(12):
        visit(person("01", commune="00070"), b, days_ago(500), "E11")  # 12: hidden "×" (else 15 - 12 = 3)
    for _ in range(40):
        visit(person("01", commune="00008"), c, days_ago(450), "I10")  # 40: shown
    memberships_compute(provinces=["01"])
    page = login(officer_hanoi).get(f"/cohorts/province/01/{KEY}/").content.decode()
    drawn = discs(page)
    assert len(drawn) == Commune.objects.filter(province__code="01").count()  # 126 communes of Hà Nội
    assert drawn["00004"][0] == "small" and drawn["00004"][1].endswith(": &lt; 5")
    assert drawn["00070"][0] == "hidden" and drawn["00070"][1].endswith(": ×")
    assert drawn["00008"][0].startswith("coverage-") and drawn["00008"][1].endswith(": 40")
    assert {shade for code, (shade, _t) in drawn.items() if code not in ("00004", "00070", "00008")} == {
        "coverage-none"
    }
    svg = page.split('id="communes-map"')[1].split("</svg>")[0]
    assert ": 3<" not in svg and ": 12<" not in svg  # what the table hides, the map hides
    assert 'fill="url(#hatch-small)"' in svg and 'fill="url(#hatch-hidden)"' in svg
    legend = page.split('id="map-legend"')[1].split("</ul>")[0]
    assert "&lt; 5" in legend and "×" in legend and "Không có người nào" in legend


def test_classes_are_log_spaced_and_suppressed_cells_are_never_classed():
    assert _breaks([]) == []
    assert _breaks([5, 6]) == [5]
    edges = _breaks([5, 40, 300, 2000])
    assert edges[0] == 5 and edges == sorted(set(edges)) and len(edges) <= 4
    assert _shade("< 5", edges) == "small" and _shade("×", edges) == "hidden" and _shade(0, edges) == "coverage-none"
    assert _shade(2000, edges) == f"coverage-{len(edges)}" and _shade(5, edges) == "coverage-1"


@pytest.mark.browser
@TRANSACTIONAL
def test_the_map_fits_a_phone_in_chromium(live_server, browser, officer_hanoi, icd10):  # noqa: F811
    """At 390 px (a phone) the cohort page with its map has no sideways scrolling, and the map is
    drawn within the screen."""
    a = facility("01101", "01")
    for _ in range(6):
        visit(person("01", commune="00004"), a, days_ago(400), "I10")
    memberships_compute(provinces=["01"])
    context = browser.new_context(locale="vi-VN", viewport={"width": 390, "height": 844})
    page = context.new_page()
    sign_in(page, live_server.url, officer_hanoi)
    page.goto(f"{live_server.url}/cohorts/province/01/{KEY}/")
    assert page.locator("#communes-map").is_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    box = page.locator("#communes-map").bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= 390
    assert page.locator("#communes-map circle").count() == Commune.objects.filter(province__code="01").count()
    context.close()
