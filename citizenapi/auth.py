"""The citizen API's one kind of client: the VNeID platform, calling for a citizen it identified.

`Authorization: Citizen-Token <jwt>` — a compact JWS signed with one of the platform's
registered Ed25519 keys (`manage.py citizen_platform_key`), with these claims
(docs/citizen-api.md):

- `iss` the platform's issuer, `aud` this API (SSKDT_CITIZEN_TOKEN_AUDIENCE);
- `sub` the signed-in citizen's personal ID (12 digits, the identifier rules of the cards);
- `iat`, `exp` (at most SSKDT_CITIZEN_TOKEN_MAX_SECONDS apart, clocks may differ by
  SSKDT_CITIZEN_TOKEN_SKEW_SECONDS), `jti` (unique: a token is accepted once);
- `act_for` (optional) `{"pid": <child's personal ID>, "relationship": "parent" | "guardian"}`:
  a parent or guardian reading the book of a child under 14, as verified by the platform.

The token is the credential: it is valid on the citizen API only (no other view lists this
class), and no staff or facility credential passes the citizen API's permission. `request.user`
is a `CitizenPlatformPrincipal` (no role: no staff permission matches it), `request.auth` a
`CitizenContext`. Every refusal is a 401 with a machine reason in core.api's error shape.
"""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass, field

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication, get_authorization_header
from rest_framework.permissions import BasePermission

from citizenapi.models import PlatformKey
from citizenapi.services import public_key_load, token_use_record
from citizenapi.tokens import TokenInvalid, token_parse, token_verify
from core.api import ApiError
from core.authentication import CitizenAppPrincipal
from core.privacy import mask_id
from healthbook.identifiers import OLD_PROVINCE_CODES, check_personal_id, pid_province_codes
from healthbook.models import Citizen

KEYWORD = "Citizen-Token"
GUARDIAN_RELATIONSHIPS = ("parent", "guardian")
CHILD_AGE_LIMIT = 14  # a parent or guardian acts for a child under this age
_PID_PROVINCES = pid_province_codes(OLD_PROVINCE_CODES)

# machine reason -> what people read (the request's language)
REASONS = {
    "malformed_token": _("The citizen token is malformed: send `Citizen-Token <signed JWT>`."),
    "unsupported_algorithm": _("The citizen token must be signed with EdDSA (Ed25519)."),
    "unknown_key": _("The citizen token names no registered, active platform key (kid)."),
    "bad_signature": _("The citizen token's signature does not verify with the platform's key."),
    "wrong_issuer": _("The citizen token's issuer is not the platform that owns the signing key."),
    "wrong_audience": _("The citizen token is not meant for this API (aud)."),
    "token_expired": _("The citizen token has expired: ask the platform for a new one."),
    "token_not_yet_valid": _("The citizen token was issued in the future (check the platform's clock)."),
    "token_lifetime_too_long": _("The citizen token lives too long (exp - iat is at most a few minutes)."),
    "token_replayed": _("This citizen token was already used: every call needs a new token (jti)."),
    "invalid_subject": _("The citizen token's subject (sub) is not a valid 12-digit personal ID."),
    "unknown_citizen": _("No health book for this citizen."),
    "invalid_relationship": _("act_for needs the child's personal ID and a relationship: parent or guardian."),
    "child_too_old": _("A parent or guardian may act only for a child under 14."),
}


class CitizenTokenRefused(ApiError, exceptions.AuthenticationFailed):
    """401 with a machine reason (`code`), in the one error shape (core.api)."""

    status_code = 401

    def __init__(self, code: str):
        super().__init__(code, str(REASONS[code]), status_code=401)


@dataclass(frozen=True)
class CitizenContext:
    """Whose book a call reads, as the platform asserted it (`request.auth`).

    `citizen_id` is the book's citizen (the child when a parent or guardian acts for one);
    `subject_pid_masked` the masked personal ID of the person signed in to the platform."""

    citizen_id: int
    subject_pid_masked: str
    acting_for_child: bool
    relationship: str | None
    token_id: str
    client_id: int = 0
    client_name: str = ""
    # The citizen row read to authenticate, with book, card and province (select_related): the
    # book's open (citizenapi.access) reuses it instead of asking again. Not part of equality.
    citizen: object = field(default=None, compare=False, repr=False)


class CitizenPlatformPrincipal(CitizenAppPrincipal):
    """The platform behind a citizen token, standing in for `request.user`: the same principal as
    the citizen app's key (core.authentication: empty role, no permissions, not a facility)."""

    facility = None

    def __str__(self) -> str:
        return f"citizen platform {self.client.name}"

    def has_perms(self, perms, obj=None) -> bool:
        return False


def _pid_valid(value) -> bool:
    return isinstance(value, str) and not check_personal_id(value, old_province_codes=_PID_PROVINCES)


def _age_on(birth_date: dt.date, today: dt.date) -> int:
    return today.year - birth_date.year - ((today.month, today.day) < (birth_date.month, birth_date.day))


def _int_claim(claims: dict, name: str) -> int:
    value = claims.get(name)
    if not isinstance(value, int) or isinstance(value, bool):
        raise CitizenTokenRefused("malformed_token")
    return value


def _check_times(claims: dict, now: int) -> int:
    """The expiry (epoch seconds) of a token whose times are acceptable now."""
    iat, exp = _int_claim(claims, "iat"), _int_claim(claims, "exp")
    skew = settings.SSKDT_CITIZEN_TOKEN_SKEW_SECONDS
    if exp <= iat or exp - iat > settings.SSKDT_CITIZEN_TOKEN_MAX_SECONDS:
        raise CitizenTokenRefused("token_lifetime_too_long")
    if now >= exp + skew:
        raise CitizenTokenRefused("token_expired")
    if iat > now + skew:
        raise CitizenTokenRefused("token_not_yet_valid")
    return exp


