"""Book reads for machines: facility software (history, FHIR $everything) and the citizen
app (the citizen's own access log).

Facility software authenticates with its facility API key and names, in headers, the
practitioner it reads for (`X-Practitioner-Id`: the staff username of a doctor at that
facility) and the purpose (`X-Purpose-Of-Use`: TREAT or ETREAT; ETREAT also needs
`X-Emergency-Reason`, one of the emergency reason codes). The same rule as the pages then
applies to that doctor, and the same log records the read, as software acting for them.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db.models import Prefetch
from django.http import Http404
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication, get_authorization_header
from rest_framework.permissions import BasePermission
from rest_framework.response import Response
from rest_framework.views import APIView

from accesslog.models import ActorKind, CitizenAppClient, EmergencyReason, Outcome, Purpose
from accesslog.selectors import CITIZEN_APP_ACTOR, citizen_access_log
from accesslog.services import Actor, access_log_record, citizen_app_client_authenticate, emergency_access_start
from accounts.models import Role, User
from config.api import ApiError
from facilities.authentication import FacilityApiKeyAuthentication, IsFacilityClient
from healthbook import codenames
from healthbook.access import BookAccess, BookAccessDenied, _book_lookup, book_get_for_user, book_view_register
from healthbook.models import Citizen, Encounter, LabObservation, Medication

PRACTITIONER_HEADER = "X-Practitioner-Id"
PURPOSE_HEADER = "X-Purpose-Of-Use"
REASON_HEADER = "X-Emergency-Reason"

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


def _machine_actor(request, practitioner: User | None, practitioner_ref: str) -> Actor:
    principal = request.user
    return Actor(
        kind=ActorKind.MACHINE,
        user=practitioner,
        username=practitioner.username if practitioner else practitioner_ref,
        name=practitioner.full_name if practitioner else "",
        role=practitioner.role if practitioner else "",
        facility=principal.facility,
        client_ref=request.auth.prefix,
    )


def facility_book_access(request, id_value: str, *, viewed: str) -> BookAccess:
    """Decide a facility software read and write its one log entry (or refuse with a code)."""
    ref = (request.headers.get(PRACTITIONER_HEADER) or "").strip()[:150]
    purpose = (request.headers.get(PURPOSE_HEADER) or "").strip().upper()
    facility = request.user.facility
    practitioner = (
        User.objects.select_related("facility")
        .filter(username=ref, role=Role.DOCTOR, facility=facility, is_active=True)
        .first()
        if ref
        else None
    )
    actor = _machine_actor(request, practitioner, ref)

    def refuse(code: str, message: str, status: int):
        book = _book_lookup(id_value).first()
        access_log_record(
            actor=actor,
            event="api_read",
            viewed=viewed,
            outcome=Outcome.DENIED,
            purpose=purpose[:8],
            citizen=book.citizen if book else None,
            book=book,
            request=request,
            details={"refused": code},
        )
        raise ApiError(code, message, status_code=status)

    if practitioner is None:
        refuse(
            "practitioner_unknown",
            _("Name a doctor of your facility in the X-Practitioner-Id header (staff username)."),
            403,
        )
    if purpose not in Purpose.values:
        refuse("purpose_missing", _("Send X-Purpose-Of-Use: TREAT or ETREAT."), 400)
    if purpose == Purpose.ETREAT:
        book = _book_lookup(id_value).first()
        reason = (request.headers.get(REASON_HEADER) or "").strip()
        if book is not None and reason:
            try:
                emergency_access_start(
                    user=practitioner,
                    citizen=book.citizen,
                    reason=reason,
                    via_api=True,
                    request=request,
                    actor=actor,
                    book=book,
                )
            except ValidationError:
                refuse("emergency_reason_invalid", _("X-Emergency-Reason must be one of the reason codes."), 400)
    try:
        access = book_get_for_user(
            practitioner, id_value, viewed=viewed, request=request, event="api_read", actor=actor
        )
    except BookAccessDenied:
        raise ApiError(
            "no_care_relationship",
            _("No care relationship with this citizen: use X-Purpose-Of-Use ETREAT with X-Emergency-Reason."),
            status_code=403,
        ) from None
    return access


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
        start = (page - 1) * HISTORY_PAGE
        visits = list(
            Encounter.objects.filter(book=access.book)
            .select_related("facility")
            .prefetch_related(
                Prefetch("medications", Medication.objects.order_by("id")),
                Prefetch("labobservations", LabObservation.objects.order_by("occurred_at", "id")),
            )
            .order_by("-occurred_at", "-id")[start : start + HISTORY_PAGE + 1]
        )
        more = len(visits) > HISTORY_PAGE
        visits = visits[:HISTORY_PAGE]
        icd = codenames.names("icd10", {c for v in visits for c in [v.main_diagnosis, *v.secondary_diagnoses]})
        indicators = codenames.names(
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

CITIZEN_APP_KEYWORD = "Citizen-App-Key"


class CitizenAppPrincipal:
    """The citizen app behind a key (not a staff account, not a facility)."""

    is_authenticated = True
    is_anonymous = False
    is_active = True
    role = ""
    pk = None

    def __init__(self, client: CitizenAppClient):
        self.client = client


class CitizenAppKeyAuthentication(BaseAuthentication):
    """`Authorization: Citizen-App-Key <key>` — a credential that reads access logs only."""

    def authenticate(self, request):
        header = get_authorization_header(request).split()
        if not header or header[0].lower() != CITIZEN_APP_KEYWORD.lower().encode():
            return None
        if len(header) != 2:
            raise exceptions.AuthenticationFailed(_("Malformed Citizen-App-Key header."))
        client = citizen_app_client_authenticate(header[1].decode("ascii", "replace"))
        if client is None:
            raise exceptions.AuthenticationFailed(_("Invalid or revoked citizen app key."))
        return CitizenAppPrincipal(client), client

    def authenticate_header(self, request) -> str:
        return CITIZEN_APP_KEYWORD


class IsCitizenApp(BasePermission):
    def has_permission(self, request, view) -> bool:
        return isinstance(request.user, CitizenAppPrincipal)


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
