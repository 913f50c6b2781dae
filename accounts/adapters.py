import time

from allauth.account import app_settings as account_settings
from allauth.account.adapter import DefaultAccountAdapter
from allauth.account.internal.flows.login import get_authentication_records
from allauth.core import context
from django.contrib.auth.signals import user_login_failed
from django.core.exceptions import ValidationError


class PortalAccountAdapter(DefaultAccountAdapter):
    """Staff accounts are created by other staff, never by public sign-up."""

    def is_open_for_signup(self, request) -> bool:
        return False

    def pre_authenticate(self, request, **credentials) -> None:
        """Refused by the rate limit is a failed login too: put it on record like the others.

        allauth stops before authenticate() once the limit is reached, so Django's
        user_login_failed signal (which writes the AuthEvent) would never fire for the
        attempts that matter most during an attack.
        """
        try:
            super().pre_authenticate(request, **credentials)
        except ValidationError:
            login = credentials.get("username") or credentials.get("email") or ""
            user_login_failed.send(sender=__name__, credentials={"username": login}, request=request)
            raise

    def is_reauthentication_required(self, *, app: str, **kwargs) -> bool:
        """Let a user who has just signed in with their password enrol their first authenticator.

        MFA is mandatory right after the first login; asking for the password a second time
        there adds nothing. Any later MFA change (new device, deactivation, recovery codes)
        still requires reauthentication.
        """
        required = super().is_reauthentication_required(app=app, **kwargs)
        request = context.request
        if not required or app != "allauth.mfa" or request is None or not request.user.is_authenticated:
            return required
        from accounts.middleware import user_has_mfa

        if user_has_mfa(request.user):
            return True
        records = get_authentication_records(request, request.user)
        fresh = records and time.time() - records[-1]["at"] < account_settings.REAUTHENTICATION_TIMEOUT
        return not fresh
