"""The facility administrator's review queue of emergency ("break-the-glass") accesses."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accesslog.models import EmergencyAccess
from accesslog.selectors import emergency_queue
from accesslog.services import emergency_access_review
from accounts.access import role_required
from accounts.models import Role


def mask(value: str | None) -> str:
    return (value[:3] + "•" * max(len(value) - 7, 0) + value[-4:]) if value else ""


@login_required
@role_required(Role.FACILITY_ADMIN)
def emergency_review_list_view(request):
    show_all = request.GET.get("all") == "1"
    grants = list(emergency_queue(request.user.facility_id, pending_only=not show_all)[:200])
    for grant in grants:
        grant.masked_id = mask(grant.citizen.personal_id)
    return render(
        request,
        "accesslog/emergency_review_list.html",
        {"grants": grants, "show_all": show_all, "statuses": EmergencyAccess.Review},
    )


@login_required
@role_required(Role.FACILITY_ADMIN)
@require_POST
def emergency_review_view(request, public_id):
    grant = EmergencyAccess.objects.filter(public_id=public_id, facility_id=request.user.facility_id).first()
    if grant is None:
        raise Http404
    try:
        emergency_access_review(
            grant=grant,
            acting_user=request.user,
            status=request.POST.get("status", ""),
            note=request.POST.get("note", ""),
        )
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, _("Review recorded."))
    return redirect("emergency-review-list")
