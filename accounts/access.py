"""Who may see and change what. Every view and API asks this module.

Scope follows the role: a doctor or facility administrator sees their facility (and its
province for reference data), a provincial officer their province, ministry staff the
whole country. A user who may not see an object gets a 404, never a 403, so that the
existence of records outside their scope is not revealed.
"""

from collections.abc import Callable
from functools import wraps

from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import Http404
from rest_framework.permissions import BasePermission

from accounts.models import MINISTRY_ROLES, Role, User
from facilities.models import Facility
from provinces.models import Province

# Who creates whom (no public sign-up): each role may create the roles listed.
CREATABLE_ROLES: dict[str, tuple[str, ...]] = {
    Role.MINISTRY_ADMIN: (Role.PROVINCE_OFFICER, Role.MINISTRY_EDITOR, Role.MINISTRY_ADMIN),
    Role.PROVINCE_OFFICER: (Role.FACILITY_ADMIN,),
    Role.FACILITY_ADMIN: (Role.DOCTOR,),
}


def is_staff_member(user) -> bool:
    return bool(getattr(user, "is_authenticated", False) and user.is_active and user.role)


def is_national(user) -> bool:
    return is_staff_member(user) and user.role in MINISTRY_ROLES


def has_role(user, *roles: str) -> bool:
    return is_staff_member(user) and user.role in roles


def provinces_visible_to(user) -> QuerySet[Province]:
    """Return the provinces whose figures and staff the user may see."""
    if is_national(user):
        return Province.objects.all()
    if is_staff_member(user) and user.province_id:
        return Province.objects.filter(pk=user.province_id)
    return Province.objects.none()


def facilities_visible_to(user) -> QuerySet[Facility]:
    """Return the facilities the user may see in the registry."""
    if is_national(user):
        return Facility.objects.all()
    if has_role(user, Role.PROVINCE_OFFICER):
        return Facility.objects.filter(province_id=user.province_id)
    if has_role(user, Role.DOCTOR, Role.FACILITY_ADMIN):
        return Facility.objects.filter(pk=user.facility_id)
    return Facility.objects.none()


def staff_visible_to(user) -> QuerySet[User]:
    """Return the staff accounts the user may list and manage."""
    qs = User.objects.exclude(role="")
    if has_role(user, Role.MINISTRY_ADMIN):
        return qs
    if has_role(user, Role.PROVINCE_OFFICER):
        return qs.filter(role=Role.FACILITY_ADMIN, province_id=user.province_id)
    if has_role(user, Role.FACILITY_ADMIN):
        return qs.filter(role=Role.DOCTOR, facility_id=user.facility_id)
    return qs.none()


def staff_get_for_user(user, public_id) -> User:
    """Return one staff account the user may manage, or raise Http404."""
    try:
        return staff_visible_to(user).select_related("province", "facility").get(public_id=public_id)
    except (User.DoesNotExist, ValueError, TypeError):
        raise Http404 from None


def creatable_roles(user) -> tuple[str, ...]:
    if not is_staff_member(user):
        return ()
    return CREATABLE_ROLES.get(user.role, ())


def can_manage_staff(user) -> bool:
    return bool(creatable_roles(user))


def role_required(*roles: str) -> Callable:
    """Decorate a view so that only the given roles reach it (others get 403)."""

    def decorator(view):
        @wraps(view)
        def wrapped(request, *args, **kwargs):
            if not request.user.is_authenticated:
                from django.contrib.auth.views import redirect_to_login

                return redirect_to_login(request.get_full_path())
            if not has_role(request.user, *roles):
                raise PermissionDenied
            return view(request, *args, **kwargs)

        wrapped.required_roles = roles
        return wrapped

    return decorator


class HasRole(BasePermission):
    """DRF permission: `permission_classes = [HasRole.of(Role.X, ...)]`."""

    roles: tuple[str, ...] = ()

    @classmethod
    def of(cls, *roles: str) -> type["HasRole"]:
        return type("HasRoleOf", (cls,), {"roles": roles})

    def has_permission(self, request, view) -> bool:
        return has_role(request.user, *self.roles)


class IsStaffMember(BasePermission):
    def has_permission(self, request, view) -> bool:
        return is_staff_member(request.user)
