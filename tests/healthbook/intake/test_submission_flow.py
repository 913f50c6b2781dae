"""POST → stored → processed → in the book: the submission endpoint end to end (worker step
called directly; the real-worker tests are in test_worker.py)."""

import base64

import pytest

from facilities.models import FacilityDailyHealth, FacilityStatus
from healthbook.models import (
    Citizen,
    Encounter,
    EncounterHistory,
    FollowUpAppointment,
    HealthBook,
    LabObservation,
    Medication,
    NameWord,
    Submission,
    SubmissionPayload,
)

from .conftest import FACILITY, process, sign

pytestmark = pytest.mark.django_db


def test_signed_envelope_is_stored_then_accepted_into_a_new_book(sender, signed, intake_codelists):
    response = sender.post(signed)
    assert response.status_code == 202
    sub = Submission.objects.get(public_id=response.json()["id"])
    assert bytes(SubmissionPayload.objects.get(submission=sub).body) == signed
    assert sub.status == "received"
    sub = process(response)
    assert sub.status in ("accepted", "accepted_with_warnings"), list(sub.problems.values_list("code", "field"))
    assert sub.error_count == 0 and sub.encounters_created == 2
    book = HealthBook.objects.get()
    assert book.created_via == HealthBook.CreatedVia.FACILITY_DATA
    assert Encounter.objects.filter(book=book).count() == 2
    assert LabObservation.objects.filter(book=book).count() == 40
    assert Medication.objects.filter(book=book).count() == 10
    assert FollowUpAppointment.objects.filter(book=book).count() == 1


def test_citizen_created_from_facility_data_adds_its_name_words(sender, signed, intake_codelists):
    # The finder corrects misspelt names against these words (healthbook.selectors).
    process(sender.post(signed))
    citizen = Citizen.objects.get()
    assert citizen.search_name
    assert set(citizen.search_name.split()) <= set(NameWord.objects.values_list("word", flat=True))


def test_base64_envelope_is_accepted(sender, signed, intake_codelists):
    sub = process(sender.post(base64.b64encode(signed), "text/plain"))
    assert sub.status in ("accepted", "accepted_with_warnings")


def test_status_endpoint_gives_problems_in_vietnamese(sender, unsigned, pki, intake_codelists):
    body = sign(unsigned.replace(b"<MACSKCB>01001<", b"<MACSKCB>01002<"), pki["valid"])
    sub = process(sender.post(body))
    data = sender.get(sub.public_id).json()
    assert data["status"] == "rejected"
    (p,) = data["problems"]
    assert p["code"] == "ENVELOPE_FACILITY_MISMATCH" and p["field"] == "MACSKCB"
    assert "cơ sở" in p["message"].lower()


def test_other_facility_gets_404_for_a_submission(sender, signed, facility_b, pki, intake_codelists):
    from .conftest import make_sender

    sub = process(sender.post(signed))
    other = make_sender(facility_b, {})
    assert other.get(sub.public_id).status_code == 404
    assert sender.get(sub.public_id).status_code == 200


def test_same_content_twice_changes_nothing(sender, signed, intake_codelists):
    process(sender.post(signed))
    before = list(Encounter.objects.values_list("pk", "version", "updated_at"))
    labs = LabObservation.objects.count()
    second = process(sender.post(signed))
    assert second.encounters_unchanged == 2 and second.encounters_created == 0
    assert second.duplicate_of_id is not None
    assert list(Encounter.objects.values_list("pk", "version", "updated_at")) == before
    assert LabObservation.objects.count() == labs and EncounterHistory.objects.count() == 0


def test_changed_content_makes_a_new_version_and_keeps_the_old(sender, visits, spec, today, pki, intake_codelists):
    import copy

    from healthbook.intake.demo.submissions import build_envelope

    process(sender.post(sign(build_envelope(FACILITY, visits, today, spec), pki["valid"])))
    changed = copy.deepcopy(visits)
    changed[0]["XML4"][0]["GIA_TRI"] = "99.99"
    sub = process(sender.post(sign(build_envelope(FACILITY, changed, today, spec), pki["valid"])))
    assert (sub.encounters_updated, sub.encounters_unchanged) == (1, 1)
    enc = Encounter.objects.get(key=changed[0]["XML1"][0]["MA_LK"])
    assert enc.version == 2
    (old,) = EncounterHistory.objects.filter(encounter=enc)
    assert old.version == 1 and len(old.data["labobservation"]) == 20
    assert LabObservation.objects.filter(encounter=enc, value="99.99").count() == 1
    assert LabObservation.objects.filter(encounter=enc).count() == 20


