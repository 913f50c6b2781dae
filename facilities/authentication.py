"""DRF authentication for facility software: `Authorization: Api-Key <key>`.

`request.user` becomes a `FacilityPrincipal` (not a staff account: its role is empty, so
no staff permission ever matches it) and `request.auth` the key row. Unknown, malformed
and revoked keys are refused with 401 on the very request that presents them.
"""

from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication, get_authorization_header
from rest_framework.permissions import BasePermission

from config.api import ApiError
from facilities.credentials import api_key_authenticate
from facilities.models import Facility

KEYWORD = "Api-Key"


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

    def __init__(self, facility: Facility, api_key):
        self.facility = facility
        self.facility_id = facility.pk
        self.province_id = facility.province_id
        self.api_key = api_key

    def __str__(self) -> str:
        return f"facility {self.facility.code}"

    def __repr__(self) -> str:
        return f"<FacilityPrincipal {self.facility.code} key={self.api_key.prefix}>"

    def has_perm(self, perm, obj=None) -> bool:
        return False


class FacilityApiKeyAuthentication(BaseAuthentication):
    def authenticate(self, request):
        header = get_authorization_header(request).split()
        if not header or header[0].lower() != KEYWORD.lower().encode():
            return None
        if len(header) != 2:
            raise exceptions.AuthenticationFailed(_("Malformed Api-Key header: send `Api-Key <key>`."))
        try:
            key = header[1].decode("ascii")
        except UnicodeDecodeError:
            raise exceptions.AuthenticationFailed(_("Invalid API key.")) from None
        row = api_key_authenticate(key)
        if row is None:
            raise exceptions.AuthenticationFailed(_("Invalid or revoked API key."))
        return FacilityPrincipal(row.facility, row), row

    def authenticate_header(self, request) -> str:
        return KEYWORD


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
