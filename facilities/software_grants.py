"""A doctor grants facility software the right to read books for them: OAuth2 authorization code
with PKCE (RFC 6749 §4.1, RFC 7636 S256), as SMART on FHIR app launches do.

1. The software (its API key: `client_id` is the key's prefix) sends the doctor's browser to
   `/oauth/authorize/?response_type=code&client_id=…&redirect_uri=…&scope=user/*.read&state=…
   &code_challenge=…&code_challenge_method=S256`. The doctor signs in to the portal (password
   and TOTP), sees which software of which facility asks, and allows it.
2. The portal sends the browser back to the key's registered redirect address with a one-time
   code (valid 60 seconds).
3. The software exchanges the code at `/oauth/token/`, authenticated with its API key
   (`Authorization: Api-Key …`, the client credential) and the PKCE verifier, for a bearer
   token of SSKDT_PRACTITIONER_TOKEN_MINUTES. No refresh token: when it ends, the doctor signs
   in again.
4. Book reads carry `Authorization: Bearer <token>`: the token names the practitioner, so a key
   plus a username is never enough (healthbook.book.access.facility_book_access).

Only a confirmed doctor (accounts: User.is_pending) of the key's own facility can grant, to a
key that is not revoked of a facility that may exchange data. Codes and tokens are stored as
SHA-256 digests; every grant, issue and refusal of a code is an audit record, and every read
with a token is an access-log entry naming the token.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import timedelta
from urllib.parse import urlencode, urlsplit

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from accounts.services import audit_record
from core.roles import Role, has_role
from facilities.models import FacilityApiKey, PractitionerToken, SoftwareAuthorizationCode

SCOPE = "user/*.read"  # SMART on FHIR: read what this user may read
CODE_SECONDS = 60
TOKEN_PREFIX = "sskdtp"  # noqa: S105 — the tokens' fixed prefix, not a secret
LAST_USED_RESOLUTION = timedelta(minutes=1)
_CHALLENGE = re.compile(r"^[A-Za-z0-9_-]{43}$")  # base64url(SHA-256), no padding
_VERIFIER = re.compile(r"^[A-Za-z0-9._~-]{43,128}$")  # RFC 7636 §4.1


def _digest(value: str) -> str:
    return hashlib.sha256(value.encode("utf-8")).hexdigest()


class AuthorizationError(Exception):
    """An authorization request that cannot go on. `request` is set when the client and its
    redirect address are known, so the error goes back to the software; otherwise the user is
    told and nothing is redirected (RFC 6749 §4.1.2.1)."""

    def __init__(self, error: str, description: str, *, request=None, status: int = 400):
        super().__init__(description)
        self.error, self.description, self.request, self.status = error, description, request, status


class TokenError(Exception):
    """A refused token request (RFC 6749 §5.2)."""

    def __init__(self, error: str, description: str, status: int = 400):
        super().__init__(description)
        self.error, self.description, self.status = error, description, status


@dataclass(frozen=True)
class AuthorizationRequest:
    api_key: FacilityApiKey
    redirect_uri: str
    state: str
    code_challenge: str
    scope: str

    def redirect_with(self, **params) -> str:
        """The registered redirect address with `params` (and the state) added to its query."""
        if self.state:
            params["state"] = self.state
        separator = "&" if urlsplit(self.redirect_uri).query else "?"
        return f"{self.redirect_uri}{separator}{urlencode(params)}"


def redirect_uri_valid(value: str) -> bool:
    """An absolute https address, or http on the loopback (native software on the same computer,
    RFC 8252 §7.3); no fragment."""
    parts = urlsplit(value)
    if parts.fragment or not parts.hostname or len(value) > 500:
        return False
    return parts.scheme == "https" or (parts.scheme == "http" and parts.hostname in ("127.0.0.1", "localhost", "::1"))


def _active_key(client_id: str) -> FacilityApiKey | None:
    if not client_id or len(client_id) > 16:
        return None
    return (
        FacilityApiKey.objects.select_related("facility")
        .filter(prefix=client_id, revoked_at__isnull=True, expires_at__gt=timezone.now())
        .first()
    )


def may_grant(user, api_key: FacilityApiKey) -> bool:
    """A confirmed, active doctor of the key's own facility, which is not stopped (suspended,
    closed or rejected)."""
    return (
        has_role(user, Role.DOCTOR)
        and not getattr(user, "is_pending", True)
        and user.facility_id == api_key.facility_id
        and not api_key.facility.is_stopped
    )


def authorization_request_read(params) -> AuthorizationRequest:
    """Check an authorization request (GET query or the consent form's POST) or raise
    AuthorizationError."""
    api_key = _active_key(params.get("client_id", ""))
    if api_key is None or not api_key.facility.is_operational:
        raise AuthorizationError(
            "invalid_client", _("This software is unknown, its key was revoked or its facility may not exchange data.")
        )
    redirect_uri = params.get("redirect_uri", "")
    if redirect_uri not in api_key.redirect_uri_list:
        raise AuthorizationError(
            "invalid_request",
            _("The return address is not one registered for this software by its facility."),
        )
    request = AuthorizationRequest(
        api_key=api_key,
        redirect_uri=redirect_uri,
        state=params.get("state", "")[:500],
        code_challenge=params.get("code_challenge", ""),
        scope=params.get("scope", "") or SCOPE,
    )
    if params.get("response_type") != "code":
        raise AuthorizationError("unsupported_response_type", "response_type must be code", request=request)
    if request.scope != SCOPE:
        raise AuthorizationError("invalid_scope", f"scope must be {SCOPE}", request=request)
    if params.get("code_challenge_method") != "S256" or not _CHALLENGE.match(request.code_challenge):
        raise AuthorizationError(
            "invalid_request", "PKCE is required: code_challenge (S256) and code_challenge_method=S256", request=request
        )
    return request


@transaction.atomic
def software_authorization_grant(*, user: User, request: AuthorizationRequest) -> str:
    """Record the doctor's consent and return the one-time code (shown to nobody but the software)."""
    if not may_grant(user, request.api_key):
        raise AuthorizationError(
            "access_denied",
            _("Only a doctor of %(facility)s whose account the province confirmed can allow this software.")
            % {"facility": request.api_key.facility.name},
            status=403,
        )
    code = secrets.token_urlsafe(32)
    now = timezone.now()
    row = SoftwareAuthorizationCode.objects.create(
        code_hash=_digest(code),
        api_key=request.api_key,
        user=user,
        redirect_uri=request.redirect_uri,
        scope=request.scope,
        code_challenge=request.code_challenge,
        created_at=now,
        expires_at=now + timedelta(seconds=CODE_SECONDS),
    )
    audit_record(
        actor=user,
        action="software_authorize",
        target=request.api_key,
        details={"facility": request.api_key.facility.code, "key": request.api_key.prefix, "code": row.pk},
    )
    return code


def _pkce_ok(verifier: str, challenge: str) -> bool:
    if not _VERIFIER.match(verifier or ""):
        return False
    computed = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode("ascii")).digest()).rstrip(b"=").decode()
    return hmac.compare_digest(computed, challenge)


