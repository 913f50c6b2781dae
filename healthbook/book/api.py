"""Book reads for machines: facility software (history; FHIR $everything is in book.fhir) and
the citizen app (the citizen's own access log).

Facility software reads for a named doctor of its facility, under the same rule as the pages
and with the same single log entry (book.access.facility_book_access).
"""

from __future__ import annotations

from django.http import Http404
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import exceptions
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
)
from healthbook.book.access import (
    PRACTITIONER_HEADER,
    PURPOSE_HEADER,
    REASON_HEADER,
    book_view_register,
    facility_book_access,
)
from healthbook.book.selectors import encounters_page
from healthbook.models import Citizen, Encounter

FACILITY_HEADERS = [
    OpenApiParameter(
        PRACTITIONER_HEADER,
        str,
        OpenApiParameter.HEADER,
        required=True,
        description="Staff username of the doctor at this facility the software reads for.",
    ),
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


def _visit_json(e: Encounter, icd: dict, indicators: dict) -> dict:
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
        "lab_results": [
            {
                "indicator": lab.indicator_code,
                "name": indicators.get(lab.indicator_code) or lab.indicator_name,
                "value": lab.value,
                "unit": lab.unit,
                "reference_range": lab.reference_range,
                "abnormal_flag": lab.abnormal_flag,
                "at": lab.occurred_at,
            }
            for lab in e.labobservations.all()
        ],
    }


@book_view_register("book")
class CitizenHistoryApi(APIView):
    """The citizen's visits across facilities, newest first, 20 per page (`?page=`), with
    diagnoses (named), drugs and lab results. One access-log entry per call."""

    authentication_classes = [FacilityApiKeyAuthentication]
    permission_classes = [IsFacilityClient]

    @extend_schema(parameters=[*FACILITY_HEADERS, OpenApiParameter("page", int)], responses={200: dict})
    def get(self, request, personal_id):
        try:
            page = max(1, int(request.query_params.get("page", "1")))
        except ValueError:
            raise ApiError("invalid_page", _("page must be a positive number.")) from None
        access = facility_book_access(request, personal_id, viewed=f"history:p{page}")
        visits, more = encounters_page(access.book, page=page, count=HISTORY_PAGE)
        icd = lookups.names("icd10", {c for v in visits for c in [v.main_diagnosis, *v.secondary_diagnoses]})
        indicators = lookups.names(
            "lab-indicator", {lab.indicator_code for v in visits for lab in v.labobservations.all()}
        )
        citizen = access.citizen
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
                "visits": [_visit_json(v, icd, indicators) for v in visits],
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
    (for the citizen app; the read itself is logged as software)."""

    authentication_classes = [CitizenAppKeyAuthentication]
    permission_classes = [IsCitizenApp]

    @extend_schema(responses={200: dict})
    def get(self, request, personal_id):
        client = request.user.client
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
