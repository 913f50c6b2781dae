"""Builders of the cohorts tests: the dashboards tests' builders (real rows in the real tables)
plus diagnoses, pregnancy check-ups and lab results."""

import datetime as dt

import pytest

from healthbook.models import Citizen, LabObservation, PregnancyCheckup
from tests.healthbook.reminders.conftest import vaccine_list  # noqa: F401 (fixture)
from tests.provinces.conftest import (  # noqa: F401 (re-exported builders)
    appointment,
    at,
    citizen,
    encounter,
    facility,
    immunization,
    submission,
    today,
)


def days_ago(n: int) -> dt.date:
    return today() - dt.timedelta(days=n)


def person(province: str = "01", *, commune: str = "", born: dt.date | None = None, sex: int | None = None) -> Citizen:
    c = citizen(province, born=born)
    Citizen.objects.filter(pk=c.pk).update(residence_commune_code=commune, sex=sex)
    c.refresh_from_db()
    return c


def visit(c: Citizen, fac, on: dt.date, dx: str = "", secondary: list[str] | None = None):
    e = encounter(c, fac, on)
    e.main_diagnosis = dx
    e.secondary_diagnoses = secondary or []
    e.save(update_fields=["main_diagnosis", "secondary_diagnoses"])
    return e


def checkup(c: Citizen, fac, on: dt.date, *, due: dt.date | None):
    return PregnancyCheckup.objects.create(
        book=c.book,
        facility=fac,
        submission=submission(fac),
        occurred_at=at(on),
        expected_delivery_date=due,
        source_key=f"pc-{c.pk}-{on}",
    )


def lab(c: Citizen, fac, on: dt.date, indicator: str, flag: str):
    return LabObservation.objects.create(
        book=c.book,
        facility=fac,
        submission=submission(fac),
        occurred_at=at(on),
        indicator_code=indicator,
        abnormal_flag=flag,
        source_key=f"lab-{c.pk}-{on}-{indicator}",
    )


@pytest.fixture
def icd10(db):
    """The ICD-10 list's groups (chronic …), as shipped."""
    from tests.codelists import factories as cf

    return cf.system("icd10", max_code_length=20)
