"""Issue 18, words: the dashboards cite the official source of each population figure and target
(the National Assembly's resolutions, the Government, the statistics office), never a news site;
where the figures were technically taken from is an administrators-only technical note."""

import re

import pytest

from provinces.models import RolloutTarget
from tests.provinces.conftest import compute

pytestmark = pytest.mark.django_db

NEWS_SITES = ("vietnamnet", "sggp", "hanoitimes", "vietnam.vn", "ThienFakeVN", "Wikipedia")


def _note(html: str) -> str:
    return re.search(r'<p class="small text-muted" id="population-note">(.*?)</p>', html, re.S).group(1)


def test_seeded_rows_cite_official_sources_and_keep_the_provenance_apart():
    rows = list(RolloutTarget.objects.all())
    assert len(rows) == 2 * 34 + 2
    for row in rows:
        shown = f"{row.population_source} {row.target_source} {row.note}"
        assert not any(site in shown for site in NEWS_SITES), shown
        assert row.source_note
    national = RolloutTarget.objects.get(province=None, year=2030)
    assert "Cục Thống kê" in national.population_source and "Quốc hội" in national.target_source
    assert "vietnamnet.vn" in national.source_note
    hanoi = RolloutTarget.objects.get(province__code="01", year=2025)
    assert "Nghị quyết số 202/2025/QH15 của Quốc hội" in hanoi.population_source
    assert "ThienFakeVN" in hanoi.source_note and "sggp.org.vn" in hanoi.source_note


@pytest.mark.parametrize("who", ["officer_hanoi", "ministry_editor"])
def test_users_read_official_sources_without_the_technical_note(request, login, hanoi_network, who):
    compute()
    url = "/dashboards/province/01/" if who == "officer_hanoi" else "/dashboards/national/"
    html = login(request.getfixturevalue(who)).get(url).content.decode()
    note = _note(html)
    assert "Quốc hội" in note
    assert not any(site in html for site in NEWS_SITES)
    assert "data-technical-note" not in html


def test_the_administrator_sees_the_technical_note(login, ministry_admin, hanoi_network):
    compute()
    html = login(ministry_admin).get("/dashboards/national/").content.decode()
    assert not any(site in _note(html) for site in NEWS_SITES)
    details = re.search(r"<details[^>]*data-technical-note>(.*?)</details>", html, re.S).group(1)
    assert "vietnamnet.vn" in details and "sggp.org.vn" in details
