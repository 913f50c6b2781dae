"""T3: a facility's signing certificate is trusted through a licensed authority, not by upload.

Issue 15, attack 3: a facility administrator uploaded a self-signed 1024-bit RSA certificate
carrying another hospital's name; it was accepted and its signatures marked verified. The rules
now (docs/facilities.md, "Certificates"): the certificate must chain to a trust anchor the
ministry registered (`manage.py ca_trust add --pem`), carry the facility's code or tax code
(MST) in its subject, use RSA >= 2048 or EC >= P-256, and may be PEM or DER; self-signed ones
are refused unless DEBUG is on.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID
from django.core.management import call_command

from facilities.models import FacilityCertificate

pytestmark = pytest.mark.django_db

NOW = dt.datetime.now(dt.UTC)


@dataclass
class Issued:
    cert: x509.Certificate
    key: object

    def pem(self) -> bytes:
        return self.cert.public_bytes(serialization.Encoding.PEM)

    def der(self) -> bytes:
        return self.cert.public_bytes(serialization.Encoding.DER)


def _name(cn: str, *, uid: str | None = None, org: str | None = None) -> x509.Name:
    attrs = [x509.NameAttribute(NameOID.COUNTRY_NAME, "VN")]
    if org:
        attrs.append(x509.NameAttribute(NameOID.ORGANIZATION_NAME, org))
    attrs.append(x509.NameAttribute(NameOID.COMMON_NAME, cn))
    if uid:
        attrs.append(x509.NameAttribute(NameOID.USER_ID, uid))
    return x509.Name(attrs)


def make_ca(cn: str = "CA THỬ NGHIỆM (không dùng thật)") -> Issued:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = _name(cn, org="Tổ chức chứng thực thử nghiệm")
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(NOW - dt.timedelta(days=365))
        .not_valid_after(NOW + dt.timedelta(days=3650))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    return Issued(cert, key)


def issue(ca: Issued | None, subject: x509.Name, key=None, *, days: int = 365) -> Issued:
    """A signing certificate for `subject`, issued by `ca` (None: signed by its own key)."""
    key = key or ec.generate_private_key(ec.SECP256R1())
    issuer_name, issuer_key = (ca.cert.subject, ca.key) if ca else (subject, key)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(NOW - dt.timedelta(days=1))
        .not_valid_after(NOW + dt.timedelta(days=days))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.KeyUsage(True, True, False, False, False, False, False, False, False), critical=True)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer_key.public_key()), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(issuer_key, hashes.SHA256())
    )
    return Issued(cert, key)


def upload(client, facility, data: bytes, name: str = "cert.pem"):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return client.post(
        f"/facilities/{facility.code}/credentials/certificates/",
        {"pem": SimpleUploadedFile(name, data, content_type="application/octet-stream")},
    )


def test_t3_self_signed_weak_certificate_with_another_hospitals_name_is_refused(
    proof, login, facility_admin_a, approved_a, facility_b
):
    row = proof.row(
        "T3",
        "facility admin uploads a self-signed RSA-1024 certificate carrying another hospital's name and code "
        "(the credentials page), then a self-signed RSA-2048 one with its own code",
    )
    client = login(facility_admin_a)
    weak_key = rsa.generate_private_key(public_exponent=65537, key_size=1024)  # noqa: S505 -- the attack
    foreign = issue(None, _name(facility_b.name, uid=f"MST:{facility_b.code}", org=facility_b.name), weak_key)
    own = issue(None, _name(approved_a.name, uid=f"MST:{approved_a.code}"), rsa.generate_private_key(65537, 2048))
    answers = [upload(client, approved_a, c.pem()).status_code for c in (foreign, own)]
    stored = FacilityCertificate.objects.filter(facility=approved_a).count()
    row.set(times=2, figure=f"answers {answers}; certificates registered {stored}/2")
    assert answers == [400, 400]
    assert stored == 0


@pytest.fixture
def anchor(tmp_path):
    """The ministry registers the test CA as a trust anchor."""
    ca = make_ca()
    path = tmp_path / "ca.pem"
    path.write_bytes(ca.pem())
    call_command("ca_trust", "add", "--pem", str(path))
    return ca


def test_t3_only_anchored_strong_certificates_naming_the_facility_are_registered(
    proof, login, facility_admin_a, approved_a, facility_b, anchor
):
    row = proof.row(
        "T3",
        "with a registered CA: a certificate of an unregistered CA, an anchored RSA-1024 one, an anchored "
        "EC P-192 one, an anchored one naming another facility, one naming no facility; then a compliant one as DER",
    )
    client = login(facility_admin_a)
    own = _name(approved_a.name, uid=f"MST:{approved_a.code}")
    bad = {
        "unregistered CA": issue(make_ca("CA LẠ"), own),
        "RSA-1024": issue(anchor, own, rsa.generate_private_key(65537, 1024)),  # noqa: S505 -- the attack
        "EC P-192": issue(anchor, own, ec.generate_private_key(ec.SECP192R1())),
        "another facility": issue(anchor, _name(facility_b.name, uid=f"MST:{facility_b.code}")),
        "no facility named": issue(anchor, _name("Phòng khám không tên")),
    }
    refused = {what: upload(client, approved_a, c.pem()).status_code == 400 for what, c in bad.items()}
    good = issue(anchor, own)
    accepted = upload(client, approved_a, good.der(), name="cert.cer")
    stored = list(FacilityCertificate.objects.filter(facility=approved_a))
    row.set(
        times=len(bad) + 1,
        figure=f"refused {sum(refused.values())}/{len(bad)}; compliant DER: HTTP {accepted.status_code}, "
        f"registered {len(stored)}",
    )
    assert all(refused.values()), refused
    assert accepted.status_code == 302
    assert (
        len(stored) == 1
        and stored[0].fingerprint_sha256.replace(":", "").lower() == good.cert.fingerprint(hashes.SHA256()).hex()
    )
