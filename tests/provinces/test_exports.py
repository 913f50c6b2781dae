"""Exports: the same rows as the page, numbers as numbers, formulas neutralised."""

import csv
import io

import pytest
from openpyxl import load_workbook

from core.spreadsheet import neutralise_formula as neutralise
from provinces.exports import xlsx_bytes
from provinces.tables import Table
from tests.provinces.conftest import compute, facility, health, today

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("text", ["=1+1", "+SUM(A1)", "-2+3", "@cmd", "\t=1", "\r=1"])
def test_formula_starts_get_an_apostrophe(text):
    assert neutralise(text) == "'" + text


def test_plain_text_is_unchanged():
    assert neutralise("Bệnh viện A") == "Bệnh viện A"


@pytest.fixture
def hostile_facility(db):
    fac = facility("01401", "01", name='=HYPERLINK("http://evil.invalid","x")')
    health(fac, today(), received=3)
    compute()
    return fac


def test_csv_export_neutralises_formulas(login, officer_hanoi, hostile_facility):
    response = login(officer_hanoi).get("/dashboards/province/01/export/completeness.csv")
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment;" in response["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    names = [row[1] for row in rows[1:]]
    assert '\'=HYPERLINK("http://evil.invalid","x")' in names
    assert not any(cell.startswith("=") for row in rows for cell in row)


def test_xlsx_export_has_no_formula_cells(login, officer_hanoi, hostile_facility):
    response = login(officer_hanoi).get("/dashboards/province/01/export/completeness.xlsx")
    sheet = load_workbook(io.BytesIO(response.content)).active
    values = [cell.value for row in sheet.iter_rows() for cell in row]
    assert '\'=HYPERLINK("http://evil.invalid","x")' in values
    assert all(cell.data_type != "f" for row in sheet.iter_rows() for cell in row)


def test_xlsx_keeps_numbers_and_dates_typed():
    import datetime as dt

    table = Table("t", "T", [("a", "A"), ("b", "B"), ("c", "C")], [[dt.date(2025, 7, 1), 12, 3.5]])
    sheet = load_workbook(io.BytesIO(xlsx_bytes(table))).active
    a, b, c = (cell.value for cell in sheet[2])
    assert a.date() == dt.date(2025, 7, 1) and sheet["A2"].number_format == "DD/MM/YYYY"
    assert (b, c) == (12, 3.5)


def test_csv_dates_are_dd_mm_yyyy(login, ministry_admin, hostile_facility):
    response = login(ministry_admin).get("/dashboards/national/export/trend.csv")
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows[-1][0] == today().strftime("%d/%m/%Y")


def test_export_follows_the_date_range(login, ministry_admin, hostile_facility):
    day = today().strftime("%d/%m/%Y")
    response = login(ministry_admin).get(f"/dashboards/national/export/trend.csv?start={day}&end={day}")
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert len(rows) == 2


def test_every_province_table_shown_is_exportable(login, officer_hanoi, hostile_facility):
    client = login(officer_hanoi)
    page = client.get("/dashboards/province/01/").content.decode()
    import re

    shown = set(re.findall(r'data-export="([a-z_]+)-xlsx"', page))
    assert shown == {"kpis", "facilities", "completeness", "silent", "connectivity", "pending", "rejections", "trend"}
    for key in shown:
        assert client.get(f"/dashboards/province/01/export/{key}.xlsx").status_code == 200
