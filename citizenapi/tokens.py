"""The platform's signed tokens: compact JWS (RFC 7515) with an Ed25519 signature (`alg`
EdDSA, RFC 8037), checked with `cryptography` (no JOSE library in the venv; one algorithm keeps
this short and closes algorithm confusion: `none`, HMAC and RSA are all refused).

`token_read` checks only the form and the signature and returns the header and claims; the claim
rules (issuer, audience, lifetime, replay, subject) are in citizenapi.auth. `token_sign` is for
the fake platform and the tests.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

ALGORITHM = "EdDSA"
MAX_TOKEN_BYTES = 4096


class TokenInvalid(Exception):
    """The token is malformed or its signature does not verify; `code` is the machine reason."""

    def __init__(self, code: str):
        super().__init__(code)
        self.code = code


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _b64url_decode(text: str) -> bytes:
    if any(c in text for c in "+/="):
        raise ValueError("not base64url")
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _json_part(text: str) -> dict:
    try:
        value = json.loads(_b64url_decode(text))
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise TokenInvalid("malformed_token") from None
    if not isinstance(value, dict):
        raise TokenInvalid("malformed_token")
    return value


@dataclass(frozen=True)
class UnverifiedToken:
    header: dict
    signing_input: bytes
    signature: bytes
    payload_part: str


def token_parse(token: str) -> UnverifiedToken:
    """Split a compact JWS and read its header (nothing is trusted yet)."""
    if not token or len(token) > MAX_TOKEN_BYTES or token.count(".") != 2:
        raise TokenInvalid("malformed_token")
    head, payload, sig = token.split(".")
    header = _json_part(head)
    if header.get("alg") != ALGORITHM or "crit" in header:
        raise TokenInvalid("unsupported_algorithm")
    if not isinstance(header.get("kid"), str) or not header["kid"]:
        raise TokenInvalid("unknown_key")
    try:
        signature = _b64url_decode(sig)
    except (ValueError, binascii.Error):
        raise TokenInvalid("malformed_token") from None
    return UnverifiedToken(header, f"{head}.{payload}".encode("ascii"), signature, payload)


def token_verify(parsed: UnverifiedToken, public_key: Ed25519PublicKey) -> dict:
    """Check the signature with the registered key and return the claims."""
    try:
        public_key.verify(parsed.signature, parsed.signing_input)
    except InvalidSignature:
        raise TokenInvalid("bad_signature") from None
    return _json_part(parsed.payload_part)


def token_sign(claims: dict, private_key: Ed25519PrivateKey, *, kid: str) -> str:
    """A compact JWS over `claims` (the fake platform's and the tests' side)."""
    head = b64url(json.dumps({"alg": ALGORITHM, "typ": "JWT", "kid": kid}, separators=(",", ":")).encode())
    body = b64url(json.dumps(claims, separators=(",", ":"), ensure_ascii=False).encode())
    sig = private_key.sign(f"{head}.{body}".encode("ascii"))
    return f"{head}.{body}.{b64url(sig)}"
