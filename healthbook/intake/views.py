"""Submission pages for ministry staff, provincial officers (their province) and facility
administrators (their facility): status and problems only, never clinical detail."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from core.roles import role_required
from healthbook.intake.access import (
    SUBMISSION_ROLES,
    can_reprocess_submission,
    can_review_hold,
    submission_get_for_user,
    submissions_visible_to,
)
from healthbook.intake.forms import SubmissionReviewForm
from healthbook.intake.services import (
    SubmissionNotHeld,
    submission_hold_reject,
    submission_hold_release,
    submission_reprocess,
)
from healthbook.models import Submission

PAGE_SIZE = 50


@login_required
@role_required(*SUBMISSION_ROLES)
def submission_list_view(request):
    qs = submissions_visible_to(request.user).select_related("facility")
    status = request.GET.get("status", "")
    if status in Submission.Status.values:
        qs = qs.filter(status=status)
    code = request.GET.get("facility", "").strip()
    if code:
        qs = qs.filter(facility__code=code[:5])
    page = Paginator(qs.order_by("-received_at", "-id"), PAGE_SIZE).get_page(request.GET.get("page"))
    context = {"page": page, "statuses": Submission.Status.choices, "status": status, "facility_code": code}
    return render(request, "healthbook/submission_list.html", context)


@login_required
@role_required(*SUBMISSION_ROLES)
def submission_detail_view(request, public_id):
    sub = submission_get_for_user(request.user, public_id)
    problems = sub.problems.all()[:500]
    context = {
        "sub": sub,
        "problems": problems,
        "can_reprocess": can_reprocess_submission(request.user, sub),
        "review_form": SubmissionReviewForm() if can_review_hold(request.user, sub) else None,
    }
    return render(request, "healthbook/submission_detail.html", context)


@require_POST
@login_required
@role_required(*SUBMISSION_ROLES)
def submission_review_view(request, public_id):
    """Release or reject a submission held for identity review (an officer of the facility's
    province or a ministry administrator; the sending facility never decides its own)."""
    sub = submission_get_for_user(request.user, public_id)
    if not can_review_hold(request.user, sub):
        raise PermissionDenied
    form = SubmissionReviewForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose to release or to reject the submission."))
        return redirect("submission-detail", public_id=sub.public_id)
    decide = submission_hold_release if form.cleaned_data["decision"] == "release" else submission_hold_reject
    try:
        decide(submission=sub, acting_user=request.user, note=form.cleaned_data["note"])
    except SubmissionNotHeld:
        messages.warning(request, _("The submission is no longer held: someone decided it already."))
    else:
        messages.success(request, _("Your decision was recorded."))
    return redirect("submission-detail", public_id=sub.public_id)


@require_POST
@login_required
@role_required(*SUBMISSION_ROLES)
def submission_reprocess_view(request, public_id):
    sub = submission_get_for_user(request.user, public_id)
    if not can_reprocess_submission(request.user, sub):
        raise PermissionDenied
    if sub.status != Submission.Status.REJECTED:
        messages.warning(request, _("Only a rejected submission can be reprocessed."))
    else:
        submission_reprocess(submission=sub, acting_user=request.user)
        messages.success(request, _("The submission was queued for processing again."))
    return redirect("submission-detail", public_id=sub.public_id)
