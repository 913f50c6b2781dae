"""A throwaway test PKI: the demo facilities' signing certificates (`make run`), the intake
tests and the submission generator.

TEST AND DEMO ONLY -- every key is generated fresh into its folder (never commit its output).
The command line is bench/make_test_pki.py:

    python bench/make_test_pki.py --out /tmp/pki [--facility 01001] [--other 79001]

Writes ``ca.key/ca.pem`` (test root CA) and, for the facility, ``<name>.key/<name>.pem``.
The certificates follow the RFC 5280 profile the intake's trust check validates (the CA with
key usage and key identifier, each leaf with its authority's key identifier and the facility
code in its subject), so registering ``ca.pem`` as a trust anchor (``manage.py ca_trust add``;
the demo does it only with DEBUG on, the tests explicitly) lets the leaves be registered:

==================  ============================================================
name                what it is
==================  ============================================================
``valid``           RSA-2048 leaf for ``--facility``, signed SHA-256, valid now
``valid_ec``        ECDSA P-256 leaf for ``--facility``, valid now
``expired``         RSA leaf for ``--facility`` that expired 30 days ago
``not_yet_valid``   RSA leaf for ``--facility`` valid from 30 days in the future
``other``           RSA leaf for ``--other`` (another facility)
``sha1``            RSA leaf for ``--facility`` whose certificate is signed with SHA-1
==================  ============================================================

Tests call :func:`make_pki` directly (into a tmp dir).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID


@dataclass
class Leaf:
    name: str
    key: object
    cert: x509.Certificate
    key_path: Path
    cert_path: Path


def _name(cn: str, facility: str | None = None) -> x509.Name:
    attrs = [x509.NameAttribute(NameOID.COUNTRY_NAME, "VN"), x509.NameAttribute(NameOID.COMMON_NAME, cn)]
    if facility:
        # The facility code in the subject (UID), as a certificate must name its facility.
        attrs.append(x509.NameAttribute(NameOID.USER_ID, f"MST:{facility}"))
    return x509.Name(attrs)


def _write(path: Path, key, cert: x509.Certificate) -> tuple[Path, Path]:
    kp, cp = path.with_suffix(".key"), path.with_suffix(".pem")
    kp.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    kp.chmod(0o600)
    cp.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return kp, cp


def _issue(ca_key, ca_name, subject, key, *, not_before, not_after, algorithm=None) -> x509.Certificate:
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_after)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.KeyUsage(True, True, False, False, False, False, False, False, False), critical=True)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
    )
    cert = builder.sign(ca_key, hashes.SHA256())
    if isinstance(algorithm, hashes.SHA1):
        cert = _resign_sha1(cert, ca_key)
    return cert


_OID_SHA256_RSA = bytes.fromhex("2a864886f70d01010b")  # 1.2.840.113549.1.1.11
_OID_SHA1_RSA = bytes.fromhex("2a864886f70d010105")  # 1.2.840.113549.1.1.5


def _resign_sha1(cert: x509.Certificate, ca_key) -> x509.Certificate:
    """Turn a SHA-256/RSA certificate into a genuine SHA-1/RSA one.

    cryptography no longer signs certificates with SHA-1, so swap the (same-length) algorithm
    OIDs in the DER and replace the signature with one over the new TBS bytes."""
    from cryptography.hazmat.primitives.asymmetric import padding

    der = cert.public_bytes(serialization.Encoding.DER)
    tbs = cert.tbs_certificate_bytes
    tbs1 = tbs.replace(_OID_SHA256_RSA, _OID_SHA1_RSA)
    sig1 = ca_key.sign(tbs1, padding.PKCS1v15(), hashes.SHA1())  # noqa: S303 -- the point of the fixture
    head, rest = der.split(tbs, 1)
    rest = rest.replace(_OID_SHA256_RSA, _OID_SHA1_RSA, 1).replace(cert.signature, sig1, 1)
    return x509.load_der_x509_certificate(head + tbs1 + rest)


def make_pki(out: Path, *, facility: str = "01001", other: str = "79001", now: datetime | None = None) -> dict:
    """Create the CA and leaves in ``out``; return {name: Leaf} plus "ca" -> Leaf."""
    out.mkdir(parents=True, exist_ok=True)
    now = now or datetime.now(UTC)
    ca_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    ca_name = _name("EHB TEST ROOT CA -- NOT FOR PRODUCTION")
    ca_cert = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=3650))
        .not_valid_after(now + timedelta(days=3650))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    kp, cp = _write(out / "ca", ca_key, ca_cert)
    leaves = {"ca": Leaf("ca", ca_key, ca_cert, kp, cp)}
    year = timedelta(days=365)
    plan = [
        ("valid", facility, "rsa", now - year, now + year, None),
        ("valid_ec", facility, "ec", now - year, now + year, None),
        ("expired", facility, "rsa", now - 2 * year, now - timedelta(days=30), None),
        ("not_yet_valid", facility, "rsa", now + timedelta(days=30), now + 2 * year, None),
        ("other", other, "rsa", now - year, now + year, None),
        ("sha1", facility, "rsa", now - year, now + year, hashes.SHA1()),  # noqa: S303 -- the fixture's point
    ]
    for name, code, kind, nb, na, alg in plan:
        key = ec.generate_private_key(ec.SECP256R1()) if kind == "ec" else rsa.generate_private_key(65537, 2048)
        cert = _issue(
            ca_key,
            ca_name,
            _name(f"TEST facility {code} ({name})", code),
            key,
            not_before=nb,
            not_after=na,
            algorithm=alg,
        )
        kp, cp = _write(out / name, key, cert)
        leaves[name] = Leaf(name, key, cert, kp, cp)
    return leaves
