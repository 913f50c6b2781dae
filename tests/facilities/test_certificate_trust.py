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


def make_ca(cn: str = "CA THỬ NGHIỆM (không dùng thật)", *, path_length: int | None = 0) -> Issued:
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
        .add_extension(x509.BasicConstraints(ca=True, path_length=path_length), critical=True)
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


# --- the rules one by one -------------------------------------------------------------------


def _own(facility) -> x509.Name:
    return _name(facility.name, uid=f"MST:{facility.code}")


def test_ca_trust_lists_and_removing_an_anchor_stops_trusting_its_certificates(anchor, facility_a, capsys):
    from facilities.certificates import certificate_add

    cert = certificate_add(facility=facility_a, pem=issue(anchor, _own(facility_a)).pem(), acting_user=None)
    assert cert.is_trusted and FacilityCertificate.objects.trusted().filter(pk=cert.pk).exists()
    call_command("ca_trust", "list")
    listed = capsys.readouterr().out
    fingerprint = cert.anchor.fingerprint_sha256
    assert fingerprint in listed and "trusted" in listed and "certificates: 1" in listed

    call_command("ca_trust", "remove", "--fingerprint", fingerprint.replace(":", "").lower())
    cert.refresh_from_db()
    assert not cert.is_trusted and cert.distrust_reason == "anchor_removed"
    assert not FacilityCertificate.objects.trusted().exists()
    call_command("ca_trust", "list")
    assert "removed" in capsys.readouterr().out

    from facilities.certificates import trust_anchor_add

    trust_anchor_add(pem=anchor.pem())  # trusted again: the same anchor row comes back
    assert FacilityCertificate.objects.trusted().filter(pk=cert.pk).exists()


def test_ca_trust_refuses_what_is_not_a_ca(tmp_path, anchor, facility_a):
    from django.core.management.base import CommandError

    leaf = tmp_path / "leaf.pem"
    leaf.write_bytes(issue(anchor, _own(facility_a)).pem())
    with pytest.raises(CommandError, match="tổ chức chứng thực"):
        call_command("ca_trust", "add", "--pem", str(leaf))
    with pytest.raises(CommandError, match="No trust anchor"):
        call_command("ca_trust", "remove", "--fingerprint", "AB" * 32)


def test_certificate_registered_before_the_rules_verifies_nothing_until_checked_again(
    login, facility_admin_a, approved_a, anchor
):
    """Decision for existing rows (migration facilities 0007): kept, marked "unchecked", not
    trusted, with a clear message; uploading the same file again checks it under the rules."""
    from facilities.certificates import certificate_facts

    issued = issue(anchor, _own(approved_a))
    old = FacilityCertificate.objects.create(facility=approved_a, **certificate_facts(issued.cert))
    assert old.trust == "unchecked" and not old.is_trusted
    client = login(facility_admin_a)
    page = client.get(f"/facilities/{approved_a.code}/credentials/").content.decode()
    assert "Không được tin cậy" in page and "cert-distrust" in page and 'id="no-trusted-certificate"' in page

    assert upload(client, approved_a, issued.pem()).status_code == 302
    old.refresh_from_db()
    assert old.is_trusted and old.trust == "anchored"
    page = client.get(f"/facilities/{approved_a.code}/credentials/").content.decode()
    assert "cert-distrust" not in page and 'id="no-trusted-certificate"' not in page
    assert FacilityCertificate.objects.count() == 1


def test_self_signed_is_accepted_only_while_debug_is_on(settings, facility_a):
    from django.core.exceptions import ValidationError

    from facilities.certificates import certificate_add

    self_signed = issue(None, _own(facility_a)).pem()
    with pytest.raises(ValidationError) as refused:
        certificate_add(facility=facility_a, pem=self_signed, acting_user=None)
    assert refused.value.code == "cert_self_signed"
    settings.DEBUG = True
    cert = certificate_add(facility=facility_a, pem=self_signed, acting_user=None)
    assert cert.trust == "self_signed" and FacilityCertificate.objects.trusted().exists()
    settings.DEBUG = False
    assert not FacilityCertificate.objects.trusted().exists() and cert.distrust_reason == "self_signed"


