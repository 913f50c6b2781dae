"""Writes on the registry: registration, profile changes and the status lifecycle.

pending ──approve──▶ approved ──(first accepted submission)──▶ connected
   │                    │  ▲                                      │  ▲
 reject              suspend│reinstate                       suspend│reinstate
   ▼                    ▼  │                                      ▼  │
rejected ─resubmit─▶ pending        suspended ◀───────────────────────┘
any status but closed ──close──▶ closed

"Connected" is set only by `facilities.health.facility_connection_event_record`.
"""

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from accounts.services import audit_record
from core.roles import Role, has_role
from facilities import access
from facilities.models import Facility, FacilityStatus, FacilityStatusChange

S = FacilityStatus

# Fields a registrant or editor may set. Status and timestamps are never taken from input.
PROFILE_FIELDS = (
    "name",
    "commune_unit",
    "address",
    "ownership",
    "level",
    "tax_code",
    "has_insurance_contract",
    "contact_name",
    "contact_phone",
    "contact_email",
    "latitude",
    "longitude",
    "expected_monthly_visits",
)

# action → (statuses it may start from, status it leads to, reason required). Approving,
# suspending and closing record who and why (issue 18).
TRANSITIONS: dict[str, tuple[tuple[str, ...], str, bool]] = {
    "approve": ((S.PENDING,), S.APPROVED, True),
    "reject": ((S.PENDING,), S.REJECTED, True),
    "suspend": ((S.APPROVED, S.CONNECTED), S.SUSPENDED, True),
    "reinstate": ((S.SUSPENDED,), S.APPROVED, False),
    "close": ((S.PENDING, S.REJECTED, S.APPROVED, S.CONNECTED, S.SUSPENDED), S.CLOSED, True),
}


def status_change_record(
    *, facility: Facility, from_status: str, to_status: str, actor: User | None, reason: str = "", at=None
) -> FacilityStatusChange:
    return FacilityStatusChange.objects.create(
        facility=facility,
        from_status=from_status,
        to_status=to_status,
        actor=actor if actor and actor.pk else None,
        reason=reason,
        at=at or timezone.now(),
    )


def _registration_limit_check(acting_user: User) -> None:
    """A facility administrator holds at most SSKDT_FACILITY_OPEN_REGISTRATIONS_MAX codes (1) that
    the province has not approved (pending, or rejected and not yet corrected): an administrator
    represents one facility, so a province officer expects one registration from them, and no one
    can reserve a province's free codes by filing registrations nobody decides. The province
    officer, who decides the province's registrations, registers without such a limit. The
    user's row is locked so that parallel requests cannot pass the count together."""
    if not has_role(acting_user, Role.FACILITY_ADMIN):
        return
    User.objects.select_for_update().filter(pk=acting_user.pk).exists()
    limit = settings.SSKDT_FACILITY_OPEN_REGISTRATIONS_MAX
    held = Facility.objects.filter(registered_by=acting_user, status__in=(S.PENDING, S.REJECTED)).count()
    if held >= limit:
        raise ValidationError(
            {
                "code": _(
                    "You already have a registration waiting for the province's decision. Wait for it, or correct "
                    "it if it was rejected, before registering another facility; the provincial health department "
                    "can register further facilities."
                )
            }
        )


@transaction.atomic
def facility_register(*, acting_user: User, code: str, province, **profile) -> Facility:
    """Register a facility (status pending) in the acting user's own province.

    A facility administrator or a province officer (on the facility's behalf) may register.
    """
    if not access.can_register(acting_user):
        raise PermissionDenied
    if province is None or not access.registration_provinces_for(acting_user).filter(pk=province.pk).exists():
        raise ValidationError({"province": _("You can register facilities only in your own province.")})
    code = (code or "").strip()
    _registration_limit_check(acting_user)
    if Facility.objects.filter(code=code).exists():
        raise ValidationError({"code": _("A facility with this code is already registered.")})
    now = timezone.now()
    facility = Facility(
        code=code,
        province=province,
        status=S.PENDING,
        registered_by=acting_user,
        registered_at=now,
        **{k: v for k, v in profile.items() if k in PROFILE_FIELDS},
    )
    facility.commune = facility.commune_unit.name_vi if facility.commune_unit else ""
    facility.full_clean(exclude=["search_text"])
    facility.save()
    status_change_record(
        facility=facility,
        from_status="",
        to_status=S.PENDING,
        actor=acting_user,
        reason=_("Registration submitted."),
        at=now,
    )
    audit_record(actor=acting_user, action="facility_register", target=facility, details={"code": code})
    return facility


