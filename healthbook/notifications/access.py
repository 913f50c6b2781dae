"""Who sees the messages that could not be delivered: provincial officers those of their
province, ministry staff all (core.scope); nobody else, and a message out of scope is a 404."""

from django.http import Http404

from core.roles import Role, has_role
from core.scope import scope_filter
from healthbook.models import Notification

DEAD_LETTER_ROLES = (Role.PROVINCE_OFFICER, Role.MINISTRY_ADMIN, Role.MINISTRY_EDITOR)


def can_see_dead_letters(user) -> bool:
    return has_role(user, *DEAD_LETTER_ROLES)


def notifications_visible_to(user):
    if not can_see_dead_letters(user):
        return Notification.objects.none()
    return scope_filter(Notification.objects.all(), user, province="province")


def dead_letter_get_for_user(user, public_id) -> Notification:
    """A failed message in the user's scope, or 404 (also for one that was delivered since)."""
    found = (
        notifications_visible_to(user)
        .filter(public_id=public_id, status__in=[Notification.Status.DEAD, Notification.Status.RETRYING])
        .select_related("citizen", "facility")
        .first()
    )
    if found is None:
        raise Http404
    return found
