"""Hardened parsing, the envelope, and the per-field checks derived from the spec."""

import base64

from healthbook.intake import envelope
from healthbook.intake.mapping import visit_from_hoso
from healthbook.intake.pipeline import read_xml_submission
from healthbook.intake.xml130 import parse_hoso, parse_table
from healthbook.intake.xmlsafe import parse_xml

from .conftest import FACILITY, codes, envelope_with


def unsigned_read(body, **kw):
    return read_xml_submission(body, facility_code=FACILITY, signature_required=False, **kw)


def test_doctype_is_refused_before_parsing():
    root, problems = parse_xml(b'<?xml version="1.0"?><!DOCTYPE a [<!ENTITY b "c">]><a>&b;</a>')
    assert root is None and codes(problems) == ["XML_DTD_FORBIDDEN"]


def test_doctype_in_lower_case_is_refused_too():
    assert codes(parse_xml(b"<!doctype a><a/>")[1]) == ["XML_DTD_FORBIDDEN"]


def test_non_utf8_declared_encoding_is_refused():
    assert codes(parse_xml(b'<?xml version="1.0" encoding="windows-1258"?><a/>')[1]) == ["XML_ENCODING"]


def test_oversized_document_is_refused_without_parsing():
    assert codes(parse_xml(b"<a>" + b"x" * 100 + b"</a>", max_bytes=50)[1]) == ["BODY_TOO_LARGE"]


def test_raw_and_base64_envelopes_read_the_same(unsigned):
    a = unsigned_read(unsigned)
    b = unsigned_read(base64.b64encode(unsigned))
    assert a.ok and b.ok
    assert [v.encounter.key for v in a.visits] == [v.encounter.key for v in b.visits]


def test_line_wrapped_base64_envelope_is_accepted(unsigned):
    text = base64.encodebytes(unsigned)  # 76-column lines
    assert unsigned_read(text).ok


def test_empty_body_is_a_problem():
    assert codes(unsigned_read(b"   ").problems) == ["BODY_EMPTY"]


def test_wrong_root_is_a_problem():
    assert codes(unsigned_read(b"<HSCHUNGTU/>").problems) == ["ENVELOPE_ROOT"]


def test_bad_base64_file_is_a_problem_not_an_exception():
    body = envelope_with([("XML1", "x")]).replace(b"<NOIDUNGFILE>", b"<NOIDUNGFILE>@@").replace(b"eA==", b"eA=")
    result = unsigned_read(body)
    assert "FILE_BASE64" in codes(result.problems) and not result.ok


def test_declared_count_mismatch_is_a_warning(unsigned):
    body = unsigned.replace(b"<SOLUONGHOSO>2</SOLUONGHOSO>", b"<SOLUONGHOSO>3</SOLUONGHOSO>")
    result = unsigned_read(body)
    assert result.ok and codes(result.problems) == ["ENVELOPE_COUNT_MISMATCH"]


def test_duplicated_envelope_block_is_a_structure_error(unsigned):
    body = unsigned.replace(
        b"<THONGTINDONVI>", b"<THONGTINDONVI><MACSKCB>79001</MACSKCB></THONGTINDONVI><THONGTINDONVI>", 1
    )
    assert "ENVELOPE_STRUCTURE" in codes(unsigned_read(body).problems)


def test_facility_code_must_match_the_sender(unsigned):
    result = read_xml_submission(unsigned, facility_code="79001", signature_required=False)
    assert codes(result.problems) == ["ENVELOPE_FACILITY_MISMATCH"]


def xml1(**fields):
    base = {"MA_LK": "LK1", "STT": "1", "MA_BN": "BN1", "HO_TEN": "Lê Thị Hoà", "NGAY_SINH": "198005000000"}
    base.update(fields)
    inner = "".join(f"<{k}>{v}</{k}>" for k, v in base.items() if v is not None)
    return f'<?xml version="1.0" encoding="utf-8"?><TONG_HOP>{inner}</TONG_HOP>'


