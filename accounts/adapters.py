import time

from allauth.account import app_settings as account_settings
from allauth.account.adapter import DefaultAccountAdapter
from allauth.account.internal.flows.login import get_authentication_records
from allauth.core import context
from django.contrib.auth.signals import user_login_failed
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _


class PortalSite:
    """What allauth's mails call the site: the portal's name (translated), the host it answers on.

    django.contrib.sites is not installed, so allauth would sign mails with the bare host
    ("127.0.0.1:8000")."""

    def __init__(self, request) -> None:
        self.name = _("Electronic Health Book")
        self.domain = request.get_host() if request is not None else ""


class PortalAccountAdapter(DefaultAccountAdapter):
    """Staff accounts are created by other staff, never by public sign-up."""

    def is_open_for_signup(self, request) -> bool:
        return False

    def format_email_subject(self, subject: str) -> str:
        return f"[{_('Electronic Health Book')}] {subject}"

    def send_mail(self, template_prefix: str, email: str, context: dict) -> None:
        context = {"current_site": PortalSite(self.request), **context}
        super().send_mail(template_prefix, email, context)

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

        records = get_authentication_records(request, request.user)
        fresh = records and time.time() - records[-1]["at"] < account_settings.REAUTHENTICATION_TIMEOUT
        if user_has_mfa(request.user):
            # Right after enrolment allauth shows the new recovery codes: once, in the same fresh
            # sign-in, without asking for the password again.
            return not (fresh and _first_look_at_recovery_codes(request))
        return not fresh


def _first_look_at_recovery_codes(request) -> bool:
    from allauth.mfa.models import Authenticator

    match = getattr(request, "resolver_match", None)
    if match is None or match.url_name != "mfa_view_recovery_codes":
        return False
    codes = Authenticator.objects.filter(user=request.user, type=Authenticator.Type.RECOVERY_CODES).first()
    return codes is not None and not codes.wrap().did_view
