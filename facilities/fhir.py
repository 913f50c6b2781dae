"""FHIR R4 reads of the registry: `Organization/<code>` (the legal entity) and
`Location/<code>` (the place, with coordinates), for other systems.

Staff (session) read within their scope. Facility software (API key of an approved or
connected facility) reads the public directory: every approved or connected facility.
Errors come back as OperationOutcome resources.
"""

from django.conf import settings
from django.db.models import QuerySet
from django.http import Http404
from rest_framework import exceptions
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.views import APIView

from core.authentication import (
    STAFF_AUTHENTICATION,
    FacilityApiKeyAuthentication,
    FacilityPrincipal,
    IsStaffOrFacilityClient,
)
from facilities.access import facilities_visible_to
from facilities.models import EXPECTED_TO_SEND, Facility, FacilityStatus


class FhirJsonRenderer(JSONRenderer):
    media_type = "application/fhir+json"
    format = "fhir"


def fhir_base() -> str:
    return getattr(settings, "SSKDT_FHIR_BASE_URL", "http://localhost:8000/fhir").rstrip("/")


def facility_code_system() -> str:
    return getattr(settings, "SSKDT_FHIR_FACILITY_CODE_SYSTEM", "") or f"{fhir_base()}/sid/ma-cskcb"


def _identifier(facility: Facility) -> list[dict]:
    return [{"use": "official", "system": facility_code_system(), "value": facility.code}]


def _telecom(facility: Facility) -> list[dict]:
    telecom = []
    if facility.contact_phone:
        telecom.append({"system": "phone", "value": facility.contact_phone, "use": "work"})
    if facility.contact_email:
        telecom.append({"system": "email", "value": facility.contact_email, "use": "work"})
    return telecom


def _address(facility: Facility) -> dict:
    parts = [p for p in (facility.address, facility.commune, facility.province.name_vi) if p]
    address = {
        "use": "work",
        "type": "physical",
        "text": ", ".join(parts),
        "state": facility.province.name_vi,
        "country": "VN",
    }
    if facility.address:
        address["line"] = [facility.address]
    if facility.commune:
        address["city"] = facility.commune
    return address


def _type(facility: Facility) -> list[dict]:
    return [
        {
            "coding": [
                {
                    "system": f"{fhir_base()}/CodeSystem/facility-level",
                    "code": facility.level,
                    "display": str(facility.get_level_display()),
                }
            ]
        },
        {
            "coding": [
                {
                    "system": f"{fhir_base()}/CodeSystem/facility-ownership",
                    "code": facility.ownership,
                    "display": str(facility.get_ownership_display()),
                }
            ]
        },
    ]


def organization_resource(facility: Facility) -> dict:
    resource = {
        "resourceType": "Organization",
        "id": facility.code,
        "identifier": _identifier(facility),
        "active": facility.status in EXPECTED_TO_SEND,
        "type": _type(facility),
        "name": facility.name,
        "address": [_address(facility)],
    }
    telecom = _telecom(facility)
    if telecom:
        resource["telecom"] = telecom
    if facility.contact_name:
        contact = {"name": {"text": facility.contact_name}}
        if telecom:
            contact["telecom"] = telecom
        resource["contact"] = [contact]
    return resource


LOCATION_STATUS = {
    FacilityStatus.APPROVED: "active",
    FacilityStatus.CONNECTED: "active",
    FacilityStatus.SUSPENDED: "suspended",
}


def location_resource(facility: Facility) -> dict:
    resource = {
        "resourceType": "Location",
        "id": facility.code,
        "identifier": _identifier(facility),
        "status": LOCATION_STATUS.get(facility.status, "inactive"),
        "name": facility.name,
        "mode": "instance",
        "address": _address(facility),
        "managingOrganization": {"reference": f"Organization/{facility.code}", "display": facility.name},
    }
    telecom = _telecom(facility)
    if telecom:
        resource["telecom"] = telecom
    if facility.latitude is not None and facility.longitude is not None:
        resource["position"] = {"latitude": float(facility.latitude), "longitude": float(facility.longitude)}
    return resource


def fhir_facilities_for(user) -> QuerySet[Facility]:
    if isinstance(user, FacilityPrincipal):
        return Facility.objects.filter(status__in=EXPECTED_TO_SEND)
    return facilities_visible_to(user)


OUTCOME_CODES = {401: "login", 403: "forbidden", 404: "not-found", 405: "not-supported", 406: "not-supported"}


class FhirReadView(APIView):
    authentication_classes = [FacilityApiKeyAuthentication, STAFF_AUTHENTICATION]
    permission_classes = [IsStaffOrFacilityClient]
    renderer_classes = [FhirJsonRenderer, JSONRenderer]
    # FHIR resources are described by the FHIR specification, not by our OpenAPI schema.
    schema = None
    build = None

    def initial(self, request, *args, **kwargs):
        from codelists.fhir import wants_xml_only

        if wants_xml_only(request):  # `_format=xml` or an Accept naming XML only: 406, not JSON
            raise exceptions.NotAcceptable("Only application/fhir+json is served.")
        super().initial(request, *args, **kwargs)

    def get(self, request, code):
        try:
            facility = fhir_facilities_for(request.user).select_related("province").get(code=code)
        except Facility.DoesNotExist:
            raise Http404 from None
        return Response(type(self).build(facility))

    def handle_exception(self, exc):
        response = super().handle_exception(exc)
        if isinstance(exc, exceptions.APIException | Http404):
            message = response.data.get("message") if isinstance(response.data, dict) else ""
            response.data = {
                "resourceType": "OperationOutcome",
                "issue": [
                    {
                        "severity": "error",
                        "code": OUTCOME_CODES.get(response.status_code, "processing"),
                        "diagnostics": str(message or ""),
                    }
                ],
            }
        return response


class OrganizationReadView(FhirReadView):
    build = staticmethod(organization_resource)


class LocationReadView(FhirReadView):
    build = staticmethod(location_resource)
