from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import JsonResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts import services
from accounts.access import (
    APPROVER_ROLES,
    can_manage_staff,
    creatable_roles,
    pending_for_approver,
    pending_get_for_approver,
    staff_get_for_user,
)
from accounts.forms import LanguageForm, StaffApproveForm, StaffCreateForm, StaffFilterForm
from accounts.selectors import staff_list
from core.roles import Role, has_role, is_staff_member
from geo.access import provinces_visible_to

HOME_TEMPLATES = {
    Role.DOCTOR: "accounts/home_doctor.html",
    Role.FACILITY_ADMIN: "accounts/home_facility_admin.html",
    Role.PROVINCE_OFFICER: "accounts/home_province_officer.html",
    Role.PUBLIC_HEALTH_OFFICER: "accounts/home_public_health.html",
    Role.MINISTRY_EDITOR: "accounts/home_ministry.html",
    Role.MINISTRY_ADMIN: "accounts/home_ministry.html",
}


@login_required
def home(request):
    """Each role lands on its own home page; accounts without a role see a short notice."""
    user = request.user
    if not is_staff_member(user):
        return render(request, "accounts/home_no_role.html", status=403)
    context = {
        "provinces_count": provinces_visible_to(user).count(),
        "can_manage_staff": can_manage_staff(user),
    }
    return render(request, HOME_TEMPLATES[user.role], context)


def _require_staff_manager(request):
    if not request.user.is_authenticated or not can_manage_staff(request.user):
        raise PermissionDenied


@login_required
def staff_list_view(request):
    _require_staff_manager(request)
    form = StaffFilterForm(request.GET or None)
    q, active = "", ""
    if form.is_valid():
        q, active = form.cleaned_data["q"], form.cleaned_data["active"]
    page = Paginator(staff_list(user=request.user, q=q, active=active), 25).get_page(request.GET.get("page"))
    return render(request, "accounts/user_list.html", {"form": form, "page": page})


@login_required
def staff_create_view(request):
    _require_staff_manager(request)
    form = StaffCreateForm(request.POST or None, acting_user=request.user)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            user = services.staff_create(
                acting_user=request.user,
                username=data["username"],
                email=data["email"],
                full_name=data["full_name"],
                role=data["role"],
                province=data.get("province"),
                facility=data.get("facility"),
                practising_certificate=data.get("practising_certificate", ""),
                request=request,
            )
        except ValidationError as exc:
            for field, errors in exc.message_dict.items():
                form.add_error(field if field in form.fields else None, errors)
        else:
            if user.is_pending:
                message = _(
                    "Account %(name)s created. It works once it is approved (a doctor by the provincial health "
                    "department, a ministry administrator by another administrator); the link to set the "
                    "password is emailed then."
                )
            else:
                message = _("Account %(name)s created; a link to set the password was emailed.")
            messages.success(request, message % {"name": user.display_name})
            return redirect("staff-detail", public_id=user.public_id)
    return render(request, "accounts/user_create.html", {"form": form, "roles": creatable_roles(request.user)})


@login_required
def staff_detail_view(request, public_id):
    _require_staff_manager(request)
    member = staff_get_for_user(request.user, public_id)
    return render(request, "accounts/user_detail.html", {"member": member})


def _require_approver(request):
    if not any(has_role(request.user, role) for role in set(APPROVER_ROLES.values())):
        raise PermissionDenied


@login_required
def staff_approval_list_view(request):
    """Accounts waiting for the user's approval: doctors of the officer's province, or ministry
    administrators created by another administrator."""
    _require_approver(request)
    pending = list(pending_for_approver(request.user).select_related("facility", "created_by").order_by("date_joined"))
    return render(request, "accounts/user_approvals.html", {"pending": pending, "form": StaffApproveForm()})


@login_required
@require_POST
def staff_approve_view(request, public_id):
    _require_approver(request)
    member = pending_get_for_approver(request.user, public_id)
    form = StaffApproveForm(request.POST)
    form.is_valid()
    try:
        services.staff_approve(
            acting_user=request.user,
            member=member,
            practising_certificate=form.cleaned_data.get("practising_certificate", ""),
            request=request,
        )
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(
            request, _("Account %(name)s approved; a link to set the password was emailed.") % {"name": member}
        )
    return redirect("staff-approvals")


@login_required
@require_POST
def staff_deactivate_view(request, public_id):
    _require_staff_manager(request)
    member = staff_get_for_user(request.user, public_id)
    try:
        services.staff_deactivate(acting_user=request.user, user=member)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, _("Account deactivated; all its sessions have ended."))
    return redirect("staff-detail", public_id=member.public_id)


@login_required
@require_POST
def staff_reactivate_view(request, public_id):
    _require_staff_manager(request)
    member = staff_get_for_user(request.user, public_id)
    services.staff_reactivate(acting_user=request.user, user=member)
    messages.success(request, _("Account reactivated."))
    return redirect("staff-detail", public_id=member.public_id)


@login_required
@require_POST
def language_set_view(request):
    form = LanguageForm(request.POST)
    if form.is_valid():
        services.user_language_set(user=request.user, language=form.cleaned_data["language"])
    next_url = request.POST.get("next") or "/"
    if not url_has_allowed_host_and_scheme(next_url, allowed_hosts={request.get_host()}):
        next_url = "/"
    return redirect(next_url)


def _api_error(request, code: str, message: str, status: int):
    """Machines get the API's JSON error shape, even for URLs no view matched."""
    if request.path.startswith("/api/"):
        return JsonResponse({"code": code, "message": message, "details": {}}, status=status)
    return None


def error_403(request, exception=None):
    return _api_error(request, "permission_denied", _("Access denied"), 403) or render(
        request, "errors/403.html", status=403
    )


def error_404(request, exception=None):
    return _api_error(request, "not_found", _("Not found"), 404) or render(request, "errors/404.html", status=404)


def error_429(request, exception=None):
    """allauth's "too many requests" answer; a login refused this way is a failed login on record."""
    from allauth.core.internal.ratelimit import handler429
    from django.contrib.auth.signals import user_login_failed
    from django.urls import reverse

    if request.method == "POST" and request.path == reverse("account_login"):
        user_login_failed.send(
            sender=__name__, credentials={"username": request.POST.get("login", "")}, request=request
        )
    return handler429(request)


def _database_unavailable() -> bool:
    """Is the exception being handled the database going away (restart, failover, network)?"""
    import sys

    from django.db import InterfaceError, OperationalError

    return isinstance(sys.exc_info()[1], OperationalError | InterfaceError)


def error_500(request):
    if _database_unavailable():
        # A database restart is an outage, not a bug: 503 so that clients retry; the page and
        # the JSON use nothing that needs the database.
        response = _api_error(
            request, "unavailable", _("The service is temporarily unavailable; send again later."), 503
        ) or render(request, "errors/503.html", status=503)
        response["Retry-After"] = "5"
        return response
    return _api_error(request, "server_error", _("Server error"), 500) or render(request, "errors/500.html", status=500)
