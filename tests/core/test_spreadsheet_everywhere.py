"""Issue 15, point 12: one formula neutraliser (core/spreadsheet.py), TAB and CR included, used by
every CSV/XLSX export."""

import csv
import io
import re
from pathlib import Path

import openpyxl
import pytest
from django.urls import reverse

from core.spreadsheet import neutralise_formula, unquote_formula
from facilities.models import Facility

ROOT = Path(__file__).resolve().parents[2]
APPS = ("accesslog", "accounts", "codelists", "core", "facilities", "geo", "healthbook", "provinces")
HOSTILE = ["\t=1+2", "\r=3+4", "=A1", "+1", "-x", "@SUM(A1)"]


def test_the_neutraliser_covers_tab_and_cr_and_round_trips():
    for value in HOSTILE:
        assert neutralise_formula(value) == "'" + value
        assert unquote_formula(neutralise_formula(value)) == value
    assert neutralise_formula("Bệnh viện") == "Bệnh viện" and neutralise_formula(12) == 12


def test_no_export_module_has_its_own_formula_rule():
    """A second copy of the rule is how the facility export came to miss TAB and CR."""
    own_rules = []
    for app in APPS:
        for path in (ROOT / app).rglob("*.py"):
            if "migrations" in path.parts or path.relative_to(ROOT).as_posix() == "core/spreadsheet.py":
                continue
            text = path.read_text(encoding="utf-8")
            if re.search(r"^(FORMULA_START\w*\s*=|def neutralise\w*\()", text, re.M):
                own_rules.append(path.relative_to(ROOT).as_posix())
    assert own_rules == []


@pytest.fixture
def tab_facility(facility_a):
    Facility.objects.filter(pk=facility_a.pk).update(name="\t=1+2", address="\r=3+4", contact_name="\t@SUM(A1)")
    return facility_a


@pytest.mark.django_db
def test_facility_export_neutralises_leading_tab_and_cr(login, ministry_admin, tab_facility, proof):
    row = proof.row("T15", "facility export (CSV, XLSX) with name/address/contact starting with TAB or CR")
    client = login(ministry_admin)
    body = client.get(reverse("facility-export"), {"format": "csv"}).content.decode("utf-8-sig")
    got = next(r for r in csv.DictReader(io.StringIO(body)) if r["code"] == tab_facility.code)
    cells = [got["name"], got["address"], got["contact_name"]]
    content = client.get(reverse("facility-export"), {"format": "xlsx"}).content
    rows = list(openpyxl.load_workbook(io.BytesIO(content)).active.iter_rows(values_only=True))
    header = rows[0]
    xrow = dict(zip(header, next(r for r in rows[1:] if r[0] == tab_facility.code), strict=True))
    cells += [xrow["name"], xrow["address"], xrow["contact_name"]]
    raw = [c for c in cells if not c.startswith("'")]
    row.set(times=len(cells), figure=f"{len(cells)} hostile cells exported, written raw: {len(raw)}")
    assert raw == []
