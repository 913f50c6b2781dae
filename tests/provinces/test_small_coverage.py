"""At rollout levels (coverage well under 1 %) the ranking and the map still tell provinces
apart (issue 16): the ranking sorts on the exact ratio and shows books per 10,000 people; the
map's colours are quantile classes with a legend."""

import json
import re

import pytest

from provinces import dashboards
from tests.provinces.conftest import citizen, compute, today

pytestmark = pytest.mark.django_db

# Books per province: Hà Nội (8.8 M people) has the smallest share of those with a book.
BOOKS = {"01": 1, "04": 3, "11": 2, "12": 1, "14": 1, "15": 1, "19": 1, "20": 1, "22": 1, "24": 1}


@pytest.fixture
def small_rollout(db):
    for code, n in BOOKS.items():
        for _ in range(n):
            citizen(code)
    compute()


def _national():
    return dashboards.national(start=today(), end=today())


def test_ranking_sorts_on_the_exact_ratio_not_the_rounded_one(small_rollout):
    data = _national()
    columns = [key for key, _ in data["ranking"].columns]
    rows = [dict(zip(columns, r, strict=True)) for r in data["ranking"].rows]
    assert {r["coverage"] for r in rows} == {0.0}  # rounded to 0.1 %, every province looks alike
    ranked = [r["code"] for r in rows]
    assert ranked[:2] == ["04", "11"]  # Cao Bằng 3 / 573,119 people; Điện Biên 2 / 673,091
    assert ranked.index("01") < ranked.index("25")  # Hà Nội (1 book) above every province without one
    assert ranked.index("01") > ranked.index("12")  # but below Lai Châu (1 book, 512,601 people)
    cao_bang = rows[0]
    assert cao_bang["per_10k"] == round(10_000 * 3 / 573_119, 2) == 0.05
    per_10k = [r["per_10k"] for r in rows]
    assert per_10k == sorted(per_10k, reverse=True)


def test_map_classes_tell_provinces_apart_below_one_percent(small_rollout):
    tiles = _national()["tiles"]
    assert all(t["coverage"] is not None and t["coverage"] < 1 for t in tiles.values())
    assert len({t["class"] for t in tiles.values()}) >= 3
    assert tiles["04"]["class"] > tiles["01"]["class"] > tiles["25"]["class"]


def test_legend_gives_each_class_its_range(small_rollout, login, ministry_admin):
    response = login(ministry_admin).get("/dashboards/national/")
    legend = response.context["legend"]
    assert [item["index"] for item in legend] == sorted(item["index"] for item in legend)
    assert sum(item["count"] for item in legend) == 34
    html = response.content.decode()
    assert "trên 10.000 dân" in html  # the legend's unit, in Vietnamese
    data = json.loads(re.search(r'id="province-map-data" type="application/json">(.*?)</script>', html, re.S)[1])
    assert data["values"]["04"]["class"] == max(item["index"] for item in legend)


def test_quantile_breaks_split_distinct_values_into_equal_groups():
    values = [float(v) for v in range(10)]
    breaks = dashboards.quantile_breaks(values)
    classes = [dashboards.quantile_class(v, breaks) for v in values]
    assert classes == [0, 0, 1, 1, 2, 2, 3, 3, 4, 4]
