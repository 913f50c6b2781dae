"""Who may see and act on which facility, built on the role kernel (core.roles) and the one
scope rule (core.scope): ministry staff all facilities, a provincial officer those of their
province, a facility's staff their own facility.

A user who may not see a facility gets a 404 from `facility_get_for_user`; a user who
sees it but may not act gets a 403 from the `can_*` checks.
"""

from django.db.models import QuerySet
from django.http import Http404

from core.roles import Role, has_role, is_national, is_staff_member
from core.scope import in_scope, scope_filter
from facilities.models import Facility, FacilityStatus
from geo.access import provinces_visible_to
from geo.models import Province

__all__ = [
    "facilities_visible_to",
    "facility_get_for_user",
    "registration_provinces_for",
    "can_register",
    "can_decide",
    "can_decide_registrations",
    "can_see_approval_queue",
    "can_edit_profile",
    "can_view_credentials",
    "can_manage_credentials",
    "can_import",
    "can_export",
]


def facilities_visible_to(user) -> QuerySet[Facility]:
    """Return the facilities the user may see in the registry."""
    return scope_filter(Facility.objects.all(), user, province="province", facility="pk")


def facility_get_for_user(user, code: str) -> Facility:
    """Return one facility the user may see, or raise Http404."""
    try:
        return facilities_visible_to(user).select_related("province").get(code=code)
    except (Facility.DoesNotExist, ValueError, TypeError):
        raise Http404 from None


def registration_provinces_for(user) -> QuerySet[Province]:
    """Return the provinces in which the user may register a facility (their own only)."""
    if not has_role(user, Role.PROVINCE_OFFICER, Role.FACILITY_ADMIN):
        return Province.objects.none()
    return provinces_visible_to(user)


def can_register(user) -> bool:
    return has_role(user, Role.PROVINCE_OFFICER, Role.FACILITY_ADMIN) and bool(user.province_id)


def can_decide(user, facility: Facility) -> bool:
    """Approve, reject, suspend, reinstate, close: the officer of the facility's province."""
    return has_role(user, Role.PROVINCE_OFFICER) and in_scope(user, province_id=facility.province_id)


def can_remind_in_province(user, province_id: int) -> bool:
    """A province officer reminds the silent facilities of their own province."""
    return has_role(user, Role.PROVINCE_OFFICER) and in_scope(user, province_id=province_id)


def can_remind(user, facility: Facility) -> bool:
    return can_remind_in_province(user, facility.province_id)


def can_decide_registrations(user) -> bool:
    """Decides on the facilities of a province: its provincial officer."""
    return has_role(user, Role.PROVINCE_OFFICER) and bool(user.province_id)


def can_see_approval_queue(user) -> bool:
    """The queue of registrations: ministry staff (every province) and provincial officers."""
    return is_national(user) or has_role(user, Role.PROVINCE_OFFICER)


def can_edit_profile(user, facility: Facility) -> bool:
    if facility.status == FacilityStatus.CLOSED:
        return False
    if can_decide(user, facility):
        return True
    return has_role(user, Role.FACILITY_ADMIN) and user.facility_id == facility.pk


def can_view_credentials(user, facility: Facility) -> bool:
    """Key names, prefixes and certificates (never a secret): the facility's admin, the
    officer of its province, the ministry."""
    return (
        is_national(user)
        or can_decide(user, facility)
        or (has_role(user, Role.FACILITY_ADMIN) and user.facility_id == facility.pk)
    )


def can_manage_credentials(user, facility: Facility) -> bool:
    """Create and revoke keys, add and revoke certificates: the facility's own admin."""
    return (
        has_role(user, Role.FACILITY_ADMIN)
        and user.facility_id == facility.pk
        and facility.status != FacilityStatus.CLOSED
    )


def can_import(user) -> bool:
    """Bulk onboarding is a province officer's job, for their own province."""
    return has_role(user, Role.PROVINCE_OFFICER) and bool(user.province_id)


def can_export(user) -> bool:
    return is_staff_member(user)
