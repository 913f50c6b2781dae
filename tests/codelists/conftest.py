"""Fixtures for the code-list tests: a small ICD-10-like list in two versions."""

from datetime import date

import pytest

from codelists.models import CodeSystemVersion, VersionStatus
from tests.codelists import factories as cf


@pytest.fixture
def icd(db):
    return cf.system("icd10", max_code_length=7)


@pytest.fixture
def icd_v1(icd):
    """In force 2020-01-01 … 2024-12-31."""
    return cf.version(
        icd,
        "v1",
        [
            ("A00", "Bệnh tả"),
            ("J18.9", "Viêm phổi, không đặc hiệu"),
            ("Z99.9", "Mã sẽ bị xoá"),
            ("U07.1", "Mã sẽ ngừng sử dụng"),
        ],
        status=VersionStatus.RETIRED,
        effective_from=date(2020, 1, 1),
        effective_to=date(2025, 1, 1),
    )


@pytest.fixture
def icd_v2(icd, icd_v1):
    """In force from 2025-01-01: drops Z99.9, retires U07.1, adds X01 (inactive from birth)."""
    return cf.version(
        icd,
        "v2",
        [
            ("A00", "Bệnh tả", True, {"sex": "", "not_main_diagnosis": False}),
            ("J18.9", "Viêm phổi, không đặc hiệu"),
            ("U07.1", "Mã sẽ ngừng sử dụng", False),
            ("X01", "Mã chưa từng dùng", False),
        ],
        effective_from=date(2025, 1, 1),
        based_on=icd_v1,
    )


@pytest.fixture
def icd_v3(icd, icd_v2):
    """Published but in force only from 2030: adds N01."""
    CodeSystemVersion.objects.filter(pk=icd_v2.pk).update(status=VersionStatus.RETIRED, effective_to=date(2030, 1, 1))
    return cf.version(icd, "v3", [("A00", "Bệnh tả"), ("N01", "Mã tương lai")], effective_from=date(2030, 1, 1))


@pytest.fixture
def second_admin(db):
    from core.roles import Role
    from tests import factories as f

    return f.ministry(Role.MINISTRY_ADMIN, username="ministry_admin_2")


@pytest.fixture
def labs(db):
    """A small lab-indicator list, published, with one draft open from it."""
    system = cf.system("lab-indicator", max_code_length=10)
    return cf.version(
        system,
        "2020",
        [
            ("GLU", "Glucose", True, {"unit": "mmol/L", "ref_low": 3.9, "ref_high": 6.4}),
            ("URE", "Ure", True, {"unit": "mmol/L"}),
            ("CRE", "Creatinin", True, {"unit": "µmol/L"}),
        ],
        effective_from=date(2020, 1, 1),
    )
