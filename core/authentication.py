"""Who calls the API: the portal's three kinds of client, authenticated in this one module.

- staff (browser, scripts): the session cookie and a CSRF token; `request.user` is the staff
  `User` (Django sessions, DRF `SessionAuthentication`);
- facility software (HIS): `Authorization: Api-Key <key>`; `request.user` is a
  `FacilityPrincipal` (keys checked by `facilities.credentials.api_key_authenticate`);
- facility software reading books for a doctor: `Authorization: Bearer <token>`, the short-lived
  token the doctor granted to that software's key after signing in (OAuth2 code + PKCE,
  `facilities.software_grants`); `request.user` is the key's `FacilityPrincipal` with the
  token and its practitioner (`practitioner_token_authenticate`). A key alone names nobody;
- the citizen app (VNeID): `Authorization: Citizen-App-Key <key>`; `request.user` is a
  `CitizenAppPrincipal` (keys checked by `accesslog.services.citizen_app_client_authenticate`);
  superseded by the citizen API, where the VNeID platform calls for one citizen with a token it
  signed (`Authorization: Citizen-Token <jwt>`, `citizenapi.auth`: that app owns the keys and the
  claims, and only its views accept the token).

A principal for software is not a staff account: its role is empty, so no staff permission ever
matches it, and a staff session never passes `IsFacilityClient` or `IsCitizenApp`. Unknown,
malformed and revoked keys are refused with 401 on the very request that presents them.

The key rows live in higher layers (facilities, accesslog), so their apps register the function
that checks a presented key when Django starts (`register_key_verifier` in AppConfig.ready);
this module imports no app.
"""

from collections.abc import Callable

from django.utils.translation import gettext_lazy as _
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication, SessionAuthentication, get_authorization_header
from rest_framework.permissions import BasePermission

from core.api import ApiError
from core.roles import is_staff_member

FACILITY_KEYWORD = "Api-Key"
CITIZEN_APP_KEYWORD = "Citizen-App-Key"
BEARER_KEYWORD = "Bearer"

# keyword -> function(presented key) -> the credential row, or None when unknown or revoked
_VERIFIERS: dict[str, Callable[[str], object | None]] = {}


def register_key_verifier(keyword: str, verify: Callable[[str], object | None]) -> None:
    """Name the function that checks keys presented with `keyword` (called from AppConfig.ready)."""
    _VERIFIERS[keyword] = verify


def _verify(keyword: str, key: str):
    verify = _VERIFIERS.get(keyword)
    if verify is None:  # the app that owns these keys is not installed: nothing can be valid
        return None
    return verify(key)


class FacilityPrincipal:
    """The facility software behind an API key, standing in for `request.user`."""

    is_authenticated = True
    is_anonymous = False
    is_active = True
    is_staff = False
    is_superuser = False
    role = ""
    pk = None
    id = None

    def __init__(self, facility, api_key, token=None):
        self.facility = facility
        self.facility_id = facility.pk
        self.province_id = facility.province_id
        self.api_key = api_key
        # With a doctor's token (Bearer): the token row and the doctor it names; else None.
        self.token = token
        self.practitioner = token.user if token is not None else None

    def __str__(self) -> str:
        return f"facility {self.facility.code}"

    def __repr__(self) -> str:
        return f"<FacilityPrincipal {self.facility.code} key={self.api_key.prefix}>"

    def has_perm(self, perm, obj=None) -> bool:
        return False


class CitizenAppPrincipal:
    """The citizen app behind a key (not a staff account, not a facility)."""

    is_authenticated = True
    is_anonymous = False
    is_active = True
    is_staff = False
    is_superuser = False
    role = ""
    pk = None
    id = None
    province_id = None
    facility_id = None

    def __init__(self, client):
        self.client = client

    def has_perm(self, perm, obj=None) -> bool:
        return False


def credential_valid(request) -> bool:
    """Whether the request presents a key its verifier accepts (`Authorization: <keyword> <key>`
    for any registered keyword), without authenticating anything: core.bodylimit lets only such
    callers (or signed-in users) send large bodies."""
    header = get_authorization_header(request).split()
    if len(header) != 2:
        return False
    keyword = next((k for k in _VERIFIERS if k.lower().encode() == header[0].lower()), None)
    if keyword is None:
        return False
    try:
        key = header[1].decode("ascii")
    except UnicodeDecodeError:
        return False
    return _verify(keyword, key) is not None


