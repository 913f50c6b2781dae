"""The book's rows as FHIR R4 resources for `Patient/$everything` (issue 17): every kind the book
shows. Each resource is built as plain data and passed through its ``fhir.resources`` R4B class
(`as_fhir`), so what is served is valid R4 whatever a facility sent. Ids are "<prefix>-<row id>".

| row | resource |
| --- | --- |
| Encounter diagnoses (ICD-10 of XML1 / reasonCode) | Condition (category encounter-diagnosis) |
| Condition | Condition |
| Allergy | AllergyIntolerance |
| ClinicalProcedure | Procedure |
| DiagnosticReport | DiagnosticReport (result → its Observations) |
| LabObservation (XML4, FHIR laboratory and vital signs) | Observation |
| Medication (XML2 drug given, FHIR statement) | MedicationStatement |
| Medication (FHIR e-prescription) | MedicationRequest |
| Medication (FHIR dispense) | MedicationDispense |
| PregnancyCheckup | Observations (LOINC, one per measurement) |
| Encounter procedure codes (ICD-9-CM of XML1 MA_PTTT_QT) | Procedure |
| ServiceItem (XML3 line: service, exam, bed day, supply; performer and orderer) | ChargeItem |
| ClinicalNote (XML5 clinical course) | DocumentReference (LOINC 11506-3 Progress note, text attachment) |
| FollowUpAppointment | Appointment |
| papers and documents (certificates) | DocumentReference |
| RecordSummary (XML8) | DocumentReference (LOINC 34133-9 "Summary of episode note", the fields as a JSON attachment) |
| ReceivedTable of XML10 / XML12 (any non-sensitive XML table) | DocumentReference (rows as received, JSON) |
| ReceivedTable of a FHIR resource | the resource as received |
| ReceivedTable of XML0 / XML6 / XML15 | nothing (a check-in; HIV and tuberculosis are never served) |
"""

from __future__ import annotations

import base64
import importlib
import json

from django.utils import timezone

from codelists import crosswalk
from facilities.fhir import fhir_base

ICD10 = "http://hl7.org/fhir/sid/icd-10"
ICD9CM = "http://hl7.org/fhir/sid/icd-9-cm"
LOINC = "http://loinc.org"
OBS_CATEGORY = "http://terminology.hl7.org/CodeSystem/observation-category"
INTERPRETATION = "http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation"
CONDITION_CATEGORY = "http://terminology.hl7.org/CodeSystem/condition-category"
CONDITION_CLINICAL = "http://terminology.hl7.org/CodeSystem/condition-clinical"
ALLERGY_CLINICAL = "http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical"
PAPER_TYPE = "https://sskdt.example.vn/fhir/CodeSystem/document-type"

# The resource types $everything returns (besides Patient, and resources kept as received)
SERVED_TYPES = (
    "Encounter",
    "Condition",
    "AllergyIntolerance",
    "Procedure",
    "DiagnosticReport",
    "Observation",
    "MedicationStatement",
    "MedicationRequest",
    "MedicationDispense",
    "Immunization",
    "Appointment",
    "DocumentReference",
    "ChargeItem",
)
_classes: dict[str, type] = {}


def as_fhir(data: dict) -> dict:
    """Validate `data` with its R4B class and return it as JSON-ready data (None fields left out)."""
    name = data["resourceType"]
    cls = _classes.get(name)
    if cls is None:
        cls = _classes[name] = getattr(importlib.import_module(f"fhir.resources.R4B.{name.lower()}"), name)
    return cls.model_validate(data).model_dump(mode="json", exclude_none=True)


def as_received(resource: dict) -> dict | None:
    """A resource kept as received, if it is valid R4 (else it is shown in the book only)."""
    name = resource.get("resourceType")
    if not isinstance(name, str) or not name.isalpha() or not name[:1].isupper() or len(name) > 64:
        return None
    try:
        return as_fhir(resource)
    except (ImportError, AttributeError, ValueError, TypeError, KeyError):  # pydantic's error is a ValueError
        return None


def _ts(value):
    return timezone.localtime(value).isoformat() if value else None


def _concept(system, code, display=None, text=None) -> dict:
    coding = {k: v for k, v in (("system", system or None), ("code", code or None), ("display", display)) if v}
    out = {"coding": [coding]} if code else {}
    if text or (not code and display):
        out["text"] = text or display
    return out


