"""Who may see and change what in the health book app, built on accounts.access.

Card batches: ministry administrators import national batches and see all of them. A
provincial officer imports batches for their own province and sees the batches limited to
it: in such a batch, a row is theirs when the person's province of residence (MATINH_CU_TRU)
is their province, or — when the file gives no residence — when the card's issuing province
code (old numbering) belongs to their province today. Other rows are rejected with reason
OUTSIDE_PROVINCE. Anyone else gets a 404 for a batch.
"""

from django.db.models import QuerySet
from django.http import Http404

from accounts.access import has_role
from accounts.models import Role
from healthbook.models import CardBatch, Submission

CARD_IMPORT_ROLES = (Role.MINISTRY_ADMIN, Role.PROVINCE_OFFICER)


def can_import_cards(user) -> bool:
    return has_role(user, *CARD_IMPORT_ROLES)


def card_batches_visible_to(user) -> QuerySet[CardBatch]:
    if has_role(user, Role.MINISTRY_ADMIN):
        return CardBatch.objects.all()
    if has_role(user, Role.PROVINCE_OFFICER):
        return CardBatch.objects.filter(scope_province_id=user.province_id)
    return CardBatch.objects.none()


def card_batch_get_for_user(user, public_id) -> CardBatch:
    """Return one batch the user may see, or raise Http404."""
    try:
        return card_batches_visible_to(user).select_related("uploaded_by", "scope_province").get(public_id=public_id)
    except (CardBatch.DoesNotExist, ValueError, TypeError):
        raise Http404 from None


# Submissions from facility software (issue 6). Ministry staff see all; a provincial officer
# sees the submissions of facilities in their province; a facility administrator those of
# their own facility. Only status and problems are shown, never clinical detail.
SUBMISSION_ROLES = (Role.MINISTRY_ADMIN, Role.MINISTRY_EDITOR, Role.PROVINCE_OFFICER, Role.FACILITY_ADMIN)
SUBMISSION_REPROCESS_ROLES = (Role.MINISTRY_ADMIN, Role.MINISTRY_EDITOR)


def submissions_visible_to(user) -> QuerySet[Submission]:
    if has_role(user, Role.MINISTRY_ADMIN, Role.MINISTRY_EDITOR):
        return Submission.objects.all()
    if has_role(user, Role.PROVINCE_OFFICER) and user.province_id:
        return Submission.objects.filter(facility__province_id=user.province_id)
    if has_role(user, Role.FACILITY_ADMIN) and user.facility_id:
        return Submission.objects.filter(facility_id=user.facility_id)
    return Submission.objects.none()


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
        return (Submission.objects.select_related("duplicate_of").prefetch_related("problems")
                .get(facility=facility, public_id=public_id))
    except (Submission.DoesNotExist, ValueError, TypeError):
        raise Http404 from None
