from datetime import date

import pytest

from codelists import validation
from codelists.validation import CodeCheck, code_validate, codes_in_force, codes_validate, concept_display
from tests.codelists import factories as cf

ON_2022 = date(2022, 6, 1)
ON_2026 = date(2026, 6, 1)


def test_active_code_in_force_is_ok(icd_v2):
    check = code_validate("icd10", "A00", ON_2026)
    assert check == CodeCheck("A00", True, None, check.concept_id, "Bệnh tả", {"sex": "", "not_main_diagnosis": False})
    assert check.concept_id == icd_v2.concepts.get(code="A00").pk


def test_the_version_in_force_on_the_date_answers(icd_v2, icd_v1):
    old = code_validate("icd10", "A00", ON_2022)
    assert old.ok and old.concept_id == icd_v1.concepts.get(code="A00").pk


def test_end_date_is_exclusive(icd_v2, icd_v1):
    assert code_validate("icd10", "Z99.9", date(2024, 12, 31)).ok
    assert code_validate("icd10", "Z99.9", date(2025, 1, 1)).reason == "retired"


def test_code_removed_from_the_version_in_force_is_retired(icd_v2):
    check = code_validate("icd10", "Z99.9", ON_2026)
    assert (check.ok, check.reason, check.concept_id, check.display_vi) == (False, "retired", None, "")


def test_code_flagged_inactive_after_being_active_is_retired(icd_v2):
    check = code_validate("icd10", "U07.1", ON_2026)
    assert (check.ok, check.reason) == (False, "retired")
    assert check.display_vi == "Mã sẽ ngừng sử dụng"


def test_code_never_active_is_inactive(icd_v2):
    assert code_validate("icd10", "X01", ON_2026).reason == "inactive"


def test_code_of_a_later_version_is_not_in_force(icd_v3):
    assert code_validate("icd10", "N01", ON_2026).reason == "not_in_force"
    assert code_validate("icd10", "N01", date(2030, 1, 1)).ok


def test_date_before_any_version_is_not_in_force(icd_v2):
    assert code_validate("icd10", "A00", date(2019, 1, 1)).reason == "not_in_force"


def test_code_in_no_version_is_unknown(icd_v2):
    assert code_validate("icd10", "NOPE", ON_2026).reason == "unknown"


def test_drafts_are_ignored(icd_v2, icd):
    cf.version(icd, "draft", [("D01", "Nháp")], status="draft", effective_from=date(2020, 1, 1))
    assert code_validate("icd10", "D01", ON_2026).reason == "unknown"


def test_unknown_system_raises(db):
    with pytest.raises(validation.UnknownCodeSystem):
        code_validate("nope", "A00", ON_2026)


def test_bulk_validation_uses_a_handful_of_queries(icd_v3, django_assert_max_num_queries):
    codes = [f"Q{i:06d}" for i in range(100_000)] + ["A00", "J18.9", "Z99.9", "U07.1", "X01", "N01"]
    with django_assert_max_num_queries(3):
        result = codes_validate("icd10", codes, ON_2026)
    assert len(result) == 100_006
    assert result["A00"].ok and result["J18.9"].ok
    assert result["Z99.9"].reason == "retired"
    assert result["N01"].reason == "not_in_force"
    assert result["Q000042"].reason == "unknown"


def test_bulk_validation_of_good_codes_takes_two_queries(icd_v2, django_assert_max_num_queries):
    with django_assert_max_num_queries(2):
        result = codes_validate("icd10", ["A00", "J18.9"] * 50_000, ON_2026)
    assert set(result) == {"A00", "J18.9"}


def test_codes_in_force_lists_active_codes_only(icd_v3):
    assert codes_in_force("icd10", ON_2026) == frozenset({"A00", "J18.9"})
    assert codes_in_force("icd10", date(2031, 1, 1)) == frozenset({"A00", "N01"})
    assert codes_in_force("icd10", date(2000, 1, 1)) == frozenset()


def test_codes_in_force_is_cached_by_version(icd_v2, django_assert_max_num_queries):
    codes_in_force("icd10", ON_2026)
    with django_assert_max_num_queries(1):
        assert "A00" in codes_in_force("icd10", ON_2026)


def test_concept_display(icd_v2):
    assert concept_display("icd10", "J18.9", ON_2026) == "Viêm phổi, không đặc hiệu"
    assert concept_display("icd10", "Z99.9", ON_2026) is None
