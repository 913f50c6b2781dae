"""Lab results read the same on every book page (issue 18, point 3): one number format per
language, one-sided ranges with a sign, flags in words, names not codes, a reference band on
the chart, and a printout with a header and without the viewers panel."""

import datetime as dt
import json
import re
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone, translation

from healthbook.book import selectors
from healthbook.models import Encounter, LabObservation
from healthbook.models.lab_ranges import parse_range, range_text
from healthbook.templatetags.clinical import lab_flag, ref_range
from tests.healthbook.book import factories as df

pytestmark = pytest.mark.django_db


def url(name, citizen, **kw):
    return reverse(name, kwargs={"public_id": citizen.book.public_id, **kw})


@pytest.mark.parametrize(
    "text, expected",
    [
        ("–37", (None, Decimal(37))),
        ("≤ 37", (None, Decimal(37))),
        ("<37", (None, Decimal(37))),
        ("4–", (Decimal(4), None)),
        (">= 4", (Decimal(4), None)),
        ("3.9-6.4", (Decimal("3.9"), Decimal("6.4"))),
        ("3,5 – 5,0", (Decimal("3.5"), Decimal("5.0"))),
        ("âm tính", None),
        ("", None),
    ],
)
def test_reference_ranges_are_read_as_numbers(text, expected):
    assert parse_range(text) == expected


def test_intake_writes_one_sided_ranges_with_a_sign():
    assert range_text(None, Decimal("37")) == "≤ 37"
    assert range_text(Decimal("4.0"), None) == "≥ 4"
    assert range_text(Decimal("3.90"), Decimal("100")) == "3.9–100"
    assert range_text(None, None) == ""


def test_ranges_and_flags_read_in_each_language():
    with translation.override("vi"):
        assert ref_range("–37") == "≤ 37" and ref_range("4–") == "≥ 4"
        assert ref_range("3.9-6.4") == "3,9 – 6,4"
        assert ref_range("âm tính") == "âm tính"
        assert ">cao<" in lab_flag("H") and ">thấp<" in lab_flag("L") and ">bất thường<" in lab_flag("A")
    with translation.override("en"):
        assert ref_range("3.9-6.4") == "3.9 – 6.4"
        assert ">high<" in lab_flag("H")


def _one_sided_lab(patient):
    e = Encounter.objects.get(book=patient.book)
    return LabObservation.objects.create(
        book=patient.book,
        facility=e.facility,
        submission=e.submission,
        encounter=e,
        occurred_at=e.occurred_at,
        source_key="ast",
        indicator_code="AST",
        indicator_name="AST (GOT)",
        value="1234.5",
        value_number=Decimal("1234.5"),
        unit="U/L",
        reference_range="–37",
        abnormal_flag="H",
    )


def test_visit_page_uses_the_one_number_format_range_signs_and_flag_words(login, doctor_a, patient_a):
    _one_sided_lab(patient_a)
    visit = Encounter.objects.get(book=patient_a.book)
    body = login(doctor_a).get(url("book-visit", patient_a, visit_id=visit.pk)).content.decode()
    labs = body.split('id="visit-labs"')[1].split("</table>")[0]
    assert "1.234,5" in labs and "≤ 37" in labs and "–37" not in labs
    assert "5,5" in labs and "3,9 – 6,4" in labs  # the Glucose rows: decimal comma
    assert ">cao<" in labs and ">H<" not in labs


def test_english_pages_write_numbers_the_english_way(login, doctor_a, patient_a):
    _one_sided_lab(patient_a)
    client = login(doctor_a)
    client.post(reverse("language-set"), {"language": "en", "next": "/"})
    visit = Encounter.objects.get(book=patient_a.book)
    labs = client.get(url("book-visit", patient_a, visit_id=visit.pk)).content.decode().split('id="visit-labs"')[1]
    assert "1,234.5" in labs and "3.9 – 6.4" in labs and ">high<" in labs


def test_lab_list_and_chart_show_names_flags_in_words_and_a_band(login, doctor_a, patient_a):
    client = login(doctor_a)
    labs = client.get(url("book-labs", patient_a)).content.decode()
    row = labs.split('id="lab-indicators"')[1].split("</table>")[0]
    assert "Glucose máu" in row and not re.search(r">\s*GLU\s*<", row)  # the name, not the code beside it
    body = client.get(url("book-lab-chart", patient_a) + "?code=GLU").content.decode()
    title = body.split('id="lab-title"')[1].split("</h2>")[0]
    assert "Glucose máu" in title and "GLU" not in title and "3,9 – 6,4" in title
    table = body.split('id="lab-table"')[1].split("</table>")[0]
    assert ">cao<" in table and "<td>H</td>" not in table
    data = json.loads(json.loads(body.split('id="lab-chart-data" type="application/json">')[1].split("</script>")[0]))
    assert data["band"] == [3.9, 6.4] and data["band_label"] == "Khoảng tham chiếu"
    assert {p["flag_label"] for p in data["points"] if p["flag"]} == {"cao"}


def test_chart_band_of_a_one_sided_range_is_open_below(doctor_a, patient_a):
    _one_sided_lab(patient_a)

    class Access:
        book = patient_a.book

    assert selectors.lab_series(Access, "AST")["band"] == [None, 37.0]


def test_printout_has_a_header_and_no_viewers_panel_or_navigation(login, doctor_a, patient_a):
    body = login(doctor_a).get(url("book-detail", patient_a) + "?print=1").content.decode()
    header = body.split('id="print-header"')[1].split("</header>")[0]
    assert doctor_a.facility.name in header and "Người in" in header and doctor_a.display_name in header
    now = timezone.localtime()
    assert now.strftime("%d/%m/%Y") in header and "giờ Việt Nam" in header
    assert re.search(r'<aside class="[^"]*\bno-print\b[^"]*"[^>]*id="viewers-panel"', body)
    css = df.__file__.split("/tests/")[0] + "/static/css/portal.css"
    with open(css, encoding="utf-8") as handle:
        rules = handle.read().split("@media print")[1]
    assert "nav.navbar" in rules and ".no-print" in rules


def test_timeline_dates_are_typed_dd_mm_yyyy_from_a_browser_in_english(login, doctor_a, patient_a, facility_b):
    old = timezone.now() - dt.timedelta(days=400)
    df.visit(patient_a.book, facility_b, dx="J06", when=old)
    client = login(doctor_a)
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en-US,en;q=0.9"
    page = client.get(url("book-timeline", patient_a)).content.decode()
    box = page.split('id="id_date_from"')[0].rsplit("<input", 1)[1] + page.split('id="id_date_from"')[1].split(">")[0]
    assert 'type="text"' in box and 'placeholder="dd/mm/yyyy"' in box and 'type="date"' not in page
    since = (timezone.localdate() - dt.timedelta(days=100)).strftime("%d/%m/%Y")
    recent = client.get(url("book-timeline", patient_a), {"date_from": since}, HTTP_HX_REQUEST="true").content
    assert b"J06" not in recent and b"kind-lab" in recent
    day = timezone.localtime(old).strftime("%d/%m/%Y")
    that_day = client.get(
        url("book-timeline", patient_a), {"date_from": day, "date_to": day}, HTTP_HX_REQUEST="true"
    ).content
    assert b"J06" in that_day


def test_a_date_typed_wrongly_gets_a_vietnamese_message(login, doctor_a, patient_a):
    page = login(doctor_a).get(url("book-timeline", patient_a), {"date_from": "12/31/2025"}).content.decode()
    assert "is-invalid" in page and "Nhập ngày theo dạng dd/mm/yyyy" in page
