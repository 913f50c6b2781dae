"""Who may open which line list: a province public-health officer, for their own province only
(core.scope), their own openings only, while the opening lasts. Everyone else — including the
provincial officer, who sees the counts — gets a 404 (or 403 on the role-only pages)."""

from __future__ import annotations

from django.http import Http404

from core.roles import Role, has_role
from core.scope import in_scope
from geo.models import Commune, Province
from publichealth import cohorts_port
from publichealth.models import LineListOpening

LIST_ROLES = (Role.PUBLIC_HEALTH_OFFICER,)


def can_open_lists(user) -> bool:
    return has_role(user, *LIST_ROLES) and bool(user.province_id)


def list_province(user) -> Province:
    """The one province whose lists the user may open, or Http404."""
    if not can_open_lists(user):
        raise Http404
    return user.province


def cohort_get_for_user(user, version_id: int) -> cohorts_port.CohortRef:
    list_province(user)
    cohort = cohorts_port.cohort_get(version_id)
    if cohort is None:
        raise Http404
    return cohort


def commune_in_scope(user, code: str) -> str:
    """A commune code of the user's province ('' for the whole province), or Http404."""
    if not code:
        return ""
    if not Commune.objects.filter(code=code, province_id=list_province(user).pk).exists():
        raise Http404
    return code


def opening_get_for_user(user, public_id, *, live: bool = True) -> LineListOpening:
    """One of the user's own openings in their province (and still open when `live`), or Http404."""
    if not can_open_lists(user):
        raise Http404
    try:
        opening = LineListOpening.objects.select_related("province").get(public_id=public_id, user_id=user.pk)
    except (LineListOpening.DoesNotExist, ValueError, TypeError):
        raise Http404 from None
    if not in_scope(user, province_id=opening.province_id) or (live and not opening.is_live):
        raise Http404
    return opening
