"""Registry pages: list, detail, registration, decisions, approval queue, export."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext_lazy
from django.views.decorators.http import require_POST

from core.roles import is_staff_member
from facilities import access, services
from facilities.forms import (
    DecisionConfirmForm,
    DecisionForm,
    FacilityFilterForm,
    FacilityProfileForm,
    FacilityRegisterForm,
)
from facilities.health import facility_health_series, facility_is_silent, silent_after_days
from facilities.models import Facility, FacilityStatus
from facilities.reminders import ReminderAlreadySent, facility_silent_remind, reminders_sent_today
from facilities.resources import FacilityExportResource
from facilities.selectors import approval_queue, facility_history, facility_list
from geo.access import provinces_visible_to

PAGE_SIZE = 50
# Names that say what happens to the facility: a bare "Đóng" read as "close this panel" (issue 18).
DECISION_ACTIONS = {
    "approve": pgettext_lazy("facility decision", "Approve the facility"),
    "reject": pgettext_lazy("facility decision", "Reject the registration"),
    "suspend": pgettext_lazy("facility decision", "Suspend the facility"),
    "reinstate": pgettext_lazy("facility decision", "Let the facility operate again"),
    "close": pgettext_lazy("facility decision", "Close the facility for good"),
}
# Decisions taken only on a confirmation page (checked here, on the server, not by a script).
CONFIRMED_ACTIONS = ("approve", "suspend", "close")
CONSEQUENCES = {
    "approve": gettext_lazy(
        "The facility may connect its software and send data to the Electronic Health Book from now on."
    ),
    "suspend": gettext_lazy(
        "Data the facility sends is refused until an officer lets it operate again. What it sent before stays."
    ),
    "close": gettext_lazy(
        "The facility is closed for good: data it sends is refused and the decision cannot be undone. "
        "What it sent before stays in the citizens' books."
    ),
}


def _require_staff(request):
    if not is_staff_member(request.user):
        raise PermissionDenied


def _validation_to_form(form, exc: ValidationError) -> None:
    if hasattr(exc, "error_dict"):
        for field, errors in exc.message_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, exc.messages)


@login_required
def facility_list_view(request):
    _require_staff(request)
    provinces = list(provinces_visible_to(request.user).only("code", "name_vi"))
    form = FacilityFilterForm(request.GET or None, provinces=provinces)
    filters = form.filters()
    qs = facility_list(user=request.user, **filters) if filters is not None else Facility.objects.none()
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    now = timezone.now()
    rows = [(facility, facility_is_silent(facility, now)) for facility in page]
    return render(
        request,
        "facilities/facility_list.html",
        {
            "form": form,
            "page": page,
            "rows": rows,
            "silent_days": silent_after_days(),
            "query_string": request.GET.urlencode(),
            "can_register": access.can_register(request.user),
            "can_import": access.can_import(request.user),
        },
    )


@login_required
def facility_export_view(request):
    _require_staff(request)
    provinces = list(provinces_visible_to(request.user).only("code", "name_vi"))
    form = FacilityFilterForm(request.GET or None, provinces=provinces)
    filters = form.filters()
    qs = facility_list(user=request.user, **filters) if filters is not None else Facility.objects.none()
    dataset = FacilityExportResource().export(queryset=qs)
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    if request.GET.get("format") == "xlsx":
        response = HttpResponse(
            dataset.export("xlsx"),
            content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        )
        response["Content-Disposition"] = f'attachment; filename="co-so-kcb-{stamp}.xlsx"'
    else:
        response = HttpResponse("\ufeff" + dataset.export("csv"), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="co-so-kcb-{stamp}.csv"'
    return response


@login_required
def facility_detail_view(request, code):
    _require_staff(request)
    facility = access.facility_get_for_user(request.user, code)
    can_view_credentials = access.can_view_credentials(request.user, facility)
    is_silent = facility_is_silent(facility)
    can_remind = is_silent and access.can_remind(request.user, facility)
    context = {
        "facility": facility,
        "history": list(facility_history(facility=facility)[:50]),
        "is_silent": is_silent,
        "silent_days": silent_after_days(),
        "series": facility_health_series(facility=facility),
        "can_decide": access.can_decide(request.user, facility),
        "can_edit": access.can_edit_profile(request.user, facility),
        "can_view_credentials": can_view_credentials,
        "can_manage_credentials": access.can_manage_credentials(request.user, facility),
        "decision_form": DecisionForm(),
        "actions": _available_actions(facility),
        "can_remind": can_remind,
        "reminder_today": reminders_sent_today([facility.code]).get(facility.code) if can_remind else None,
    }
    if can_view_credentials:
        context["api_keys"] = list(facility.api_keys.all())
        context["certificates"] = list(facility.certificates.select_related("anchor"))
    return render(request, "facilities/facility_detail.html", context)


def _available_actions(facility) -> list[tuple[str, str, bool, bool]]:
    """(action, label, reason required, confirmed on a page) for the decisions that fit the status."""
    return [
        (action, DECISION_ACTIONS[action], needs_reason, action in CONFIRMED_ACTIONS)
        for action, (sources, _target, needs_reason) in services.TRANSITIONS.items()
        if facility.status in sources
    ]


@login_required
def facility_register_view(request):
    _require_staff(request)
    if not access.can_register(request.user):
        raise PermissionDenied
    provinces = access.registration_provinces_for(request.user)
    form = FacilityRegisterForm(
        request.POST or None, provinces=provinces, initial={"province": request.user.province_id}
    )
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        try:
            facility = services.facility_register(acting_user=request.user, **data)
        except ValidationError as exc:
            _validation_to_form(form, exc)
        else:
            messages.success(
                request,
                _("Facility %(code)s registered; it now waits for the provincial officer's approval.")
                % {"code": facility.code},
            )
            if access.facilities_visible_to(request.user).filter(pk=facility.pk).exists():
                return redirect(facility)
            return redirect("facility-list")
    return render(request, "facilities/facility_register.html", {"form": form})


@login_required
def facility_edit_view(request, code):
    _require_staff(request)
    facility = access.facility_get_for_user(request.user, code)
    if not access.can_edit_profile(request.user, facility):
        raise PermissionDenied
    form = FacilityProfileForm(request.POST or None, instance=facility)
    if request.method == "POST" and form.is_valid():
        data = {name: form.cleaned_data[name] for name in services.PROFILE_FIELDS}
        facility.refresh_from_db()
        try:
            services.facility_profile_update(acting_user=request.user, facility=facility, **data)
        except ValidationError as exc:
            _validation_to_form(form, exc)
        else:
            messages.success(request, _("Profile saved."))
            return redirect(facility)
    return render(request, "facilities/facility_edit.html", {"form": form, "facility": facility})


@login_required
def facility_decide_view(request, code, action):
    """Take a decision on a facility. Approving, suspending and closing go through a page that
    says what will happen, asks why and needs the box ticked; the others are one form."""
    _require_staff(request)
    facility = access.facility_get_for_user(request.user, code)
    if action not in DECISION_ACTIONS:
        raise Http404
    if not access.can_decide(request.user, facility):
        raise PermissionDenied
    confirmed = action in CONFIRMED_ACTIONS
    if request.method not in ("GET", "POST") or (request.method == "GET" and not confirmed):
        return redirect(facility)
    next_url = request.POST.get("next") or request.GET.get("next")
    if confirmed:
        form = DecisionConfirmForm(request.POST if request.method == "POST" else None, initial={"next": next_url})
        if not form.is_valid():
            return _decision_page(request, facility, action, form, status=400 if request.method == "POST" else 200)
        reason = form.cleaned_data["reason"]
    else:
        form = DecisionForm(request.POST)
        reason = form.cleaned_data["reason"] if form.is_valid() else ""
    try:
        services.facility_transition(acting_user=request.user, facility=facility, action=action, reason=reason)
    except ValidationError as exc:
        if confirmed:
            _validation_to_form(form, exc)
            return _decision_page(request, facility, action, form, status=400)
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(
            request, _("%(action)s: %(code)s — done.") % {"action": DECISION_ACTIONS[action], "code": facility.code}
        )
    if next_url == "queue":
        return redirect("facility-queue")
    return redirect(facility)


def _decision_page(request, facility, action, form, *, status: int):
    sources, target, _needs_reason = services.TRANSITIONS[action]
    return render(
        request,
        "facilities/facility_decide.html",
        {
            "facility": facility,
            "action": action,
            "label": DECISION_ACTIONS[action],
            "consequence": CONSEQUENCES[action],
            "target_label": FacilityStatus(target).label,
            "possible": facility.status in sources,
            "form": form,
        },
        status=status,
    )


@login_required
@require_POST
def facility_silent_remind_view(request, code):
    """Send the silent-facility reminder (province officer of the facility's province), then go
    back to the page it was sent from."""
    _require_staff(request)
    facility = access.facility_get_for_user(request.user, code)
    if not access.can_remind(request.user, facility):
        raise PermissionDenied
    try:
        reminder = facility_silent_remind(facility=facility, acting_user=request.user)
    except ReminderAlreadySent as exc:
        sent = exc.reminder
        messages.info(
            request,
            _("%(facility)s was already reminded today (%(time)s, by %(officer)s); no second e-mail was sent.")
            % {
                "facility": facility.name,
                "time": timezone.localtime(sent.sent_at).strftime("%H:%M"),
                "officer": sent.sent_by.display_name,
            },
        )
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(
            request,
            _("Reminder sent to %(email)s for %(facility)s.") % {"email": reminder.sent_to, "facility": facility.name},
        )
    next_url = request.POST.get("next", "")
    if next_url and url_has_allowed_host_and_scheme(next_url, allowed_hosts={request.get_host()}):
        return redirect(next_url)
    return redirect(facility)


@login_required
def approval_queue_view(request):
    _require_staff(request)
    user = request.user
    if not access.can_see_approval_queue(user):
        raise PermissionDenied
    page = Paginator(approval_queue(user=user), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "facilities/facility_queue.html",
        {
            "page": page,
            "decision_form": DecisionForm(),
            "can_decide": access.can_decide_registrations(user),
            "pending_status": FacilityStatus.PENDING,
        },
    )
