"""Issue 17, point 4, through the real path: a signed XML 130 file posted to the endpoint and
processed against the seed lists as `load_codelists` loads them (QĐ 4469 ICD-10 with its annex
properties, QĐ 4440 ICD-9-CM). The annex rules and the ICD-9-CM codes of XML1 and XML3 are
warnings by default (the visit is kept), and `INTAKE_SEVERITY_OVERRIDES` makes any of them an
error, as for every other intake rule."""

import random
from datetime import datetime, timedelta
from io import StringIO

import pytest
from django.core.management import call_command

from healthbook.intake.demo.submissions import build_envelope, load_seed, make_citizen, make_visit
from healthbook.models import Encounter

from .conftest import FACILITY, process, sign

pytestmark = pytest.mark.django_db


@pytest.fixture
def seed_lists(db):
    call_command(
        "load_codelists", "icd10", "icd9cm", "visit-type", "treatment-result", "discharge-type", stdout=StringIO()
    )


def _envelope(spec, today, pki):
    rng = random.Random(5)
    icd, labs = load_seed()
    when = datetime.combine(today - timedelta(days=1), datetime.min.time()).replace(hour=9)
    visit = make_visit(rng, make_citizen(rng, 3), FACILITY, 1, when, icd, labs, 2, 1)
    xml1 = visit["XML1"][0]
    xml1.update(
        GIOI_TINH="1",  # a man …
        NGAY_SINH="198001010000",  # … of 45
        MA_BENH_CHINH="B95.0",  # annex A2: never the main diagnosis
        MA_BENH_KT="A34;A33",  # A34 women only (A4.1); A33 newborns only (A3.1)
        MA_PTTT_QT="88.73;12.345",  # a QĐ 4440 code, and one that is not
    )
    visit["XML3"][0]["MA_PTTT_QT"] = "99.99X"
    return sign(build_envelope(FACILITY, [visit], today, spec), pki["valid"])


def _findings(sub):
    return {(p.code, p.table, p.field, p.value, p.severity) for p in sub.problems.all()}


def test_annex_rules_and_icd9cm_codes_are_warnings_and_the_visit_is_kept(sender, pki, spec, today, seed_lists):
    sub = process(sender.post(_envelope(spec, today, pki)))
    assert sub.status == "accepted_with_warnings"
    found = _findings(sub)
    assert ("ICD10_NOT_MAIN", "XML1", "MA_BENH_CHINH", "B95.0", "warning") in found
    assert ("ICD10_SEX", "XML1", "MA_BENH_KT", "A34", "warning") in found
    assert ("ICD10_AGE", "XML1", "MA_BENH_KT", "A33", "warning") in found
    assert ("CODE_UNKNOWN", "XML1", "MA_PTTT_QT", "12.345", "warning") in found
    assert ("CODE_UNKNOWN", "XML3", "MA_PTTT_QT", "99.99X", "warning") in found
    assert not any(f[3] == "88.73" for f in found)  # in the list: nothing to say
    assert Encounter.objects.get().procedures == ["88.73", "12.345"]


def test_each_rule_can_be_made_an_error(sender, pki, spec, today, seed_lists, settings):
    settings.INTAKE_SEVERITY_OVERRIDES = {"ICD10_SEX": "error", "CODE_UNKNOWN:XML3:MA_PTTT_QT": "error"}
    sub = process(sender.post(_envelope(spec, today, pki)))
    assert sub.status == "rejected"
    errors = {(p.code, p.table) for p in sub.problems.filter(severity="error")}
    assert errors == {("ICD10_SEX", "XML1"), ("CODE_UNKNOWN", "XML3")}
    assert not Encounter.objects.exists()
