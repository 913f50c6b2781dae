"""Writes on staff accounts: create, deactivate, reactivate, language."""

from allauth.account.forms import ResetPasswordForm
from allauth.core import context as allauth_context
from allauth.usersessions.models import UserSession
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from accounts.access import creatable_roles
from accounts.models import AuditEvent, User
from core.roles import Role
from core.scope import in_scope


def audit_record(*, actor: User | None, action: str, target, details: dict | None = None) -> AuditEvent:
    return AuditEvent.objects.create(
        actor=actor if actor and actor.pk else None,
        action=action,
        target_type=target._meta.label_lower,
        target_id=str(getattr(target, "public_id", None) or target.pk),
        details=details or {},
    )


@transaction.atomic
def staff_create(
    *,
    acting_user: User,
    username: str,
    email: str,
    full_name: str,
    role: str,
    province=None,
    facility=None,
    request=None,
) -> User:
    """Create a staff account within the acting user's scope and mail a set-password link.

    The scope is decided here, not by the form: a province officer's new facility admin
    must work at a facility of that province; a facility admin's doctors work at that facility.
    """
    if role not in creatable_roles(acting_user):
        raise PermissionDenied
    if role in (Role.DOCTOR, Role.FACILITY_ADMIN):
        if acting_user.role == Role.FACILITY_ADMIN:
            facility = acting_user.facility
        if facility is None or not in_scope(
            acting_user, province_id=facility.province_id, facility_id=facility.pk, by_facility=True
        ):
            raise ValidationError({"facility": _("Choose a facility within your scope.")})
        province = facility.province
    elif role == Role.PROVINCE_OFFICER:
        facility = None
        if province is None or not in_scope(acting_user, province_id=province.pk):
            raise ValidationError({"province": _("Choose a province within your scope.")})
    else:
        province, facility = None, None
    if User.objects.filter(username__iexact=username).exists():
        raise ValidationError({"username": _("This username is already taken.")})
    if User.objects.filter(email__iexact=email).exists():
        raise ValidationError({"email": _("An account with this email already exists.")})
    user = User(
        username=username,
        email=email,
        full_name=full_name,
        role=role,
        province=province,
        facility=facility,
        created_by=acting_user,
    )
    user.set_unusable_password()
    user.full_clean(exclude=["password"])
    user.save()
    audit_record(actor=acting_user, action="staff_create", target=user, details={"role": role})
    if request is not None:
        transaction.on_commit(lambda: _send_set_password_mail(request, email))
    return user


def _send_set_password_mail(request, email: str) -> None:
    form = ResetPasswordForm(data={"email": email})
    # Runs after commit, outside the view: give allauth the request it builds links from.
    with allauth_context.request_context(request):
        if form.is_valid():
            form.save(request)


@transaction.atomic
def staff_deactivate(*, acting_user: User, user: User) -> User:
    """Deactivate an account and end every one of its sessions at once."""
    if user.pk == acting_user.pk:
        raise ValidationError(_("You cannot deactivate your own account."))
    user.is_active = False
    user.save(update_fields=["is_active"])
    for session in UserSession.objects.filter(user=user):
        session.end()
    audit_record(actor=acting_user, action="staff_deactivate", target=user)
    return user


@transaction.atomic
def staff_reactivate(*, acting_user: User, user: User) -> User:
    user.is_active = True
    user.save(update_fields=["is_active"])
    audit_record(actor=acting_user, action="staff_reactivate", target=user)
    return user


def user_language_set(*, user: User, language: str) -> User:
    user.language = language
    user.save(update_fields=["language"])
    return user