@transaction.atomic
def facility_profile_update(*, acting_user: User, facility: Facility, **profile) -> Facility:
    """Change the profile (never code, province or status). A rejected registration that is
    corrected goes back to pending for a new decision."""
    facility = Facility.objects.select_for_update().get(pk=facility.pk)
    if not access.can_edit_profile(acting_user, facility):
        raise PermissionDenied
    changed = []
    for field, value in profile.items():
        if field in PROFILE_FIELDS and getattr(facility, field) != value:
            setattr(facility, field, value)
            changed.append(field)
    if "commune_unit" in changed:  # the name follows the chosen commune
        facility.commune = facility.commune_unit.name_vi if facility.commune_unit else ""
        changed.append("commune")
    facility.full_clean(exclude=["search_text"])
    if facility.status == S.REJECTED:
        status_change_record(
            facility=facility,
            from_status=S.REJECTED,
            to_status=S.PENDING,
            actor=acting_user,
            reason=_("Registration corrected and resubmitted."),
        )
        facility.status = S.PENDING
        changed.append("status")
    if changed:
        facility.save(update_fields=changed)
        audit_record(actor=acting_user, action="facility_profile_update", target=facility, details={"fields": changed})
    return facility


@transaction.atomic
def facility_transition(*, acting_user: User, facility: Facility, action: str, reason: str = "") -> Facility:
    """Approve, reject, suspend, reinstate or close a facility (officer of its province). Who
    registered a facility (one by one or by bulk import) never approves it: a second officer does.

    The row is locked so that two officers deciding at once cannot both succeed; a
    decision that no longer fits the current status is refused with a message.
    """
    if action not in TRANSITIONS:
        raise ValidationError(_("Unknown action."))
    facility = Facility.objects.select_for_update().get(pk=facility.pk)
    if not access.can_decide(acting_user, facility):
        raise PermissionDenied
    sources, target, needs_reason = TRANSITIONS[action]
    reason = (reason or "").strip()
    if facility.status not in sources:
        raise ValidationError(
            _("This action is not possible while the facility is %(status)s.")
            % {"status": facility.get_status_display().lower()}
        )
    if needs_reason and not reason:
        raise ValidationError({"reason": _("Give a reason.")})
    if action == "approve" and facility.registered_by_id is not None and facility.registered_by_id == acting_user.pk:
        raise ValidationError(
            _("You registered this facility; another officer of the province must approve it (four eyes).")
        )
    if action == "reinstate" and facility.first_accepted_at:
        target = S.CONNECTED
    now = timezone.now()
    status_change_record(
        facility=facility, from_status=facility.status, to_status=target, actor=acting_user, reason=reason, at=now
    )
    update_fields = ["status"]
    if target == S.APPROVED and facility.approved_at is None:
        facility.approved_at = now
        update_fields.append("approved_at")
    facility.status = target
    facility.save(update_fields=update_fields)
    audit_record(
        actor=acting_user, action=f"facility_{action}", target=facility, details={"to": target, "reason": reason}
    )
    return facility


def facility_approve(*, acting_user: User, facility: Facility, reason: str) -> Facility:
    return facility_transition(acting_user=acting_user, facility=facility, action="approve", reason=reason)


def facility_reject(*, acting_user: User, facility: Facility, reason: str) -> Facility:
    return facility_transition(acting_user=acting_user, facility=facility, action="reject", reason=reason)
