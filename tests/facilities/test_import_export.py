import csv
import io

import openpyxl
import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse

from facilities.importing import facility_import
from facilities.models import Facility, FacilityStatus, FacilityStatusChange

GOOD = (
    "code,name,province,commune,address,ownership,level,insurance_contract,contact_phone\n"
    "01101,Trạm Y tế phường Hoàn Kiếm,01,00070,Số 1,public,commune_station,1,0241234567\n"
    "01102,Phòng khám Nhập Hai,01,phường  ba đình,Số 2,Ngoài công lập,private_clinic,0,\n"
)
BAD = GOOD + (
    "01103,Thiếu tỉnh,,,,public,other,1,\n"
    "7910,Mã ngắn,79,,,public,other,1,\n"
    "01101,Trùng mã,01,,,public,other,x,\n"
    "01104,Sai sở hữu,01,,,bán công,other,1,\n"
)


def upload(content: bytes, name="f.csv"):
    handle = io.BytesIO(content)
    handle.name = name
    return handle


def test_good_file_imports_pending_with_history(db):
    """Registered, not approved: a second officer approves each (issue 15)."""
    report = facility_import(acting_user=None, content=GOOD.encode(), file_name="f.csv", dry_run=False)
    assert report.ok and (report.new, report.updated) == (2, 0)
    facility = Facility.objects.get(code="01102")
    assert facility.status == FacilityStatus.PENDING and facility.approved_at is None
    assert facility.ownership == "private" and facility.has_insurance_contract is False
    assert FacilityStatusChange.objects.filter(facility__code__in=["01101", "01102"]).count() == 2


def test_dry_run_changes_nothing(db):
    report = facility_import(acting_user=None, content=GOOD.encode(), file_name="f.csv", dry_run=True)
    assert report.ok and report.new == 2
    assert not Facility.objects.filter(code__in=["01101", "01102"]).exists()


def test_bad_import_changes_nothing_and_reports_each_line(facility_a):
    before = list(Facility.objects.values_list("code", "name", "status").order_by("code"))
    report = facility_import(acting_user=None, content=BAD.encode(), file_name="f.csv", dry_run=False)
    assert not report.ok
    assert {p.line for p in report.problems} == {4, 5, 6, 7}
    fields = {(p.line, p.field) for p in report.problems}
    assert (4, "province") in fields and (5, "code") in fields and (7, "ownership") in fields
    assert list(Facility.objects.values_list("code", "name", "status").order_by("code")) == before
    assert not FacilityStatusChange.objects.exists()


def test_update_keeps_status_and_changes_profile(officer_hanoi, pending_hanoi):
    content = f"code,name,province\n{pending_hanoi.code},Tên mới,01\n".encode()
    report = facility_import(acting_user=officer_hanoi, content=content, file_name="f.csv", dry_run=False)
    assert report.ok and report.updated == 1
    pending_hanoi.refresh_from_db()
    assert pending_hanoi.name == "Tên mới" and pending_hanoi.status == FacilityStatus.PENDING


def test_xlsx_with_numeric_code_imports(db):
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["code", "name", "province", "level"])
    sheet.append([1201, "Trạm Y tế số", "01", "Trạm y tế xã, phường"])
    buffer = io.BytesIO()
    book.save(buffer)
    report = facility_import(acting_user=None, content=buffer.getvalue(), file_name="f.xlsx", dry_run=False)
    assert report.ok, report.problems
    assert Facility.objects.get(code="01201").level == "commune_station"


@pytest.mark.parametrize(
    "content, name",
    [
        (b"", "f.csv"),
        (b"just,some\nother,columns\n", "f.csv"),
        (b"PK\x03\x04 broken zip", "f.xlsx"),
        (b"code,name,province\n", "f.pdf"),
    ],
)
def test_unreadable_files_are_refused_with_reason(db, content, name):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError) as exc:
        facility_import(acting_user=None, content=content, file_name=name, dry_run=True)
    assert exc.value.messages[0]


def test_windows_1258_csv_is_decoded_or_refused(db):
    content = "code,name,province\n01301,Bệnh viện Tiếng Việt,01\n".encode("utf-16")
    report = facility_import(acting_user=None, content=content, file_name="f.csv", dry_run=False)
    assert report.ok and Facility.objects.get(code="01301").name == "Bệnh viện Tiếng Việt"


