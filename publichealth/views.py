"""Thin pages of the line lists; every rule is in access.py, selectors.py and services.py."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from publichealth import access, cohorts_port, selectors, services
from publichealth.exports import line_list_response
from publichealth.forms import PurposeForm
from publichealth.models import LineListOpening


@login_required
def cohort_index(request):
    """The cohorts whose line lists the officer may open, and the officer's recent lists."""
    province = access.list_province(request.user)
    recent = LineListOpening.objects.filter(user=request.user).only(
        "public_id", "cohort_name", "commune_code", "purpose", "opened_at", "expires_at", "citizen_ids"
    )[:10]
    return render(
        request,
        "publichealth/cohort_index.html",
        {"province": province, "cohorts": cohorts_port.shipped_cohorts(), "recent": recent},
    )


@login_required
@require_http_methods(["GET", "POST"])
def line_list_open_view(request, version_id: int):
    """State a purpose (and a commune) — then the list opens, and every person on it is logged."""
    province = access.list_province(request.user)
    cohort = access.cohort_get_for_user(request.user, version_id)
    form = PurposeForm(request.POST or None, province=province)
    if request.method == "POST" and form.is_valid():
        try:
            opening = services.line_list_open(
                user=request.user,
                cohort=cohort,
                commune_code=access.commune_in_scope(request.user, form.cleaned_data["commune"]),
                purpose=form.cleaned_data["purpose"],
                purpose_text=form.cleaned_data["purpose_text"],
                request=request,
            )
        except ValidationError as exc:
            for field, errors in exc.message_dict.items():
                for error in errors:
                    form.add_error(field if field in form.fields else None, error)
        else:
            return redirect("ph-line-list", public_id=opening.public_id)
    return render(request, "publichealth/purpose.html", {"form": form, "cohort": cohort, "province": province})


@login_required
def line_list_view(request, public_id):
    opening = access.opening_get_for_user(request.user, public_id)
    page, rows = selectors.list_page(opening, request.GET.get("page"))
    return render(
        request,
        "publichealth/line_list.html",
        {"opening": opening, "page": page, "rows": rows, "reach": selectors.reminder_counts(opening)},
    )


@login_required
@require_POST
def line_list_export_view(request, public_id):
    opening = access.opening_get_for_user(request.user, public_id)
    fmt = request.POST.get("format")
    if fmt not in ("csv", "xlsx"):
        raise Http404
    services.line_list_export_record(opening=opening, user=request.user, fmt=fmt, request=request)
    return line_list_response(opening, fmt)


@login_required
@require_http_methods(["GET", "POST"])
def reminders_send_view(request, public_id):
    """Confirm, then put this month's reminder in the outbox for everyone on the list."""
    opening = access.opening_get_for_user(request.user, public_id)
    if request.method == "POST":
        created = services.cohort_reminders_send(opening=opening, user=request.user)
        messages.success(
            request,
            _("%(created)s reminders queued; people already reminded for this cohort this month were skipped.")
            % {"created": created},
        )
        return redirect("ph-line-list", public_id=opening.public_id)
    return render(
        request,
        "publichealth/remind_confirm.html",
        {"opening": opening, "reach": selectors.reminder_counts(opening), "key": selectors.reminder_key(opening)},
    )
