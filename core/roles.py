"""The role kernel: the six staff roles and the checks every app builds its rules on.

A member of staff has exactly one role, and with it a scope (see core.scope): a doctor or a
facility administrator works at one facility, a provincial officer or a province public-health
officer in one of the 34 provinces, ministry staff nationally. Accounts without a role
(operations superusers) are not staff members and pass no check.
"""

from collections.abc import Callable
from functools import wraps

from django.core.exceptions import PermissionDenied
from django.db import models
from django.utils.translation import gettext_lazy as _
from rest_framework.permissions import BasePermission


class Role(models.TextChoices):
    DOCTOR = "doctor", _("Doctor")
    FACILITY_ADMIN = "facility_admin", _("Facility administrator")
    PROVINCE_OFFICER = "province_officer", _("Provincial health officer")
    # Cán bộ y tế công cộng tỉnh (issue 20): opens the line lists of cohorts of their province,
    # after stating a purpose; reads nothing else of the book.
    PUBLIC_HEALTH_OFFICER = "public_health_officer", _("Province public-health officer")
    MINISTRY_EDITOR = "ministry_editor", _("Ministry code-list editor")
    MINISTRY_ADMIN = "ministry_admin", _("Ministry administrator")


FACILITY_ROLES = frozenset({Role.DOCTOR, Role.FACILITY_ADMIN})
MINISTRY_ROLES = frozenset({Role.MINISTRY_EDITOR, Role.MINISTRY_ADMIN})
NATIONAL_ROLES = tuple(sorted(MINISTRY_ROLES))
# Roles bound to one province (not to a facility): core.scope gives them their province.
PROVINCE_BOUND_ROLES = frozenset({Role.PROVINCE_OFFICER, Role.PUBLIC_HEALTH_OFFICER})


def is_staff_member(user) -> bool:
    return bool(getattr(user, "is_authenticated", False) and user.is_active and user.role)


def is_national(user) -> bool:
    return is_staff_member(user) and user.role in MINISTRY_ROLES


def has_role(user, *roles: str) -> bool:
    return is_staff_member(user) and user.role in roles


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