def test_page_preview_then_confirm(login, officer_hanoi):
    client = login(officer_hanoi)
    response = client.post(reverse("facility-import"), {"file": upload(GOOD.encode())})
    assert response.status_code == 200 and response.context["report"].new == 2
    assert not Facility.objects.filter(code="01101").exists()
    stored = response.context["upload"]
    response = client.post(reverse("facility-import-confirm", args=[stored.public_id]))
    assert response.status_code == 302
    assert Facility.objects.filter(code__in=["01101", "01102"]).count() == 2
    assert client.post(reverse("facility-import-confirm", args=[stored.public_id])).status_code == 404


def test_page_bad_file_shows_row_errors(login, officer_hanoi):
    client = login(officer_hanoi)
    response = client.post(reverse("facility-import"), {"file": upload(BAD.encode())})
    body = response.content.decode()
    assert 'id="import-errors"' in body and response.context["upload"] is None
    assert not Facility.objects.filter(code="01101").exists()


def test_command_dry_run_and_import(db, tmp_path, capsys):
    path = tmp_path / "f.csv"
    path.write_text(GOOD, encoding="utf-8")
    call_command("import_facilities", str(path), "--dry-run")
    assert not Facility.objects.filter(code="01101").exists()
    call_command("import_facilities", str(path))
    assert Facility.objects.filter(code__in=["01101", "01102"]).count() == 2


def test_command_bad_file_exits_with_errors(db, tmp_path):
    path = tmp_path / "f.csv"
    path.write_text(BAD, encoding="utf-8")
    with pytest.raises(CommandError, match="nothing imported"):
        call_command("import_facilities", str(path))
    assert not Facility.objects.filter(code="01101").exists()


# --- export ----------------------------------------------------------------------------


@pytest.fixture
def formula_facility(facility_a):
    Facility.objects.filter(pk=facility_a.pk).update(
        name='=HYPERLINK("http://x")', address="+84 đường", contact_name="-1+1", contact_phone="@SUM(A1)"
    )
    return facility_a


def test_csv_export_neutralises_formulas(login, ministry_admin, formula_facility):
    client = login(ministry_admin)
    body = client.get(reverse("facility-export"), {"format": "csv"}).content.decode("utf-8-sig")
    row = next(r for r in csv.DictReader(io.StringIO(body)) if r["code"] == formula_facility.code)
    assert row["name"].startswith("'=") and row["address"].startswith("'+")
    assert row["contact_name"].startswith("'-") and row["contact_phone"].startswith("'@")


def test_xlsx_export_neutralises_formulas_and_keeps_code_text(login, ministry_admin, formula_facility):
    client = login(ministry_admin)
    content = client.get(reverse("facility-export"), {"format": "xlsx"}).content
    sheet = openpyxl.load_workbook(io.BytesIO(content)).active
    rows = list(sheet.iter_rows(values_only=True))
    header = rows[0]
    row = dict(zip(header, next(r for r in rows[1:] if r[0] == formula_facility.code), strict=True))
    assert row["name"].startswith("'=")
    assert all(not (isinstance(v, str) and v.startswith(("=", "+", "-", "@"))) for r in rows for v in r)


def test_export_follows_filters(login, ministry_admin, facility_a, facility_b):
    client = login(ministry_admin)
    body = client.get(reverse("facility-export"), {"format": "csv", "province": "79"}).content.decode("utf-8-sig")
    assert facility_b.code in body and facility_a.code not in body


def test_exported_file_imports_back_unchanged(login, ministry_admin, formula_facility):
    client = login(ministry_admin)
    body = client.get(reverse("facility-export"), {"format": "csv"}).content
    report = facility_import(acting_user=None, content=body, file_name="back.csv", dry_run=False)
    assert report.ok, report.problems
    formula_facility.refresh_from_db()
    assert formula_facility.name == '=HYPERLINK("http://x")'


def test_commune_column_is_a_commune_of_the_list(db):
    """Issue 16: the commune is chosen from the 3,321 communes (by code or exact name), never free text."""
    report = facility_import(acting_user=None, content=GOOD.encode(), file_name="f.csv", dry_run=False)
    assert report.ok
    first, second = Facility.objects.get(code="01101"), Facility.objects.get(code="01102")
    assert (first.commune_unit.code, first.commune) == ("00070", "Phường Hoàn Kiếm")
    assert (second.commune_unit.code, second.commune) == ("00004", "Phường Ba Đình")


def test_unknown_commune_is_refused_with_a_clear_message(db):
    bad = (
        GOOD.splitlines()[0]
        + "\n01105,Trạm lạ,01,Xã Không Có,,public,other,1,\n01106,Trạm khác,01,26743,,public,other,1,\n"
    )
    report = facility_import(acting_user=None, content=bad.encode(), file_name="f.csv", dry_run=True)
    assert not report.ok
    assert Facility.objects.filter(code__in=["01105", "01106"]).count() == 0
