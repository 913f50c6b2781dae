"""Done-when: a submission from the held-out generator (not ours), POSTed to the endpoint, lands
in the book with the right codes and dates: the visit, its labs, drugs and follow-up."""

import importlib.util
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone

from facilities.models import Facility
from healthbook.models import Citizen, Encounter, FollowUpAppointment, LabObservation, Medication
from tests import factories as f

from .conftest import make_sender, process

pytestmark = pytest.mark.django_db
HELDOUT = Path(__file__).resolve().parents[2] / "fixtures" / "xml130" / "heldout_build.py"


def _local(at) -> str:
    return timezone.localtime(at).strftime("%Y%m%d%H%M")


@pytest.fixture
def landed(tmp_path, intake_codelists):
    from healthbook.intake.demo.pki import make_pki

    spec = importlib.util.spec_from_file_location("heldout_build", HELDOUT)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    pki = make_pki(tmp_path / "pki", facility="48195")
    facility = f.FacilityFactory(code="48195", name="Trung tâm Y tế thử nghiệm", province=f.province("48"))
    sender = make_sender(facility, {"valid": pki["valid"], "ca": pki["ca"]})
    # Yesterday in Vietnam: the file's times (07:42-10:15 local) are then always past. With the UTC
    # date, a run just after 00:00 UTC (07:00 in Vietnam) found the admission later that day:
    # TIME_IN_FUTURE, the file rejected.
    visit = timezone.localdate() - timedelta(days=1)
    day, follow = f"{visit:%Y%m%d}", f"{visit + timedelta(days=14):%Y%m%d}"
    leaf = pki["valid"]
    body = mod.sign(mod.build(day, follow), leaf.key_path.read_bytes(), leaf.cert_path.read_bytes())
    return process(sender.post(body)), mod.expected(day, follow)


def test_heldout_submission_is_accepted(landed):
    sub, _exp = landed
    # A pre-reform file (district 490, old commune 20194 of Đà Nẵng): accepted, the old commune
    # code only a warning (issue 16: no trusted old -> new commune correspondence).
    problems = list(sub.problems.values_list("code", "table", "field"))
    assert sub.status in ("accepted", "accepted_with_warnings"), problems
    assert problems in ([], [("RESIDENCE_COMMUNE_UNKNOWN", "XML1", "MAXA_CU_TRU")])


def test_heldout_visit_is_in_the_book_with_codes_and_times(landed):
    _sub, exp = landed
    enc = Encounter.objects.select_related("book__citizen", "facility").get()
    assert (enc.facility.code, enc.key, enc.visit_type) == (exp["facility"], exp["ma_lk"], exp["visit_type"])
    assert (enc.main_diagnosis, enc.secondary_diagnoses) == (exp["main_diagnosis"], exp["secondary_diagnoses"])
    assert (_local(enc.admitted_at), _local(enc.discharged_at)) == (exp["admitted"], exp["discharged"])
    assert enc.icd10_version is not None and enc.codelist_versions["icd10"] == enc.icd10_version_id
    citizen = enc.book.citizen
    assert (citizen.personal_id, citizen.social_insurance_number) == (
        exp["personal_id"],
        exp["social_insurance_number"],
    )
    assert Citizen.objects.count() == 1 and Facility.objects.get(code="48195").status == "connected"


def test_heldout_labs_drugs_and_follow_up_are_in_the_book(landed):
    _sub, exp = landed
    labs = [
        (x.indicator_code, x.value, x.unit, _local(x.occurred_at))
        for x in LabObservation.objects.order_by("source_key")
    ]
    assert labs == exp["labs"]
    glucose = LabObservation.objects.get(indicator_code="Glucose")
    assert glucose.abnormal_flag == "H" and glucose.reference_range  # 9.8 above 6.4 (seed range)
    drugs = [(d.code, d.quantity, _local(d.ordered_at)) for d in Medication.objects.order_by("source_key")]
    assert drugs == exp["drugs"]
    (fu,) = FollowUpAppointment.objects.all()
    assert fu.appointment_date.strftime("%Y%m%d") == exp["follow_up"]
    assert [d.strftime("%Y%m%d") for d in Encounter.objects.get().follow_up_dates] == [exp["follow_up"]]
