"""The platform's keys (the command), the token ids' purge and the API in the schema."""

import datetime as dt

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ec import SECP256R1, generate_private_key
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import reverse
from django.utils import timezone

from citizenapi.models import PlatformKey, TokenUse
from citizenapi.services import token_use_record, token_uses_purge

pytestmark = pytest.mark.django_db


def _pem(key) -> bytes:
    return key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)


def test_the_command_registers_rotates_and_revokes_keys(tmp_path, capsys):
    first, second, ec = tmp_path / "k1.pem", tmp_path / "k2.pem", tmp_path / "ec.pem"
    first.write_bytes(_pem(Ed25519PrivateKey.generate()))
    second.write_bytes(_pem(Ed25519PrivateKey.generate()))
    ec.write_bytes(_pem(generate_private_key(SECP256R1())))
    call_command(
        "citizen_platform_key",
        "add",
        "--issuer",
        "https://vneid.test",
        "--name",
        "VNeID",
        "--pem",
        str(first),
        "--kid",
        "K1",
    )
    call_command("citizen_platform_key", "add", "--issuer", "https://vneid.test", "--pem", str(second), "--kid", "K2")
    assert PlatformKey.objects.filter(client__issuer="https://vneid.test").count() == 2
    with pytest.raises(CommandError):  # only Ed25519 keys
        call_command("citizen_platform_key", "add", "--issuer", "https://vneid.test", "--pem", str(ec))
    with pytest.raises(CommandError):  # one key, one platform
        call_command("citizen_platform_key", "add", "--issuer", "https://other.test", "--pem", str(first))
    call_command("citizen_platform_key", "revoke", "--kid", "K1")
    assert PlatformKey.objects.get(kid="K1").revoked_at is not None
    assert PlatformKey.objects.get(kid="K2").revoked_at is None


def test_token_ids_are_kept_until_expiry_then_purged(platform):
    now = timezone.now()
    client_id = platform.row.client_id
    assert token_use_record(client_id=client_id, jti="a" * 16, expires_at=now - dt.timedelta(minutes=1))
    assert token_use_record(client_id=client_id, jti="b" * 16, expires_at=now + dt.timedelta(minutes=1))
    assert not token_use_record(client_id=client_id, jti="b" * 16, expires_at=now + dt.timedelta(minutes=1))
    assert token_uses_purge(now=now) == 1
    assert list(TokenUse.objects.values_list("jti", flat=True)) == ["b" * 16]


def test_the_citizen_api_is_in_the_schema_with_its_own_credential(client):
    schema = client.get(reverse("api-schema"), HTTP_ACCEPT="application/vnd.oai.openapi+json").json()
    summary = schema["paths"]["/api/citizen/v1/summary/"]["get"]
    assert summary["security"] == [{"CitizenToken": []}]
    assert "citizen" in summary["tags"] and "401" in summary["responses"]
    assert schema["components"]["securitySchemes"]["CitizenToken"]["type"] == "apiKey"
    assert not any("{pid}" in path or "personal" in path for path in schema["paths"])
