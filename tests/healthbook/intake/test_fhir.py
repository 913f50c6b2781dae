"""FHIR bundles and the detached JWS in X-Signature."""

import json
from datetime import UTC, datetime, timedelta

from healthbook.intake.fhir_bundle import SYSTEMS, read_bundle
from healthbook.intake.jws import b64url, sign_detached, verify_detached
from healthbook.intake.pipeline import read_fhir_submission

from .conftest import FACILITY, codes


def bundle(*resources, patient=True):
    entries = []
    if patient:
        entries.append(
            {
                "resourceType": "Patient",
                "id": "p1",
                "identifier": [{"system": SYSTEMS["personal_id"], "value": "001080000001"}],
                "name": [{"text": "Trần Thị Thử"}],
                "gender": "female",
                "birthDate": "1990-05",
            }
        )
    entries += resources
    return json.dumps(
        {"resourceType": "Bundle", "type": "collection", "entry": [{"resource": r} for r in entries]}
    ).encode()


def obs(code, enc="e1", **value):
    return {
        "resourceType": "Observation",
        "id": f"o{code}",
        "status": "final",
        "code": {"coding": [{"system": "http://loinc.org", "code": code}]},
        "subject": {"reference": "Patient/p1"},
        "encounter": {"reference": f"Encounter/{enc}"},
        "effectiveDateTime": "2025-03-01T09:00:00+07:00",
        **value,
    }


ENC = {
    "resourceType": "Encounter",
    "id": "e1",
    "status": "finished",
    "class": {"code": "AMB"},
    "subject": {"reference": "Patient/p1"},
    "period": {"start": "2025-03-01T09:00:00+07:00"},
}


def test_pregnancy_checkup_observations_are_mapped():
    q = lambda v, u: {"valueQuantity": {"value": v, "unit": u}}  # noqa: E731
    body = bundle(
        ENC,
        obs("11884-4", **q(24, "wk")),
        obs("29463-7", **q(61.2, "kg")),
        obs("11881-0", **q(23, "cm")),
        obs("55283-6", **q(145, "/min")),
        obs("11778-8", valueDateTime="2025-06-20"),
        {
            **obs("85354-9"),
            "component": [
                {"code": {"coding": [{"system": "http://loinc.org", "code": "8480-6"}]}, **q(115, "mmHg")},
                {"code": {"coding": [{"system": "http://loinc.org", "code": "8462-4"}]}, **q(75, "mmHg")},
            ],
        },
    )
    r = read_bundle(body, facility_code=FACILITY)
    assert r.problems == []
    ck = r.visits[0].pregnancy_checkups[0]
    assert (ck.gestational_age_weeks, ck.weight_kg, ck.fundal_height_cm, ck.fetal_heart_rate_bpm) == (
        "24",
        "61.2",
        "23",
        "145",
    )
    assert (ck.systolic_mmhg, ck.diastolic_mmhg) == ("115", "75")
    assert ck.expected_delivery_date.value.isoformat() == "2025-06-20"
    assert r.patient.birth_date.precision == "month" and r.patient.personal_id == "001080000001"


def test_prescription_code_and_immunization_and_appointment_are_mapped():
    body = bundle(
        {
            "resourceType": "MedicationRequest",
            "id": "m1",
            "status": "active",
            "intent": "order",
            "identifier": [{"system": SYSTEMS["prescription"], "value": "01001ABCDEFG-c"}],
            "medicationCodeableConcept": {"coding": [{"code": "40.1", "display": "Paracetamol"}]},
            "subject": {"reference": "Patient/p1"},
        },
        {
            "resourceType": "Immunization",
            "id": "i1",
            "status": "completed",
            "vaccineCode": {"coding": [{"code": "TCMR-BCG"}]},
            "patient": {"reference": "Patient/p1"},
            "occurrenceDateTime": "2025-01-02",
            "protocolApplied": [{"doseNumberPositiveInt": 1}],
        },
        {
            "resourceType": "Appointment",
            "id": "a1",
            "status": "booked",
            "start": "2025-04-01T08:00:00+07:00",
            "end": "2025-04-01T08:30:00+07:00",
            "participant": [{"actor": {"reference": "Patient/p1"}, "status": "accepted"}],
        },
    )
    r = read_bundle(body, facility_code=FACILITY)
    v = r.visits[0]
    assert v.encounter is None
    assert v.medications[0].prescription_code == "01001ABCDEFG-c" and v.medications[0].code == "40.1"
    assert v.immunizations[0].vaccine_code == "TCMR-BCG" and v.immunizations[0].dose_number == "1"
    assert v.follow_ups[0].appointment_at.isoformat() == "2025-04-01T08:00:00+07:00"


def test_short_prescription_code_is_a_warning():
    body = bundle(
        {
            "resourceType": "MedicationRequest",
            "id": "m1",
            "status": "active",
            "intent": "order",
            "identifier": [{"system": SYSTEMS["prescription"], "value": "123"}],
            "medicationCodeableConcept": {"text": "x"},
            "subject": {"reference": "Patient/p1"},
        }
    )
    assert [(p.code, p.severity) for p in read_bundle(body, facility_code=FACILITY).problems] == [
        ("FHIR_PRESCRIPTION_CODE", "warning")
    ]


