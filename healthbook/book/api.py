"""Book reads for machines: facility software (lookup and history; FHIR $everything is in
book.fhir) and the citizen app (the citizen's own access log).

Facility software reads for the doctor whose token it holds (`Authorization: Bearer …`, granted
by the doctor after signing in), under the same rule as the pages and with the same single log
entry (book.access.facility_book_access). Personal IDs never travel in URLs: the book is named
by its opaque public id, and a lookup by personal ID sends the ID in the request body.
"""

from __future__ import annotations

from django.http import Http404
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import exceptions, serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from accesslog.models import ActorKind, EmergencyReason, Outcome
from accesslog.selectors import CITIZEN_APP_ACTOR, citizen_access_log
from accesslog.services import Actor, access_log_record
from codelists import lookups
from core.api import ApiError
from core.authentication import (
    CitizenAppKeyAuthentication,
    FacilityApiKeyAuthentication,
    IsCitizenApp,
    IsFacilityClient,
    PractitionerTokenAuthentication,
)
from core.privacy import mask_id
from healthbook.book import record, selectors
from healthbook.book.access import (
    PURPOSE_HEADER,
    REASON_HEADER,
    book_view_register,
    facility_book_access,
    facility_book_lookup,
)
from healthbook.book.selectors import encounters_page
from healthbook.models import Citizen, Encounter

# The doctor's token names the reader; the API key alone is accepted only to be refused with a
# clear code (practitioner_token_required) and an access-log entry.
SOFTWARE_AUTHENTICATION = [PractitionerTokenAuthentication, FacilityApiKeyAuthentication]

FACILITY_HEADERS = [
    OpenApiParameter(PURPOSE_HEADER, str, OpenApiParameter.HEADER, required=True, enum=["TREAT", "ETREAT"]),
    OpenApiParameter(
        REASON_HEADER,
        str,
        OpenApiParameter.HEADER,
        required=False,
        enum=EmergencyReason.values,
        description="Required with ETREAT when no emergency access is open yet.",
    ),
]


# ---------------------------------------------------------------- history (JSON)

HISTORY_PAGE = 20


def _visit_json(e: Encounter, icd: dict, icd9: dict | None = None) -> dict:
    return {
        "facility": {"code": e.facility.code, "name": e.facility.name},
        "key": e.key,
        "visit_type": e.visit_type,
        "admitted_at": e.admitted_at,
        "discharged_at": e.discharged_at,
        "main_diagnosis": {"code": e.main_diagnosis, "name": icd.get(e.main_diagnosis, "")},
        "secondary_diagnoses": [{"code": c, "name": icd.get(c, "")} for c in e.secondary_diagnoses],
        "result": e.result,
        "follow_up_dates": e.follow_up_dates,
        "medications": [
            {
                "code": m.code,
                "name": m.name,
                "strength": m.strength,
                "quantity": m.quantity,
                "unit": m.unit,
                "usage": m.usage or m.dosage,
            }
            for m in e.medications.all()
        ],
        "lab_results": [_lab_json(lab) for lab in e.labobservations.all()],
        "reason_for_visit": e.reason_for_visit,
        "treatment_method": e.treatment_method,
        "blood_group": e.blood_group,
        "conditions": [_condition_json(c) for c in e.conditions.all()],
        "procedures": [_procedure_json(p) for p in e.clinicalprocedures.all()],
        "procedure_codes": [{"code": c, "name": (icd9 or {}).get(c, "")} for c in e.procedures],
        "services": [_service_json(s) for s in e.serviceitems.all()],
        "progress_notes": [_note_json(n) for n in e.clinicalnotes.all()],
        "record_summaries": [_summary_json(r) for r in e.recordsummarys.all()],
        "kept_as_received": [_kept_json(t) for t in e.receivedtables.all()],
        "reports": [_report_json(r) for r in e.diagnosticreports.all()],
        "follow_ups": [_follow_up_json(f) for f in e.followupappointments.all()],
        "pregnancy_checkups": [_pregnancy_json(ck) for ck in e.pregnancycheckups.all()],
    }


def _condition_json(c) -> dict:
    return {
        "code": c.code,
        "system": c.code_system,
        "name": getattr(c, "display_name", "") or c.display,
        "category": c.category,
        "clinical_status": c.clinical_status,
        "active": c.is_active,
        "onset": c.onset_on,
        "resolved_on": c.abatement_on,
    }


def _procedure_json(p) -> dict:
    name = getattr(p, "display_name", "") or p.display
    return {"code": p.code, "system": p.code_system, "name": name, "at": p.occurred_at, "performer": p.performer}