def table_codes(spec, key, text):
    rows, problems = parse_table(spec[key], text.encode())
    return rows, {(p.code, p.field) for p in problems}


def test_missing_required_field_is_reported(spec):
    _rows, found = table_codes(spec, "XML1", xml1())
    assert ("FIELD_REQUIRED", "NGAY_VAO") in found and ("FIELD_REQUIRED", "MA_BENH_CHINH") in found


def test_field_longer_than_its_size_is_reported(spec):
    _rows, found = table_codes(spec, "XML1", xml1(MA_BENH_CHINH="J06.9123"))
    assert ("FIELD_TOO_LONG", "MA_BENH_CHINH") in found


def test_number_field_with_letters_is_reported(spec):
    _rows, found = table_codes(spec, "XML1", xml1(T_THUOC="12a"))
    assert ("FIELD_NOT_NUMBER", "T_THUOC") in found


def test_dates_follow_the_xml130_formats(spec):
    _rows, found = table_codes(spec, "XML1", xml1(NGAY_VAO="20250231", NGAY_RA="202502311200"))
    assert ("FIELD_DATE", "NGAY_VAO") in found and ("FIELD_DATE", "NGAY_RA") in found


def test_unknown_birth_day_and_month_are_allowed(spec):
    rows, found = table_codes(spec, "XML1", xml1(NGAY_SINH="198000000000"))
    assert not {c for c in found if c[1] == "NGAY_SINH"}


def test_unknown_day_is_refused_where_a_full_date_is_needed(spec):
    _rows, found = table_codes(spec, "XML1", xml1(NGAY_VAO="202501000800"))
    assert ("FIELD_DATE", "NGAY_VAO") in found


def test_code_outside_the_listed_values_is_a_warning(spec):
    rows, problems = parse_table(spec["XML1"], xml1(KET_QUA_DTRI="9").encode())
    p = next(p for p in problems if p.field == "KET_QUA_DTRI")
    assert (p.code, p.severity) == ("FIELD_ENUM", "warning")


def test_gateway_format_rule_is_a_warning(spec):
    rows, problems = parse_table(spec["XML1"], xml1(SO_CCCD="12345").encode())
    p = next(p for p in problems if p.field == "SO_CCCD")
    assert (p.code, p.severity) == ("FIELD_GATEWAY_FORMAT", "warning")


def test_codes_keep_leading_zeros(spec):
    rows, _ = parse_table(spec["XML1"], xml1(MA_DANTOC="01", MA_NGHE_NGHIEP="00000", SO_CCCD="001080000123").encode())
    assert (rows[0]["MA_DANTOC"], rows[0]["MA_NGHE_NGHIEP"], rows[0]["SO_CCCD"]) == ("01", "00000", "001080000123")


def test_cdata_free_text_is_read(spec):
    rows, _ = parse_table(spec["XML1"], xml1(HO_TEN="<![CDATA[Nguyễn Thị <Hằng> & con]]>").encode())
    assert rows[0]["HO_TEN"] == "Nguyễn Thị <Hằng> & con"


def test_comment_inside_a_value_does_not_cut_it(spec):
    rows, _ = parse_table(spec["XML1"], xml1(MA_LK="AB<!-- x -->CD").encode())
    assert rows[0]["MA_LK"] == "ABCD"


def test_nested_element_in_a_field_is_an_error(spec):
    _rows, found = table_codes(spec, "XML1", xml1(MA_BN="<X>1</X>"))
    assert ("XML_MIXED_CONTENT", "MA_BN") in found


def test_unknown_element_is_a_warning(spec):
    rows, problems = parse_table(spec["XML1"], xml1(FOO="1").encode())
    assert [(p.code, p.severity) for p in problems if p.field == "FOO"] == [("FIELD_UNKNOWN", "warning")]


def test_wrong_inner_root_is_a_structure_error(spec):
    _rows, found = table_codes(spec, "XML2", "<TONG_HOP/>")
    assert found == {("FILE_STRUCTURE", None)}