def _context(row, patient_ref: dict) -> dict:
    out = {"subject": patient_ref}
    if row.encounter_id:
        out["encounter"] = {"reference": f"Encounter/enc-{row.encounter_id}"}
    return out


def _clean(d: dict) -> dict:
    return {k: v for k, v in d.items() if v not in (None, "", [], {})}


def diagnosis_conditions(e, patient_ref: dict, icd: dict) -> list[dict]:
    """The ICD-10 diagnoses of a visit (main first) as Conditions of category encounter-diagnosis."""
    codes = [c for c in [e.main_diagnosis, *e.secondary_diagnoses] if c]
    return [
        as_fhir(
            {
                "resourceType": "Condition",
                "id": f"dx-{e.pk}-{i}",
                "category": [{"coding": [{"system": CONDITION_CATEGORY, "code": "encounter-diagnosis"}]}],
                "code": _concept(ICD10, code, icd.get(code) or None),
                "subject": patient_ref,
                "encounter": {"reference": f"Encounter/enc-{e.pk}"},
            }
        )
        for i, code in enumerate(codes)
    ]


def condition(row, patient_ref: dict) -> dict:
    data = {
        "resourceType": "Condition",
        "id": f"cond-{row.pk}",
        "code": _concept(row.code_system, row.code, getattr(row, "display_name", None) or row.display or None),
        **_context(row, patient_ref),
        "onsetDateTime": row.onset_on.isoformat() if row.onset_on else None,
        "abatementDateTime": row.abatement_on.isoformat() if row.abatement_on else None,
        "recordedDate": row.recorded_on.isoformat() if row.recorded_on else None,
        "note": [{"text": row.note}] if row.note else None,
    }
    if row.clinical_status:
        data["clinicalStatus"] = {"coding": [{"system": CONDITION_CLINICAL, "code": row.clinical_status}]}
    if row.category:
        data["category"] = [{"coding": [{"system": CONDITION_CATEGORY, "code": row.category}]}]
    return as_fhir(_clean(data))


def allergy(row, patient_ref: dict) -> dict:
    data = {
        "resourceType": "AllergyIntolerance",
        "id": f"alg-{row.pk}",
        "code": _concept(row.code_system, row.code, row.display or None),
        "patient": patient_ref,
        "encounter": {"reference": f"Encounter/enc-{row.encounter_id}"} if row.encounter_id else None,
        "type": row.type or None,
        "category": [c for c in row.category.split(",") if c] or None,
        "criticality": row.criticality or None,
        "reaction": [{"manifestation": [{"text": t.strip()}]} for t in row.reactions.split(";") if t.strip()] or None,
        "onsetDateTime": row.onset_on.isoformat() if row.onset_on else None,
        "recordedDate": row.recorded_on.isoformat() if row.recorded_on else None,
        "note": [{"text": row.note}] if row.note else None,
    }
    if row.clinical_status:
        data["clinicalStatus"] = {"coding": [{"system": ALLERGY_CLINICAL, "code": row.clinical_status}]}
    return as_fhir(_clean(data))


def procedure(row, patient_ref: dict) -> dict:
    performed = _ts(row.performed_at) or (row.performed_on.isoformat() if row.performed_on else None)
    return as_fhir(
        _clean(
            {
                "resourceType": "Procedure",
                "id": f"proc-{row.pk}",
                "status": row.status or "completed",
                "code": _concept(
                    row.code_system or ICD9CM, row.code, getattr(row, "display_name", None) or row.display or None
                ),
                **_context(row, patient_ref),
                "performedDateTime": performed,
                "performer": [{"actor": {"display": row.performer}}] if row.performer else None,
                "note": [{"text": row.note}] if row.note else None,
            }
        )
    )