def _service_json(s) -> dict:
    """An XML3 line: the service (or supply), when, how many, who performed and who ordered it."""
    return {
        "code": s.code,
        "name": s.name,
        "group": s.group,
        "procedure_code": s.procedure_code,
        "supply_code": s.supply_code,
        "quantity": s.quantity,
        "ordered_at": s.ordered_at,
        "performed_at": s.performed_at,
        "resulted_at": s.resulted_at,
        "department": s.department,
        "performer": s.performer,
        "ordered_by": s.ordered_by,
    }


def _note_json(n) -> dict:
    """An XML5 row: the clinical course written during the visit."""
    return {
        "at": n.occurred_at,
        "text": n.text,
        "stage": n.stage,
        "consultation": n.consultation,
        "surgery": n.surgery,
        "author": n.author,
    }


def _summary_json(r) -> dict:
    """An XML8 medical record summary: its number, date and every field as received."""
    return {"number": r.number, "issued_on": r.issued_on, "at": r.occurred_at, "fields": r.fields}


def _kept_json(t) -> dict:
    """A table kept as received with a visit (never XML0/XML6/XML15): an XML paper's rows (XML10,
    XML12), or a FHIR resource as received, in the shape of `not_in_a_visit.kept_as_received`."""
    if t.table[:3] == "XML":
        return {"type": t.table, "rows": t.rows}
    return {"type": t.table, "resource": t.rows[0] if t.rows else None}


def _report_json(r) -> dict:
    return {
        "code": r.code,
        "name": r.display,
        "status": r.status,
        "at": r.occurred_at,
        "conclusion": r.conclusion,
        "key": r.source_key,
    }


def _lab_json(lab) -> dict:
    return {
        "indicator": lab.indicator_code,
        "system": lab.code_system,
        "name": getattr(lab, "display_name", "") or lab.indicator_name,
        "category": lab.category,
        "value": lab.value,
        "unit": lab.unit,
        "reference_range": lab.reference_range,
        "abnormal_flag": lab.abnormal_flag,
        "report": lab.report_key,
        "at": lab.occurred_at,
    }


def _follow_up_json(f) -> dict:
    return {"date": f.appointment_date, "at": f.appointment_at, "description": f.description or f.diagnosis}


def _pregnancy_json(ck) -> dict:
    return {
        "at": ck.occurred_at,
        "pregnancy": ck.pregnancy_key,
        "gestational_age_weeks": ck.gestational_age_weeks,
        "expected_delivery_date": ck.expected_delivery_date,
        "weight_kg": ck.weight_kg,
        "blood_pressure": [ck.systolic_mmhg, ck.diastolic_mmhg],
        "fetal_heart_rate_bpm": ck.fetal_heart_rate_bpm,
    }


def _not_in_a_visit_json(access) -> dict:
    """Everything not tied to a visit, the certificates and the FHIR resources kept as received
    (the last page)."""
    rest = record.not_in_a_visit(access)
    return {
        "allergies": [
            {
                "code": a.code,
                "system": a.code_system,
                "substance": a.display,
                "category": a.category,
                "criticality": a.criticality,
                "clinical_status": a.clinical_status,
                "reactions": a.reactions,
            }
            for a in rest["allergies"]
        ],
        "conditions": [_condition_json(c) for c in rest["conditions"]],
        "procedures": [_procedure_json(p) for p in rest["procedures"]],
        "reports": [_report_json(r) for r in rest["reports"]],
        "lab_results": [_lab_json(lab) for lab in rest["lab_results"]],
        "medications": [
            {
                "kind": m.kind or "given",
                "code": m.code,
                "name": m.name,
                "status": m.status,
                "quantity": m.quantity,
                "unit": m.unit,
                "usage": m.usage or m.dosage,
                "prescription_code": m.prescription_code,
                "at": m.occurred_at,
            }
            for m in rest["medications"]
        ],
        "immunizations": [
            {"vaccine": i.vaccine_code, "name": i.vaccine_name, "date": i.occurred_on, "dose": i.dose_number}
            for i in rest["immunizations"]
        ],
        "pregnancy_checkups": [_pregnancy_json(ck) for ck in rest["pregnancy_checkups"]],
        "follow_ups": [_follow_up_json(f) for f in rest["follow_ups"]],
        "record_summaries": [_summary_json(r) for r in rest["record_summaries"]],
        "certificates": [
            {"kind": c["kind"], "number": c["row"].number, "issued_on": c["row"].issued_on, "verified": c["verified"]}
            for c in selectors.certificates(access)
        ],
        "kept_as_received": [{"type": r.table, "resource": r.rows[0] if r.rows else None} for r in rest["received"]],
    }


class PersonalIdSerializer(serializers.Serializer):
    personal_id = serializers.CharField(max_length=32, help_text="The citizen's 12-digit personal ID.")