def test_idempotency_key_replays_the_first_answer(sender, signed, intake_codelists):
    first = sender.post(signed, **{"Idempotency-Key": "abc-1"})
    again = sender.post(signed, **{"Idempotency-Key": "abc-1"})
    assert again.status_code == 202 and again.json() == first.json()
    assert again["Idempotent-Replayed"] == "true"
    assert Submission.objects.count() == 1


def test_idempotency_key_with_another_body_is_422(sender, signed, intake_codelists):
    sender.post(signed, **{"Idempotency-Key": "abc-2"})
    response = sender.post(signed + b" ", **{"Idempotency-Key": "abc-2"})
    assert response.status_code == 422 and response.json()["code"] == "idempotency_key_reused"
    assert Submission.objects.count() == 1


def test_connection_lost_after_commit_then_retry_is_still_one(sender, signed, intake_codelists):
    """R7: the answer is lost after the commit; the retry (same key) gets the stored answer."""
    lost = sender.post(signed, **{"Idempotency-Key": "r7"})  # the client never sees this
    process(lost)
    retry = sender.post(signed, **{"Idempotency-Key": "r7"})
    assert retry.json()["id"] == lost.json()["id"]
    assert Submission.objects.count() == 1 and Encounter.objects.count() == 2


def test_first_accepted_submission_connects_an_approved_facility(sender, signed, intake_codelists):
    process(sender.post(signed))
    sender.facility.refresh_from_db()
    assert sender.facility.status == FacilityStatus.CONNECTED
    day = FacilityDailyHealth.objects.get(facility=sender.facility)
    assert (day.received, day.accepted, day.rejected) == (1, 1, 0)


def test_rejected_submission_counts_as_rejected(sender, intake_codelists):
    process(sender.post(b"<GIAMDINHHS>"))
    day = FacilityDailyHealth.objects.get(facility=sender.facility)
    assert (day.received, day.accepted, day.rejected) == (1, 0, 1)
    sender.facility.refresh_from_db()
    assert sender.facility.status == FacilityStatus.APPROVED


def test_citizen_matched_by_personal_id_name_difference_holds_the_submission(sender, signed, visits, intake_codelists):
    xml1 = visits[0]["XML1"][0]
    citizen = Citizen.objects.create(personal_id=xml1["SO_CCCD"], full_name="Tên Khác Hẳn")
    HealthBook.objects.create(citizen=citizen, created_via=HealthBook.CreatedVia.CARD_IMPORT)
    sub = process(sender.post(signed))
    assert sub.status == "held"  # issue 15: a contradiction is reviewed, never attached silently
    assert "PATIENT_NAME_MISMATCH" in set(sub.problems.values_list("code", flat=True))
    citizen.refresh_from_db()
    assert citizen.full_name == "Tên Khác Hẳn"
    assert not Encounter.objects.filter(book__citizen=citizen).exists()


def test_citizen_matched_by_social_insurance_number_when_no_personal_id(
    sender, visits, spec, today, pki, intake_codelists
):
    import copy

    from healthbook.intake.demo.submissions import build_envelope

    v = copy.deepcopy(visits)
    for tables in v:
        tables["XML1"][0]["SO_CCCD"] = ""
    sin = v[0]["XML1"][0]["MA_THE_BHYT"][-10:]
    citizen = Citizen.objects.create(social_insurance_number=sin, full_name=v[0]["XML1"][0]["HO_TEN"])
    HealthBook.objects.create(citizen=citizen, created_via=HealthBook.CreatedVia.CARD_IMPORT)
    sub = process(sender.post(sign(build_envelope(FACILITY, v, today, spec), pki["valid"])))
    assert sub.error_count == 0
    assert Encounter.objects.filter(book__citizen=citizen).count() == 2
    assert Citizen.objects.count() == 1


