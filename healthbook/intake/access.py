"""Who may see the submissions of facility software (status and problems, never clinical detail).

Ministry staff see all; a provincial officer sees the submissions of facilities in their
province; a facility administrator those of their own facility (the one scope rule,
core.scope). Facility software reads its own submissions through the API.

A submission held for identity review (its patient contradicts the matched book) is decided
by a named person of the facility's province or by a ministry administrator — never by the
facility that sent it. What facility software reads of its submissions never tells whether a
guessed name, birth date or sex matched a personal ID (`sender_answer`).
"""

from django.db.models import QuerySet
from django.http import Http404

from core.roles import Role, has_role
from core.scope import in_scope, scope_filter
from healthbook.intake.matching import IDENTITY_CODES
from healthbook.models import Submission

SUBMISSION_ROLES = (Role.MINISTRY_ADMIN, Role.MINISTRY_EDITOR, Role.PROVINCE_OFFICER, Role.FACILITY_ADMIN)
HOLD_REVIEW_ROLES = (Role.MINISTRY_ADMIN, Role.PROVINCE_OFFICER)


def submissions_visible_to(user) -> QuerySet[Submission]:
    if not has_role(user, *SUBMISSION_ROLES):
        return Submission.objects.none()
    return scope_filter(Submission.objects.all(), user, province="facility__province", facility="facility")


def submission_get_for_user(user, public_id) -> Submission:
    """Return one submission the user may see, or raise Http404."""
    try:
        return (
            submissions_visible_to(user)
            .select_related("facility", "reprocessed_by", "reviewed_by")
            .get(public_id=public_id)
        )
    except (Submission.DoesNotExist, ValueError, TypeError):
        raise Http404 from None


def can_reprocess_submission(user, sub: Submission) -> bool:
    """A rejected submission is sent through processing again by the administrator of the facility
    that sent it (after fixing its data or registry entry) or by a ministry administrator (after a
    code-list or registry fix). Not by code-list editors, whose role is the code lists."""
    if has_role(user, Role.MINISTRY_ADMIN):
        return True
    return has_role(user, Role.FACILITY_ADMIN) and user.facility_id is not None and user.facility_id == sub.facility_id


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


def can_review_hold(user, sub: Submission) -> bool:
    """A held submission is released or rejected by an officer of the sending facility's province
    or a ministry administrator (a second party: never someone of the facility that sent it)."""
    return (
        sub.status == Submission.Status.HELD
        and has_role(user, *HOLD_REVIEW_ROLES)
        and in_scope(user, province_id=sub.facility.province_id)
    )


def sender_answer(sub: Submission, problems) -> tuple[str, list]:
    """The status and problems facility software reads about its submission.

    The identity contradictions (name, birth date, sex, personal ID against the matched book) are
    left out, and a held submission answers as an attached one would (its counts were computed
    as if attached): otherwise a sender could send a visit with a guessed name or birth date for
    a personal ID and learn from the answer whether the guess was right. The facility's
    administrator sees the held state on the submission pages, where a reviewer of the province
    decides it."""
    shown = [p for p in problems if p.code not in IDENTITY_CODES]
    status = sub.status
    if status in (Submission.Status.HELD, Submission.Status.ACCEPTED, Submission.Status.ACCEPTED_WITH_WARNINGS):
        status = Submission.Status.ACCEPTED_WITH_WARNINGS if shown else Submission.Status.ACCEPTED
    return status, shown