@dataclass(frozen=True)
class IssuedToken:
    row: PractitionerToken
    token: str


def practitioner_token_issue(
    *, api_key: FacilityApiKey, client_id: str, code: str, redirect_uri: str, code_verifier: str
) -> IssuedToken:
    """Exchange an authorization code for a bearer token (the code works once; a code presented
    twice also revokes what it gave, RFC 6749 §4.1.2)."""
    if client_id and client_id != api_key.prefix:
        raise TokenError("invalid_client", "client_id is not the key's prefix", 401)
    now = timezone.now()
    with transaction.atomic():
        grant = (
            SoftwareAuthorizationCode.objects.select_for_update(of=("self",))
            .select_related("user", "user__facility")
            .filter(code_hash=_digest(code or ""), api_key=api_key)
            .first()
        )
        if grant is None:
            raise TokenError("invalid_grant", "unknown code")
        replayed = grant.used_at is not None
        if replayed:
            revoked = PractitionerToken.objects.filter(code=grant, revoked_at__isnull=True).update(revoked_at=now)
            audit_record(
                actor=None, action="practitioner_token_code_replayed", target=api_key, details={"revoked": revoked}
            )
        else:
            grant.used_at = now
            grant.save(update_fields=["used_at"])
    if replayed:
        raise TokenError("invalid_grant", "the code was already used")
    # The code is spent from here on, whatever follows (one try per code).
    if grant.expires_at <= now:
        raise TokenError("invalid_grant", "the code expired")
    if grant.redirect_uri != redirect_uri:
        raise TokenError("invalid_grant", "redirect_uri differs from the authorization request")
    if not _pkce_ok(code_verifier, grant.code_challenge):
        raise TokenError("invalid_grant", "code_verifier does not match the code_challenge")
    user = grant.user
    if not (user.is_active and may_grant(user, api_key)):
        raise TokenError("invalid_grant", "the doctor may no longer grant this software")
    token = f"{TOKEN_PREFIX}_{secrets.token_urlsafe(32)}"
    with transaction.atomic():
        row = PractitionerToken.objects.create(
            token_hash=_digest(token),
            api_key=api_key,
            user=user,
            code=grant,
            scope=grant.scope,
            issued_at=now,
            expires_at=now + timedelta(minutes=settings.SSKDT_PRACTITIONER_TOKEN_MINUTES),
        )
        audit_record(
            actor=user,
            action="practitioner_token_issue",
            target=row,
            details={
                "facility": api_key.facility.code,
                "key": api_key.prefix,
                "expires_at": row.expires_at.isoformat(),
            },
        )
    return IssuedToken(row=row, token=token)


