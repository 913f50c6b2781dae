"""Credential management for a facility's administrator: API keys and certificates."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from core.roles import Role, has_role
from facilities import access, certificates, credentials
from facilities.forms import ApiKeyCreateForm, CertificateUploadForm, DecisionForm
from facilities.models import FacilityApiKey, FacilityCertificate
from facilities.views import _require_staff, _validation_to_form


def _facility_for_manager(request, code):
    _require_staff(request)
    facility = access.facility_get_for_user(request.user, code)
    if not access.can_manage_credentials(request.user, facility):
        raise PermissionDenied
    return facility


def _page(request, facility, *, key_form=None, cert_form=None, new_key=None, status=200):
    certs = list(facility.certificates.select_related("anchor"))
    return render(
        request,
        "facilities/facility_credentials.html",
        {
            "facility": facility,
            "api_keys": list(facility.api_keys.select_related("created_by").all()),
            "certificates": certs,
            "has_trusted_certificate": any(
                c.is_trusted and not c.revoked_at and not c.is_expired and c.not_before <= timezone.now() for c in certs
            ),
            "key_form": key_form or ApiKeyCreateForm(),
            "cert_form": cert_form or CertificateUploadForm(),
            "revoke_form": DecisionForm(),
            "new_key": new_key,
        },
        status=status,
    )


@login_required
def my_credentials_view(request):
    """The navigation entry of a facility administrator: their own facility's credentials."""
    if not has_role(request.user, Role.FACILITY_ADMIN) or not request.user.facility_id:
        raise PermissionDenied
    return redirect("facility-credentials", code=request.user.facility.code)


# A key just created, carried in the (server-side) session to the page the creation redirects
# to and removed there: shown once, never stored in the database, and a refresh does not make a
# second key (post-redirect-get).
NEW_KEY_SESSION = "facilities.new_api_key"


@never_cache
@login_required
def credentials_view(request, code):
    facility = _facility_for_manager(request, code)
    shown = request.session.pop(NEW_KEY_SESSION, None)
    new_key = shown if isinstance(shown, dict) and shown.get("facility") == facility.code else None
    return _page(request, facility, new_key=new_key)


@never_cache
@login_required
def api_key_create_view(request, code):
    """Create a key, then redirect to the credentials page, which shows it once.

    Opening this address (a bookmark, the browser's history) creates nothing and leads to the
    credentials page rather than a bare "405 Method Not Allowed"."""
    facility = _facility_for_manager(request, code)
    if request.method != "POST":
        return redirect("facility-credentials", code=facility.code)
    form = ApiKeyCreateForm(request.POST)
    if not form.is_valid():
        return _page(request, facility, key_form=form, status=400)
    try:
        new = credentials.api_key_create(
            facility=facility,
            name=form.cleaned_data["name"],
            acting_user=request.user,
            redirect_uris=form.cleaned_data["redirect_uris"],
        )
    except ValidationError as exc:
        _validation_to_form(form, exc)
        return _page(request, facility, key_form=form, status=400)
    request.session[NEW_KEY_SESSION] = {"facility": facility.code, "name": new.row.name, "key": new.key}
    return redirect("facility-credentials", code=facility.code)


@login_required
@require_POST
def api_key_revoke_view(request, code, key_id):
    facility = _facility_for_manager(request, code)
    try:
        api_key = facility.api_keys.get(public_id=key_id)
    except (FacilityApiKey.DoesNotExist, ValueError):
        raise Http404 from None
    credentials.api_key_revoke(api_key=api_key, acting_user=request.user)
    messages.success(request, _("Key “%(name)s” revoked; it no longer works.") % {"name": api_key.name})
    return redirect("facility-credentials", code=facility.code)


@login_required
@require_POST
def certificate_add_view(request, code):
    facility = _facility_for_manager(request, code)
    form = CertificateUploadForm(request.POST, request.FILES)
    if not form.is_valid():
        return _page(request, facility, cert_form=form, status=400)
    upload = form.cleaned_data["pem"]
    if upload.size > certificates.MAX_CERT_BYTES:
        form.add_error("pem", _("The file is too large for a certificate (at most 64 KB)."))
        return _page(request, facility, cert_form=form, status=400)
    try:
        cert = certificates.certificate_add(facility=facility, pem=upload.read(), acting_user=request.user)
    except ValidationError as exc:
        form.add_error("pem", exc.messages)
        return _page(request, facility, cert_form=form, status=400)
    messages.success(request, _("Certificate added: %(subject)s.") % {"subject": cert.subject})
    return redirect("facility-credentials", code=facility.code)


@login_required
@require_POST
def certificate_revoke_view(request, code, cert_id):
    facility = _facility_for_manager(request, code)
    try:
        cert = facility.certificates.get(public_id=cert_id)
    except (FacilityCertificate.DoesNotExist, ValueError):
        raise Http404 from None
    form = DecisionForm(request.POST)
    reason = form.cleaned_data["reason"] if form.is_valid() else ""
    certificates.certificate_revoke(certificate=cert, acting_user=request.user, reason=reason)
    messages.success(request, _("Certificate revoked. It is kept to verify data received before now."))
    return redirect("facility-credentials", code=facility.code)
