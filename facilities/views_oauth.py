"""The OAuth2 endpoints through which a doctor lets facility software read books for them
(facilities.software_grants): the consent page, the token endpoint, and the doctor's list of the
software reading for them now."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponseRedirect, JsonResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST
from rest_framework.exceptions import AuthenticationFailed

from core.authentication import FacilityApiKeyAuthentication
from core.roles import Role, has_role
from facilities import software_grants as grants
from facilities.models import PractitionerToken

OAUTH_PARAMS = (
    "response_type",
    "client_id",
    "redirect_uri",
    "scope",
    "state",
    "code_challenge",
    "code_challenge_method",
)


def _error_page(request, error: grants.AuthorizationError):
    return render(request, "facilities/oauth_error.html", {"error": error}, status=error.status)


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def authorize_view(request):
    """Ask the signed-in doctor whether this software may read books for them (GET), and answer
    the software (POST: allow → a one-time code; refuse → access_denied). Only doctors grant."""
    if not has_role(request.user, Role.DOCTOR):
        raise PermissionDenied
    params = request.GET if request.method == "GET" else request.POST
    try:
        auth = grants.authorization_request_read(params)
    except grants.AuthorizationError as exc:
        if exc.request is not None:  # the software is known: the error goes back to it
            return HttpResponseRedirect(exc.request.redirect_with(error=exc.error, error_description=exc.description))
        return _error_page(request, exc)
    if not grants.may_grant(request.user, auth.api_key):
        return _error_page(
            request,
            grants.AuthorizationError(
                "access_denied",
                _("Only a doctor of %(facility)s whose account the province confirmed can allow this software.")
                % {"facility": auth.api_key.facility.name},
                status=403,
            ),
        )
    if request.method == "GET":
        hidden = [(name, params.get(name, "")) for name in OAUTH_PARAMS]
        context = {"auth": auth, "hidden": hidden, "token_minutes": settings.SSKDT_PRACTITIONER_TOKEN_MINUTES}
        return render(request, "facilities/oauth_authorize.html", context)
    if request.POST.get("allow") != "1":
        return HttpResponseRedirect(auth.redirect_with(error="access_denied"))
    try:
        code = grants.software_authorization_grant(user=request.user, request=auth)
    except grants.AuthorizationError as exc:
        return _error_page(request, exc)
    return HttpResponseRedirect(auth.redirect_with(code=code))


def _token_error(error: str, description: str, status: int = 400) -> JsonResponse:
    response = JsonResponse({"error": error, "error_description": description}, status=status)
    response["Cache-Control"] = "no-store"
    if status == 401:
        response["WWW-Authenticate"] = "Api-Key"
    return response


@csrf_exempt  # software, authenticated by its API key: no session, no cookie to ride on
@require_POST
def token_view(request):
    """Exchange an authorization code for a bearer token (RFC 6749 §4.1.3, §5.1). The client
    authenticates with its facility API key."""
    try:
        found = FacilityApiKeyAuthentication().authenticate(request)
    except AuthenticationFailed:
        found = None
    if found is None:
        return _token_error("invalid_client", "authenticate with Authorization: Api-Key <key>", 401)
    principal, api_key = found
    if not principal.facility.is_operational:
        return _token_error("unauthorized_client", "the facility may not exchange data (pending, suspended or closed)")
    if request.POST.get("grant_type") != "authorization_code":
        return _token_error("unsupported_grant_type", "grant_type must be authorization_code")
    try:
        issued = grants.practitioner_token_issue(
            api_key=api_key,
            client_id=request.POST.get("client_id", ""),
            code=request.POST.get("code", ""),
            redirect_uri=request.POST.get("redirect_uri", ""),
            code_verifier=request.POST.get("code_verifier", ""),
        )
    except grants.TokenError as exc:
        return _token_error(exc.error, exc.description, exc.status)
    user = issued.row.user
    response = JsonResponse(
        {
            "access_token": issued.token,
            "token_type": "Bearer",
            "expires_in": int((issued.row.expires_at - issued.row.issued_at).total_seconds()),
            "scope": issued.row.scope,
            "practitioner": user.username,
            "practitioner_name": user.full_name,
            "facility": api_key.facility.code,
        }
    )
    response["Cache-Control"] = "no-store"
    response["Pragma"] = "no-cache"
    return response


@login_required
def my_software_view(request):
    """The doctor's page: which software reads for them now, until when; revoke any."""
    if not has_role(request.user, Role.DOCTOR):
        raise PermissionDenied
    return render(request, "facilities/oauth_my_tokens.html", {"tokens": grants.tokens_of(request.user)})


@login_required
@require_POST
def my_software_revoke_view(request, public_id):
    if not has_role(request.user, Role.DOCTOR):
        raise PermissionDenied
    try:
        token = PractitionerToken.objects.get(public_id=public_id, user_id=request.user.pk)
    except (PractitionerToken.DoesNotExist, ValueError):
        raise Http404 from None
    grants.practitioner_token_revoke(token=token, acting_user=request.user)
    messages.success(request, _("The software can no longer read books for you with this grant."))
    return redirect("oauth-my-software")
