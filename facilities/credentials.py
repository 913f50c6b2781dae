"""Credentials of facility software: API keys (signing certificates: facilities/certificates.py).

An API key looks like `sskdt_<prefix>_<secret>`: the prefix (12 characters) finds the row
through a unique index, and the SHA-256 digest of the whole key is compared in constant
time. A 32-byte random secret cannot be guessed, so a slow password hash would only cost
time on every request. The key itself is returned once and never stored.
"""

import datetime as dt
import hashlib
import hmac
import secrets
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.mail import send_mail
from django.db import connection, transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from accounts.models import User
from accounts.services import audit_record
from core.roles import Role
from facilities import access
from facilities.models import STOPPED, Facility, FacilityApiKey, FacilityStatus
from facilities.software_grants import redirect_uri_valid
from geo.models import Province

KEY_PREFIX = "sskdt"
PREFIX_LENGTH = 12
SECRET_BYTES = 32
LAST_USED_RESOLUTION = dt.timedelta(minutes=1)


@dataclass(frozen=True)
class NewApiKey:
    """A freshly created key: `key` is the only copy of the secret and is shown once."""

    row: FacilityApiKey
    key: str


def api_key_digest(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def _split_key(key: str) -> str | None:
    """Return the lookup prefix of a well-formed key, else None."""
    parts = key.split("_", 2)
    if len(parts) != 3 or parts[0] != KEY_PREFIX or len(parts[1]) != PREFIX_LENGTH or len(parts[2]) < 40:
        return None
    return parts[1]


@transaction.atomic
def api_key_create(*, facility: Facility, name: str, acting_user: User | None, redirect_uris: str = "") -> NewApiKey:
    """Create a named key for the facility. `acting_user` None means a provisioning script
    (the `facility_key` command), which runs with operator rights. `redirect_uris` (one per
    line) are where a doctor who allows this software to read books is sent back
    (facilities.software_grants); without them the key reads no book."""
    if acting_user is not None and not access.can_manage_credentials(acting_user, facility):
        raise PermissionDenied
    if facility.status == FacilityStatus.CLOSED:
        raise ValidationError(_("A closed facility cannot get new credentials."))
    name = (name or "").strip()
    if not name:
        raise ValidationError({"name": _("Give the key a name, e.g. the software or server that uses it.")})
    if len(name) > 100:
        raise ValidationError({"name": _("The name is too long (at most 100 characters).")})
    if FacilityApiKey.objects.filter(facility=facility, name=name, revoked_at__isnull=True).exists():
        raise ValidationError({"name": _("An active key with this name already exists.")})
    uris = [line.strip() for line in (redirect_uris or "").splitlines() if line.strip()]
    if len(uris) > 5 or not all(redirect_uri_valid(uri) for uri in uris):
        raise ValidationError(
            {
                "redirect_uris": _(
                    "Give at most 5 return addresses, each an https address (or http on 127.0.0.1 or localhost) "
                    "without a fragment."
                )
            }
        )
    prefix = secrets.token_hex(PREFIX_LENGTH // 2)
    key = f"{KEY_PREFIX}_{prefix}_{secrets.token_urlsafe(SECRET_BYTES)}"
    row = FacilityApiKey.objects.create(
        facility=facility,
        name=name,
        prefix=prefix,
        key_hash=api_key_digest(key),
        created_by=acting_user,
        redirect_uris="\n".join(uris),
    )
    audit_record(
        actor=acting_user,
        action="facility_api_key_create",
        target=facility,
        details={"key": str(row.public_id), "name": name, "prefix": prefix, "redirect_uris": uris},
    )
    return NewApiKey(row=row, key=key)


@transaction.atomic
def api_key_revoke(*, api_key: FacilityApiKey, acting_user: User | None) -> FacilityApiKey:
    """Revoke a key; the next request made with it is refused (no cache to wait for)."""
    api_key = FacilityApiKey.objects.select_for_update().select_related("facility").get(pk=api_key.pk)
    if acting_user is not None and not access.can_manage_credentials(acting_user, api_key.facility):
        raise PermissionDenied
    if api_key.revoked_at is None:
        api_key.revoked_at = timezone.now()
        api_key.revoked_by = acting_user
        api_key.save(update_fields=["revoked_at", "revoked_by"])
        audit_record(
            actor=acting_user,
            action="facility_api_key_revoke",
            target=api_key.facility,
            details={"key": str(api_key.public_id), "prefix": api_key.prefix},
        )
    return api_key


def api_key_authenticate(key: str) -> FacilityApiKey | None:
    """Return the active key row for a presented key, or None (unknown, malformed, revoked,
    expired). A key of a stopped facility (suspended, closed, rejected) is returned: the API's
    permission (core.authentication.IsFacilityClient) refuses it with `facility_not_active`.

    One indexed query; "last used" is written at most once a minute per key.
    """
    prefix = _split_key(key or "")
    if prefix is None:
        return None
    row = _key_with_facility(prefix)
    now = timezone.now()
    if row is None or row.revoked_at is not None or row.expires_at <= now:
        return None
    if not hmac.compare_digest(row.key_hash, api_key_digest(key)):
        return None
    if row.last_used_at is None or now - row.last_used_at >= LAST_USED_RESOLUTION:
        FacilityApiKey.objects.filter(pk=row.pk).update(last_used_at=now)
        row.last_used_at = now
    return row


_KEY_JOIN_MODELS = (FacilityApiKey, Facility, Province)
_key_sql: str | None = None


def _key_with_facility(prefix: str) -> FacilityApiKey | None:
    """`FacilityApiKey.objects.select_related("facility", "facility__province").filter(prefix=…)
    .first()` without compiling that query on every API request (~0.5 ms of CPU a request):
    the same columns and join written once, rows made into instances with `from_db` (none of
    these fields has a database converter on PostgreSQL, so the values are the ORM's)."""
    global _key_sql
    if _key_sql is None:
        qn = connection.ops.quote_name
        cols = ", ".join(
            f"{alias}.{qn(f.column)}"
            for model, alias in zip(_KEY_JOIN_MODELS, "kfp", strict=True)
            for f in model._meta.concrete_fields
        )
        _key_sql = (
            f"SELECT {cols} FROM {qn(FacilityApiKey._meta.db_table)} k "  # noqa: S608 — names from the models
            f"JOIN {qn(Facility._meta.db_table)} f ON f.id = k.facility_id "
            f"JOIN {qn(Province._meta.db_table)} p ON p.id = f.province_id WHERE k.prefix = %s"
        )
    with connection.cursor() as cur:
        cur.execute(_key_sql, [prefix])
        values = cur.fetchone()
    if values is None:
        return None
    objs, start = [], 0
    for model in _KEY_JOIN_MODELS:
        fields = model._meta.concrete_fields
        objs.append(model.from_db(connection.alias, [f.attname for f in fields], values[start : start + len(fields)]))
        start += len(fields)
    key_row, facility, province = objs
    Facility.province.field.set_cached_value(facility, province)
    FacilityApiKey.facility.field.set_cached_value(key_row, facility)
    return key_row


# ---------------------------------------------------------------- expiry reminders


def api_keys_expiring(*, now: dt.datetime | None = None):
    """Active keys of facilities that are not stopped, expiring within SSKDT_API_KEY_REMINDER_DAYS
    and not reminded yet."""
    now = now or timezone.now()
    return FacilityApiKey.objects.filter(
        revoked_at__isnull=True,
        expiry_reminded_at__isnull=True,
        expires_at__gt=now,
        expires_at__lte=now + dt.timedelta(days=settings.SSKDT_API_KEY_REMINDER_DAYS),
    ).exclude(facility__status__in=STOPPED)


def api_keys_expiry_remind(*, now: dt.datetime | None = None) -> int:
    """E-mail each facility's active administrators once about its keys that expire soon, and
    mark those keys reminded (the credentials page warns about them as long as they live).
    Returns how many keys were reminded. Keys are taken with SKIP LOCKED, so two runs at once
    remind each key once; a failed send rolls its facility's marks back for the next run."""
    now = now or timezone.now()
    facility_ids = list(api_keys_expiring(now=now).values_list("facility_id", flat=True).distinct())
    admins: dict[int, list[User]] = {}
    for admin in User.objects.filter(
        facility_id__in=facility_ids, role=Role.FACILITY_ADMIN, is_active=True, email__gt=""
    ).order_by("pk"):
        admins.setdefault(admin.facility_id, []).append(admin)
    reminded = 0
    for facility_id in facility_ids:
        with transaction.atomic():
            keys = list(
                api_keys_expiring(now=now)
                .filter(facility_id=facility_id)
                .select_related("facility")
                .select_for_update(of=("self",), skip_locked=True)
                .order_by("expires_at")
            )
            if not keys:
                continue
            facility = keys[0].facility
            url = settings.SSKDT_PORTAL_BASE_URL.rstrip("/") + reverse("facility-credentials", args=[facility.code])
            for admin in admins.get(facility_id, []):
                with translation.override(admin.language or settings.LANGUAGE_CODE):
                    subject = _("API keys of %(facility)s expire soon") % {"facility": facility.name}
                    body = render_to_string(
                        "facilities/email_api_key_expiry.txt",
                        {"facility": facility, "keys": keys, "url": url, "admin": admin},
                    )
                send_mail(subject, body, None, [admin.email])
            FacilityApiKey.objects.filter(pk__in=[k.pk for k in keys]).update(expiry_reminded_at=now)
            audit_record(
                actor=None,
                action="facility_api_key_expiry_remind",
                target=facility,
                details={"keys": [k.prefix for k in keys], "recipients": len(admins.get(facility_id, []))},
            )
            reminded += len(keys)
    return reminded