def observation(lab, patient_ref: dict, report_ids: dict | None = None) -> dict:
    """A lab result or vital sign (XML4 row or FHIR Observation)."""
    national = lab.code_system in ("", "lab-indicator")
    system = f"{fhir_base()}/CodeSystem/lab-indicator" if national else lab.code_system
    name = getattr(lab, "display_name", None) or lab.indicator_name or lab.indicator_code
    code = _concept(system, lab.indicator_code or lab.service_code or "unknown", None, name)
    if national and lab.indicator_code:  # the LOINC code the national indicator is equivalent to
        for loinc, display in crosswalk.mapped_targets("lab-indicator", [lab.indicator_code], LOINC).get(
            lab.indicator_code, []
        ):
            code["coding"].append(_clean({"system": LOINC, "code": loinc, "display": display or None}))
    data = {
        "resourceType": "Observation",
        "id": f"lab-{lab.pk}",
        "status": "final",
        "category": [{"coding": [{"system": OBS_CATEGORY, "code": lab.category or "laboratory"}]}],
        "code": code,
        **_context(lab, patient_ref),
        "effectiveDateTime": _ts(lab.occurred_at),
        "referenceRange": [{"text": lab.reference_range}] if lab.reference_range else None,
        "note": [{"text": lab.conclusion}] if lab.conclusion else None,
    }
    if lab.value_number is not None:
        data["valueQuantity"] = _clean({"value": float(lab.value_number), "unit": lab.unit or None})
    elif lab.value:
        data["valueString"] = lab.value
    flag = lab.interpretation or lab.abnormal_flag
    if flag:
        data["interpretation"] = [{"coding": [{"system": INTERPRETATION, "code": flag}]}]
    return as_fhir(_clean(data))


def diagnostic_report(row, patient_ref: dict, results: list) -> dict:
    return as_fhir(
        _clean(
            {
                "resourceType": "DiagnosticReport",
                "id": f"rep-{row.pk}",
                "status": row.status or "final",
                "code": _concept(row.code_system, row.code or "unknown", row.display or None),
                **_context(row, patient_ref),
                "effectiveDateTime": _ts(row.occurred_at),
                "issued": _ts(row.issued_at),
                "result": [{"reference": f"Observation/lab-{lab.pk}"} for lab in results],
                "conclusion": row.conclusion or None,
            }
        )
    )


def medication(m, patient_ref: dict) -> dict:
    """XML2 drugs given and FHIR statements: MedicationStatement; e-prescriptions:
    MedicationRequest; dispenses: MedicationDispense."""
    concept = _concept(None, m.code, None, m.name or m.code or "unknown")
    enc = {"reference": f"Encounter/enc-{m.encounter_id}"} if m.encounter_id else None
    dosage = m.usage or m.dosage
    if m.kind == "request" or (not m.kind and m.prescription_code):
        data = {
            "resourceType": "MedicationRequest",
            "id": f"med-{m.pk}",
            "status": m.status or "active",
            "intent": "order",
            "medicationCodeableConcept": concept,
            "subject": patient_ref,
            "encounter": enc,
            "authoredOn": _ts(m.ordered_at),
            "identifier": [
                {"system": "http://fhir.hl7.org.vn/core/sid/don-thuoc-quoc-gia", "value": m.prescription_code}
            ]
            if m.prescription_code
            else None,
            "dosageInstruction": [{"text": dosage}] if dosage else None,
        }
    elif m.kind == "dispense":
        data = {
            "resourceType": "MedicationDispense",
            "id": f"med-{m.pk}",
            "status": m.status or "completed",
            "medicationCodeableConcept": concept,
            "subject": patient_ref,
            "context": enc,
            "whenHandedOver": _ts(m.ordered_at),
            "dosageInstruction": [{"text": dosage}] if dosage else None,
        }
    else:
        data = {
            "resourceType": "MedicationStatement",
            "id": f"med-{m.pk}",
            "status": m.status or "completed",
            "medicationCodeableConcept": concept,
            "subject": patient_ref,
            "context": enc,
            "effectiveDateTime": _ts(m.ordered_at or m.occurred_at),
            "dosage": [{"text": dosage}] if dosage else None,
        }
    return as_fhir(_clean(data))


# PregnancyCheckup field → (LOINC code, unit)
PREGNANCY_FIELDS = (
    ("gestational_age_weeks", "11884-4", "wk"),
    ("weight_kg", "29463-7", "kg"),
    ("systolic_mmhg", "8480-6", "mm[Hg]"),
    ("diastolic_mmhg", "8462-4", "mm[Hg]"),
    ("fundal_height_cm", "11881-0", "cm"),
    ("fetal_heart_rate_bpm", "55283-6", "/min"),
)


