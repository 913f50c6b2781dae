"""Proof rows S17–S19: oversized uploads, every encoding case, XLSX bombs (card imports).

S17 goes through the upload page and the API with the real middleware and upload handlers;
S18 through the import service (the same code the worker runs); S19 in a child process with
an address-space cap (RLIMIT_AS), the way a worker would meet the file.
"""

from __future__ import annotations

import codecs
import io
import itertools
import json
import os
import subprocess
import sys
import tracemalloc
import unicodedata
import zipfile
from pathlib import Path

import openpyxl
import pytest
from django.urls import reverse

from healthbook.cards.files import FileRefused
from healthbook.models import CardBatch, Citizen
from tests.healthbook.conftest import HEADER, card_csv, person, to_cp1258

ROOT = Path(__file__).resolve().parents[3]
MB = 1024 * 1024

pytestmark = pytest.mark.django_db


def _du(*dirs: Path) -> int:
    return sum(p.stat().st_size for d in dirs if d.exists() for p in d.rglob("*") if p.is_file())


def _named(data: bytes, name: str) -> io.BytesIO:
    f = io.BytesIO(data)
    f.name = name
    return f


# --- S17 ------------------------------------------------------------------------------------


def test_s17_oversized_uploads_are_refused_before_anything_is_kept(
    proof, login, ministry_admin, card_codelists, settings, tmp_path
):
    row = proof.row(
        "S17",
        "card upload page and API: body over the request limit, file over the import limit, 10 000 form "
        "fields, 200 files (limits lowered to 2 MB / 1 MB for the run)",
    )
    spool, media = tmp_path / "upload-tmp", tmp_path / "media"
    spool.mkdir()
    settings.FILE_UPLOAD_TEMP_DIR, settings.MEDIA_ROOT = str(spool), str(media)
    settings.FILE_UPLOAD_MAX_MEMORY_SIZE = 64 * 1024  # anything bigger is spooled to FILE_UPLOAD_TEMP_DIR
    settings.SSKDT_MAX_REQUEST_BYTES, settings.CARD_IMPORT_MAX_BYTES = 2 * MB, 1 * MB
    client = login(ministry_admin)
    big = card_csv([person(1)]) + b"#" * (3 * MB)
    over_import = card_csv([person(1)]) + b"#" * (MB + MB // 2)
    attempts = []
    for url in (reverse("card-batch-list"), reverse("api-card-batches")):
        attempts += [
            ("body over the limit", url, {"file": _named(big, "cards.csv")}, {413}),
            ("file over the import limit", url, {"file": _named(over_import, "cards.csv")}, {400}),
            ("10 000 fields", url, {f"f{i}": "x" for i in range(10_000)} | {"file": _named(b"a", "c.csv")}, {400}),
            ("200 files", url, {f"file{i}": _named(b"x" * 1000, f"c{i}.csv") for i in range(200)}, {400}),
        ]
    refused, peak, growth, statuses = 0, 0, 0, []
    for _what, url, data, expected in attempts:
        before = _du(spool, media)
        tracemalloc.start()
        response = client.post(url, data)
        peak = max(peak, tracemalloc.get_traced_memory()[1])
        tracemalloc.stop()
        statuses.append(response.status_code)
        refused += response.status_code in expected
        growth += _du(spool, media) - before
    n = len(attempts)
    stored = CardBatch.objects.count() + Citizen.objects.count()
    row.set(
        times=n,
        figure=f"refused {refused}/{n} (413 for the body over the limit, 400 otherwise; statuses {statuses}); "
        f"temporary and upload area growth {growth} bytes; batches/citizens stored {stored}; "
        f"peak Python heap during a request {peak / MB:.1f} MB (test client's copy of the body included)",
    )
    assert refused == n and growth == 0 and stored == 0
    assert not list(spool.iterdir())


def test_s17_the_limit_answers_in_the_api_shape_and_in_vietnamese(client, settings):
    settings.SSKDT_MAX_REQUEST_BYTES = 1000
    api = client.post("/api/v1/card-batches/", data=b"x" * 2000, content_type="application/octet-stream")
    assert api.status_code == 413 and api.json()["code"] == "body_too_large"
    page = client.post("/card-batches/", data=b"x" * 2000, content_type="text/plain", HTTP_ACCEPT_LANGUAGE="vi")
    assert page.status_code == 413 and "Tệp tải lên quá lớn" in page.content.decode()
    assert client.post("/card-batches/", data=b"x" * 900, content_type="text/plain").status_code != 413


# --- S18 ------------------------------------------------------------------------------------

NAMES = ["Nguyễn Thị Hằng", "Đặng Văn Ưng", "Trần Thị Ánh Tuyết", "Lê Quý Đôn", "Phạm Thị Mỹ Hạnh"]


_ids = itertools.count(1)


def _rows(names, **over):
    """Rows with identifiers never used before in the run, so every file makes new citizens."""
    return [person(next(_ids), HO_TEN=n, **over) for n in names]


def _encoding_cases():
    """(what, bytes, names expected stored or None when the file must be refused with a reason)."""
    latin = ["Hélène Müller", "José Martín"]
    utf16be = codecs.BOM_UTF16_BE + card_csv(_rows(NAMES)).decode().encode("utf-16-be")
    nfd = [unicodedata.normalize("NFD", n) for n in NAMES]
    quoted = _rows(NAMES[:1], DIA_CHI="Số 1\r\nLê Lợi") + _rows(NAMES[1:2])
    wide = card_csv(_rows(NAMES[:2])) + b"DN4797900000009,7900000009,,X,19850312,1,79001,20250101,,79,a,EXTRA\r\n"
    return [
        ("UTF-8", card_csv(_rows(NAMES)), NAMES),
        ("UTF-8 with BOM", codecs.BOM_UTF8 + card_csv(_rows(NAMES)), NAMES),
        ("UTF-16 LE with BOM", card_csv(_rows(NAMES), encoding="utf-16"), NAMES),
        ("UTF-16 BE with BOM", utf16be, NAMES),
        ("Windows-1258 (base letter + combining tone)", card_csv(_rows(NAMES), encoding="cp1258"), NAMES),
        ("Latin-1, Western names", card_csv(_rows(latin, DIA_CHI="Paris")).decode().encode("latin-1"), latin),
        ("UTF-8 in NFD (decomposed)", card_csv(_rows(nfd)), NAMES),
        ("semicolon delimiter", card_csv(_rows(NAMES), delimiter=";"), NAMES),
        ("tab delimiter", card_csv(_rows(NAMES), delimiter="\t"), NAMES),
        ("LF line ends", card_csv(_rows(NAMES), newline="\n"), NAMES),
        ("CRLF inside a quoted address", card_csv(quoted), NAMES[:2]),
        ("a row with an extra column (that row rejected)", wide, NAMES[:2]),
        ("UTF-8 mixed with Windows-1258", card_csv(_rows(NAMES)) + to_cp1258("Trần Thị Hằng"), None),
        ("undecodable single-byte text", card_csv(_rows(NAMES[:1])) + bytes(range(0x80, 0xA0)) * 50, None),
        ("UTF-16 BOM but broken", codecs.BOM_UTF16_LE + b"\x00\xd8" * 10, None),
        ("required columns missing", card_csv(_rows(NAMES), header=[h for h in HEADER if h != "NGAY_SINH"]), None),
        (
            "already mojibake in UTF-8 (row rejected)",
            card_csv(_rows([NAMES[0].encode().decode("cp1252", errors="ignore"), NAMES[1]])),
            NAMES[1:2],
        ),
    ]


def test_s18_every_encoding_is_read_correctly_or_refused_with_a_reason(proof, import_file):
    cases = _encoding_cases()
    row = proof.row("S18", "card files: " + ", ".join(what for what, _, _ in cases))
    mojibake, silent, wrong, refused_with_reason = 0, 0, [], 0
    for what, data, expected in cases:
        last = Citizen.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
        try:
            batch = import_file(data, name=f"{what}.csv")
        except FileRefused as exc:
            refused_with_reason += bool(exc.code and str(exc.message))
            if expected is not None:
                wrong.append((what, exc.code))
            continue
        if expected is None:
            wrong.append((what, "accepted"))
        names = Citizen.objects.filter(pk__gt=last).values_list("full_name", flat=True)
        stored = [unicodedata.normalize("NFC", n) for n in names]
        expected_nfc = {unicodedata.normalize("NFC", n) for n in (expected or [])}
        mojibake += sum(name not in expected_nfc for name in stored)
        # a file whose stored rows differ from what it says, without a problem naming the difference
        silent += sorted(stored) != sorted(expected_nfc) and batch.problems.count() == 0
        if sorted(stored) != sorted(expected_nfc):
            wrong.append((what, stored))
    n = len(cases)
    row.set(
        times=n,
        figure=f"mojibake rows stored {mojibake}; files silently accepted with errors {silent}; "
        f"{n - refused_with_reason}/{n} read correctly, {refused_with_reason}/{n} refused with a reason; "
        f"cases answered otherwise than planned {len(wrong)}",
    )
    assert mojibake == 0 and silent == 0 and not wrong, wrong


# --- S19 ------------------------------------------------------------------------------------


def _workbook_with_sheet_xml(sheet_xml: bytes, shared_strings: bytes | None = None) -> bytes:
    """A real openpyxl workbook whose first sheet (and shared strings) are replaced."""
    wb = openpyxl.Workbook()
    wb.active.append(HEADER)
    base = io.BytesIO()
    wb.save(base)
    out = io.BytesIO()
    with zipfile.ZipFile(base) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            data = src.read(info.filename)
            if info.filename == "xl/worksheets/sheet1.xml":
                data = sheet_xml
            dst.writestr(info.filename, data)
        if shared_strings is not None:
            dst.writestr("xl/sharedStrings.xml", shared_strings)
    return out.getvalue()


CONTROL = "control: a card header then {n} empty rows, no dimension (under the row limit: read by openpyxl)"


def _n(n: int) -> str:
    return f"{n:,}".replace(",", " ")


def _empty_rows_sheet(n: int) -> bytes:
    head = b'<?xml version="1.0"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
    header = (
        b'<row r="1">'
        + b"".join(
            b'<c r="%s1" t="inlineStr"><is><t>%s</t></is></c>' % (bytes([65 + i]), h.encode())
            for i, h in enumerate(HEADER)
        )
        + b"</row>"
    )
    rows = b"".join(b'<row r="%d"/>' % i for i in range(2, n + 2))
    return head + b"<sheetData>" + header + rows + b"</sheetData></worksheet>"


def _bombs(tmp_path: Path, bomb_rows: int, control_rows: int) -> dict[str, Path]:
    head = b'<?xml version="1.0"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
    spaces = io.BytesIO()
    with zipfile.ZipFile(spaces, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("[Content_Types].xml", "<Types/>")
        zf.writestr("xl/worksheets/sheet1.xml", b"<a>" + b" " * (100 * MB) + b"</a>")
    strings = (
        b'<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        + (b"<si><t>%d</t></si>" % 7) * (4 * MB)
        + b"</sst>"
    )
    parts = io.BytesIO()
    with zipfile.ZipFile(parts, "w", zipfile.ZIP_STORED) as zf:
        for i in range(10_001):
            zf.writestr(f"x/{i}", b"")
    files = {
        "100 MB of spaces zipped to 100 kB": spaces.getvalue(),
        f"a card header then {_n(bomb_rows)} empty rows, no dimension": _workbook_with_sheet_xml(
            _empty_rows_sheet(bomb_rows)
        ),
        "shared-strings bomb (4 M entries)": _workbook_with_sheet_xml(head + b"<sheetData/></worksheet>", strings),
        "10 001 zip parts": parts.getvalue(),
        CONTROL.format(n=_n(control_rows)): _workbook_with_sheet_xml(_empty_rows_sheet(control_rows)),
    }
    out = {}
    for i, (what, data) in enumerate(files.items()):
        out[what] = tmp_path / f"bomb{i}.xlsx"
        out[what].write_bytes(data)
    return out


CHILD = r"""
import json, os, resource, sys
cap = int(sys.argv[1])
resource.setrlimit(resource.RLIMIT_AS, (cap, cap))
import django
django.setup()
import openpyxl
from healthbook.cards.files import FileRefused, inspect_file
opened = []
real_load = openpyxl.load_workbook
def counting_load(*args, **kwargs):  # counts, then does the real thing
    opened.append(1)
    return real_load(*args, **kwargs)
openpyxl.load_workbook = counting_load
def rss_mb():
    with open("/proc/self/status") as fh:
        return next(int(line.split()[1]) for line in fh if line.startswith("VmRSS")) / 1024
out = []
base = rss_mb()
for path in sys.argv[2:]:
    size = os.path.getsize(path)
    before = len(opened)
    try:
        with open(path, "rb") as fh:
            inspect_file(fh, size=size)
        code = "accepted"
    except FileRefused as exc:
        code = exc.code
    except MemoryError:
        code = "MemoryError"
    out.append({"code": code, "parsed": len(opened) > before, "rss_mb": rss_mb()})
print(json.dumps({"results": out, "base_rss_mb": base}))
"""


@pytest.mark.parametrize(
    ("bomb_rows", "control_rows", "limits"),
    [
        (
            300_000,
            100_000,
            {"CARD_IMPORT_XLSX_MAX_UNSIZED_SHEET": str(MB), "CARD_IMPORT_XLSX_MAX_UNSIZED_ROWS": "200000"},
        ),
        pytest.param(3_000_000, 1_000_000, {}, marks=pytest.mark.proof_long),
    ],
    ids=["fast-limits-lowered", "plan-sizes-default-limits"],
)
def test_s19_xlsx_bombs_are_refused_before_parsing_in_a_capped_worker(proof, tmp_path, bomb_rows, control_rows, limits):
    """Fast: row limit lowered to 200 000 (sheet limit 1 MB); `make proof`: the default 2 000 000, the
    plan's 1 000 000 empty rows as the control and 3 000 000 as the bomb."""
    bombs = _bombs(tmp_path, bomb_rows, control_rows)
    lowered = f" (limits lowered: {limits})" if limits else ""
    tried = "XLSX files inspected by a child process under RLIMIT_AS 1 GB: " + "; ".join(bombs) + lowered
    row = proof.row("S19", tried)
    cap = 1024 * MB
    env = os.environ | {"DJANGO_SETTINGS_MODULE": "config.test_settings", "PYTHONPATH": str(ROOT)} | limits
    proc = subprocess.run(
        [sys.executable, "-c", CHILD, str(cap), *map(str, bombs.values())],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    report = json.loads(proc.stdout.strip().splitlines()[-1])
    results = dict(zip(bombs, report["results"], strict=True))
    ooms = sum(r["code"] == "MemoryError" for r in results.values())
    growth = max(r["rss_mb"] for r in results.values()) - report["base_rss_mb"]
    bombs_only = {what: r for what, r in results.items() if not what.startswith("control")}
    before_parse = sum(r["code"].startswith("xlsx_") and not r["parsed"] for r in bombs_only.values())
    control = next(r for what, r in results.items() if what.startswith("control"))
    codes = "; ".join(f"{what}: {r['code']}" for what, r in results.items())
    row.set(
        times=len(bombs),
        figure=f"bombs refused before openpyxl opened them {before_parse}/{len(bombs_only)}; OOM {ooms}; child RSS "
        f"{report['base_rss_mb']:.0f} MB after start-up, +{growth:.0f} MB at most (the control, read by openpyxl, "
        f"{control['code']}), cap {cap // MB} MB ({codes})",
    )
    assert before_parse == len(bombs_only) and ooms == 0 and control["code"] == "accepted"
    assert growth < 400  # far below the cap: at most the row limit x ~90 bytes, whatever the file claims


def test_a_sheet_without_size_record_is_refused_only_over_the_row_limit(import_file, settings):
    settings.CARD_IMPORT_XLSX_MAX_UNSIZED_SHEET = 2000  # bytes: every sheet below counts as large
    settings.CARD_IMPORT_XLSX_MAX_UNSIZED_ROWS = 100
    wb = openpyxl.Workbook(write_only=True)
    ws = wb.create_sheet()
    ws.append(HEADER)
    for k in range(30):
        p = person(900 + k)
        ws.append([p[h] for h in HEADER])
    data = io.BytesIO()
    wb.save(data)
    sheet = zipfile.ZipFile(data).read("xl/worksheets/sheet1.xml")
    assert b"<dimension" not in sheet  # a streaming writer: no size record, but few rows
    batch = import_file(data.getvalue(), name="cards.xlsx")
    assert batch.rows_accepted == 30
    with pytest.raises(FileRefused) as refused:
        import_file(_workbook_with_sheet_xml(_empty_rows_sheet(500)), name="unsized.xlsx")
    assert refused.value.code == "xlsx_unsized_sheet"
