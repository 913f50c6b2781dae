"""Who may see the submissions of facility software (status and problems, never clinical detail).

Ministry staff see all; a provincial officer sees the submissions of facilities in their
province; a facility administrator those of their own facility (the one scope rule,
core.scope). Facility software reads its own submissions through the API.
"""

from django.db.models import QuerySet
from django.http import Http404

from core.roles import Role, has_role
from core.scope import scope_filter
from healthbook.models import Submission

SUBMISSION_ROLES = (Role.MINISTRY_ADMIN, Role.MINISTRY_EDITOR, Role.PROVINCE_OFFICER, Role.FACILITY_ADMIN)
SUBMISSION_REPROCESS_ROLES = (Role.MINISTRY_ADMIN, Role.MINISTRY_EDITOR)


def submissions_visible_to(user) -> QuerySet[Submission]:
    if not has_role(user, *SUBMISSION_ROLES):
        return Submission.objects.none()
    return scope_filter(Submission.objects.all(), user, province="facility__province", facility="facility")


def submission_get_for_user(user, public_id) -> Submission:
    """Return one submission the user may see, or raise Http404."""
    try:
        return submissions_visible_to(user).select_related("facility", "reprocessed_by").get(public_id=public_id)
    except (Submission.DoesNotExist, ValueError, TypeError):
        raise Http404 from None


def can_reprocess_submissions(user) -> bool:
    return has_role(user, *SUBMISSION_REPROCESS_ROLES)


def submission_get_for_facility(facility, public_id) -> Submission:
    """Return a submission of this facility (for its software), or raise Http404."""
    try:
        return (
            Submission.objects.select_related("duplicate_of")
            .prefetch_related("problems")
            .get(facility=facility, public_id=public_id)
        )
    except (Submission.DoesNotExist, ValueError, TypeError):
        raise Http404 from None
