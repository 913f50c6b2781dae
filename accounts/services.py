"""Writes on staff accounts: create, approve, deactivate, reactivate, language."""

import re

from allauth.account import app_settings as account_settings
from allauth.account.adapter import get_adapter
from allauth.account.models import EmailAddress
from allauth.account.utils import user_pk_to_url_str
from allauth.core import context as allauth_context
from allauth.usersessions.models import UserSession
from django.conf import settings
from django.core.exceptions import NON_FIELD_ERRORS, PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from accounts.access import can_approve, creatable_roles, staff_visible_to
from accounts.models import APPROVAL_ROLES, PRACTISING_CERTIFICATE_RE, AuditEvent, User
from core.roles import PROVINCE_BOUND_ROLES, Role
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
    practising_certificate: str = "",
    request=None,
) -> User:
    """Create a staff account within the acting user's scope and mail a set-password link.

    The scope is decided here, not by the form: a province officer's new facility admin
    must work at a facility of that province; a facility admin's doctors work at that facility.
    A doctor (with the practising-certificate number) and a ministry administrator are created
    pending: they work, and get their set-password link, once a second party approves them
    (`staff_approve`). Every other account is approved by its creator.
    """
    if role not in creatable_roles(acting_user):
        raise PermissionDenied
    certificate = ""
    if role == Role.DOCTOR:
        certificate = practising_certificate_clean(practising_certificate)
    if role in (Role.DOCTOR, Role.FACILITY_ADMIN):
        if acting_user.role == Role.FACILITY_ADMIN:
            facility = acting_user.facility
        if facility is None or not in_scope(
            acting_user, province_id=facility.province_id, facility_id=facility.pk, by_facility=True
        ):
            raise ValidationError({"facility": _("Choose a facility within your scope.")})
        province = facility.province
    elif role in PROVINCE_BOUND_ROLES:
        facility = None
        if province is None or not in_scope(acting_user, province_id=province.pk):
            raise ValidationError({"province": _("Choose a province within your scope.")})
    else:
        province, facility = None, None
    _identity_clash_check(acting_user=acting_user, username=username, email=email)
    user = User(
        username=username,
        email=email,
        full_name=full_name,
        role=role,
        province=province,
        facility=facility,
        created_by=acting_user,
        practising_certificate=certificate,
    )
    if role not in APPROVAL_ROLES:
        user.approved_at, user.approved_by = timezone.now(), acting_user
    user.set_unusable_password()
    user.full_clean(exclude=["password"])
    user.save()
    # allauth's own record of the address, unverified until the invitation link is followed
    # (accounts.signals: the set-password form proves the mailbox); allauth refuses TOTP
    # enrolment while an address is unverified.
    EmailAddress.objects.create(user=user, email=user.email.lower(), primary=True, verified=False)
    audit_record(
        actor=acting_user, action="staff_create", target=user, details={"role": role, "pending": user.is_pending}
    )
    if request is not None and not user.is_pending:
        transaction.on_commit(lambda: invitation_send(request, user))
    return user


def _identity_clash_check(*, acting_user: User, username: str, email: str) -> None:
    """Refuse a username or e-mail address that an account already has. The creator is told
    which one only for accounts they manage; for any other account (another facility, another
    province, the ministry) the answer is one neutral sentence naming no field, so that the form
    is no directory of who has an account nationwide."""
    taken = User.objects.filter(Q(username__iexact=username) | Q(email__iexact=email))
    if not taken.exists():
        return
    mine = staff_visible_to(acting_user)
    if mine.filter(username__iexact=username).exists():
        raise ValidationError({"username": _("This username is already taken.")})
    if mine.filter(email__iexact=email).exists():
        raise ValidationError({"email": _("An account with this email already exists.")})
    raise ValidationError(
        {
            NON_FIELD_ERRORS: _(
                "This username or email address cannot be used. Choose others; if the person already has an "
                "account elsewhere, ask the provincial health department to move it."
            )
        }
    )


def practising_certificate_clean(value: str) -> str:
    """The number with its spaces collapsed and letters upper-cased, or ValidationError."""
    value = " ".join((value or "").split()).upper()
    if not re.match(PRACTISING_CERTIFICATE_RE, value):
        raise ValidationError(
            {
                "practising_certificate": _(
                    "Enter the practising certificate number as printed (4 to 40 letters, digits, “/”, “-” "
                    "or “.”), e.g. 000123/HNO-CCHN."
                )
            }
        )
    return value


@transaction.atomic
def staff_approve(*, acting_user: User, member: User, practising_certificate: str = "", request=None) -> User:
    """Approve a pending account: the province confirms a doctor (typing the certificate number
    found in its register, which must match the facility's declaration), another ministry
    administrator approves a ministry administrator. Then the set-password link is mailed."""
    member = User.objects.select_for_update(of=("self",)).select_related("created_by__created_by").get(pk=member.pk)
    if not can_approve(acting_user, member):
        raise PermissionDenied
    if member.role == Role.DOCTOR:
        typed = practising_certificate_clean(practising_certificate)
        if typed != member.practising_certificate:
            raise ValidationError(
                {
                    "practising_certificate": _(
                        "This number does not match the one the facility declared for this doctor. Check the "
                        "register, or ask the facility to correct the account."
                    )
                }
            )
    member.approved_at, member.approved_by = timezone.now(), acting_user
    member.save(update_fields=["approved_at", "approved_by"])
    audit_record(
        actor=acting_user,
        action="staff_approve",
        target=member,
        details={"role": member.role, "practising_certificate": member.practising_certificate},
    )
    if request is not None and member.email:
        transaction.on_commit(lambda: invitation_send(request, member))
    return member


def invitation_send(request, user: User) -> None:
    """Mail the portal's invitation: who invited whom, as what, and a set-password link.

    The link is allauth's password-reset key (its token generator: it expires after
    PASSWORD_RESET_TIMEOUT and dies once a password is set); following it verifies the address
    (`invitation_accepted`). The mail is in the new member's language (Vietnamese by default).
    Runs after commit, outside the view: allauth is given the request it builds links from.
    """
    token = account_settings.PASSWORD_RESET_TOKEN_GENERATOR().make_token(user)
    with allauth_context.request_context(request), translation.override(user.language or settings.LANGUAGE_CODE):
        adapter = get_adapter(request)
        url = adapter.get_reset_password_from_key_url(f"{user_pk_to_url_str(user)}-{token}")
        inviter = user.approved_by if user.approved_by_id and user.approved_by_id != user.created_by_id else None
        adapter.send_mail(
            "accounts/email/invitation",
            user.email,
            {
                "member": user,
                "role": user.get_role_display(),
                "place": user.facility or user.province or "",
                "created_by": user.created_by,
                "approved_by": inviter,
                "set_password_url": url,
                "expiry_days": max(1, settings.PASSWORD_RESET_TIMEOUT // 86400),
                "login_url": request.build_absolute_uri("/accounts/login/"),
            },
        )


def invitation_accepted(request, user: User) -> bool:
    """A password set through a link mailed to the account's address proves that mailbox: mark
    the address verified with allauth's own flow. Only for an account with that one address (the
    link does not say which of several it was sent to)."""
    from allauth.account.internal.flows.email_verification import verify_email_indirectly

    addresses = list(EmailAddress.objects.filter(user=user))
    if len(addresses) != 1 or addresses[0].email.lower() != (user.email or "").lower():
        return False
    return verify_email_indirectly(request, user, addresses[0].email)


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
