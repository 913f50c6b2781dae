"""FHIR R4 `Patient/{id}/$everything` for facility software: a paged searchset Bundle.

`id` is the book's public id (personal IDs never travel in URLs; find the book with
`POST /api/v1/citizens/lookup/`). Each page holds the
Patient and `_count` encounters (default 10, at most 50), newest first, each followed by
its lab Observations and MedicationStatements; the last page adds the Immunizations. Same
headers, rule and single log entry per page as the history API (book.api).
"""

from __future__ import annotations

from django.utils import timezone
from rest_framework.request import Request
from rest_framework.response import Response

from codelists import lookups
from core.authentication import FacilityApiKeyAuthentication, IsFacilityClient, PractitionerTokenAuthentication
from facilities.fhir import FhirReadView, facility_code_system, fhir_base
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


def encounter_resources(e: Encounter, patient_ref: dict, icd: dict) -> list[dict]:
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
    out = [encounter]
    enc_ref = {"reference": f"Encounter/{enc_id}"}
    for lab in e.labobservations.all():
        obs = {
            "resourceType": "Observation",
            "id": f"lab-{lab.pk}",
            "status": "final",
            "category": [
                {
                    "coding": [
                        {"system": "http://terminology.hl7.org/CodeSystem/observation-category", "code": "laboratory"}
                    ]
                }
            ],
            "code": {
                "coding": [
                    {
                        "system": f"{fhir_base()}/CodeSystem/lab-indicator",
                        "code": lab.indicator_code or lab.service_code or "unknown",
                    }
                ],
                "text": lab.indicator_name or lab.indicator_code,
            },
            "subject": patient_ref,
            "encounter": enc_ref,
        }
        if lab.occurred_at:
            obs["effectiveDateTime"] = _ts(lab.occurred_at)
        if lab.value_number is not None:
            obs["valueQuantity"] = {"value": float(lab.value_number), **({"unit": lab.unit} if lab.unit else {})}
        elif lab.value:
            obs["valueString"] = lab.value
        if lab.reference_range:
            obs["referenceRange"] = [{"text": lab.reference_range}]
        if lab.abnormal_flag in ("H", "L"):
            obs["interpretation"] = [
                {
                    "coding": [
                        {
                            "system": "http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation",
                            "code": lab.abnormal_flag,
                        }
                    ]
                }
            ]
        out.append(obs)
    for m in e.medications.all():
        out.append(
            {
                "resourceType": "MedicationStatement",
                "id": f"med-{m.pk}",
                "status": "completed",
                "medicationCodeableConcept": {
                    "text": m.name or m.code,
                    **({"coding": [{"code": m.code}]} if m.code else {}),
                },
                "subject": patient_ref,
                "context": enc_ref,
                **({"dosage": [{"text": m.usage or m.dosage}]} if (m.usage or m.dosage) else {}),
            }
        )
    return out


def immunization_resource(i: Immunization, patient_ref: dict) -> dict:
    resource = {
        "resourceType": "Immunization",
        "id": f"imm-{i.pk}",
        "status": i.status or "completed",
        "vaccineCode": {
            "coding": [{"system": f"{fhir_base()}/CodeSystem/vaccine", "code": i.vaccine_code}],
            "text": i.vaccine_name or i.vaccine_code,
        },
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
        patient = patient_resource(access)
        patient_ref = {"reference": f"Patient/{patient['id']}"}
        resources = [patient]
        for e in encounters:
            resources.extend(encounter_resources(e, patient_ref, icd))
        if not more:
            immunizations = Immunization.objects.filter(book=access.book).order_by("-occurred_on", "-id")
            resources.extend(immunization_resource(i, patient_ref) for i in immunizations)
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
