"""Facility-registry fixtures on top of the shared actors (tests/conftest.py)."""

import datetime as dt

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from django.utils import timezone

from facilities.models import FacilityStatus
from tests import factories as f


@pytest.fixture
def pending_hanoi(db):
    return f.FacilityFactory(
        code="01050", name="Phòng khám Đa khoa Chờ Duyệt", province=f.province("01"), status=FacilityStatus.PENDING
    )


@pytest.fixture
def pending_hcm(db):
    return f.FacilityFactory(
        code="79050", name="Phòng khám Chờ Duyệt HCM", province=f.province("79"), status=FacilityStatus.PENDING
    )


@pytest.fixture
def approved_a(facility_a):
    facility_a.status = FacilityStatus.APPROVED
    facility_a.approved_at = timezone.now() - dt.timedelta(days=1)
    facility_a.save(update_fields=["status", "approved_at"])
    return facility_a


@pytest.fixture
def approved_b(facility_b):
    facility_b.status = FacilityStatus.APPROVED
    facility_b.approved_at = timezone.now() - dt.timedelta(days=1)
    facility_b.save(update_fields=["status", "approved_at"])
    return facility_b


_TEST_CA: dict = {}


def test_ca_certificate() -> tuple[x509.Certificate, object]:
    """A generated test CA (never a real one), made once per test run."""
    if not _TEST_CA:
        key = ec.generate_private_key(ec.SECP256R1())
        name = x509.Name(
            [
                x509.NameAttribute(NameOID.COUNTRY_NAME, "VN"),
                x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Test CA (generated)"),
                x509.NameAttribute(NameOID.COMMON_NAME, "EHB TEST CA -- NOT FOR PRODUCTION"),
            ]
        )
        now = dt.datetime.now(dt.UTC)
        cert = (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(name)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(days=3650))
            .not_valid_after(now + dt.timedelta(days=3650))
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
            .sign(key, hashes.SHA256())
        )
        _TEST_CA.update(cert=cert, key=key)
    return _TEST_CA["cert"], _TEST_CA["key"]


def make_certificate_pem(
    *, common_name: str = "Bệnh viện Thử nghiệm A", code: str = "01001", days: int = 365, start_days_ago: int = 1
) -> bytes:
    """A signing certificate for facility `code`, issued by the test CA (register it with the
    `test_ca` fixture first)."""
    ca, ca_key = test_ca_certificate()
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "VN"),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
            x509.NameAttribute(NameOID.USER_ID, f"MST:{code}"),
        ]
    )
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(ca.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=start_days_ago))
        .not_valid_after(now - dt.timedelta(days=start_days_ago) + dt.timedelta(days=days))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    return cert.public_bytes(serialization.Encoding.PEM)


@pytest.fixture
def test_ca(db):
    """The ministry trusts the test CA (explicitly: no anchor exists otherwise)."""
    from facilities.certificates import trust_anchor_add

    return trust_anchor_add(pem=test_ca_certificate()[0].public_bytes(serialization.Encoding.PEM))[0]


@pytest.fixture
def certificate_pem(test_ca):
    return make_certificate_pem()