def _audience_ok(aud) -> bool:
    expected = settings.SSKDT_CITIZEN_TOKEN_AUDIENCE
    return aud == expected or (isinstance(aud, list) and expected in aud)


def _act_for(claims: dict) -> tuple[str, str] | None:
    act_for = claims.get("act_for")
    if act_for is None:
        return None
    if not isinstance(act_for, dict) or act_for.get("relationship") not in GUARDIAN_RELATIONSHIPS:
        raise CitizenTokenRefused("invalid_relationship")
    if not _pid_valid(act_for.get("pid")):
        raise CitizenTokenRefused("invalid_relationship")
    return act_for["pid"], act_for["relationship"]


_KEYS: dict[str, tuple[float, PlatformKey | None]] = {}  # kid -> (when read, row with its client)


def platform_key_get(kid: str) -> PlatformKey | None:
    """The key row with its client, remembered by this process for SSKDT_CITIZEN_KEY_CACHE_SECONDS
    (every call of the citizen API names a key: this saves a round trip each time). Revoking a
    key forgets it at once in the process that revokes; other processes stop accepting it within
    that many seconds."""
    now = time.monotonic()
    cached = _KEYS.get(kid)
    if cached is not None and now - cached[0] < settings.SSKDT_CITIZEN_KEY_CACHE_SECONDS:
        return cached[1]
    row = PlatformKey.objects.select_related("client").filter(kid=kid).first()
    if len(_KEYS) > 1000:  # kids are attacker-chosen: the unknown ones must not grow the cache
        _KEYS.clear()
    _KEYS[kid] = (now, row)
    return row


def platform_keys_forget() -> None:
    _KEYS.clear()


def citizen_token_authenticate(token: str) -> tuple[CitizenPlatformPrincipal, CitizenContext]:
    """Check a presented token (signature, claims, replay, citizen) or raise CitizenTokenRefused.
    Two queries (the key with its client is remembered a few seconds): the token id, the citizen."""
    try:
        parsed = token_parse(token)
        key = platform_key_get(parsed.header["kid"])
        if key is None or key.revoked_at is not None or key.client.revoked_at is not None:
            raise TokenInvalid("unknown_key")
        claims = token_verify(parsed, public_key_load(key.public_key_pem))
    except TokenInvalid as exc:
        raise CitizenTokenRefused(exc.code) from None
    client = key.client
    if claims.get("iss") != client.issuer:
        raise CitizenTokenRefused("wrong_issuer")
    if not _audience_ok(claims.get("aud")):
        raise CitizenTokenRefused("wrong_audience")
    now = timezone.now()
    exp = _check_times(claims, int(now.timestamp()))
    jti = claims.get("jti")
    if not isinstance(jti, str) or not 8 <= len(jti) <= 64:
        raise CitizenTokenRefused("malformed_token")
    sub = claims.get("sub")
    if not _pid_valid(sub):
        raise CitizenTokenRefused("invalid_subject")
    child = _act_for(claims)
    expires_at = dt.datetime.fromtimestamp(exp + settings.SSKDT_CITIZEN_TOKEN_SKEW_SECONDS, tz=dt.UTC)
    if not token_use_record(client_id=client.pk, jti=jti, expires_at=expires_at):
        raise CitizenTokenRefused("token_replayed")
    book_pid = child[0] if child else sub
    citizen = Citizen.objects.select_related("book", "card", "residence_province").filter(personal_id=book_pid).first()
    if citizen is None:
        raise CitizenTokenRefused("unknown_citizen")
    if child and (
        citizen.birth_date is None or _age_on(citizen.birth_date, timezone.localdate(now)) >= CHILD_AGE_LIMIT
    ):
        raise CitizenTokenRefused("child_too_old")
    context = CitizenContext(
        citizen_id=citizen.pk,
        subject_pid_masked=mask_id(sub),
        acting_for_child=child is not None,
        relationship=child[1] if child else None,
        token_id=jti,
        client_id=client.pk,
        client_name=client.name,
        citizen=citizen,
    )
    return CitizenPlatformPrincipal(client), context


class CitizenTokenAuthentication(BaseAuthentication):
    """`Authorization: Citizen-Token <jwt>` — the VNeID platform for one citizen."""

    def authenticate(self, request):
        header = get_authorization_header(request).split()
        if not header or header[0].lower() != KEYWORD.lower().encode():
            return None
        if len(header) != 2:
            raise CitizenTokenRefused("malformed_token")
        try:
            token = header[1].decode("ascii")
        except UnicodeDecodeError:
            raise CitizenTokenRefused("malformed_token") from None
        return citizen_token_authenticate(token)

    def authenticate_header(self, request) -> str:
        return KEYWORD


class IsCitizenPlatform(BasePermission):
    """Only a call authenticated by a citizen token (never staff, never facility software)."""

    def has_permission(self, request, view) -> bool:
        return isinstance(request.user, CitizenPlatformPrincipal) and isinstance(request.auth, CitizenContext)


class CitizenTokenMixin:
    """The authentication and permission of every citizen API view (use it first in the bases)."""

    authentication_classes = [CitizenTokenAuthentication]
    permission_classes = [IsCitizenPlatform]


class CitizenTokenScheme(OpenApiAuthenticationExtension):
    target_class = "citizenapi.auth.CitizenTokenAuthentication"
    name = "CitizenToken"

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": "The VNeID platform for one citizen: `Citizen-Token <JWT>`, EdDSA-signed with the "
            "platform's registered key, at most 5 minutes long, used once (docs/citizen-api.md).",
        }
