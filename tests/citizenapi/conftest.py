"""The fake platform's side in tests: a registered Ed25519 key and a token maker."""

import datetime as dt
import uuid

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.conf import settings
from django.utils import timezone

from citizenapi.services import platform_key_register
from citizenapi.tokens import token_sign

ISSUER = "https://vneid.test"


class Platform:
    def __init__(self, key, row):
        self.key = key
        self.row = row

    def token(self, sub: str, *, act_for=None, now=None, lifetime=120, **overrides) -> str:
        now = int((now or timezone.now()).timestamp())
        claims = {
            "iss": ISSUER,
            "aud": settings.SSKDT_CITIZEN_TOKEN_AUDIENCE,
            "sub": sub,
            "iat": now,
            "exp": now + lifetime,
            "jti": uuid.uuid4().hex,
        }
        if act_for is not None:
            claims["act_for"] = act_for
        claims.update(overrides)
        return token_sign(claims, overrides.pop("_key", self.key), kid=self.row.kid)

    def header(self, sub: str, **kw) -> dict:
        return {"HTTP_AUTHORIZATION": f"Citizen-Token {self.token(sub, **kw)}"}


@pytest.fixture
def platform(db):
    key = Ed25519PrivateKey.generate()
    pem = key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    row = platform_key_register(issuer=ISSUER, name="VNeID (test)", pem=pem)
    return Platform(key, row)


def minutes_ago(n: int) -> dt.datetime:
    return timezone.now() - dt.timedelta(minutes=n)


# The book tests' citizens, code lists and facility key (imported fixtures).
from tests.healthbook.book.conftest import citizen_app_key, code_lists, key_a, patient_a, stranger  # noqa: E402, F401
