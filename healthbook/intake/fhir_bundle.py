"""FHIR R4 Bundles for what XML 130 does not carry (fhir.resources 8.x, module ``R4B``).

fhir.resources 8 ships R5 by default plus ``R4B`` and ``STU3``; the portal speaks R4 and R4B
is R4-compatible for every resource accepted here (Patient, Encounter, Observation,
Immunization, MedicationRequest, Appointment, DocumentReference, and since issue 17 Condition,
AllergyIntolerance, Procedure, DiagnosticReport, MedicationStatement, MedicationDispense -- their
mapping is in :mod:`fhir_clinical`), so each entry is validated with the R4B class.  Any other
resource type -> FHIR_UNSUPPORTED_RESOURCE, a warning by default: the resource is kept as
received (severity configurable).  Output: :class:`~records.VisitData` items like the XML
side -- one per Encounter (with its pregnancy check-up, diagnoses, procedures, lab results and
medications), and one with ``encounter=None`` for items not tied to an Encounter.

Identifier and code systems are defined once, in :data:`SYSTEMS`.  The HL7 Vietnam community
IG (draft) uses ``http://fhir.hl7.org.vn/core/sid/<name>`` (seen for ``cchn`` and ``ma-lk``);
the other slugs follow that pattern and are [UNVERIFIED] -- change them here only.

Pregnancy check-up observations (LOINC, standard codes):
gestational age 11884-4 (also 49051-6, 18185-9) [wk]; body weight 29463-7 [kg]; blood pressure
panel 85354-9 with components systolic 8480-6 / diastolic 8462-4 [mm[Hg]] (the two codes
also accepted as separate observations); fundal height 11881-0 [cm]; fetal heart rate
55283-6 [/min]; estimated delivery date 11778-8 (valueDateTime); last menstrual period 8665-2
(valueDateTime: the due date is derived from it when none is sent).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date, datetime

from pydantic import ValidationError

from core.textsafe import json_poison

from . import fhir_clinical as clinical
from .problems import DEFAULT_POLICY, Problem, SeverityPolicy, problem
from .records import (
    CheckInData,
    DocumentData,
    EncounterData,
    FollowUpData,
    ImmunizationData,
    MedicationData,
    PartialDate,
    PatientData,
    PregnancyCheckupData,
    VisitData,
)
from .timing import as_aware

SYSTEMS = {
    "personal_id": "http://fhir.hl7.org.vn/core/sid/cccd",
    "social_insurance": "http://fhir.hl7.org.vn/core/sid/bhxh",
    "insurance_card": "http://fhir.hl7.org.vn/core/sid/bhyt",
    "ma_lk": "http://fhir.hl7.org.vn/core/sid/ma-lk",
    "prescription": "http://fhir.hl7.org.vn/core/sid/don-thuoc-quoc-gia",
    "document_type": "https://sskdt.example.vn/fhir/CodeSystem/document-type",
    "loinc": "http://loinc.org",
    # Patient.address extensions carrying the codes of the units in force since 1 July 2025
    # (MATINH_CU_TRU: 2 digits; MAXA_CU_TRU: 5 digits) [UNVERIFIED slugs, as above]
    "address_province": "http://fhir.hl7.org.vn/core/StructureDefinition/province-code",
    "address_commune": "http://fhir.hl7.org.vn/core/StructureDefinition/commune-code",
}
# Deeper than any Bundle the intake maps (entry > resource > component > code > coding is 8).
MAX_JSON_DEPTH = 32
DOCUMENT_TYPES = {"death-notice": "death_notice", "driver-health-certificate": "driver_health"}

LOINC_GESTATIONAL_AGE = {"11884-4", "49051-6", "18185-9"}
LOINC_WEIGHT = "29463-7"
LOINC_BP_PANEL = "85354-9"
LOINC_SYSTOLIC = "8480-6"
LOINC_DIASTOLIC = "8462-4"
LOINC_FUNDAL_HEIGHT = "11881-0"
LOINC_FETAL_HR = "55283-6"
LOINC_EDD = "11778-8"
LOINC_LMP = "8665-2"  # last menstrual period start date (valueDateTime): due date = LMP + 280 days
PREGNANCY_CODES = LOINC_GESTATIONAL_AGE | {
    LOINC_LMP,
    LOINC_WEIGHT,
    LOINC_BP_PANEL,
    LOINC_SYSTOLIC,
    LOINC_DIASTOLIC,
    LOINC_FUNDAL_HEIGHT,
    LOINC_FETAL_HR,
    LOINC_EDD,
}


SUPPORTED = (
    "Patient",
    "Encounter",
    "Observation",
    "Immunization",
    "MedicationRequest",
    "Appointment",
    "DocumentReference",
    "Condition",
    "AllergyIntolerance",
    "Procedure",
    "DiagnosticReport",
    "MedicationStatement",
    "MedicationDispense",
)


def _classes():
    import importlib

    return {name: getattr(importlib.import_module(f"fhir.resources.R4B.{name.lower()}"), name) for name in SUPPORTED}


BUNDLE_TYPES = ("collection", "transaction", "batch")
# An Encounter in one of these states is a check-in (the patient is at the facility now), not a
# visit: it opens the book to the sender for SSKDT_CHECKIN_HOURS; the finished visit follows.
CHECKIN_STATUSES = ("arrived", "in-progress")


@dataclass
class FhirResult:
    patient: PatientData | None = None
    visits: list[VisitData] = field(default_factory=list)
    checkins: list[CheckInData] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)


def _num(q) -> str | None:
    return None if q is None or q.value is None else format(q.value, "f")


def _pdate(v) -> PartialDate | None:
    if v is None:
        return None
    if isinstance(v, datetime):
        return PartialDate(v.date())
    if isinstance(v, date):
        return PartialDate(v)
    s = str(v)  # FHIR partial dates "2024" / "2024-05"
    if len(s) == 4:
        return PartialDate(date(int(s), 1, 1), "year")
    if len(s) == 7:
        return PartialDate(date(int(s[:4]), int(s[5:7]), 1), "month")
    try:
        return PartialDate(date.fromisoformat(s[:10]))
    except ValueError:
        return None


def _codes(cc) -> list[tuple[str | None, str | None, str | None]]:
    if cc is None:
        return []
    return [(c.system, c.code, c.display) for c in (cc.coding or [])]


def _ref_id(ref) -> str | None:
    if ref is None or not ref.reference:
        return None
    return ref.reference.rpartition("/")[2]


def _patient(p) -> tuple[PatientData, list[str]]:
    data = PatientData(facility_patient_id=p.id)
    for ident in p.identifier or []:
        if ident.system == SYSTEMS["personal_id"]:
            data.personal_id = ident.value
        elif ident.system == SYSTEMS["social_insurance"]:
            data.social_insurance_number = ident.value
        elif ident.system == SYSTEMS["insurance_card"] and ident.value:
            data.card_numbers.append(ident.value)
    if p.name:
        n = p.name[0]
        data.full_name = n.text or " ".join([n.family or "", *(n.given or [])]).strip() or None
    data.birth_date = _pdate(p.birthDate)
    data.sex = {"male": "1", "female": "2"}.get(p.gender or "", "3" if p.gender else None)
    _residence(p, data)
    missing = [] if (data.personal_id or data.social_insurance_number) else ["identifier"]
    return data, missing


def _ext_code(ext) -> str | None:
    value = ext.valueCode or ext.valueString or (ext.valueCoding.code if ext.valueCoding else None)
    return value.strip() if isinstance(value, str) and value.strip() else None


def _residence(p, data: PatientData) -> None:
    """The residence of Patient.address, read like XML 130's MATINH_CU_TRU / MAXA_CU_TRU: the
    home address (else the first one not marked old), its codes from the two extensions, or
    `state` (province) and `city` (commune; `district` is abolished and never read) holding a code
    or a name, which intake.residence matches against geography."""
    addresses = [a for a in p.address or [] if a.use != "old"]
    if not addresses:
        return
    a = next((a for a in addresses if a.use == "home"), addresses[0])
    for ext in a.extension or []:
        if ext.url == SYSTEMS["address_province"]:
            data.province_code = _ext_code(ext)
        elif ext.url == SYSTEMS["address_commune"]:
            data.commune_code = _ext_code(ext)
    state, city = (a.state or "").strip(), (a.city or "").strip()
    if not data.province_code and state:
        if state.isdigit() and len(state) in (2, 3):
            data.province_code = state
        else:
            data.province_name = state[:100]
    if not data.commune_code and city:
        if city.isdigit() and len(city) == 5:
            data.commune_code = city
        else:
            data.commune_name = city[:100]
    data.address = a.text or ", ".join([*(a.line or []), *(x for x in (a.city, a.state) if x)]) or None


def read_bundle(body: bytes, *, facility_code: str, policy: SeverityPolicy = DEFAULT_POLICY) -> FhirResult:
    """Parse and map a FHIR R4 Bundle.  Never raises on bad input."""
    out = FhirResult()
    pb = out.problems
    try:
        doc = json.loads(body)
    except RecursionError:  # nested deeper than the parser's stack
        pb.append(problem("FHIR_TOO_DEEP", policy=policy))
        return out
    except (ValueError, UnicodeDecodeError):
        pb.append(problem("FHIR_JSON", policy=policy))
        return out
    poison = json_poison(doc, max_depth=MAX_JSON_DEPTH)
    if poison is not None:  # refused whole, before any model or the database sees it
        kind, path = poison
        code = "FHIR_TOO_DEEP" if kind == "depth" else "TEXT_UNSTORABLE_CHARACTER"
        pb.append(problem(code, table="Bundle", field=path[:60], policy=policy))
        return out
    if not isinstance(doc, dict) or doc.get("resourceType") != "Bundle" or doc.get("type") not in BUNDLE_TYPES:
        pb.append(problem("FHIR_NOT_BUNDLE", table="Bundle", policy=policy))
        return out
    classes = _classes()
    parsed: dict[str, list] = {name: [] for name in SUPPORTED}
    unknown: list[dict] = []
    for i, entry in enumerate(doc.get("entry") or []):
        res = entry.get("resource") if isinstance(entry, dict) else None
        rtype = res.get("resourceType") if isinstance(res, dict) else None
        key = (res.get("id") if isinstance(res, dict) else None) or f"entry#{i + 1}"
        if rtype not in SUPPORTED:
            pb.append(
                problem("FHIR_UNSUPPORTED_RESOURCE", table=str(rtype)[:50], record_key=str(key)[:64], policy=policy)
            )
            if isinstance(res, dict) and isinstance(rtype, str):
                unknown.append(res)  # kept as received (the bundle is refused only if set to error)
            continue
        try:
            parsed[rtype].append(classes[rtype].model_validate(res))
        except (ValidationError, ValueError, TypeError) as exc:
            pb.append(
                problem("FHIR_INVALID", table=rtype, record_key=str(key)[:64], detail=str(exc)[:200], policy=policy)
            )
    if len(parsed["Patient"]) != 1:
        pb.append(problem("FHIR_PATIENT_MISSING", table="Patient", policy=policy))
        return out
    patient_res = parsed["Patient"][0]
    out.patient, missing = _patient(patient_res)
    if missing:
        pb.append(problem("FHIR_PATIENT_IDENTIFIER", table="Patient", record_key=patient_res.id, policy=policy))
    pid = patient_res.id

    def subject_ok(rtype, res, ref) -> bool:
        if _ref_id(ref) != pid:
            pb.append(problem("FHIR_REFERENCE", table=rtype, record_key=res.id, field="subject", policy=policy))
            return False
        return True

    loose = VisitData(encounter=None, patient=out.patient)
    by_enc: dict[str, VisitData] = {}
    checkin_ids: set[str] = set()
    for enc in parsed["Encounter"]:
        if not subject_ok("Encounter", enc, enc.subject):
            continue
        ma_lk = next((i.value for i in enc.identifier or [] if i.system == SYSTEMS["ma_lk"]), None)
        period = enc.period
        if enc.status in CHECKIN_STATUSES:
            start = as_aware(period.start) if period else None
            out.checkins.append(
                CheckInData(
                    source="fhir",
                    key=ma_lk or enc.id or "",
                    patient=out.patient,
                    checked_in_at=start,
                    times=[("period.start", start)] if start is not None else [],
                    facility_code=facility_code,
                )
            )
            checkin_ids.add(enc.id or "")
            continue
        e = EncounterData(
            source="fhir",
            facility_code=facility_code,
            key=ma_lk or enc.id or "",
            admitted_at=period.start if period else None,
            discharged_at=period.end if period else None,
        )
        for rc in enc.reasonCode or []:
            for _sys, code, _disp in _codes(rc):
                if code:
                    e.secondary_diagnoses.append(code) if e.main_diagnosis else setattr(e, "main_diagnosis", code)
        by_enc[enc.id or ""] = VisitData(encounter=e, patient=out.patient)

    def visit_for(rtype, res, ref) -> VisitData | None:
        eid = _ref_id(ref)
        if eid is None or eid in checkin_ids:  # items of a visit still in progress: not tied to it
            return loose
        if eid not in by_enc:
            pb.append(problem("FHIR_REFERENCE", table=rtype, record_key=res.id, field="encounter", policy=policy))
            return None
        return by_enc[eid]

    # DiagnosticReports first: their `result` references name the Observations they group
    report_of: dict[str, str] = {}
    for dr in parsed["DiagnosticReport"]:
        if not subject_ok("DiagnosticReport", dr, dr.subject):
            continue
        v = visit_for("DiagnosticReport", dr, dr.encounter)
        if v is None:
            continue
        v.reports.append(clinical.diagnostic_report(dr))
        for ref in dr.result or []:
            if _ref_id(ref):
                report_of[_ref_id(ref)] = dr.id or ""

    for rtype, subject, build, target in (
        ("Condition", "subject", clinical.condition, "conditions"),
        ("AllergyIntolerance", "patient", clinical.allergy, "allergies"),
        ("Procedure", "subject", clinical.procedure, "procedures"),
    ):
        for res in parsed[rtype]:
            if not subject_ok(rtype, res, getattr(res, subject)):
                continue
            item = build(res)
            if not item.code and not item.display:
                pb.append(problem("FHIR_CODE_MISSING", table=rtype, record_key=res.id, field="code", policy=policy))
                continue
            v = visit_for(rtype, res, res.encounter)
            if v is not None:
                getattr(v, target).append(item)

    for rtype, kind in (("MedicationStatement", "statement"), ("MedicationDispense", "dispense")):
        for res in parsed[rtype]:
            if not subject_ok(rtype, res, res.subject):
                continue
            v = visit_for(rtype, res, res.context)
            if v is not None:
                v.medications.append(clinical.medication_statement(res, kind))

    checkups: dict[str, PregnancyCheckupData] = {}
    for obs in parsed["Observation"]:
        if not subject_ok("Observation", obs, obs.subject):
            continue
        codes = {c for s, c, _d in _codes(obs.code) if s == SYSTEMS["loinc"]}
        v = visit_for("Observation", obs, obs.encounter)
        if v is None:
            continue
        if not codes & PREGNANCY_CODES:  # a lab result or a vital sign
            if not any(c for _s, c, _d in _codes(obs.code)):
                pb.append(
                    problem("FHIR_CODE_MISSING", table="Observation", record_key=obs.id, field="code", policy=policy)
                )
                continue
            v.lab_results.append(clinical.observation(obs, report_of.get(obs.id or "")))
            continue
        eid = _ref_id(obs.encounter) or f"obs:{obs.id}"
        ck = checkups.get(eid)
        if ck is None:
            ck = checkups[eid] = PregnancyCheckupData(key=eid, at=obs.effectiveDateTime)
            v.pregnancy_checkups.append(ck)
        if codes & LOINC_GESTATIONAL_AGE:
            ck.gestational_age_weeks = _num(obs.valueQuantity)
        if LOINC_WEIGHT in codes:
            ck.weight_kg = _num(obs.valueQuantity)
        if LOINC_FUNDAL_HEIGHT in codes:
            ck.fundal_height_cm = _num(obs.valueQuantity)
        if LOINC_FETAL_HR in codes:
            ck.fetal_heart_rate_bpm = _num(obs.valueQuantity)
        if LOINC_SYSTOLIC in codes:
            ck.systolic_mmhg = _num(obs.valueQuantity)
        if LOINC_DIASTOLIC in codes:
            ck.diastolic_mmhg = _num(obs.valueQuantity)
        if LOINC_EDD in codes:
            ck.expected_delivery_date = _pdate(obs.valueDateTime)
        if LOINC_LMP in codes:
            ck.last_period = _pdate(obs.valueDateTime)
        for comp in obs.component or []:
            ccodes = {c for s, c, _d in _codes(comp.code) if s == SYSTEMS["loinc"]}
            if LOINC_SYSTOLIC in ccodes:
                ck.systolic_mmhg = _num(comp.valueQuantity)
            if LOINC_DIASTOLIC in ccodes:
                ck.diastolic_mmhg = _num(comp.valueQuantity)

    for imm in parsed["Immunization"]:
        if not subject_ok("Immunization", imm, imm.patient):
            continue
        codings = [c for c in _codes(imm.vaccineCode) if c[1]]
        coding = codings[0] if codings else (None, None, None)
        if not coding[1]:
            pb.append(problem("FHIR_CODE_MISSING", table="Immunization", record_key=imm.id, field="vaccineCode"))
            continue
        dose = imm.protocolApplied[0].doseNumberPositiveInt if imm.protocolApplied else None
        v = visit_for("Immunization", imm, imm.encounter)
        if v is not None:
            v.immunizations.append(
                ImmunizationData(
                    key=imm.id or "",
                    vaccine_code=coding[1],
                    vaccine_system=coding[0],
                    vaccine_name=coding[2] or (imm.vaccineCode.text if imm.vaccineCode else None),
                    occurred_at=imm.occurrenceDateTime if isinstance(imm.occurrenceDateTime, datetime) else None,
                    occurred_date=_pdate(imm.occurrenceDateTime),
                    dose_number=str(dose) if dose is not None else None,
                    lot_number=imm.lotNumber,
                    status=imm.status,
                    other_codings=codings[1:],
                )
            )

    for mr in parsed["MedicationRequest"]:
        if not subject_ok("MedicationRequest", mr, mr.subject):
            continue
        code = next((c for c in _codes(mr.medicationCodeableConcept) if c[1]), (None, None, None))
        rx = next((i.value for i in mr.identifier or [] if i.system == SYSTEMS["prescription"]), None)
        if rx is not None and len(rx) != 14:
            pb.append(problem("FHIR_PRESCRIPTION_CODE", table="MedicationRequest", record_key=mr.id, value=rx))
        qty = mr.dispenseRequest.quantity if mr.dispenseRequest else None
        v = visit_for("MedicationRequest", mr, mr.encounter)
        if v is not None:
            v.medications.append(
                MedicationData(
                    seq=mr.id,
                    code=code[1],
                    name=code[2] or (mr.medicationCodeableConcept.text if mr.medicationCodeableConcept else None),
                    dosage=mr.dosageInstruction[0].text if mr.dosageInstruction else None,
                    quantity=_num(qty),
                    unit=qty.unit if qty else None,
                    ordered_at=mr.authoredOn,
                    prescription_code=rx,
                    kind="request",
                )
            )

    for ap in parsed["Appointment"]:
        if not any(_ref_id(p.actor) == pid for p in ap.participant or []):
            pb.append(problem("FHIR_REFERENCE", table="Appointment", record_key=ap.id, field="participant"))
            continue
        if ap.start is None:
            pb.append(problem("FHIR_DATE_MISSING", table="Appointment", record_key=ap.id, field="start"))
            continue
        loose.follow_ups.append(
            FollowUpData(
                slip_number=ap.id,
                appointment_at=ap.start,
                appointment_date=_pdate(ap.start),
                description=ap.description,
                facility_code=facility_code,
            )
        )

    for dr in parsed["DocumentReference"]:
        if not subject_ok("DocumentReference", dr, dr.subject):
            continue
        kind = next(
            (
                DOCUMENT_TYPES[c]
                for s, c, _d in _codes(dr.type)
                if s == SYSTEMS["document_type"] and c in DOCUMENT_TYPES
            ),
            None,
        )
        if kind is None:
            pb.append(problem("FHIR_DOCUMENT_TYPE", table="DocumentReference", record_key=dr.id, field="type"))
            continue
        att = dr.content[0].attachment if dr.content else None
        loose.documents.append(
            DocumentData(
                kind=kind,
                number=next((i.value for i in dr.identifier or []), None),
                issued_on=_pdate(dr.date),
                content_type=att.contentType if att else None,
                content=att.data if att else None,
                fields={"description": dr.description},
            )
        )
    loose.received_resources = unknown
    out.visits = list(by_enc.values())
    if any(
        (
            loose.follow_ups,
            loose.documents,
            loose.immunizations,
            loose.medications,
            loose.pregnancy_checkups,
            loose.conditions,
            loose.allergies,
            loose.procedures,
            loose.reports,
            loose.lab_results,
            loose.received_resources,
        )
    ):
        out.visits.append(loose)
    return out
