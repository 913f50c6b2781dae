"""Writes of the access log and of emergency accesses.

`access_log_record` is the only way an entry is written; the book access module
(healthbook.access) calls it once per request that touches a citizen's data.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass, field
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accesslog.access import emergency_grants_visible_to
from accesslog.chain import entries_append_many, entry_append
from accesslog.models import ActorKind, CitizenAppClient, EmergencyAccess, EmergencyReason, Outcome
from accounts.services import audit_record
from core.notify import notification_requested
from facilities.models import Facility


@dataclass
class Actor:
    """Who reads: a person in the portal, or software (a facility's HIS on behalf of a named
    practitioner, or the citizen app)."""

    kind: str
    user: object | None = None
    username: str = ""
    name: str = ""
    role: str = ""
    facility: object | None = None
    client_ref: str = ""
    extra: dict = field(default_factory=dict)

    @classmethod
    def for_user(cls, user) -> Actor:
        facility = getattr(user, "facility", None) if getattr(user, "facility_id", None) else None
        return cls(
            kind=ActorKind.PERSON,
            user=user if getattr(user, "pk", None) else None,
            username=getattr(user, "username", "") or "",
            name=getattr(user, "full_name", "") or "",
            role=getattr(user, "role", "") or "",
            facility=facility,
        )


def client_ip(request) -> str | None:
    if request is None:
        return None
    try:
        from allauth.account.adapter import get_adapter

        return get_adapter(request).get_client_ip(request)
    except Exception:  # noqa: BLE001 — an unparsable address must not stop the log entry
        return request.META.get("REMOTE_ADDR") or None


def access_log_record(
    *,
    actor: Actor,
    event: str,
    viewed: str,
    outcome: int,
    purpose: str = "",
    citizen=None,
    book=None,
    request=None,
    details: dict | None = None,
) -> dict:
    """Append one entry: who, role, facility, citizen, what, purpose, time, address, outcome."""
    facility = actor.facility
    book_public_id = getattr(book, "public_id", None)
    return entry_append(
        {
            "actor_kind": actor.kind,
            "actor_user_id": getattr(actor.user, "pk", None),
            "actor_username": actor.username,
            "actor_name": actor.name,
            "actor_role": actor.role,
            "facility_id": getattr(facility, "pk", None),
            "facility_code": getattr(facility, "code", "") or "",
            "facility_name": getattr(facility, "name", "") or "",
            "client_ref": actor.client_ref,
            "citizen_id": getattr(citizen, "pk", None),
            "book_public_id": book_public_id,
            "event": event,
            "viewed": viewed,
            "purpose": purpose,
            "outcome": int(outcome),
            "source_ip": client_ip(request),
            "request_id": (request.META.get("HTTP_X_REQUEST_ID", "") if request is not None else "")[:64],
            "details": {**actor.extra, **(details or {})},
        }
    )


def access_log_record_many(
    *,
    actor: Actor,
    event: str,
    viewed: str,
    citizens: list[tuple[int, object]],
    purpose: str = "",
    outcome: int = Outcome.SUCCESS,
    request=None,
    details: dict | None = None,
) -> int:
    """Append one entry per citizen of `citizens` ((citizen id, book public id or None), e.g. the
    people of a public-health line list), all alike but for the citizen, in one transaction of
    the chain (accesslog.chain.entries_append_many); returns how many were written."""
    facility = actor.facility
    common = {
        "actor_kind": actor.kind,
        "actor_user_id": getattr(actor.user, "pk", None),
        "actor_username": actor.username,
        "actor_name": actor.name,
        "actor_role": actor.role,
        "facility_id": getattr(facility, "pk", None),
        "facility_code": getattr(facility, "code", "") or "",
        "facility_name": getattr(facility, "name", "") or "",
        "client_ref": actor.client_ref,
        "event": event,
        "viewed": viewed,
        "purpose": purpose,
        "outcome": int(outcome),
        "source_ip": client_ip(request),
        "request_id": (request.META.get("HTTP_X_REQUEST_ID", "") if request is not None else "")[:64],
        "details": {**actor.extra, **(details or {})},
    }
    rows = [{**common, "citizen_id": citizen_id, "book_public_id": book} for citizen_id, book in citizens]
    return len(entries_append_many(rows))


EMERGENCY_CAP_CODE = "emergency_cap"


def local_day_start(now=None):
    """Midnight (Asia/Ho_Chi_Minh) of the day `now` falls in, as an aware datetime."""
    local = timezone.localtime(now or timezone.now())
    return local.replace(hour=0, minute=0, second=0, microsecond=0)


def _emergency_cap_check(*, user, now) -> None:
    """Refuse an opening beyond the day's caps (per doctor, per facility). The caller holds the
    facility row's lock, so two openings at once cannot both take the last place."""
    today = EmergencyAccess.objects.filter(facility_id=user.facility_id, started_at__gte=local_day_start(now))
    caps = (
        (today.filter(user_id=user.pk), settings.SSKDT_EMERGENCY_CAP_PER_DOCTOR, _("this doctor")),
        (today, settings.SSKDT_EMERGENCY_CAP_PER_FACILITY, _("this facility")),
    )
    for rows, cap, who in caps:
        if rows.count() >= cap:
            raise ValidationError(
                _(
                    "Emergency access refused: the daily limit of %(cap)s emergency openings for %(who)s is "
                    "reached. Contact the provincial health department."
                )
                % {"cap": cap, "who": who},
                code=EMERGENCY_CAP_CODE,
            )


