"""Detached compact JWS over the exact FHIR body bytes (RFC 7515 Appendix F).

Where it travels: the HTTP header ``X-Signature`` carries ``<b64url(header)>..<b64url(sig)>``
(payload part empty: it is the request body, base64url-encoded for the signing input).  A
JWS with the payload part filled is accepted only if that part equals base64url(body).
Putting it in a header keeps the stored bytes exactly what was signed (a ``signature``
field inside the Bundle would need JSON canonicalisation to verify).

Algorithms: RS256, PS256, ES256 only.  ``alg: none`` -> JWS_ALG_NONE, HS256/384/512 ->
JWS_ALG_HMAC, anything else -> JWS_ALG.  A ``crit`` header -> JWS_CRIT (we understand none).
``kid`` (optional) selects among the facility's keys; without it every key is tried.
Keys are ``cryptography`` public keys or certificates; a certificate must be valid at
``at`` (default now).  Implemented with ``cryptography`` directly (no JOSE library in the venv).
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature, encode_dss_signature

from .problems import Problem, problem

ALGORITHMS = ("RS256", "PS256", "ES256")


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(text: str) -> bytes:
    if not isinstance(text, str) or any(c in text for c in "+/="):
        raise ValueError("not base64url")
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@dataclass
class JwsResult:
    ok: bool
    code: str | None = None
    kid: str | None = None
    alg: str | None = None
    problems: list[Problem] = field(default_factory=list)


def _fail(code: str, **kw) -> JwsResult:
    return JwsResult(False, code, problems=[problem(code, table="JWS", **kw)])


def sign_detached(body: bytes, private_key, *, alg: str = "RS256", kid: str | None = None) -> str:
    """Make a detached compact JWS (used by the generator and tests)."""
    header = {"alg": alg}
    if kid:
        header["kid"] = kid
    h = b64url(json.dumps(header, separators=(",", ":")).encode())
    signing_input = f"{h}.{b64url(body)}".encode("ascii")
    if alg == "RS256":
        sig = private_key.sign(signing_input, padding.PKCS1v15(), hashes.SHA256())
    elif alg == "PS256":
        sig = private_key.sign(signing_input, padding.PSS(padding.MGF1(hashes.SHA256()), 32), hashes.SHA256())
    elif alg == "ES256":
        r, s = decode_dss_signature(private_key.sign(signing_input, ec.ECDSA(hashes.SHA256())))
        sig = r.to_bytes(32, "big") + s.to_bytes(32, "big")
    else:
        raise ValueError(alg)
    return f"{h}..{b64url(sig)}"


def _verify_one(key, alg: str, signing_input: bytes, sig: bytes) -> bool:
    try:
        if alg in ("RS256", "PS256"):
            if not isinstance(key, rsa.RSAPublicKey) or key.key_size < 2048:
                return False
            pad = padding.PKCS1v15() if alg == "RS256" else padding.PSS(padding.MGF1(hashes.SHA256()), 32)
            key.verify(sig, signing_input, pad, hashes.SHA256())
            return True
        if not isinstance(key, ec.EllipticCurvePublicKey) or key.curve.name != "secp256r1" or len(sig) != 64:
            return False
        der = encode_dss_signature(int.from_bytes(sig[:32], "big"), int.from_bytes(sig[32:], "big"))
        key.verify(der, signing_input, ec.ECDSA(hashes.SHA256()))
        return True
    except InvalidSignature:
        return False


def verify_detached(
    body: bytes, jws: str | None, keys: Mapping[str, object], *, at: datetime | None = None
) -> JwsResult:
    """Verify ``jws`` over ``body`` against ``keys`` ({kid: public key or certificate})."""
    if not jws:
        return _fail("JWS_MISSING")
    parts = jws.strip().split(".")
    if len(parts) != 3:
        return _fail("JWS_MALFORMED")
    try:
        header = json.loads(b64url_decode(parts[0]))
        sig = b64url_decode(parts[2])
    except (ValueError, binascii.Error, UnicodeDecodeError):
        return _fail("JWS_MALFORMED")
    if not isinstance(header, dict):
        return _fail("JWS_MALFORMED")
    alg = header.get("alg")
    if not isinstance(alg, str) or alg.lower() == "none":
        return _fail("JWS_ALG_NONE", value=alg)
    if alg.upper().startswith("HS"):
        return _fail("JWS_ALG_HMAC", value=alg)
    if alg not in ALGORITHMS:
        return _fail("JWS_ALG", value=alg)
    if "crit" in header or header.get("b64") is False:
        return _fail("JWS_CRIT")
    payload_b64 = b64url(body)
    if parts[1] and parts[1] != payload_b64:
        return _fail("JWS_PAYLOAD_MISMATCH")
    signing_input = f"{parts[0]}.{payload_b64}".encode("ascii")
    kid = header.get("kid")
    candidates = {kid: keys[kid]} if isinstance(kid, str) and kid in keys else dict(keys)
    at = at or datetime.now(UTC)
    expired = False
    for cand_kid, key in candidates.items():
        if isinstance(key, x509.Certificate):
            if not (key.not_valid_before_utc <= at <= key.not_valid_after_utc):
                expired = expired or _verify_one(key.public_key(), alg, signing_input, sig)
                continue
            key = key.public_key()
        if _verify_one(key, alg, signing_input, sig):
            return JwsResult(True, None, cand_kid, alg)
    return _fail("JWS_CERT_EXPIRED" if expired else "JWS_KEY_UNKNOWN")