def pregnancy_observations(ck, patient_ref: dict) -> list[dict]:
    out = []
    base = {
        "resourceType": "Observation",
        "status": "final",
        **_context(ck, patient_ref),
        "effectiveDateTime": _ts(ck.occurred_at),
    }
    for attr, code, unit in PREGNANCY_FIELDS:
        value = getattr(ck, attr)
        if value is not None:
            out.append(
                as_fhir(
                    _clean(
                        {
                            **base,
                            "id": f"preg-{ck.pk}-{code}",
                            "code": _concept(LOINC, code),
                            "valueQuantity": {"value": float(value), "unit": unit},
                        }
                    )
                )
            )
    if ck.expected_delivery_date:
        out.append(
            as_fhir(
                _clean(
                    {
                        **base,
                        "id": f"preg-{ck.pk}-11778-8",
                        "code": _concept(LOINC, "11778-8"),
                        "valueDateTime": ck.expected_delivery_date.isoformat(),
                    }
                )
            )
        )
    return out


def appointment(fu, patient_ref: dict) -> dict:
    start = _ts(fu.appointment_at)
    if start is None and fu.appointment_date:
        start = fu.appointment_date.isoformat() + "T00:00:00+07:00"
    return as_fhir(
        _clean(
            {
                "resourceType": "Appointment",
                "id": f"appt-{fu.pk}",
                "status": "booked",
                "start": start,
                "end": start,
                "description": fu.description or fu.diagnosis or None,
                "participant": [{"actor": patient_ref, "status": "accepted"}],
            }
        )
    )


def document(kind: str, row, verified: bool, patient_ref: dict) -> dict:
    """A certificate or paper (birth, sick leave, discharge, referral, death notice, …)."""
    content = getattr(row, "content", None)
    if content:
        data, content_type = bytes(content), getattr(row, "content_type", "") or "application/octet-stream"
    else:  # an XML 130 paper: its fields as received
        data, content_type = json.dumps(row.fields, ensure_ascii=False).encode("utf-8"), "application/json"
    attachment = _clean(
        {
            "contentType": content_type,
            "data": base64.b64encode(data).decode("ascii"),
            "title": row.number or None,
        }
    )
    return as_fhir(
        _clean(
            {
                "resourceType": "DocumentReference",
                "id": f"doc-{kind.replace('_', '-')}-{row.pk}",
                "status": "current",
                "type": _concept(PAPER_TYPE, kind.replace("_", "-")),
                "subject": patient_ref,
                "date": _ts(row.occurred_at),
                "identifier": [{"value": row.number}] if row.number else None,
                "description": "verified" if verified else None,
                "content": [{"attachment": attachment}],
                "context": {"encounter": [{"reference": f"Encounter/enc-{row.encounter_id}"}]}
                if row.encounter_id
                else None,
            }
        )
    )


DVKT = "https://terminology.sskdt.example.vn/CodeSystem/dvkt"  # codelists seed: the DVKT list (QĐ 4440)
SUPPLY = "https://sskdt.example.vn/fhir/CodeSystem/vat-tu"  # medical supplies (MA_VAT_TU): no list loaded
PROGRESS_NOTE = "11506-3"  # LOINC "Progress note" (the US Core clinical-notes type)


def visit_procedures(e, patient_ref: dict, names: dict) -> list[dict]:
    """The ICD-9-CM procedure codes of a visit (XML1 MA_PTTT_QT) as Procedures."""
    return [
        as_fhir(
            _clean(
                {
                    "resourceType": "Procedure",
                    "id": f"px-{e.pk}-{i}",
                    "status": "completed",
                    "code": _concept(ICD9CM, code, names.get(code) or None),
                    "subject": patient_ref,
                    "encounter": {"reference": f"Encounter/enc-{e.pk}"},
                }
            )
        )
        for i, code in enumerate(c for c in e.procedures if c)
    ]


def _quantity(raw: str) -> dict | None:
    try:
        return {"value": float(raw)} if raw else None
    except ValueError:
        return None


def charge_item(s, patient_ref: dict) -> dict:
    """An XML3 line (technical service, exam, bed day or supply) as a ChargeItem: what was done,
    when, how many, who performed it (NGUOI_THUC_HIEN) and who ordered it (MA_BAC_SI)."""
    codings = []
    if s.code:
        codings.append({"system": DVKT, "code": s.code, **({"display": s.name} if s.name else {})})
    if s.supply_code:
        codings.append({"system": SUPPLY, "code": s.supply_code})
    if s.procedure_code:
        codings.extend({"system": ICD9CM, "code": c.strip()} for c in s.procedure_code.split(";") if c.strip())
    code = {"coding": codings} if codings else {}
    if s.name or not codings:
        code["text"] = s.name or "—"
    performers = [
        {"function": {"text": function}, "actor": {"display": who}}
        for function, who in (("performer", s.performer), ("ordering", s.ordered_by))
        if who
    ]
    return as_fhir(
        _clean(
            {
                "resourceType": "ChargeItem",
                "id": f"svc-{s.pk}",
                "status": "billable",
                "code": code,
                "subject": patient_ref,
                "context": {"reference": f"Encounter/enc-{s.encounter_id}"} if s.encounter_id else None,
                "occurrenceDateTime": _ts(s.performed_at or s.ordered_at or s.occurred_at),
                "performer": performers or None,
                "quantity": _quantity(s.quantity),
                "enteredDate": _ts(s.ordered_at),
            }
        )
    )


