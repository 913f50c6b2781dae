"""FHIR R4 `Patient/{id}/$everything` for facility software: a paged searchset Bundle.

`id` is the book's public id (personal IDs never travel in URLs; find the book with
`POST /api/v1/citizens/lookup/`). Each page holds the
Patient and `_count` encounters (default 10, at most 50), newest first, each followed by
its diagnoses and Conditions, Procedures (its ICD-9-CM codes too), its XML3 service lines as
ChargeItems (with who performed and who ordered them), its XML5 progress notes, XML8 record
summary and XML10/XML12 papers as DocumentReferences, the FHIR resources kept as received with
it, lab and vital-sign Observations, DiagnosticReports,
medications (MedicationStatement / MedicationRequest / MedicationDispense), follow-up
Appointments and pregnancy Observations; the last page adds everything not tied to a visit
(AllergyIntolerances, problem-list Conditions, e-prescriptions, Immunizations, pregnancy
check-ups, Appointments), the certificates and documents as DocumentReferences, and the FHIR
resources kept as received -- so walking the pages loses nothing. Resources are built through
fhir.resources (book.fhir_record). Same headers, rule and single log entry per page as the
history API (book.api).
"""

from __future__ import annotations

from django.utils import timezone
from rest_framework.request import Request
from rest_framework.response import Response

from codelists import lookups
from core.authentication import FacilityApiKeyAuthentication, IsFacilityClient, PractitionerTokenAuthentication
from facilities.fhir import FhirReadView, facility_code_system, fhir_base
from healthbook.book import fhir_record, record, selectors
from healthbook.book.access import book_view_register, facility_book_access
from healthbook.book.selectors import encounters_page
from healthbook.models import Encounter, Immunization

ICD10 = "http://hl7.org/fhir/sid/icd-10"
PERSONAL_ID_SYSTEM = "urn:vn:cccd"
SEX = {1: "male", 2: "female", 3: "other"}


def _ts(value):
    return timezone.localtime(value).isoformat() if value else None


def patient_resource(access) -> dict:
    c = access.citizen
    resource = {"resourceType": "Patient", "id": str(access.book.public_id), "name": [{"text": c.full_name}]}
    if c.personal_id:
        resource["identifier"] = [{"system": PERSONAL_ID_SYSTEM, "value": c.personal_id}]
    if c.sex in SEX:
        resource["gender"] = SEX[c.sex]
    if c.birth_date:
        resource["birthDate"] = c.birth_date.isoformat()
    return resource


def _org(facility) -> dict:
    return {"identifier": {"system": facility_code_system(), "value": facility.code}, "display": facility.name}


def encounter_resources(e: Encounter, patient_ref: dict, icd: dict, icd9: dict | None = None) -> list[dict]:
    enc_id = f"enc-{e.pk}"
    period = {k: v for k, v in (("start", _ts(e.admitted_at)), ("end", _ts(e.discharged_at))) if v}
    encounter = {
        "resourceType": "Encounter",
        "id": enc_id,
        "status": "finished",
        "class": {
            "system": "http://terminology.hl7.org/CodeSystem/v3-ActCode",
            "code": "IMP" if e.inpatient_at else "AMB",
        },
        "subject": patient_ref,
        "serviceProvider": _org(e.facility),
        "identifier": [{"system": f"{facility_code_system()}/{e.facility.code}/ma-lk", "value": e.key}],
    }
    if period:
        encounter["period"] = period
    codes = [c for c in [e.main_diagnosis, *e.secondary_diagnoses] if c]
    if codes:
        encounter["reasonCode"] = [
            {"coding": [{"system": ICD10, "code": c, **({"display": icd[c]} if icd.get(c) else {})}]} for c in codes
        ]
    out = [fhir_record.as_fhir(encounter), *fhir_record.diagnosis_conditions(e, patient_ref, icd)]
    out.extend(fhir_record.condition(c, patient_ref) for c in e.conditions.all())
    out.extend(fhir_record.visit_procedures(e, patient_ref, icd9 or {}))
    out.extend(fhir_record.procedure(p, patient_ref) for p in e.clinicalprocedures.all())
    out.extend(fhir_record.charge_item(s, patient_ref) for s in e.serviceitems.all())
    out.extend(fhir_record.progress_note(n, patient_ref) for n in e.clinicalnotes.all())
    out.extend(fhir_record.record_summary(r, patient_ref) for r in e.recordsummarys.all())
    out.extend(r for r in (fhir_record.received_paper(t, patient_ref) for t in e.receivedtables.all()) if r)
    labs = list(e.labobservations.all())
    out.extend(fhir_record.observation(lab, patient_ref) for lab in labs)
    for report, results in record.reports_with_results(list(e.diagnosticreports.all()), labs):
        out.append(fhir_record.diagnostic_report(report, patient_ref, results))
    out.extend(fhir_record.medication(m, patient_ref) for m in e.medications.all())
    out.extend(fhir_record.appointment(fu, patient_ref) for fu in e.followupappointments.all())
    for ck in e.pregnancycheckups.all():
        out.extend(fhir_record.pregnancy_observations(ck, patient_ref))
    return out