def test_xml1_without_ma_lk_is_rejected_with_its_code(spec):
    hoso = envelope.HoSo(1, [envelope.FileHoSo("XML1", xml1(MA_LK=None).encode(), 1)])
    assert "XML1_NO_MA_LK" in codes(parse_hoso(hoso, spec=spec).problems)


def test_rows_of_another_treatment_are_rejected(spec):
    lab = (
        "<CHITIEU_CHITIET_DICHVUCANLAMSANG><DSACH_CHI_TIET_CLS><CHI_TIET_CLS><MA_LK>OTHER</MA_LK><STT>1</STT>"
        "<TEN_CHI_SO>Glucose</TEN_CHI_SO></CHI_TIET_CLS></DSACH_CHI_TIET_CLS></CHITIEU_CHITIET_DICHVUCANLAMSANG>"
    )
    hoso = envelope.HoSo(1, [envelope.FileHoSo("XML1", xml1().encode(), 1), envelope.FileHoSo("XML4", lab.encode(), 2)])
    problems = parse_hoso(hoso, spec=spec).problems
    assert ("MA_LK_MISMATCH", "XML4", "OTHER/1") in {(p.code, p.table, p.record_key) for p in problems}


def test_unknown_table_type_is_kept_as_received(spec):
    hoso = envelope.HoSo(1, [envelope.FileHoSo("XML1", xml1().encode(), 1), envelope.FileHoSo("XML99", b"<X/>", 2)])
    t = parse_hoso(hoso, spec=spec)
    assert "FILE_TYPE_UNKNOWN" in codes(t.problems) and t.unknown == {"XML99": b"<X/>"}


def test_same_ma_lk_twice_in_one_file_is_rejected(visits, spec, today):
    from healthbook.intake.demo.submissions import build_envelope

    body = build_envelope(FACILITY, [visits[0], visits[0]], today, spec)
    assert "MA_LK_DUPLICATE" in codes(unsigned_read(body).problems)


def test_mapping_keeps_codes_and_dates(unsigned):
    result = unsigned_read(unsigned)
    v = result.visits[0]
    head = v.encounter
    assert head.source == "xml130" and head.facility_code == FACILITY
    assert head.main_diagnosis and head.admitted_at.tzinfo is not None
    assert len(v.lab_results) == 20 and len(v.medications) == 5
    assert all(isinstance(lab.indicator_code, str) and lab.unit for lab in v.lab_results)
    assert v.patient.personal_id and v.patient.social_insurance_number == v.patient.card_numbers[0][-10:]
    assert v.follow_ups and v.follow_ups[0].appointment_at > head.discharged_at


def test_other_tables_are_kept_as_received(spec, today):
    hiv = (
        "<CHI_TIEU_HO_SO_BENH_AN_CHAM_SOC_VA_DIEU_TRI_HIV_AIDS><DSACH_HO_SO_BENH_AN_CHAM_SOC_VA_DIEU_TRI_HIV_AIDS>"
        "<HO_SO_BENH_AN_CHAM_SOC_VA_DIEU_TRI_HIV_AIDS><MA_LK>LK1</MA_LK></HO_SO_BENH_AN_CHAM_SOC_VA_DIEU_TRI_HIV_AIDS>"
        "</DSACH_HO_SO_BENH_AN_CHAM_SOC_VA_DIEU_TRI_HIV_AIDS></CHI_TIEU_HO_SO_BENH_AN_CHAM_SOC_VA_DIEU_TRI_HIV_AIDS>"
    )
    t = parse_hoso(
        envelope.HoSo(1, [envelope.FileHoSo("XML1", xml1().encode(), 1), envelope.FileHoSo("XML6", hiv.encode(), 2)]),
        spec=spec,
    )
    v = visit_from_hoso(t, facility_code=FACILITY)
    assert v.other_tables["XML6"][0]["MA_LK"] == "LK1"
