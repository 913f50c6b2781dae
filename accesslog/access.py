"""Who may review which emergency ("break-the-glass") accesses: a provincial officer of the
province of the facility whose doctor opened the book (the one scope rule, core.scope), never
anyone of that facility — the facility's own administrator could otherwise clear its doctors'
openings (issue 15). A grant of another province is a 404.

Who may read a book at all, and the log entry each read writes, is the book's rule
(healthbook.book.access); this app only keeps the log and the grants.
"""

from django.db.models import QuerySet
from django.http import Http404

from accesslog.models import EmergencyAccess
from core.roles import Role, has_role
from core.scope import scope_filter

REVIEWER_ROLES = (Role.PROVINCE_OFFICER,)


def can_review_emergencies(user) -> bool:
    return has_role(user, *REVIEWER_ROLES)


def emergency_grants_visible_to(user) -> QuerySet[EmergencyAccess]:
    """The grants the user reviews: those of the facilities of their province."""
    if not can_review_emergencies(user):
        return EmergencyAccess.objects.none()
    return scope_filter(EmergencyAccess.objects.all(), user, province="facility__province")


def emergency_grant_get_for_reviewer(user, public_id) -> EmergencyAccess:
    """Return one grant the user may review, or raise Http404."""
    try:
        return emergency_grants_visible_to(user).get(public_id=public_id)
    except (EmergencyAccess.DoesNotExist, ValueError, TypeError):
        raise Http404 from None
