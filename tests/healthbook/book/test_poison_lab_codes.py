"""Issue 15, attack 14: lab codes sent by a facility are data, not URL parts. A code with `/`,
`?`, `#`, `%`, spaces, dots or a line break must leave the labs and visit pages working, and
every chart link on them must open the chart of exactly that code."""

import html
import re
from decimal import Decimal

import pytest
from django.urls import reverse

from healthbook.models import Encounter, LabObservation

pytestmark = pytest.mark.django_db

HOSTILE_CODES = ["A/B", "/GLU", "GLU/", "..", "../x", "50%", "K?x=1", "HB#1", "a b", "x\ny", "Ứ/ĐỘ", "a//b"]
_CHART_LINK = re.compile(r'href="([^"]*/labs/chart/[^"]*)"')


def test_lab_codes_with_url_characters_never_break_a_page(login, doctor_a, patient_a, proof):
    row = proof.row("T14", "Lab codes with / ? # % .. space newline on the labs, visit and chart pages")
    visit = Encounter.objects.get(book=patient_a.book)
    common = {"book": visit.book, "facility": visit.facility, "submission": visit.submission, "encounter": visit}
    for i, code in enumerate(HOSTILE_CODES):
        LabObservation.objects.create(
            **common,
            occurred_at=visit.occurred_at,
            source_key=f"poison-{i}",
            indicator_code=code,
            indicator_name=f"Chỉ số {i}",
            value=str(i),
            value_number=Decimal(i),
            unit="u",
        )
    client = login(doctor_a)
    pages = [
        reverse("book-labs", kwargs={"public_id": patient_a.book.public_id}),
        reverse("book-visit", kwargs={"public_id": patient_a.book.public_id, "visit_id": visit.pk}),
    ]
    errors, charts, wrong = 0, 0, []
    for page in pages:
        response = client.get(page)
        errors += response.status_code != 200
        links = {html.unescape(h) for h in _CHART_LINK.findall(response.content.decode())}
        for link in links:
            chart = client.get(link)
            charts += 1
            errors += chart.status_code != 200
            shown = chart.context["series"]["code"] if chart.status_code == 200 else None
            if shown not in HOSTILE_CODES + ["GLU"]:
                wrong.append((link, shown))
    opened = {
        code
        for code in HOSTILE_CODES
        if client.get(
            reverse("book-lab-chart", kwargs={"public_id": patient_a.book.public_id}), {"code": code}
        ).context["series"]["code"]
        == code
    }
    row.set(
        times=len(pages) + charts + len(HOSTILE_CODES),
        figure=f"{len(HOSTILE_CODES)} hostile lab codes: {errors} error pages, {charts} chart links followed, "
        f"{len(wrong)} opened another code, {len(opened)} of {len(HOSTILE_CODES)} charts opened by code",
    )
    assert errors == 0 and not wrong and charts >= 2 * (len(HOSTILE_CODES) + 1) - 1
    assert opened == set(HOSTILE_CODES)


def test_a_nul_or_missing_code_in_the_chart_query_is_a_404_not_an_error(login, doctor_a, patient_a):
    chart = reverse("book-lab-chart", kwargs={"public_id": patient_a.book.public_id})
    client = login(doctor_a)
    assert client.get(chart).status_code == 404
    assert client.get(chart + "?code=%00").status_code == 404
    assert client.get(chart + "?code=GLU%00").status_code == 404
    assert client.get(chart, {"code": "GLU"}).status_code == 200
