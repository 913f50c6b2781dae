"""Who may see and manage which staff accounts, built on the role kernel (core.roles) and the
one scope rule (core.scope).

Scope follows the role: a doctor or facility administrator works at their facility, a
provincial officer in their province, ministry staff in the whole country. A user who may
not see an account gets a 404, never a 403, so that the existence of accounts outside their
scope is not revealed.
"""

from django.db.models import QuerySet
from django.http import Http404

from accounts.models import User
from core.roles import Role, has_role, is_staff_member
from core.scope import in_scope, scope_filter

# Who creates whom (no public sign-up): each role may create the roles listed.
CREATABLE_ROLES: dict[str, tuple[str, ...]] = {
    Role.MINISTRY_ADMIN: (Role.PROVINCE_OFFICER, Role.PUBLIC_HEALTH_OFFICER, Role.MINISTRY_EDITOR, Role.MINISTRY_ADMIN),
    Role.PROVINCE_OFFICER: (Role.FACILITY_ADMIN,),
    Role.FACILITY_ADMIN: (Role.DOCTOR,),
}
# Whom each role manages once created: ministry administrators every staff account, a
# provincial officer the facility administrators of their province, a facility administrator
# the doctors of their facility.
MANAGED_ROLES: dict[str, tuple[str, ...]] = {
    Role.MINISTRY_ADMIN: tuple(Role.values),
    Role.PROVINCE_OFFICER: (Role.FACILITY_ADMIN,),
    Role.FACILITY_ADMIN: (Role.DOCTOR,),
}


def staff_visible_to(user) -> QuerySet[User]:
    """Return the staff accounts the user may list and manage."""
    roles = MANAGED_ROLES.get(user.role, ()) if is_staff_member(user) else ()
    if not roles:
        return User.objects.none()
    qs = User.objects.exclude(role="").filter(role__in=roles)
    return scope_filter(qs, user, province="province", facility="facility")


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


def staff_facilities_for(user) -> QuerySet:
    """The facilities at which the user may create staff (their scope's facilities).

    The facility model is read from `User.facility` (accounts sits below facilities in the
    layers and never imports it)."""
    facility_model = User._meta.get_field("facility").related_model
    if not has_role(user, *CREATABLE_ROLES):
        return facility_model.objects.none()
    return scope_filter(facility_model.objects.all(), user, province="province", facility="pk")


# Who approves a pending account (User.is_pending): a doctor is confirmed by a provincial officer
# of the doctor's province (with the practising-certificate number), a ministry administrator by
# another ministry administrator. Never by the account itself, nor by whoever created it or
# created its creator: the facility administrator who made a doctor, and the officer who made that
# administrator, cannot also confirm the doctor.
APPROVER_ROLES: dict[str, str] = {Role.DOCTOR: Role.PROVINCE_OFFICER, Role.MINISTRY_ADMIN: Role.MINISTRY_ADMIN}


def _creation_chain(member: User) -> set[int]:
    chain = {member.pk}
    creator = member.created_by
    for _depth in range(2):
        if creator is None:
            break
        chain.add(creator.pk)
        creator = creator.created_by
    return chain


def can_approve(user, member: User) -> bool:
    """Whether `user` may approve the pending account `member`."""
    if not member.is_pending or not member.is_active or not has_role(user, APPROVER_ROLES.get(member.role, "")):
        return False
    if user.pk in _creation_chain(member):
        return False
    if member.role == Role.DOCTOR:
        return in_scope(user, province_id=member.province_id)
    return True


def pending_for_approver(user) -> QuerySet[User]:
    """The pending accounts the user may approve (the creation-chain rule is checked per row)."""
    roles = [role for role, approver in APPROVER_ROLES.items() if has_role(user, approver)]
    if not roles:
        return User.objects.none()
    qs = User.objects.filter(role__in=roles, approved_at__isnull=True, is_active=True)
    if user.role == Role.PROVINCE_OFFICER:
        qs = qs.filter(province_id=user.province_id)
    return qs.exclude(pk=user.pk).exclude(created_by=user).exclude(created_by__created_by=user)


def pending_get_for_approver(user, public_id) -> User:
    """One pending account the user may approve, or Http404 (also for accounts outside scope)."""
    try:
        member = (
            pending_for_approver(user).select_related("facility", "province", "created_by").get(public_id=public_id)
        )
    except (User.DoesNotExist, ValueError, TypeError):
        raise Http404 from None
    if not can_approve(user, member):
        raise Http404
    return member
