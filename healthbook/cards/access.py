"""Who may import insurance-card batches and see them.

Ministry administrators import national batches and see all of them. A provincial officer
imports batches for their own province and sees the batches limited to it: in such a batch, a
row is theirs when the person's province of residence (MATINH_CU_TRU) is their province, or —
when the file gives no residence — when the card's issuing province code (old numbering)
belongs to their province today. Other rows are rejected with reason OUTSIDE_PROVINCE. Anyone
else gets a 404 for a batch.
"""

from django.db.models import QuerySet
from django.http import Http404

from core.roles import Role, has_role
from core.scope import scope_filter
from healthbook.models import CardBatch

CARD_IMPORT_ROLES = (Role.MINISTRY_ADMIN, Role.PROVINCE_OFFICER)


def can_import_cards(user) -> bool:
    return has_role(user, *CARD_IMPORT_ROLES)


def card_batches_visible_to(user) -> QuerySet[CardBatch]:
    """The batches of the user's scope: every batch nationally, a province's own batches."""
    if not can_import_cards(user):
        return CardBatch.objects.none()
    return scope_filter(CardBatch.objects.all(), user, province="scope_province")


def card_batch_get_for_user(user, public_id) -> CardBatch:
    """Return one batch the user may see, or raise Http404."""
    try:
        return card_batches_visible_to(user).select_related("uploaded_by", "scope_province").get(public_id=public_id)
    except (CardBatch.DoesNotExist, ValueError, TypeError):
        raise Http404 from None
