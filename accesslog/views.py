"""The province's review queue of emergency ("break-the-glass") accesses (final verdicts)."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accesslog.access import REVIEWER_ROLES, emergency_grant_get_for_reviewer
from accesslog.models import EmergencyAccess
from accesslog.selectors import emergency_queue
from accesslog.services import emergency_access_review
from core.privacy import mask_id
from core.roles import role_required


@login_required
@role_required(*REVIEWER_ROLES)
def emergency_review_list_view(request):
    show_all = request.GET.get("all") == "1"
    grants = list(emergency_queue(request.user, pending_only=not show_all).select_related("facility")[:200])
    for grant in grants:
        grant.masked_id = mask_id(grant.citizen.personal_id)
    return render(
        request,
        "accesslog/emergency_review_list.html",
        {"grants": grants, "show_all": show_all, "statuses": EmergencyAccess.Review},
    )


@login_required
@role_required(*REVIEWER_ROLES)
@require_POST
def emergency_review_view(request, public_id):
    grant = emergency_grant_get_for_reviewer(request.user, public_id)
    try:
        emergency_access_review(
            grant=grant,
            acting_user=request.user,
            status=request.POST.get("status", ""),
            note=request.POST.get("note", ""),
        )
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    except PermissionDenied:
        raise Http404 from None
    else:
        messages.success(request, _("Review recorded."))
    return redirect("emergency-review-list")
