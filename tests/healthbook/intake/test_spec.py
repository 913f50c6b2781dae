"""The field specification is derived from the spreadsheets and the committed JSON is current."""

from pathlib import Path

import pytest

from healthbook.intake.spec import build_spec

REPO = Path(__file__).resolve().parents[3]
DATA = REPO.parent / "shared" / "data" / "xml130"


@pytest.mark.skipif(not DATA.is_dir(), reason=f"spreadsheets not found at {DATA} (CI has ../shared beside the clone)")
def test_committed_spec_is_what_the_spreadsheets_give():
    assert build_spec.render(build_spec.build(DATA)) == build_spec.DEFAULT_OUT.read_text(encoding="utf-8")


def _field(spec, table, name):
    return next(f for f in spec[table].fields if f.name == name)


def test_every_table_has_its_element_names(spec):
    assert set(spec) == {f"XML{i}" for i in range(16)}
    assert spec["XML1"].root == "TONG_HOP" and spec["XML1"].list is None
    assert (spec["XML4"].root, spec["XML4"].list, spec["XML4"].record) == (
        "CHITIEU_CHITIET_DICHVUCANLAMSANG",
        "DSACH_CHI_TIET_CLS",
        "CHI_TIET_CLS",
    )


def test_xml1_has_66_fields_in_official_order_with_nhom_mau(spec):
    names = [f.name for f in spec["XML1"].fields]
    assert len(names) == 66
    assert names[:8] == ["MA_LK", "STT", "MA_BN", "HO_TEN", "SO_CCCD", "NGAY_SINH", "GIOI_TINH", "NHOM_MAU"]
    assert names[-1] == "DU_PHONG"


def test_4750_type_changes_make_codes_strings(spec):
    for name in ("SO_CCCD", "MA_QUOCTICH", "MA_DANTOC", "MA_NGHE_NGHIEP", "DIEN_THOAI", "MA_LOAI_KCB"):
        assert _field(spec, "XML1", name).type == "string", name


def test_3176_size_increases_are_applied(spec):
    assert _field(spec, "XML4", "MA_CHI_SO").max_size == 255
    assert _field(spec, "XML4", "GIA_TRI").max_size == 255
    assert _field(spec, "XML1", "MA_TTDV").max_size == 255
    assert _field(spec, "XML1", "MA_DOITUONG_KCB").max_size == 4


def test_date_rules_follow_the_explanations(spec):
    assert _field(spec, "XML1", "NGAY_SINH").rule == {"kind": "date", "lengths": [12], "partial": True, "multi": False}
    assert _field(spec, "XML1", "NGAY_TAI_KHAM").rule["multi"] is True
    assert _field(spec, "XML1", "NGAY_MIEN_CCT").rule["lengths"] == [8, 12]
    assert _field(spec, "XML14", "NGAY_HEN_KL").rule["lengths"] == [8, 12]  # 3176 made it yyyyMMdd
    assert _field(spec, "XML14", "NGAY_VAO").rule["lengths"] == [12]  # "as in Bảng 1"


def test_enumerations_include_4750_additions(spec):
    assert _field(spec, "XML1", "KET_QUA_DTRI").rule["values"] == [str(i) for i in range(1, 9)]
    assert _field(spec, "XML1", "GIOI_TINH").rule["values"] == ["1", "2", "3"]


def test_required_flags_come_from_the_gateway_sheet(spec):
    assert _field(spec, "XML1", "MA_LK").required
    assert _field(spec, "XML4", "TEN_CHI_SO").required
    assert not _field(spec, "XML3", "MA_XANG_DAU").required  # only "when MA_NHOM = 12"


def test_gateway_rules_become_machine_rules(spec):
    assert _field(spec, "XML1", "SO_CCCD").gateway["kind"] == "regex"
    assert _field(spec, "XML9", "MA_BHXH_NND").gateway == {"kind": "not_all_zero"}
    assert _field(spec, "XML2", "NGAY_TH_YL").gateway == {"kind": "gte", "field": "NGAY_YL"}


def test_every_problem_code_has_a_vietnamese_message():
    """The messages live in the healthbook catalog (messages_vi.txt was merged into it)."""
    from django.utils import translation

    from healthbook.intake.problems import CATALOG

    for msg, _sev in CATALOG.values():
        msgid = str(msg._args[0])
        with translation.override("vi"):
            assert str(msg) != msgid, msgid
