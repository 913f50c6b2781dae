"""Who may review which emergency ("break-the-glass") accesses: the facility administrator of
the facility whose doctor opened the book (the one scope rule, core.scope: a facility's own
rows). A grant of another facility is a 404.

Who may read a book at all, and the log entry each read writes, is the book's rule
(healthbook.book.access); this app only keeps the log and the grants.
"""

from django.db.models import QuerySet
from django.http import Http404

from accesslog.models import EmergencyAccess
from core.roles import Role, has_role
from core.scope import scope_filter

REVIEWER_ROLES = (Role.FACILITY_ADMIN,)


def can_review_emergencies(user) -> bool:
    return has_role(user, *REVIEWER_ROLES)


def emergency_grants_visible_to(user) -> QuerySet[EmergencyAccess]:
    """The grants the user reviews: those of their own facility."""
    if not can_review_emergencies(user):
        return EmergencyAccess.objects.none()
    return scope_filter(EmergencyAccess.objects.all(), user, province="facility__province", facility="facility")


def emergency_grant_get_for_reviewer(user, public_id) -> EmergencyAccess:
    """Return one grant the user may review, or raise Http404."""
    try:
        return emergency_grants_visible_to(user).get(public_id=public_id)
    except (EmergencyAccess.DoesNotExist, ValueError, TypeError):
        raise Http404 from None