def test_unknown_main_diagnosis_rejects_and_reprocess_accepts_after_the_list_is_fixed(
    sender, visits, spec, today, pki, intake_codelists
):
    import copy

    from codelists import in_force
    from healthbook.intake.demo.submissions import build_envelope
    from healthbook.intake.services import submission_reprocess
    from tests.codelists import factories as cf

    v = copy.deepcopy(visits)
    v[0]["XML1"][0]["MA_BENH_CHINH"] = "U07.1"
    sub = process(sender.post(sign(build_envelope(FACILITY, v, today, spec), pki["valid"])))
    assert sub.status == "rejected"
    assert ("CODE_UNKNOWN", "MA_BENH_CHINH") in set(sub.problems.values_list("code", "field"))
    assert Encounter.objects.count() == 0
    # the ministry adds the code (a new edition in force), then a staff member reprocesses
    from codelists.models import CodeSystemVersion

    CodeSystemVersion.objects.filter(system__key="icd10").update(effective_to=today)
    import datetime as dt

    cf.version(
        cf.system("icd10"),
        "2",
        [("U07.1", "COVID-19")]
        + [
            (c.code, c.display_vi)
            for c in cf.CodeSystemVersion.objects.get(system__key="icd10", label="seed").concepts.all()
        ],
        effective_from=today - dt.timedelta(days=400),
    )
    CodeSystemVersion.objects.filter(system__key="icd10", label="seed").update(
        effective_to=today - dt.timedelta(days=400)
    )
    in_force.forget()  # what the commit's notification does in every process (not sent in a test transaction)
    submission_reprocess(submission=sub, acting_user=None)
    from healthbook.intake.processing import submission_process

    submission_process(submission_id=sub.pk)
    sub.refresh_from_db()
    assert sub.status in ("accepted", "accepted_with_warnings"), list(sub.problems.values_list("code", "field"))
    assert Encounter.objects.count() == 2


def test_signature_not_required_switch_allows_unsigned_pilot(sender, unsigned, intake_codelists):
    sender.facility.signature_required = False
    sender.facility.save(update_fields=["signature_required"])
    sub = process(sender.post(unsigned))
    assert sub.error_count == 0 and not sub.signature_verified


def test_unsigned_is_rejected_by_default(sender, unsigned, intake_codelists):
    sub = process(sender.post(unsigned))
    assert sub.status == "rejected" and "SIG_MISSING" in set(sub.problems.values_list("code", flat=True))


def test_fhir_bundle_lands_in_the_book(sender, pki, intake_codelists):
    import random
    from datetime import datetime

    from healthbook.intake.demo.submissions import build_fhir_bundle, make_citizen
    from healthbook.intake.jws import sign_detached
    from healthbook.models import Immunization, PregnancyCheckup

    rng = random.Random(3)
    c = make_citizen(rng, 5)
    c["female"], c["born"] = True, c["born"].replace(year=1995)
    body, expected = build_fhir_bundle(rng, c, FACILITY, datetime(2025, 3, 1, 9))
    jws = sign_detached(body, pki["valid"].key, kid=FACILITY)
    sub = process(sender.post(body, "application/fhir+json", **{"X-Signature": jws}))
    assert sub.error_count == 0, list(sub.problems.values_list("code", "table", "field"))
    assert Immunization.objects.count() == 1 and PregnancyCheckup.objects.count() == 1
    ck = PregnancyCheckup.objects.get()
    assert (ck.systolic_mmhg, ck.diastolic_mmhg, ck.fetal_heart_rate_bpm) == (110, 70, 142)
    assert Medication.objects.get().prescription_code
    again = process(sender.post(body, "application/fhir+json", **{"X-Signature": jws}))
    assert again.error_count == 0
    assert Immunization.objects.count() == 1 and Medication.objects.count() == 1


def test_fhir_without_signature_is_rejected(sender, pki, intake_codelists):
    body = b'{"resourceType":"Bundle","type":"collection","entry":[]}'
    sub = process(sender.post(body, "application/fhir+json"))
    assert sub.status == "rejected" and list(sub.problems.values_list("code", flat=True)) == ["JWS_MISSING"]
