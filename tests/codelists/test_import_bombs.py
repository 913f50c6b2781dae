"""Issue 15, attack 14: code-list XLSX imports get the card imports' zip-bomb checks (one
inspector, core.spreadsheet): every bomb is refused with a reason before openpyxl opens it."""

import io
import zipfile
from datetime import date

import openpyxl
import pytest

from codelists import imports, services
from codelists.models import ImportJob

MB = 1024 * 1024
HEADER = ["code", "display_vi", "display_en", "parent_code", "active", "properties"]
MAIN = b'<?xml version="1.0"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'


@pytest.fixture
def draft(labs, ministry_editor):
    return services.draft_start(
        system=labs.system, acting_user=ministry_editor, label="nháp", effective_from=date(2026, 1, 1)
    )


def _workbook(sheet_xml: bytes | None = None, shared_strings: bytes | None = None) -> bytes:
    wb = openpyxl.Workbook()
    wb.active.append(HEADER)
    wb.active.append(["NEW", "Mới", "", "", "1", "{}"])
    base = io.BytesIO()
    wb.save(base)
    out = io.BytesIO()
    with zipfile.ZipFile(base) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            data = src.read(info.filename)
            if info.filename == "xl/worksheets/sheet1.xml" and sheet_xml is not None:
                data = sheet_xml
            dst.writestr(info.filename, data)
        if shared_strings is not None:
            dst.writestr("xl/sharedStrings.xml", shared_strings)
    return out.getvalue()


def _bombs() -> dict[str, bytes]:
    spaces = io.BytesIO()
    with zipfile.ZipFile(spaces, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("[Content_Types].xml", "<Types/>")
        zf.writestr("xl/worksheets/sheet1.xml", b"<a>" + b" " * (100 * MB) + b"</a>")
    parts = io.BytesIO()
    with zipfile.ZipFile(parts, "w", zipfile.ZIP_STORED) as zf:
        for i in range(10_001):
            zf.writestr(f"x/{i}", b"")
    strings = b"<sst>" + b"<si><t>7</t></si>" * (3 * MB) + b"</sst>"
    rows = b"".join(b'<row r="%d"/>' % i for i in range(1, 300_001))
    unsized = MAIN + b"<sheetData>" + rows + b"</sheetData></worksheet>"
    return {
        "100 MB of spaces zipped": spaces.getvalue(),
        "10 001 zip parts": parts.getvalue(),
        "shared-strings bomb": _workbook(MAIN + b"<sheetData/></worksheet>", strings),
        "300 000 empty rows, no dimension": _workbook(unsized),
    }


def test_xlsx_bombs_are_refused_before_openpyxl_opens_them(draft, ministry_editor, settings, monkeypatch, proof):
    row = proof.row("T14", "Code-list XLSX bombs (ratio, parts, shared strings, unsized sheet) through the import")
    # the card limits, scaled to the 20 MB code-list files so the test stays small
    settings.CARD_IMPORT_XLSX_MAX_SHARED_STRINGS = 32 * MB
    settings.CARD_IMPORT_XLSX_MAX_UNSIZED_SHEET = 1 * MB
    settings.CARD_IMPORT_XLSX_MAX_UNSIZED_ROWS = 100_000
    opened = []
    real = openpyxl.load_workbook
    monkeypatch.setattr(openpyxl, "load_workbook", lambda *a, **k: opened.append(1) or real(*a, **k))
    monkeypatch.setattr(openpyxl.reader.excel, "load_workbook", openpyxl.load_workbook)
    outcomes = {}
    for what, content in _bombs().items():
        before = len(opened)
        job = imports.import_preview(version=draft, acting_user=ministry_editor, filename="x.xlsx", content=content)
        outcomes[what] = (job.status, len(opened) - before, job.errors[0]["reason"] if job.errors else "")
    control = imports.import_preview(version=draft, acting_user=ministry_editor, filename="x.xlsx", content=_workbook())
    refused = [w for w, (status, n, reason) in outcomes.items() if status == ImportJob.Status.REJECTED and not n]
    row.set(
        times=len(outcomes) + 1,
        figure=f"{len(outcomes)} bombs: {len(refused)} refused before parsing; a plain workbook {control.status}",
    )
    assert refused == list(outcomes), outcomes
    assert all(reason for _s, _n, reason in outcomes.values())
    assert control.status == ImportJob.Status.PREVIEWED
