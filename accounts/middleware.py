from allauth.account.models import EmailAddress
from allauth.mfa.models import Authenticator
from django.conf import settings
from django.contrib import messages
from django.http import JsonResponse
from django.middleware.locale import LocaleMiddleware
from django.shortcuts import redirect
from django.utils import translation
from django.utils.translation import gettext as _

# Pages a signed-in user without MFA may still reach: login/logout and MFA enrolment,
# the language switch and static files.
MFA_EXEMPT_PREFIXES = ("/accounts/", "/i18n/", "/language/", "/static/", "/favicon.ico")


class ChosenLanguageMiddleware(LocaleMiddleware):
    """The portal speaks Vietnamese to every visitor unless English was chosen: the language
    cookie set by the switch (and, once signed in, the user's remembered language:
    UserLanguageMiddleware). The browser's Accept-Language is not consulted: an office PC set
    up in English must not give a Vietnamese doctor an English login page."""

    def process_request(self, request):
        chosen = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME)
        language = chosen if chosen in dict(settings.LANGUAGES) else settings.LANGUAGE_CODE
        translation.activate(language)
        request.LANGUAGE_CODE = translation.get_language()


class UserLanguageMiddleware:
    """Activate the signed-in user's remembered language (Vietnamese by default)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and getattr(user, "language", None):
            translation.activate(user.language)
            request.LANGUAGE_CODE = user.language
        return self.get_response(request)


def user_has_mfa(user) -> bool:
    """Whether the user has a TOTP authenticator now (always asks the database)."""
    return Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).exists()


def _enrolled_for_request(user) -> bool:
    """The enrolment read with the user at the start of this request (accounts.backends), or a
    query when the user was loaded some other way."""
    enrolled = getattr(user, "mfa_totp_enrolled", None)
    return user_has_mfa(user) if enrolled is None else enrolled


class RequireMFAMiddleware:
    """Every staff member must enrol TOTP before any portal page or API call.

    Demo accounts may skip enrolment only while DEBUG is on.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if (
            user is None
            or not user.is_authenticated
            or request.path.startswith(MFA_EXEMPT_PREFIXES)
            or (settings.SSKDT_DEMO_SKIPS_MFA and getattr(user, "is_demo", False))
            or _enrolled_for_request(user)
        ):
            return self.get_response(request)
        if request.path.startswith("/api/"):
            return JsonResponse(
                {"code": "mfa_required", "message": _("Set up two-factor authentication first."), "details": {}},
                status=403,
            )
        if EmailAddress.objects.filter(user=user, verified=False).exists():
            # allauth refuses TOTP enrolment while an address is unverified: say so and show the
            # page that re-sends the confirmation, rather than a refusal on every page.
            messages.warning(
                request,
                _(
                    "Confirm your email address first (follow the link we mail you), then set up two-factor "
                    "authentication."
                ),
            )
            return redirect("account_email")
        messages.warning(request, _("Set up two-factor authentication (TOTP) before you continue."))
        return redirect("mfa_activate_totp")
