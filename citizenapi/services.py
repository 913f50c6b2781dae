"""Writes of the citizen API: registering the platform and its keys, recording token ids."""

from __future__ import annotations

import datetime as dt
import hashlib
from functools import lru_cache

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.services import audit_record
from citizenapi.models import PlatformClient, PlatformKey, TokenUse

MAX_KEY_BYTES = 16 * 1024


@lru_cache(maxsize=32)
def public_key_load(pem: str) -> Ed25519PublicKey:
    """The key object of a stored PEM (parsed once per process)."""
    return serialization.load_pem_public_key(pem.encode("ascii"))


def _key_check(pem: bytes) -> tuple[str, str]:
    """The normalised PEM and its SHA-256 fingerprint (over the DER), or ValidationError."""
    if len(pem) > MAX_KEY_BYTES:
        raise ValidationError(_("The file is too large for a public key."))
    try:
        key = serialization.load_pem_public_key(pem)
    except (ValueError, TypeError):
        raise ValidationError(_("This is not a PEM public key.")) from None
    if not isinstance(key, Ed25519PublicKey):
        raise ValidationError(_("The platform's key must be an Ed25519 public key (tokens are signed with EdDSA)."))
    der = key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    text = key.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()
    return text, hashlib.sha256(der).hexdigest()


@transaction.atomic
def platform_key_register(*, issuer: str, name: str, pem: bytes, kid: str = "") -> PlatformKey:
    """Register a signing key of the platform named by `issuer` (created on first use). The key
    id defaults to the first 16 hex digits of the key's fingerprint. Registering the same key
    again returns its row (the launcher runs this at every start)."""
    issuer, name, kid = (issuer or "").strip(), (name or "").strip(), (kid or "").strip()
    if not issuer or len(issuer) > 200:
        raise ValidationError(_("Give the platform's issuer (the iss claim of its tokens), at most 200 characters."))
    text, fingerprint = _key_check(pem)
    existing = PlatformKey.objects.select_related("client").filter(fingerprint_sha256=fingerprint).first()
    if existing is not None:
        if existing.client.issuer != issuer or existing.revoked_at is not None:
            raise ValidationError(_("This key is already registered for another platform, or was revoked."))
        return existing
    client, _created = PlatformClient.objects.get_or_create(issuer=issuer, defaults={"name": name or issuer})
    if client.revoked_at is not None:
        raise ValidationError(_("This platform client is revoked."))
    kid = kid or fingerprint[:16]
    if len(kid) > 64 or PlatformKey.objects.filter(kid=kid).exists():
        raise ValidationError(_("This key id is already used (or longer than 64 characters)."))
    row = PlatformKey.objects.create(client=client, kid=kid, public_key_pem=text, fingerprint_sha256=fingerprint)
    audit_record(actor=None, action="citizen_platform_key_register", target=row, details={"issuer": issuer, "kid": kid})
    return row


@transaction.atomic
def platform_key_revoke(*, kid: str) -> PlatformKey:
    row = PlatformKey.objects.select_for_update().filter(kid=kid).first()
    if row is None:
        raise ValidationError(_("No platform key with this key id."))
    if row.revoked_at is None:
        row.revoked_at = timezone.now()
        row.save(update_fields=["revoked_at"])
        audit_record(actor=None, action="citizen_platform_key_revoke", target=row, details={"kid": kid})
    return row


def token_use_record(*, client_id: int, jti: str, expires_at: dt.datetime) -> bool:
    """Remember a token id until its expiry; False when it was already used (a replay)."""
    try:
        with transaction.atomic():
            TokenUse.objects.create(client_id=client_id, jti=jti, expires_at=expires_at)
    except IntegrityError:
        return False
    return True


def token_uses_purge(*, now: dt.datetime | None = None, skew_seconds: int = 0) -> int:
    """Forget token ids whose tokens are refused as expired anyway."""
    cutoff = (now or timezone.now()) - dt.timedelta(seconds=skew_seconds)
    deleted, _by_model = TokenUse.objects.filter(expires_at__lt=cutoff).delete()
    return deleted
