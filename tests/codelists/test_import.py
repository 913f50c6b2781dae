"""CSV/XLSX import into a draft: preview first, row-level reasons, all-or-nothing apply.

Reasons are checked in Vietnamese, the language staff see (LANGUAGE_CODE is vi).
"""

import io
from datetime import date

import openpyxl
import pytest
from django.core.exceptions import ValidationError

from codelists import imports, services
from codelists.models import ImportJob

HEADER = "code,display_vi,display_en,parent_code,active,properties\n"


@pytest.fixture
def draft(labs, ministry_editor):
    return services.draft_start(
        system=labs.system, acting_user=ministry_editor, label="nháp", effective_from=date(2026, 1, 1)
    )


def _snapshot(version):
    return list(version.concepts.order_by("code").values_list("code", "display_vi", "active", "properties", "revision"))


def _preview(draft, user, text: str | bytes, name="list.csv"):
    content = text.encode("utf-8") if isinstance(text, str) else text
    return imports.import_preview(version=draft, acting_user=user, filename=name, content=content)


def test_preview_counts_new_changed_unchanged_and_changes_nothing(draft, ministry_editor):
    before = _snapshot(draft)
    job = _preview(
        draft,
        ministry_editor,
        HEADER
        + (
            'GLU,Glucose,,,1,"{""unit"": ""mmol/L"", ""ref_low"": 3.9, ""ref_high"": 6.4}"\n'
            'URE,Ure máu,,,1,"{""unit"": ""mmol/L""}"\n'
            'HBA1C,HbA1c,,,1,"{""unit"": ""%""}"\n'
        ),
    )
    assert job.status == ImportJob.Status.PREVIEWED
    assert {k: job.summary[k] for k in ("new", "changed", "unchanged", "invalid")} == {
        "new": 1,
        "changed": 1,
        "unchanged": 1,
        "invalid": 0,
    }
    assert job.summary["changes"]["URE"]["display_vi"] == ["Ure", "Ure máu"]
    assert _snapshot(draft) == before


def test_confirm_applies_the_file(draft, ministry_editor):
    job = _preview(draft, ministry_editor, HEADER + "URE,Ure máu,,,1,{}\nHBA1C,HbA1c,,GLU,1,{}\nCRE,Creatinin,,,0,{}\n")
    draft.refresh_from_db()
    imports.import_apply(job=job, acting_user=ministry_editor)
    rows = {c.code: c for c in draft.concepts.all()}
    assert rows["URE"].display_vi == "Ure máu" and rows["URE"].revision == 2
    assert rows["HBA1C"].parent_code == "GLU" and "hba1c" in rows["HBA1C"].search
    assert rows["CRE"].active is False
    assert rows["GLU"].display_vi == "Glucose"


@pytest.mark.parametrize(
    ("body", "row", "fragment"),
    [
        (HEADER + "GLU,Glucose,,,1,{}\nGLU,Glucose 2,,,1,{}\n", 3, "xuất hiện nhiều lần"),
        (HEADER + "ABCDEFGHIJK,Quá dài,,,1,{}\n", 2, "dài hơn 10"),
        (HEADER + "NEW,,,,1,{}\n", 2, "Tên tiếng Việt bị trống"),
        (HEADER + "NEW,Mới,,NOPE,1,{}\n", 2, "Mã cha NOPE"),
        (HEADER + "NEW,Mới,,,maybe,{}\n", 2, "1 hoặc 0"),
        (HEADER + "NEW,Mới,,,1,[1]\n", 2, "đối tượng JSON"),
    ],
)
def test_bad_rows_are_rejected_with_row_and_reason(draft, ministry_editor, body, row, fragment):
    before = _snapshot(draft)
    job = _preview(draft, ministry_editor, body)
    assert job.status == ImportJob.Status.REJECTED
    assert any(e["row"] == row and fragment in e["reason"] for e in job.errors), job.errors
    assert _snapshot(draft) == before
    with pytest.raises(ValidationError):
        imports.import_apply(job=job, acting_user=ministry_editor)
    assert _snapshot(draft) == before


