"""A FHIR bundle holding every resource type of the whole clinical record (issue 17, point 1),
for the intake, book and $everything tests. No real personal data."""

from __future__ import annotations

import json

from healthbook.intake.fhir_bundle import SYSTEMS

PATIENT_ID = "001080000017"
LAB_SYSTEM = "https://sskdt.example.vn/fhir/CodeSystem/lab-indicator"


def _ref(kind: str, rid: str) -> dict:
    return {"reference": f"{kind}/{rid}"}


def resources(*, when: str = "2025-03-01T09:00:00+07:00", enc: str = "e17") -> list[dict]:
    subject = _ref("Patient", "p17")
    visit = _ref("Encounter", enc)
    return [
        {
            "resourceType": "Patient",
            "id": "p17",
            "identifier": [{"system": SYSTEMS["personal_id"], "value": PATIENT_ID}],
            "name": [{"text": "Lê Thị Hồ Sơ"}],
            "gender": "female",
            "birthDate": "1980-07-14",
        },
        {
            "resourceType": "Encounter",
            "id": enc,
            "status": "finished",
            "class": {"code": "AMB"},
            "identifier": [{"system": SYSTEMS["ma_lk"], "value": "LK17-1"}],
            "subject": subject,
            "period": {"start": when},
            "reasonCode": [{"coding": [{"system": "http://hl7.org/fhir/sid/icd-10", "code": "I10"}]}],
        },
        {  # the problem list: not tied to the visit
            "resourceType": "Condition",
            "id": "cond-e11",
            "clinicalStatus": {"coding": [{"code": "active"}]},
            "category": [{"coding": [{"code": "problem-list-item"}]}],
            "code": {"coding": [{"system": "http://hl7.org/fhir/sid/icd-10", "code": "E11"}]},
            "subject": subject,
            "onsetDateTime": "2019-05",
        },
        {  # a diagnosis of the visit
            "resourceType": "Condition",
            "id": "cond-j06",
            "clinicalStatus": {"coding": [{"code": "resolved"}]},
            "category": [{"coding": [{"code": "encounter-diagnosis"}]}],
            "code": {"coding": [{"system": "http://hl7.org/fhir/sid/icd-10", "code": "J06"}]},
            "subject": subject,
            "encounter": visit,
        },
        {  # SNOMED CT
            "resourceType": "AllergyIntolerance",
            "id": "alg-pen",
            "clinicalStatus": {"coding": [{"code": "active"}]},
            "type": "allergy",
            "category": ["medication"],
            "criticality": "high",
            "code": {"coding": [{"system": "http://snomed.info/sct", "code": "91936005", "display": "Penicillin"}]},
            "patient": subject,
            "reaction": [{"manifestation": [{"text": "Nổi mề đay"}]}],
        },
        {  # a national drug code
            "resourceType": "AllergyIntolerance",
            "id": "alg-drug",
            "code": {"coding": [{"system": "https://sskdt.example.vn/fhir/CodeSystem/drug", "code": "40.1"}]},
            "patient": subject,
        },
        {  # free text only
            "resourceType": "AllergyIntolerance",
            "id": "alg-text",
            "code": {"text": "Tôm cua"},
            "category": ["food"],
            "patient": subject,
        },
        {
            "resourceType": "Procedure",
            "id": "proc-1",
            "status": "completed",
            "code": {"coding": [{"system": "http://hl7.org/fhir/sid/icd-9-cm", "code": "89.52"}]},
            "subject": subject,
            "encounter": visit,
            "performedDateTime": when,
            "performer": [{"actor": {"display": "BS. Phạm Văn Thực"}}],
        },
        {
            "resourceType": "DiagnosticReport",
            "id": "rep-1",
            "status": "final",
            "code": {"coding": [{"system": "http://loinc.org", "code": "24323-8", "display": "Sinh hóa máu"}]},
            "subject": subject,
            "encounter": visit,
            "effectiveDateTime": when,
            "result": [_ref("Observation", "lab-glu"), _ref("Observation", "lab-hba1c")],
            "conclusion": "Đường huyết cao",
        },
        {  # national indicator code
            "resourceType": "Observation",
            "id": "lab-glu",
            "status": "final",
            "category": [{"coding": [{"code": "laboratory"}]}],
            "code": {"coding": [{"system": LAB_SYSTEM, "code": "GLU"}]},
            "subject": subject,
            "encounter": visit,
            "effectiveDateTime": when,
            "valueQuantity": {"value": 9.1, "unit": "mmol/L"},
            "referenceRange": [{"low": {"value": 3.9}, "high": {"value": 6.4}}],
            "interpretation": [{"coding": [{"code": "H"}]}],
        },
        {  # LOINC only
            "resourceType": "Observation",
            "id": "lab-hba1c",
            "status": "final",
            "category": [{"coding": [{"code": "laboratory"}]}],
            "code": {"coding": [{"system": "http://loinc.org", "code": "4548-4", "display": "HbA1c"}]},
            "subject": subject,
            "encounter": visit,
            "effectiveDateTime": when,
            "valueQuantity": {"value": 7.2, "unit": "%"},
            "referenceRange": [{"text": "4.0–5.6"}],
        },
        {  # a vital sign
            "resourceType": "Observation",
            "id": "vs-hr",
            "status": "final",
            "category": [{"coding": [{"code": "vital-signs"}]}],
            "code": {"coding": [{"system": "http://loinc.org", "code": "8867-4", "display": "Nhịp tim"}]},
            "subject": subject,
            "encounter": visit,
            "effectiveDateTime": when,
            "valueQuantity": {"value": 82, "unit": "/min"},
        },
        {
            "resourceType": "MedicationStatement",
            "id": "ms-1",
            "status": "active",
            "medicationCodeableConcept": {"coding": [{"code": "40.2", "display": "Metformin 500mg"}]},
            "subject": subject,
            "effectiveDateTime": "2025-02-01",
            "dosage": [{"text": "1 viên x 2 lần/ngày"}],
        },
        {
            "resourceType": "MedicationDispense",
            "id": "md-1",
            "status": "completed",
            "medicationCodeableConcept": {"coding": [{"code": "40.3", "display": "Amlodipin 5mg"}]},
            "subject": subject,
            "context": visit,
            "quantity": {"value": 30, "unit": "viên"},
            "whenHandedOver": when,
        },
        {
            "resourceType": "MedicationRequest",
            "id": "mr-1",
            "status": "active",
            "intent": "order",
            "identifier": [{"system": SYSTEMS["prescription"], "value": "01001ABCDEFG-c"}],
            "medicationCodeableConcept": {"coding": [{"code": "40.4", "display": "Losartan 50mg"}]},
            "subject": subject,
        },
        {
            "resourceType": "Immunization",
            "id": "imm-1",
            "status": "completed",
            "vaccineCode": {"coding": [{"code": "TCMR-BCG"}]},
            "patient": subject,
            "occurrenceDateTime": "1980-08-01",
        },
        {
            "resourceType": "Appointment",
            "id": "appt-1",
            "status": "booked",
            "start": "2027-01-04T08:00:00+07:00",
            "end": "2027-01-04T08:30:00+07:00",
            "participant": [{"actor": subject, "status": "accepted"}],
        },
        {
            "resourceType": "DocumentReference",
            "id": "doc-1",
            "status": "current",
            "type": {"coding": [{"system": SYSTEMS["document_type"], "code": "driver-health-certificate"}]},
            "subject": subject,
            "content": [{"attachment": {"contentType": "application/pdf", "data": "JVBERi0="}}],
        },
        {  # not mapped by the book: kept as received
            "resourceType": "FamilyMemberHistory",
            "id": "fmh-1",
            "status": "completed",
            "patient": subject,
            "relationship": {"coding": [{"code": "MTH"}]},
        },
    ]


def bundle(**kw) -> bytes:
    entries = [{"resource": r} for r in resources(**kw)]
    return json.dumps({"resourceType": "Bundle", "type": "collection", "entry": entries}).encode()
