"""The messages that could not be delivered, for the province and the ministry: the list and
the "send again" action (a confirmation page, then POST)."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from core.privacy import mask_id
from core.roles import role_required
from healthbook.models import Notification
from healthbook.notifications.access import DEAD_LETTER_ROLES, dead_letter_get_for_user
from healthbook.notifications.selectors import dead_letters_for
from healthbook.notifications.services import notification_retry


@login_required
@role_required(*DEAD_LETTER_ROLES)
def dead_letter_list_view(request):
    status = request.GET.get("status") or None
    rows = dead_letters_for(request.user, status=status)
    for row in rows:
        row.masked_id = mask_id(row.citizen.personal_id)
    return render(
        request,
        "healthbook/notifications_failed.html",
        {"rows": rows, "status": status, "statuses": Notification.Status},
    )


@login_required
@role_required(*DEAD_LETTER_ROLES)
@require_http_methods(["GET", "POST"])
def dead_letter_retry_view(request, public_id):
    row = dead_letter_get_for_user(request.user, public_id)
    if request.method == "POST":
        try:
            notification_retry(notification=row, user=request.user)
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(request, _("The message will be sent again."))
        return redirect("notification-failed-list")
    row.masked_id = mask_id(row.citizen.personal_id)
    return render(request, "healthbook/notification_retry_confirm.html", {"row": row})