def practitioner_token_authenticate(token: str) -> PractitionerToken | None:
    """The live token row for a presented bearer token, with its key, facility and doctor; None
    when unknown, expired or revoked, or when its key is revoked or its doctor may no longer read
    for this facility (checked on every request)."""
    if not (token or "").startswith(f"{TOKEN_PREFIX}_") or len(token) > 100:
        return None
    now = timezone.now()
    row = (
        PractitionerToken.objects.select_related("api_key__facility__province", "user__facility")
        .filter(token_hash=_digest(token), revoked_at__isnull=True, expires_at__gt=now)
        .first()
    )
    if row is None or row.api_key.revoked_at is not None or row.api_key.expires_at <= now or not row.user.is_active:
        return None
    if row.api_key.facility.is_stopped or row.user.facility.is_stopped:
        return None
    if not may_grant(row.user, row.api_key):
        return None
    if row.last_used_at is None or now - row.last_used_at >= LAST_USED_RESOLUTION:
        PractitionerToken.objects.filter(pk=row.pk).update(last_used_at=now)
        row.last_used_at = now
    return row


@transaction.atomic
def practitioner_token_revoke(*, token: PractitionerToken, acting_user: User | None) -> PractitionerToken:
    """End a token at once (the doctor's own page, or the software itself)."""
    token = PractitionerToken.objects.select_for_update().get(pk=token.pk)
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
        audit_record(actor=acting_user, action="practitioner_token_revoke", target=token)
    return token


def tokens_of(user) -> list[PractitionerToken]:
    """The doctor's live tokens, newest first (their page lists and revokes them)."""
    return list(
        PractitionerToken.objects.filter(user_id=user.pk, revoked_at__isnull=True, expires_at__gt=timezone.now())
        .select_related("api_key__facility")
        .order_by("-issued_at")
    )