class _KeyAuthentication(BaseAuthentication):
    """`Authorization: <keyword> <key>`: the key row its app's verifier returns becomes `request.auth`."""

    keyword = ""
    malformed = ""
    invalid = ""

    def principal(self, row):
        raise NotImplementedError

    def authenticate(self, request):
        header = get_authorization_header(request).split()
        if not header or header[0].lower() != self.keyword.lower().encode():
            return None
        if len(header) != 2:
            raise exceptions.AuthenticationFailed(self.malformed)
        try:
            key = header[1].decode("ascii")
        except UnicodeDecodeError:
            raise exceptions.AuthenticationFailed(self.invalid) from None
        row = _verify(self.keyword, key)
        if row is None:
            raise exceptions.AuthenticationFailed(self.invalid)
        return self.principal(row), row

    def authenticate_header(self, request) -> str:
        return self.keyword


class FacilityApiKeyAuthentication(_KeyAuthentication):
    """`Authorization: Api-Key <key>` — facility software."""

    keyword = FACILITY_KEYWORD
    malformed = _("Malformed Api-Key header: send `Api-Key <key>`.")
    invalid = _("Invalid, expired or revoked API key.")

    def principal(self, row):
        return FacilityPrincipal(row.facility, row)


class PractitionerTokenAuthentication(_KeyAuthentication):
    """`Authorization: Bearer <token>` — facility software reading for the doctor who granted
    the token; `request.auth` is the token row."""

    keyword = BEARER_KEYWORD
    malformed = _("Malformed Bearer header: send `Bearer <token>`.")
    invalid = _("Invalid, expired or revoked token: the doctor must sign in and allow the software again.")

    def principal(self, row):
        return FacilityPrincipal(row.api_key.facility, row.api_key, token=row)


class CitizenAppKeyAuthentication(_KeyAuthentication):
    """`Authorization: Citizen-App-Key <key>` — the citizen app; it reads access logs only."""

    keyword = CITIZEN_APP_KEYWORD
    malformed = _("Malformed Citizen-App-Key header.")
    invalid = _("Invalid or revoked citizen app key.")

    def principal(self, row):
        return CitizenAppPrincipal(row)


# Staff: Django's session with DRF's CSRF check (the default of every API view, settings.REST_FRAMEWORK).
STAFF_AUTHENTICATION = SessionAuthentication


class IsFacilityClient(BasePermission):
    """Facility software with a valid key whose facility may send data (approved or connected)."""

    message = _("This facility is not approved to exchange data (pending, suspended or closed).")
    code = "facility_not_active"

    def has_permission(self, request, view) -> bool:
        user = request.user
        if not isinstance(user, FacilityPrincipal):
            return False
        if not user.facility.is_operational:
            raise ApiError(self.code, str(self.message), status_code=403)
        return True


class IsCitizenApp(BasePermission):
    def has_permission(self, request, view) -> bool:
        return isinstance(request.user, CitizenAppPrincipal)


class IsStaffOrFacilityClient(BasePermission):
    """A member of staff, or software of a facility that may exchange data (directory reads)."""

    def has_permission(self, request, view) -> bool:
        user = request.user
        if isinstance(user, FacilityPrincipal):
            return user.facility.is_operational
        return is_staff_member(user)


class FacilityApiKeyScheme(OpenApiAuthenticationExtension):
    target_class = "core.authentication.FacilityApiKeyAuthentication"
    name = "FacilityApiKey"

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": "Facility software: `Api-Key <key>` (keys are issued on the facility's credentials page).",
        }


class PractitionerTokenScheme(OpenApiAuthenticationExtension):
    target_class = "core.authentication.PractitionerTokenAuthentication"
    name = "PractitionerToken"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "Facility software reading for a doctor: the token from /oauth/token/ (OAuth2 "
            "authorization code with PKCE; the doctor signs in to the portal and allows the software).",
        }


class CitizenAppKeyScheme(OpenApiAuthenticationExtension):
    target_class = "core.authentication.CitizenAppKeyAuthentication"
    name = "CitizenAppKey"

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": "The citizen app (VNeID): `Citizen-App-Key <key>`; reads access logs only "
            "(keys from `manage.py citizen_app_client`).",
        }
