"""Who may import insurance-card batches and see them.

Ministry administrators import national batches (no province scope) and see all of them; nobody
else imports nationally. A provincial officer imports batches for their own province and sees the
batches limited to it. Such a batch changes only what the officer is responsible for:

- a row naming a new person is theirs when its province of residence (MATINH_CU_TRU) is their
  province, or — when the file gives no residence — when the card's issuing province code (old
  numbering) belongs to their province today; other rows: OUTSIDE_PROVINCE (healthbook.cards.rows);
- a row naming a citizen already known is theirs when the *stored* citizen's book is in their
  province (residence on record, else the stored card's issuing province), whatever the row
  claims; other rows: CITIZEN_OTHER_PROVINCE (set-wise in healthbook.cards.merge). So an officer
  can neither rewrite another province's citizens nor move one out of their own.

Anyone else gets a 404 for a batch.
"""

from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import Http404

from core.roles import Role, has_role
from core.scope import scope_filter
from healthbook.models import CardBatch

CARD_IMPORT_ROLES = (Role.MINISTRY_ADMIN, Role.PROVINCE_OFFICER)


def can_import_cards(user) -> bool:
    return has_role(user, *CARD_IMPORT_ROLES)


def card_import_scope(user):
    """The province a batch of this user may change: the officer's province, or None (national)
    for a ministry administrator. Anyone else raises PermissionDenied."""
    if has_role(user, Role.MINISTRY_ADMIN):
        return None
    if has_role(user, Role.PROVINCE_OFFICER) and user.province_id:
        return user.province
    raise PermissionDenied


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