def loose_resources(access, patient_ref: dict) -> list[dict]:
    """The last page's resources: every row not tied to a visit, the vaccinations, the
    certificates and documents, and the FHIR resources kept as received."""
    rest = record.not_in_a_visit(access)
    out = [fhir_record.allergy(a, patient_ref) for a in rest["allergies"]]
    out.extend(fhir_record.condition(c, patient_ref) for c in rest["conditions"])
    out.extend(fhir_record.procedure(p, patient_ref) for p in rest["procedures"])
    out.extend(fhir_record.observation(lab, patient_ref) for lab in rest["lab_results"])
    for report, results in record.reports_with_results(rest["reports"], rest["lab_results"]):
        out.append(fhir_record.diagnostic_report(report, patient_ref, results))
    out.extend(fhir_record.medication(m, patient_ref) for m in rest["medications"])
    out.extend(fhir_record.as_fhir(immunization_resource(i, patient_ref)) for i in rest["immunizations"])
    for ck in rest["pregnancy_checkups"]:
        out.extend(fhir_record.pregnancy_observations(ck, patient_ref))
    out.extend(fhir_record.appointment(fu, patient_ref) for fu in rest["follow_ups"])
    out.extend(fhir_record.record_summary(r, patient_ref) for r in rest["record_summaries"])
    out.extend(
        fhir_record.document(c["kind"], c["row"], c["verified"], patient_ref)
        for c in selectors.certificates(access, with_content=True)
    )
    for kept in rest["received"]:  # as received, under the id the facility gave it, when valid R4
        for r in kept.rows:
            valid = fhir_record.as_received(r) if isinstance(r, dict) and r.get("id") else None
            if valid is not None:
                out.append(valid)
    return out


def vaccine_codings(i: Immunization) -> list[dict]:
    """The national vaccine coding (when the code is the national list's), then the coding as
    sent when intake translated it (a CVX code, a product name)."""
    system = i.vaccine_system or ""
    national = system in ("", "vaccine") or system.endswith("/CodeSystem/vaccine")
    codings = [{"system": f"{fhir_base()}/CodeSystem/vaccine" if national else system, "code": i.vaccine_code}]
    if i.sent_code:
        codings.append({k: v for k, v in (("system", i.sent_system), ("code", i.sent_code)) if v})
    return codings


def immunization_resource(i: Immunization, patient_ref: dict) -> dict:
    resource = {
        "resourceType": "Immunization",
        "id": f"imm-{i.pk}",
        "status": i.status or "completed",
        "vaccineCode": {"coding": vaccine_codings(i), "text": i.vaccine_name or i.vaccine_code},
        "patient": patient_ref,
    }
    if i.occurred_on:
        resource["occurrenceDateTime"] = i.occurred_on.isoformat()
    elif i.occurred_at:
        resource["occurrenceDateTime"] = _ts(i.occurred_at)
    else:
        resource["occurrenceString"] = "unknown"
    if i.lot_number:
        resource["lotNumber"] = i.lot_number
    return resource


@book_view_register("book")
class PatientEverythingView(FhirReadView):
    authentication_classes = [PractitionerTokenAuthentication, FacilityApiKeyAuthentication]
    permission_classes = [IsFacilityClient]

    def get(self, request: Request, id):  # noqa: A002 — the FHIR URL parameter is named id
        try:
            count = min(50, max(1, int(request.query_params.get("_count", "10"))))
            page = max(1, int(request.query_params.get("page", "1")))
        except ValueError:
            count, page = 10, 1
        access = facility_book_access(request, id, viewed=f"fhir-everything:p{page}")
        encounters, more = encounters_page(access.book, page=page, count=count)
        icd = lookups.names("icd10", {c for e in encounters for c in [e.main_diagnosis, *e.secondary_diagnoses]})
        icd9 = lookups.names("icd9cm", {c for e in encounters for c in e.procedures})
        record.name_conditions([c for e in encounters for c in e.conditions.all()])
        record.name_procedures([p for e in encounters for p in e.clinicalprocedures.all()])
        record.name_labs([lab for e in encounters for lab in e.labobservations.all()])
        patient = fhir_record.as_fhir(patient_resource(access))
        patient_ref = {"reference": f"Patient/{patient['id']}"}
        resources = [patient]
        for e in encounters:
            resources.extend(encounter_resources(e, patient_ref, icd, icd9))
        if not more:
            resources.extend(loose_resources(access, patient_ref))
        base = f"{fhir_base()}/Patient/{patient['id']}/$everything?_count={count}"
        links = [{"relation": "self", "url": f"{base}&page={page}"}]
        if more:
            links.append({"relation": "next", "url": f"{base}&page={page + 1}"})
        if page > 1:
            links.append({"relation": "previous", "url": f"{base}&page={page - 1}"})
        bundle = {
            "resourceType": "Bundle",
            "type": "searchset",
            "timestamp": timezone.now().isoformat(),
            "link": links,
            "entry": [
                {
                    "fullUrl": f"{fhir_base()}/{r['resourceType']}/{r['id']}",
                    "resource": r,
                    "search": {"mode": "match" if r["resourceType"] == "Patient" else "include"},
                }
                for r in resources
            ],
        }
        return Response(bundle)