def test_one_bad_row_blocks_the_whole_file(draft, ministry_editor):
    before = _snapshot(draft)
    job = _preview(draft, ministry_editor, HEADER + "URE,Ure máu,,,1,{}\nTOO-LONG-CODE,X,,,1,{}\n")
    assert job.summary["invalid"] == 1 and job.summary["changed"] == 1
    assert job.status == ImportJob.Status.REJECTED
    assert _snapshot(draft) == before


@pytest.mark.parametrize(
    ("content", "name", "fragment"),
    [
        ("mã,tên\nGLU,Glucose\n", "x.csv", "Sai cột"),
        ("code,display_vi,colour\nGLU,Glucose,red\n", "x.csv", "cột không hợp lệ: colour"),
        (
            "Mã,Tên bệnh\n".encode("cp1258", errors="replace") + "GLU,Glucôzơ\n".encode("cp1258"),
            "x.csv",
            "không được mã hóa UTF-8",
        ),
        (b"", "x.csv", "Tệp rỗng"),
        (b"PK\x03\x04 not really", "x.xlsx", "Excel"),
        ("code,display_vi\n", "x.csv", "không có dữ liệu"),
        ("hello", "x.txt", ".csv và .xlsx"),
    ],
)
def test_bad_files_are_rejected_whole(draft, ministry_editor, content, name, fragment):
    before = _snapshot(draft)
    job = _preview(draft, ministry_editor, content, name=name)
    assert job.status == ImportJob.Status.REJECTED
    assert fragment in job.errors[0]["reason"] and job.errors[0]["row"] is None
    assert _snapshot(draft) == before


def test_xlsx_import_and_export_round_trip(draft, ministry_editor):
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["code", "display_vi", "active"])
    sheet.append(["HBA1C", "HbA1c", 1])
    sheet.append([101, "Mã số", 1])
    buf = io.BytesIO()
    book.save(buf)
    job = _preview(draft, ministry_editor, buf.getvalue(), name="list.xlsx")
    assert job.status == ImportJob.Status.PREVIEWED, job.errors
    draft.refresh_from_db()
    imports.import_apply(job=job, acting_user=ministry_editor)
    assert draft.concepts.filter(code="101").exists()
    exported = imports.version_export(draft, "xlsx")
    sheet = openpyxl.load_workbook(io.BytesIO(exported)).active
    assert [c.value for c in sheet[1]] == ["code", "display_vi", "display_en", "parent_code", "active", "properties"]
    assert sheet.max_row == 1 + draft.concepts.count()


def test_draft_changed_after_preview_needs_a_new_preview(draft, ministry_editor):
    job = _preview(draft, ministry_editor, HEADER + "URE,Ure máu,,,1,{}\n")
    services.concept_add(
        version=draft, acting_user=ministry_editor, code="NEW", fields=services.ConceptFields(display_vi="Mới")
    )
    with pytest.raises(ValidationError, match="đã thay đổi sau khi xem trước"):
        imports.import_apply(job=job, acting_user=ministry_editor)


def test_import_pages_preview_then_confirm(client, login, draft, ministry_editor):
    c = login(ministry_editor)
    base = f"/codelists/lab-indicator/versions/{draft.pk}/import/"
    upload = io.BytesIO((HEADER + "URE,Ure máu,,,1,{}\n").encode())
    upload.name = "list.csv"
    r = c.post(base, {"file": upload})
    assert r.status_code == 302
    r = c.get(r["Location"])
    assert r.status_code == 200
    job = ImportJob.objects.get()
    r = c.post(f"{base}{job.public_id}/confirm/")
    assert r.status_code == 302
    assert draft.concepts.get(code="URE").display_vi == "Ure máu"


def test_export_of_a_published_version_as_csv(client, login, labs, ministry_editor):
    c = login(ministry_editor)
    r = c.get(f"/codelists/lab-indicator/versions/{labs.pk}/export.csv")
    assert r.status_code == 200
    lines = r.content.decode("utf-8").splitlines()
    assert lines[0] == "code,display_vi,display_en,parent_code,active,properties"
    assert len(lines) == 4