def test_tax_code_in_the_subject_names_the_facility_a_branch_code_does_not(anchor, facility_a):
    from django.core.exceptions import ValidationError

    from facilities.certificates import certificate_add

    facility_a.tax_code = "0100233488"
    facility_a.save(update_fields=["tax_code"])
    by_tax_code = issue(anchor, _name("Bệnh viện A", uid="MST:0100233488"))
    assert certificate_add(facility=facility_a, pem=by_tax_code.pem(), acting_user=None).is_trusted
    branch = issue(anchor, _name("Chi nhánh", uid="MST:0100233488-001"))
    with pytest.raises(ValidationError) as refused:
        certificate_add(facility=facility_a, pem=branch.pem(), acting_user=None)
    assert refused.value.code == "cert_subject_mismatch" and "0100233488" in refused.value.messages[0]


def test_intermediate_certificates_in_the_same_pem_complete_the_chain(tmp_path, facility_a):
    """The ministry may trust a root; the facility then uploads its certificate with the
    licensed CA's certificate after it."""
    from django.core.exceptions import ValidationError

    from facilities.certificates import certificate_add, trust_anchor_add

    root = make_ca("GỐC THỬ NGHIỆM", path_length=1)
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    licensed = Issued(
        x509.CertificateBuilder()
        .subject_name(_name("CA ĐƯỢC CẤP PHÉP THỬ NGHIỆM"))
        .issuer_name(root.cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(NOW - dt.timedelta(days=30))
        .not_valid_after(NOW + dt.timedelta(days=1000))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(root.key.public_key()), critical=False)
        .sign(root.key, hashes.SHA256()),
        key,
    )
    trust_anchor_add(pem=root.pem())
    leaf = issue(licensed, _own(facility_a))
    with pytest.raises(ValidationError):
        certificate_add(facility=facility_a, pem=leaf.pem(), acting_user=None)
    cert = certificate_add(facility=facility_a, pem=leaf.pem() + licensed.pem(), acting_user=None)
    assert cert.is_trusted and "GỐC THỬ NGHIỆM" in cert.anchor.subject
    assert "BEGIN CERTIFICATE" in cert.chain_pem and cert.pem.count("BEGIN CERTIFICATE") == 1


def test_an_expired_certificate_may_still_be_registered_for_older_data(anchor, facility_a):
    """The chain is checked at a moment inside the certificate's own validity period."""
    from facilities.certificates import certificate_add

    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(_own(facility_a))
        .issuer_name(anchor.cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(NOW - dt.timedelta(days=100))
        .not_valid_after(NOW - dt.timedelta(days=10))
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(anchor.key.public_key()), critical=False)
        .sign(anchor.key, hashes.SHA256())
    )
    row = certificate_add(facility=facility_a, pem=cert.public_bytes(serialization.Encoding.PEM), acting_user=None)
    assert row.is_trusted and row.is_expired


@pytest.mark.parametrize(
    "typed, stored, error",
    [
        ("0100233488", "0100233488", None),
        ("0314409058 002", "0314409058-002", None),
        ("0100233480", None, "chữ số thứ mười"),
        ("12345", None, "10 chữ số"),
    ],
)
def test_tax_code_is_checked_where_the_profile_is_edited(login, facility_admin_a, facility_a, typed, stored, error):
    client = login(facility_admin_a)
    response = client.post(
        f"/facilities/{facility_a.code}/edit/",
        {"name": facility_a.name, "ownership": "public", "level": "provincial", "tax_code": typed},
    )
    facility_a.refresh_from_db()
    if error:
        assert response.status_code in (200, 400) and error in response.content.decode()
        assert facility_a.tax_code == ""
    else:
        assert response.status_code == 302 and facility_a.tax_code == stored