def progress_note(n, patient_ref: dict) -> dict:
    """An XML5 row (clinical course) as a DocumentReference of type "Progress note", its text
    (course, disease stage, consultation, surgery) as a plain-text attachment."""
    parts = [n.text, n.stage, n.consultation, n.surgery]
    text = "\n\n".join(p for p in parts if p)
    return as_fhir(
        _clean(
            {
                "resourceType": "DocumentReference",
                "id": f"note-{n.pk}",
                "status": "current",
                "type": _concept(LOINC, PROGRESS_NOTE, "Progress note"),
                "category": [
                    {
                        "coding": [
                            {
                                "system": "http://hl7.org/fhir/us/core/CodeSystem/us-core-documentreference-category",
                                "code": "clinical-note",
                            }
                        ]
                    }
                ],
                "subject": patient_ref,
                "date": _ts(n.occurred_at),
                "author": [{"display": n.author}] if n.author else None,
                "content": [
                    {
                        "attachment": {
                            "contentType": "text/plain; charset=utf-8",
                            "data": base64.b64encode(text.encode("utf-8")).decode("ascii"),
                        }
                    }
                ],
                "context": {"encounter": [{"reference": f"Encounter/enc-{n.encounter_id}"}]}
                if n.encounter_id
                else None,
            }
        )
    )


SUMMARY_OF_EPISODE = "34133-9"  # LOINC "Summary of episode note" (tóm tắt hồ sơ bệnh án)
# The papers XML 130 sends that the book keeps as received, by table: their document type
RECEIVED_PAPER_TYPES = {"XML10": "pregnancy-leave", "XML12": "medical-assessment"}


def _json_document(doc_id: str, type_: dict, row, data, patient_ref: dict, title: str | None = None) -> dict:
    """A DocumentReference whose content is `data` as received (a JSON attachment). R4 places
    such a paper -- fields with no structure the book interprets -- in a DocumentReference, not a
    Composition (which needs sections authored for the document)."""
    payload = json.dumps(data, ensure_ascii=False).encode("utf-8")
    attachment = _clean(
        {"contentType": "application/json", "data": base64.b64encode(payload).decode("ascii"), "title": title}
    )
    return as_fhir(
        _clean(
            {
                "resourceType": "DocumentReference",
                "id": doc_id,
                "status": "current",
                "type": type_,
                "subject": patient_ref,
                "date": _ts(row.occurred_at),
                "content": [{"attachment": attachment}],
                "context": {"encounter": [{"reference": f"Encounter/enc-{row.encounter_id}"}]}
                if row.encounter_id
                else None,
            }
        )
    )


def record_summary(row, patient_ref: dict) -> dict:
    """An XML8 medical record summary: every field as received, typed in LOINC and in the
    book's paper types."""
    type_ = {
        "coding": [
            {"system": LOINC, "code": SUMMARY_OF_EPISODE, "display": "Summary of episode note"},
            {"system": PAPER_TYPE, "code": "record-summary"},
        ]
    }
    return _json_document(f"summary-{row.pk}", type_, row, row.fields, patient_ref, row.number or None)


def received_paper(row, patient_ref: dict) -> dict | None:
    """A table kept as received under a visit: an XML paper (XML10 pregnancy-leave certificate,
    XML12 medical assessment, an unknown XML table) as a DocumentReference holding its rows; a
    FHIR resource as received (when valid R4). None for what is never served (XML0, XML6, XML15)."""
    if row.table in ("XML0", "XML6", "XML15"):
        return None
    if row.table[:3] == "XML":
        code = RECEIVED_PAPER_TYPES.get(row.table, f"table-{row.table.lower()}")
        return _json_document(f"kept-{row.pk}", _concept(PAPER_TYPE, code, text=row.table), row, row.rows, patient_ref)
    first = row.rows[0] if row.rows else None
    return as_received(first) if isinstance(first, dict) and first.get("id") else None