@book_view_register("lookup")
class CitizenLookupApi(APIView):
    """Find a citizen's book by personal ID, sent in the body (never in the URL), for the doctor
    the software reads for: the book's id and the identity the doctor's search shows. One
    access-log entry (a search) per call."""

    authentication_classes = SOFTWARE_AUTHENTICATION
    permission_classes = [IsFacilityClient]

    @extend_schema(request=PersonalIdSerializer, responses={200: dict})
    def post(self, request):
        data = request.data if isinstance(request.data, dict) else {}
        book = facility_book_lookup(request, str(data.get("personal_id", ""))[:32])
        citizen = book.citizen
        return Response(
            {
                "book": str(book.public_id),
                "full_name": citizen.full_name,
                "birth_year": citizen.birth_year,
                "sex": citizen.sex,
                "personal_id_masked": mask_id(citizen.personal_id),
            }
        )


@book_view_register("book")
class CitizenHistoryApi(APIView):
    """The citizen's visits across facilities, newest first, 20 per page (`?page=`), with
    diagnoses (named), conditions, procedures (and the visit's ICD-9-CM codes), XML3 services with
    who performed and who ordered them, XML5 progress notes, XML8 record summaries, the XML10/XML12
    papers and FHIR resources kept as received with the visit, drugs, lab results and reports,
    follow-ups and pregnancy check-ups; the last page (`next_page` null) adds `not_in_a_visit`: allergies, the
    problem list, e-prescriptions and medicines taken, vaccinations, certificates and what was
    kept as received. The citizen is named by the book's public id. One access-log entry per call."""

    authentication_classes = SOFTWARE_AUTHENTICATION
    permission_classes = [IsFacilityClient]

    @extend_schema(parameters=[*FACILITY_HEADERS, OpenApiParameter("page", int)], responses={200: dict})
    def get(self, request, book):
        try:
            page = max(1, int(request.query_params.get("page", "1")))
        except ValueError:
            raise ApiError("invalid_page", _("page must be a positive number.")) from None
        access = facility_book_access(request, str(book), viewed=f"history:p{page}")
        visits, more = encounters_page(access.book, page=page, count=HISTORY_PAGE)
        icd = lookups.names("icd10", {c for v in visits for c in [v.main_diagnosis, *v.secondary_diagnoses]})
        icd9 = lookups.names("icd9cm", {c for v in visits for c in v.procedures})
        record.name_labs([lab for v in visits for lab in v.labobservations.all()])
        record.name_conditions([c for v in visits for c in v.conditions.all()])
        record.name_procedures([p for v in visits for p in v.clinicalprocedures.all()])
        citizen = access.citizen
        body = {"not_in_a_visit": _not_in_a_visit_json(access)} if not more else {}
        return Response(
            {
                "citizen": {
                    "personal_id": citizen.personal_id,
                    "full_name": citizen.full_name,
                    "birth_date": citizen.birth_date,
                    "sex": citizen.sex,
                    "book": str(access.book.public_id),
                },
                "purpose": access.purpose,
                "page": page,
                "next_page": page + 1 if more else None,
                "visits": [_visit_json(v, icd, icd9) for v in visits],
                **body,
            }
        )

    def handle_exception(self, exc):
        if isinstance(exc, Http404):
            exc = exceptions.NotFound(_("No such citizen."))
        return super().handle_exception(exc)


# ---------------------------------------------------------------- the citizen app


@book_view_register("citizen_log")
class CitizenAccessLogApi(APIView):
    """Who viewed the citizen's book and when, in plain Vietnamese, people and software apart
    (for the citizen app; the personal ID is sent in the body; the read itself is logged as
    software). Superseded by the citizen API (`GET /api/citizen/v1/access-log/` with the platform's
    signed citizen token, docs/citizen-api.md); kept, deprecated, until the app has moved."""

    authentication_classes = [CitizenAppKeyAuthentication]
    permission_classes = [IsCitizenApp]

    @extend_schema(request=PersonalIdSerializer, responses={200: dict}, deprecated=True)
    def post(self, request):
        client = request.user.client
        data = request.data if isinstance(request.data, dict) else {}
        personal_id = str(data.get("personal_id", "")).strip()
        citizen = (
            Citizen.objects.filter(personal_id=personal_id).only("id", "public_id").first()
            if len(personal_id) == 12 and personal_id.isdigit()
            else None
        )
        actor = Actor(
            kind=ActorKind.MACHINE,
            username=f"{CITIZEN_APP_ACTOR}{client.name}",
            name=client.name,
            client_ref=client.prefix,
        )
        access_log_record(
            actor=actor,
            event="api_read",
            viewed="access-log",
            outcome=Outcome.SUCCESS if citizen else Outcome.DENIED,
            citizen=citizen,
            request=request,
            details=None if citizen else {"refused": "not_found"},
        )
        if citizen is None:
            raise exceptions.NotFound(_("No such citizen."))
        return Response({"personal_id": personal_id, **citizen_access_log(citizen.pk)})
