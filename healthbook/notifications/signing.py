"""The signature of a request to a notification gateway (docs/notifications.md, "Contract").

The body is canonical JSON (keys sorted, no spaces, UTF-8); the signature is HMAC-SHA256 with
the key named by `X-Sskdt-Key-Id` over `<timestamp>.<body>`, sent as `X-Sskdt-Signature:
v1=<hex>` with the Unix time in `X-Sskdt-Timestamp`. The receiver refuses a timestamp more
than TOLERANCE_SECONDS away from its clock (a replayed request) and a signature that does not
match (compared in constant time). The same module signs (the senders) and verifies (the fake
gateway, and any receiver written in Python).
"""

import hashlib
import hmac
import json
import time

KEY_ID_HEADER = "X-Sskdt-Key-Id"
TIMESTAMP_HEADER = "X-Sskdt-Timestamp"
SIGNATURE_HEADER = "X-Sskdt-Signature"
IDEMPOTENCY_HEADER = "Idempotency-Key"
TOLERANCE_SECONDS = 300


def canonical_body(payload: dict) -> bytes:
    """The bytes that are sent and signed: one spelling per payload."""
    return json.dumps(payload, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode()


def signature(secret: str, timestamp: str, body: bytes) -> str:
    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return "v1=" + mac.hexdigest()


def signed_headers(*, key_id: str, secret: str, body: bytes, message_id: str, now: float | None = None) -> dict:
    timestamp = str(int(time.time() if now is None else now))
    return {
        "Content-Type": "application/json; charset=utf-8",
        KEY_ID_HEADER: key_id,
        TIMESTAMP_HEADER: timestamp,
        SIGNATURE_HEADER: signature(secret, timestamp, body),
        IDEMPOTENCY_HEADER: message_id,
    }


def verify(headers, body: bytes, keys: dict[str, str], *, now: float | None = None) -> str | None:
    """Why a signed request is refused ("unknown_key", "stale_timestamp", "bad_signature"), or
    None when it is good. `headers` is any mapping with case-insensitive `get` (or exact names);
    `keys` maps key ids to secrets."""
    secret = keys.get(headers.get(KEY_ID_HEADER) or "")
    if not secret:
        return "unknown_key"
    timestamp = headers.get(TIMESTAMP_HEADER) or ""
    try:
        skew = abs((time.time() if now is None else now) - int(timestamp))
    except ValueError:
        return "stale_timestamp"
    if skew > TOLERANCE_SECONDS:
        return "stale_timestamp"
    if not hmac.compare_digest(signature(secret, timestamp, body), headers.get(SIGNATURE_HEADER) or ""):
        return "bad_signature"
    return None