def emergency_access_start(
    *,
    user,
    citizen,
    reason: str,
    reason_text: str = "",
    via_api: bool = False,
    request=None,
    actor: Actor | None = None,
    book=None,
) -> EmergencyAccess:
    """Open an emergency access for a doctor to one citizen's book, log it (event
    `emergency_start`, purpose ETREAT) and put it in the province's review queue.

    Openings are capped per doctor and per facility per day (SSKDT_EMERGENCY_CAP_PER_DOCTOR,
    SSKDT_EMERGENCY_CAP_PER_FACILITY); beyond a cap nothing opens (ValidationError, code
    `emergency_cap`), and the caller logs the refusal."""
    if reason not in EmergencyReason.values:
        raise ValidationError({"reason": _("Choose a reason from the list.")})
    reason_text = (reason_text or "").strip()
    if reason == EmergencyReason.OTHER and not reason_text:
        raise ValidationError({"reason_text": _("Explain the reason when you choose “Other”.")})
    if len(reason_text) > 500:
        raise ValidationError({"reason_text": _("The explanation is too long (at most 500 characters).")})
    if not getattr(user, "facility_id", None):
        raise ValidationError(_("Only a doctor working at a facility may use emergency access."))
    now = timezone.now()
    with transaction.atomic():
        list(Facility.objects.select_for_update().filter(pk=user.facility_id).values_list("pk", flat=True))
        _emergency_cap_check(user=user, now=now)
        grant = EmergencyAccess.objects.create(
            user=user,
            facility_id=user.facility_id,
            citizen=citizen,
            reason=reason,
            reason_text=reason_text,
            via_api=via_api,
            started_at=now,
            expires_at=now + timedelta(minutes=settings.SSKDT_EMERGENCY_ACCESS_MINUTES),
        )
        audit_record(
            actor=user,
            action="emergency_access_start",
            target=grant,
            details={"citizen": str(citizen.public_id), "reason": reason},
        )
        # The citizen is told in the app (issue 19): the message is written with the grant, once
        # per doctor and day (facility software reading with ETREAT opens a grant per request).
        notification_requested.send(
            sender=EmergencyAccess,
            citizen_id=citizen.pk,
            kind="emergency_access",
            dedupe_key=f"emergency:{user.pk}:{timezone.localdate(now).isoformat()}",
            facility_id=user.facility_id,
            context={
                "doctor": getattr(user, "display_name", "") or user.get_username(),
                "at": now.isoformat(),
            },
        )
    access_log_record(
        actor=actor or Actor.for_user(user),
        event="emergency_start",
        viewed="book",
        outcome=Outcome.SUCCESS,
        purpose="ETREAT",
        citizen=citizen,
        book=book,
        request=request,
        details={"reason": reason, "emergency": str(grant.public_id), "expires_at": grant.expires_at.isoformat()},
    )
    return grant


@transaction.atomic
def emergency_access_review(*, grant: EmergencyAccess, acting_user, status: str, note: str = "") -> EmergencyAccess:
    """Record the province's verdict on an emergency access: once, by a provincial officer of the
    facility's province (never someone of that facility). A verdict is final; the database
    refuses to change a reviewed grant (migration 0004)."""
    if status not in (EmergencyAccess.Review.JUSTIFIED, EmergencyAccess.Review.UNJUSTIFIED):
        raise ValidationError({"status": _("Choose justified or not justified.")})
    if len(note or "") > 500:
        raise ValidationError({"note": _("The note is too long (at most 500 characters).")})
    grant = EmergencyAccess.objects.select_for_update().get(pk=grant.pk)
    if not emergency_grants_visible_to(acting_user).filter(pk=grant.pk).exists() or (
        getattr(acting_user, "facility_id", None) == grant.facility_id
    ):
        raise PermissionDenied
    if grant.review_status != EmergencyAccess.Review.PENDING:
        raise ValidationError(_("This emergency access has already been reviewed; a verdict is final."))
    grant.review_status = status
    grant.reviewed_by = acting_user
    grant.reviewed_at = timezone.now()
    grant.review_note = (note or "").strip()
    grant.save(update_fields=["review_status", "reviewed_by", "reviewed_at", "review_note"])
    audit_record(actor=acting_user, action="emergency_access_review", target=grant, details={"status": status})
    return grant


CITIZEN_KEY_PREFIX = "sskdtc"


def _digest(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


@transaction.atomic
def citizen_app_client_create(*, name: str) -> tuple[CitizenAppClient, str]:
    """Create a citizen-app credential; return the row and the key (shown once, not stored)."""
    name = (name or "").strip()
    if not name or len(name) > 100:
        raise ValidationError({"name": _("Give the client a name of at most 100 characters.")})
    if CitizenAppClient.objects.filter(name=name).exists():
        raise ValidationError({"name": _("A client with this name already exists.")})
    prefix = secrets.token_hex(6)
    key = f"{CITIZEN_KEY_PREFIX}_{prefix}_{secrets.token_urlsafe(32)}"
    row = CitizenAppClient.objects.create(name=name, prefix=prefix, key_hash=_digest(key))
    audit_record(actor=None, action="citizen_app_client_create", target=row, details={"prefix": prefix})
    return row, key


def citizen_app_client_authenticate(key: str) -> CitizenAppClient | None:
    """Return the active client for a presented key, or None."""
    parts = (key or "").split("_", 2)
    if len(parts) != 3 or parts[0] != CITIZEN_KEY_PREFIX or len(parts[1]) != 12:
        return None
    row = CitizenAppClient.objects.filter(prefix=parts[1]).first()
    if row is None or row.revoked_at is not None or not hmac.compare_digest(row.key_hash, _digest(key)):
        return None
    now = timezone.now()
    if row.last_used_at is None or now - row.last_used_at >= timedelta(minutes=1):
        CitizenAppClient.objects.filter(pk=row.pk).update(last_used_at=now)
    return row