def test_death_notice_document_is_mapped_and_unknown_document_type_refused():
    doc = {
        "resourceType": "DocumentReference",
        "id": "d1",
        "status": "current",
        "type": {"coding": [{"system": SYSTEMS["document_type"], "code": "death-notice"}]},
        "subject": {"reference": "Patient/p1"},
        "content": [{"attachment": {"contentType": "application/pdf", "data": "JVBERi0="}}],
    }
    r = read_bundle(bundle(doc), facility_code=FACILITY)
    assert r.visits[0].documents[0].kind == "death_notice" and r.visits[0].documents[0].content == b"%PDF-"
    other = {**doc, "type": {"coding": [{"system": "http://loinc.org", "code": "11506-3"}]}}
    assert codes(read_bundle(bundle(other), facility_code=FACILITY).problems) == ["FHIR_DOCUMENT_TYPE"]


def test_unsupported_resources_are_named_and_kept_as_received():
    r = read_bundle(bundle({"resourceType": "Claim", "id": "c1"}), facility_code=FACILITY)
    assert [(p.code, p.table, p.severity) for p in r.problems] == [("FHIR_UNSUPPORTED_RESOURCE", "Claim", "warning")]
    assert r.visits[0].received_resources == [{"resourceType": "Claim", "id": "c1"}]


def test_invalid_resource_and_missing_patient_are_problems():
    bad = {
        "resourceType": "Encounter",
        "id": "e9",
        "status": "finished",
        "class": {"code": "AMB"},
        "period": {"start": "yesterday"},
    }
    assert codes(read_bundle(bundle(bad, patient=False), facility_code=FACILITY).problems) == [
        "FHIR_INVALID",
        "FHIR_PATIENT_MISSING",
    ]


def test_reference_to_another_patient_is_refused():
    enc = {**ENC, "subject": {"reference": "Patient/someone-else"}}
    assert codes(read_bundle(bundle(enc), facility_code=FACILITY).problems) == ["FHIR_REFERENCE"]


def test_not_json_and_not_bundle():
    assert codes(read_bundle(b"{", facility_code=FACILITY).problems) == ["FHIR_JSON"]
    assert codes(read_bundle(b'{"resourceType":"Patient"}', facility_code=FACILITY).problems) == ["FHIR_NOT_BUNDLE"]


# --- JWS ----------------------------------------------------------------------------------


def test_rs256_ps256_es256_verify(pki):
    body = bundle()
    for leaf, alg in (("valid", "RS256"), ("valid", "PS256"), ("valid_ec", "ES256")):
        jws = sign_detached(body, pki[leaf].key, alg=alg, kid=leaf)
        r = verify_detached(body, jws, {leaf: pki[leaf].cert})
        assert r.ok and r.alg == alg


def test_changed_body_fails(pki):
    body = bundle()
    jws = sign_detached(body, pki["valid"].key)
    assert verify_detached(body + b" ", jws, {"k": pki["valid"].cert}).code == "JWS_KEY_UNKNOWN"


def _forged(alg):
    h = b64url(json.dumps({"alg": alg}).encode())
    return f"{h}..{b64url(b'sig')}"


def test_alg_none_and_hmac_are_refused(pki):
    keys = {"k": pki["valid"].cert}
    assert verify_detached(b"{}", _forged("none"), keys).code == "JWS_ALG_NONE"
    assert verify_detached(b"{}", _forged("HS256"), keys).code == "JWS_ALG_HMAC"
    assert verify_detached(b"{}", _forged("RS1"), keys).code == "JWS_ALG"


def test_missing_malformed_and_crit(pki):
    keys = {"k": pki["valid"].cert}
    assert verify_detached(b"{}", None, keys).code == "JWS_MISSING"
    assert verify_detached(b"{}", "a.b", keys).code == "JWS_MALFORMED"
    h = b64url(json.dumps({"alg": "RS256", "crit": ["exp"], "exp": 1}).encode())
    assert verify_detached(b"{}", f"{h}..AAAA", keys).code == "JWS_CRIT"


def test_attached_payload_must_be_the_body(pki):
    jws = sign_detached(b"{}", pki["valid"].key)
    h, _, s = jws.split(".")
    assert verify_detached(b"{}", f"{h}.{b64url(b'[]')}.{s}", {"k": pki["valid"].cert}).code == "JWS_PAYLOAD_MISMATCH"


def test_key_of_another_facility_does_not_verify(pki):
    jws = sign_detached(b"{}", pki["other"].key)
    assert verify_detached(b"{}", jws, {"k": pki["valid"].cert}).code == "JWS_KEY_UNKNOWN"


def test_expired_certificate_key_is_refused(pki):
    jws = sign_detached(b"{}", pki["expired"].key)
    assert verify_detached(b"{}", jws, {"k": pki["expired"].cert}).code == "JWS_CERT_EXPIRED"
    past = datetime.now(UTC) - timedelta(days=100)
    assert verify_detached(b"{}", jws, {"k": pki["expired"].cert}, at=past).ok


def test_fhir_pipeline_checks_the_jws_first(pki):
    body = bundle()
    jws = sign_detached(body, pki["valid"].key, kid=FACILITY)
    assert read_fhir_submission(body, facility_code=FACILITY, jws=jws, keys={FACILITY: pki["valid"].cert}).ok
    assert codes(read_fhir_submission(body, facility_code=FACILITY, jws=None, keys={}).problems) == ["JWS_MISSING"]
