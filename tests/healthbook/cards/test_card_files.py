"""Card files: encodings, delimiters, headers, XLSX — refused before loading, or read correctly."""

import codecs
import io
import zipfile

import openpyxl
import pytest

from healthbook.cards.files import FileRefused
from healthbook.models import CardBatch, Citizen
from tests.healthbook.conftest import HEADER, card_csv, person, to_cp1258

pytestmark = pytest.mark.django_db

NAME = "Nguyễn Thị Hằng"


def _refused(import_file, data: bytes) -> FileRefused:
    with pytest.raises(FileRefused) as info:
        import_file(data)
    assert CardBatch.objects.count() == 0
    assert Citizen.objects.count() == 0
    return info.value


def test_utf8_with_bom_and_semicolons(import_file):
    data = codecs.BOM_UTF8 + card_csv([person(1, HO_TEN=NAME)], delimiter=";")
    batch = import_file(data)
    assert (batch.encoding, batch.delimiter, batch.rows_accepted) == ("utf-8-sig", ";", 1)
    assert Citizen.objects.get().full_name == NAME


def test_windows_1258_is_converted_without_mojibake(import_file):
    batch = import_file(card_csv([person(1, HO_TEN=NAME), person(2, HO_TEN="Đặng Văn Ưng")], encoding="cp1258"))
    assert batch.encoding == "cp1258"
    assert sorted(Citizen.objects.values_list("full_name", flat=True)) == ["Nguyễn Thị Hằng", "Đặng Văn Ưng"]


def test_utf16_with_bom_is_read(import_file):
    batch = import_file(card_csv([person(1, HO_TEN=NAME)], encoding="utf-16"))
    assert batch.rows_accepted == 1
    assert Citizen.objects.get().full_name == NAME


def test_mixed_encodings_are_refused(import_file):
    data = card_csv([person(1, HO_TEN=NAME)]) + to_cp1258("Trần Thị Hằng")
    assert _refused(import_file, data).code == "encoding_mixed"


def test_unknown_single_byte_encoding_is_refused(import_file):
    data = card_csv([person(1)]) + bytes(range(0x80, 0xA0)) * 50
    assert _refused(import_file, data).code in {"encoding_unknown", "encoding_mixed"}


def test_mojibake_name_in_utf8_is_rejected(import_file):
    garbled = NAME.encode("utf-8").decode("cp1252", errors="ignore")
    batch = import_file(card_csv([person(1, HO_TEN=garbled), person(2)]))
    assert [p.code for p in batch.problems.all()] == ["NAME_MOJIBAKE"]
    assert batch.rows_accepted == 1


def test_missing_required_columns_are_refused_before_loading(import_file):
    header = [h for h in HEADER if h not in ("NGAY_SINH", "MA_DKBD")]
    refusal = _refused(import_file, card_csv([person(1)], header=header))
    assert refusal.code == "columns_missing"
    assert refusal.details["missing"] == ["NGAY_SINH", "MA_DKBD"]


def test_canonical_headers_in_any_case_and_order(import_file):
    canonical = [
        "full_name",
        "Birth Date",
        "SEX",
        "card_number",
        "social_insurance_number",
        "personal_id",
        "primary_care_facility",
        "valid_from",
        "valid_to",
        "residence_province",
    ]
    xml = [
        "HO_TEN",
        "NGAY_SINH",
        "GIOI_TINH",
        "MA_THE_BHYT",
        "MA_SO_BHXH",
        "SO_CCCD",
        "MA_DKBD",
        "GT_THE_TU",
        "GT_THE_DEN",
        "MATINH_CU_TRU",
    ]
    row = person(1, NGAY_SINH="12/03/1985", GT_THE_TU="2025-01-01")
    lines = [",".join(canonical)] + [",".join(row[k] for k in xml)]
    batch = import_file("\r\n".join(lines).encode())
    assert batch.rows_accepted == 1
    assert str(Citizen.objects.get().birth_date) == "1985-03-12"


def test_partial_birth_date_keeps_its_precision(import_file):
    import_file(card_csv([person(1, NGAY_SINH="19850000")]))
    citizen = Citizen.objects.get()
    assert (citizen.birth_date_precision, citizen.birth_year) == ("year", 1985)


def test_quoted_crlf_and_extra_cells(import_file):
    rows = [person(1, DIA_CHI="Số 1\r\nLê Lợi"), person(2)]
    data = card_csv(rows) + b"DN4797900000009,7900000009,,X,19850312,1,79001,20250101,,79,a,EXTRA\r\n"
    batch = import_file(data)
    assert (batch.rows_accepted, batch.rows_rejected) == (2, 1)
    assert [(p.line, p.code) for p in batch.problems.all()] == [(4, "ROW_WIDTH")]


def _xlsx(rows, header=HEADER) -> bytes:
    wb = openpyxl.Workbook(write_only=True)
    ws = wb.create_sheet()
    ws.append(header)
    for row in rows:
        ws.append([row.get(h, "") for h in header])
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def test_xlsx_is_streamed(import_file):
    batch = import_file(_xlsx([person(1, HO_TEN=NAME), person(2, GIOI_TINH="5")]), name="cards.xlsx")
    assert (batch.file_format, batch.rows_accepted, batch.rows_rejected) == ("xlsx", 1, 1)
    assert Citizen.objects.get().full_name == NAME


def test_xlsx_bomb_is_refused_before_parsing(import_file):
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("[Content_Types].xml", "<Types/>")
        zf.writestr("xl/worksheets/sheet1.xml", "<a>" + " " * (50 * 1024 * 1024) + "</a>")
    assert _refused(import_file, out.getvalue()).code == "xlsx_bomb"


def test_old_xls_is_refused(import_file):
    assert _refused(import_file, b"\xd0\xcf\x11\xe0" + b"\0" * 600).code == "xls_not_supported"
