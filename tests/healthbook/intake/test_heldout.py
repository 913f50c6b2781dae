"""A submission built by the held-out generator (not ours) is read with the right codes and dates."""

import importlib.util
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from healthbook.intake.pipeline import read_xml_submission

HELDOUT = Path(__file__).resolve().parents[2] / "fixtures" / "xml130" / "heldout_build.py"


@pytest.fixture(scope="module")
def heldout():
    spec = importlib.util.spec_from_file_location("heldout_build", HELDOUT)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


@pytest.fixture(scope="module")
def pki48195(tmp_path_factory):
    from healthbook.intake.demo.pki import make_pki

    return make_pki(tmp_path_factory.mktemp("pki48"), facility="48195")


@pytest.fixture(scope="module")
def case(heldout, pki48195):
    today = datetime.now(UTC).date()
    day, follow = f"{today:%Y%m%d}", f"{today + timedelta(days=14):%Y%m%d}"
    leaf = pki48195["valid"]
    body = heldout.sign(heldout.build(day, follow), leaf.key_path.read_bytes(), leaf.cert_path.read_bytes())
    result = read_xml_submission(body, facility_code="48195", certificates=[leaf.cert])
    return result, heldout.expected(day, follow)


def test_heldout_envelope_is_accepted_without_problems(case):
    result, _ = case
    assert result.signature.ok and result.status == "accepted", [(p.code, p.table, p.field) for p in result.problems]


def test_heldout_visit_codes_and_times(case):
    result, exp = case
    (visit,) = result.visits
    e = visit.encounter
    assert (e.facility_code, e.key, e.visit_type) == (exp["facility"], exp["ma_lk"], exp["visit_type"])
    assert (e.main_diagnosis, e.secondary_diagnoses) == (exp["main_diagnosis"], exp["secondary_diagnoses"])
    assert e.admitted_at.strftime("%Y%m%d%H%M") == exp["admitted"]
    assert e.discharged_at.strftime("%Y%m%d%H%M") == exp["discharged"]
    assert e.admitted_at.utcoffset() == timedelta(hours=7)
    assert visit.patient.personal_id == exp["personal_id"]
    assert visit.patient.social_insurance_number == exp["social_insurance_number"]


def test_heldout_labs_and_drugs(case):
    result, exp = case
    (visit,) = result.visits
    labs = [(x.indicator_code, x.value, x.unit, x.resulted_at.strftime("%Y%m%d%H%M")) for x in visit.lab_results]
    drugs = [(d.code, d.quantity, d.ordered_at.strftime("%Y%m%d%H%M")) for d in visit.medications]
    assert labs == exp["labs"] and drugs == exp["drugs"]


def test_heldout_follow_up(case):
    result, exp = case
    (visit,) = result.visits
    (fu,) = visit.follow_ups
    assert fu.appointment_date.value.strftime("%Y%m%d") == exp["follow_up"] and fu.appointment_at is None
    assert [d.value.strftime("%Y%m%d") for d in visit.encounter.follow_up_dates] == [exp["follow_up"]]
