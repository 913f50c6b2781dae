"""Signing certificates of facilities and the trust anchors they must chain to (issue 15, T3).

Trust is never the upload. A facility's certificate is registered only when

1. it chains to a **trust anchor** — a certification authority's certificate the ministry
   registered with `manage.py ca_trust add --pem FILE` — checked by the `cryptography`
   package's X.509 path validation (`cryptography.x509.verification`, RFC 5280: signatures,
   validity, basic constraints, key usage of every CA on the path), with any intermediate CA
   certificates uploaded in the same file;
2. its subject names the facility: its code (mã cơ sở KCB) or its tax code (MST) appears as a
   whole number in one of the subject's attributes (CN, O, OU, UID such as "MST:0100233488" …);
3. its key is RSA of at least 2048 bits or EC on P-256, P-384 or P-521, and no SHA-1 signs it.

It may be uploaded as PEM (one file: the certificate first, then its intermediates) or DER.
A self-signed certificate is refused unless DEBUG is on (development and the demo); it is then
trusted only while DEBUG stays on. Removing an anchor (`ca_trust remove`) stops trusting, at
once, every certificate that chained to it. Certificates registered before these rules are kept
as "unchecked" and verify nothing until they are uploaded again and pass (or a compliant one is
registered): see FacilityCertificate.distrust_reason and the credentials page.

The intake (healthbook.intake.processing) verifies signatures only with trusted certificates
(`FacilityCertificate.objects.trusted()`).
"""

from __future__ import annotations

import datetime as dt
import re

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.verification import (
    Criticality,
    ExtensionPolicy,
    PolicyBuilder,
    Store,
    VerificationError,
)
from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from accounts.services import audit_record
from facilities import access
from facilities.models import CertificateTrust, Facility, FacilityCertificate, FacilityStatus, TrustAnchor

MAX_CERT_BYTES = 64 * 1024
RSA_MIN_BITS = 2048
EC_CURVES = (ec.SECP256R1, ec.SECP384R1, ec.SECP521R1)
_PEM_BEGIN = b"-----BEGIN CERTIFICATE-----"


# --- reading ------------------------------------------------------------------------------


def certificates_load(data: bytes | str) -> list[x509.Certificate]:
    """Read one certificate (DER) or several (PEM, in file order); raise ValidationError with a
    code the API and pages show: pem_too_large, pem_has_private_key, pem_invalid."""
    if isinstance(data, str):
        data = data.encode("utf-8", errors="replace")
    if len(data) > MAX_CERT_BYTES:
        raise ValidationError(_("The file is too large for a certificate (at most 64 KB)."), code="pem_too_large")
    if b"PRIVATE KEY" in data:
        raise ValidationError(
            _("The file contains a private key. Upload only the certificate; keep the private key secret."),
            code="pem_has_private_key",
        )
    try:
        if _PEM_BEGIN in data:
            return x509.load_pem_x509_certificates(data)
        return [x509.load_der_x509_certificate(data)]
    except ValueError:
        raise ValidationError(
            _(
                "This is not a certificate: expected an X.509 certificate as PEM "
                "(-----BEGIN CERTIFICATE-----) or DER (.cer, .der)."
            ),
            code="pem_invalid",
        ) from None


def fingerprint_text(cert: x509.Certificate) -> str:
    hexed = cert.fingerprint(hashes.SHA256()).hex().upper()
    return ":".join(hexed[i : i + 2] for i in range(0, len(hexed), 2))


def pem_text(certs: list[x509.Certificate]) -> str:
    return "".join(c.public_bytes(serialization.Encoding.PEM).decode("ascii") for c in certs)


def _name_text(name: x509.Name) -> str:
    try:
        return name.rfc4514_string()
    except ValueError:
        return str(name)


def certificate_facts(cert: x509.Certificate) -> dict:
    """The facts kept on a FacilityCertificate row."""
    return {
        "pem": pem_text([cert]),
        "subject": _name_text(cert.subject)[:500],
        "issuer": _name_text(cert.issuer)[:500],
        "serial_number": format(cert.serial_number, "X")[:100],
        "not_before": cert.not_valid_before_utc,
        "not_after": cert.not_valid_after_utc,
        "fingerprint_sha256": fingerprint_text(cert),
    }


def certificate_parse(data: bytes | str) -> dict:
    """Facts of the first certificate of a PEM or DER file (ValidationError on anything else)."""
    return certificate_facts(certificates_load(data)[0])


# --- the rules ----------------------------------------------------------------------------


def _key_problem(cert: x509.Certificate) -> ValidationError | None:
    key = cert.public_key()
    if isinstance(key, rsa.RSAPublicKey):
        if key.key_size >= RSA_MIN_BITS:
            return None
        detail = _("an RSA key of %(bits)d bits") % {"bits": key.key_size}
    elif isinstance(key, ec.EllipticCurvePublicKey):
        if isinstance(key.curve, EC_CURVES):
            return None
        detail = _("an EC key on the curve %(curve)s") % {"curve": key.curve.name}
    else:
        detail = _("a key of another kind")
    return ValidationError(
        _("The certificate has %(detail)s: only RSA of at least 2048 bits or EC on P-256, P-384 or P-521 is accepted.")
        % {"detail": detail},
        code="cert_weak_key",
    )


def _is_sha1(cert: x509.Certificate) -> bool:
    try:
        return isinstance(cert.signature_hash_algorithm, hashes.SHA1)
    except Exception:  # noqa: BLE001 — an algorithm cryptography cannot name is not SHA-1
        return False


# Whole numbers in the subject's attribute values: a facility code (5 digits), an MST (10
# digits) or a branch MST (10 digits, a dash or nothing, 3 digits).
_NUMBER = re.compile(r"(?<![0-9])([0-9]{10})-?([0-9]{3})(?![0-9])|(?<![0-9])([0-9]+)(?![0-9])")


def subject_numbers(name: x509.Name) -> set[str]:
    """The identifiers a subject carries: every whole number of its attribute values, 13-digit
    ones written as a branch MST (`0314409058-002`)."""
    found = set()
    for attribute in name:
        value = attribute.value if isinstance(attribute.value, str) else ""
        for main, branch, plain in _NUMBER.findall(value):
            found.add(f"{main}-{branch}" if main else plain)
    return found


def names_facility(cert: x509.Certificate, facility: Facility) -> bool:
    numbers = subject_numbers(cert.subject)
    return facility.code in numbers or bool(facility.tax_code and facility.tax_code in numbers)


def is_self_signed(cert: x509.Certificate) -> bool:
    if cert.issuer != cert.subject:
        return False
    try:
        cert.verify_directly_issued_by(cert)
    except (ValueError, TypeError, InvalidSignature):
        return False
    return True


def _signer_key_usage(policy, cert, key_usage) -> None:
    if key_usage is not None and not (key_usage.digital_signature or key_usage.content_commitment):
        raise ValueError("the key usage does not allow digital signatures")


def _not_a_ca(policy, cert, basic_constraints) -> None:
    if basic_constraints is not None and basic_constraints.ca:
        raise ValueError("a CA certificate does not sign data")


def _signer_policy() -> ExtensionPolicy:
    """Extensions of the facility's (end-entity) certificate: the web PKI's defaults ask for a
    server or client name (SAN) and a TLS key purpose, which document-signing certificates of
    Vietnamese CAs need not carry. What matters here: it may sign (key usage) and is not a CA."""
    return (
        ExtensionPolicy.permit_all()
        .may_be_present(x509.KeyUsage, Criticality.AGNOSTIC, _signer_key_usage)
        .may_be_present(x509.BasicConstraints, Criticality.AGNOSTIC, _not_a_ca)
    )


def chain_anchor(
    leaf: x509.Certificate, intermediates: list[x509.Certificate], anchors: list[TrustAnchor]
) -> TrustAnchor | None:
    """The anchor `leaf` chains to (through `intermediates`), or None.

    The path is validated at a moment inside the leaf's validity period (now, or its last or
    first moment when it has expired or is not valid yet): a certificate registered to verify
    data signed while it was valid need not be valid today; the CAs must be valid then."""
    if not anchors:
        return None
    by_fingerprint = {a.fingerprint_sha256: a for a in anchors}
    store = Store([x509.load_pem_x509_certificate(a.pem.encode()) for a in anchors])
    at = min(max(timezone.now(), leaf.not_valid_before_utc), leaf.not_valid_after_utc - dt.timedelta(seconds=1))
    verifier = (
        PolicyBuilder()
        .store(store)
        .time(at)
        .extension_policies(ca_policy=ExtensionPolicy.webpki_defaults_ca(), ee_policy=_signer_policy())
        .build_client_verifier()
    )
    try:
        verified = verifier.verify(leaf, intermediates)
    except VerificationError:
        return None
    return by_fingerprint.get(fingerprint_text(verified.chain[-1]))


def certificate_trust_decide(
    certs: list[x509.Certificate], facility: Facility
) -> tuple[CertificateTrust, TrustAnchor | None]:
    """Apply the rules to an uploaded certificate (first) and its intermediates (the rest);
    return how it is trusted or raise ValidationError with the first rule it breaks."""
    leaf, intermediates = certs[0], certs[1:]
    problem = _key_problem(leaf)
    if problem:
        raise problem
    if _is_sha1(leaf):
        raise ValidationError(
            _("The certificate is signed with SHA-1, which is no longer accepted."), code="cert_weak_signature"
        )
    if not names_facility(leaf, facility):
        if facility.tax_code:
            message = _(
                "The certificate's subject names neither this facility's code (%(code)s) nor its tax code "
                "(MST %(tax_code)s). A certificate of another organisation cannot sign this facility's data."
            ) % {"code": facility.code, "tax_code": facility.tax_code}
        else:
            message = _(
                "The certificate's subject does not name this facility's code (%(code)s), and the facility "
                "profile has no tax code (MST) to look for: add the tax code to the profile first."
            ) % {"code": facility.code}
        raise ValidationError(message, code="cert_subject_mismatch")
    anchor = chain_anchor(leaf, intermediates, list(TrustAnchor.objects.filter(removed_at__isnull=True)))
    if anchor is not None:
        return CertificateTrust.ANCHORED, anchor
    if is_self_signed(leaf):
        if settings.DEBUG:
            return CertificateTrust.SELF_SIGNED, None
        raise ValidationError(
            _(
                "The certificate is self-signed. Only certificates issued by a certification authority "
                "the Ministry of Health trusts are accepted."
            ),
            code="cert_self_signed",
        )
    raise ValidationError(
        _(
            "The certificate does not chain to a certification authority the Ministry of Health trusts "
            "(or it was not valid at the time it was issued for). Upload the certificate issued by a "
            "licensed CA, followed in the same PEM file by the CA's intermediate certificates if it has any."
        ),
        code="cert_untrusted_chain",
    )


# --- services: certificates -------------------------------------------------------------


@transaction.atomic
def certificate_add(*, facility: Facility, pem: bytes | str, acting_user: User | None) -> FacilityCertificate:
    """Check and keep a signing certificate of the facility (several may coexist).

    Uploading again a certificate that is registered but not trusted (registered before the
    rules, or its anchor was removed) checks it again and, if it passes now, trusts it."""
    if acting_user is not None and not access.can_manage_credentials(acting_user, facility):
        raise PermissionDenied
    if facility.status == FacilityStatus.CLOSED:
        raise ValidationError(_("A closed facility cannot get new credentials."))
    certs = certificates_load(pem)
    facts = certificate_facts(certs[0])
    existing = (
        FacilityCertificate.objects.select_for_update(of=("self",))
        .select_related("anchor")
        .filter(facility=facility, fingerprint_sha256=facts["fingerprint_sha256"])
        .first()
    )
    if existing is not None and existing.is_trusted:
        raise ValidationError(_("This certificate is already registered for the facility."), code="pem_duplicate")
    trust, anchor = certificate_trust_decide(certs, facility)
    chain_pem = pem_text(certs[1:])
    if existing is not None:
        existing.trust, existing.anchor, existing.chain_pem = trust, anchor, chain_pem
        existing.save(update_fields=["trust", "anchor", "chain_pem"])
        cert, action = existing, "facility_certificate_recheck"
    else:
        cert = FacilityCertificate.objects.create(
            facility=facility, uploaded_by=acting_user, trust=trust, anchor=anchor, chain_pem=chain_pem, **facts
        )
        action = "facility_certificate_add"
    audit_record(
        actor=acting_user,
        action=action,
        target=facility,
        details={
            "certificate": str(cert.public_id),
            "fingerprint": cert.fingerprint_sha256,
            "trust": trust,
            "anchor": anchor.fingerprint_sha256 if anchor else None,
        },
    )
    return cert


@transaction.atomic
def certificate_revoke(
    *, certificate: FacilityCertificate, acting_user: User | None, reason: str = ""
) -> FacilityCertificate:
    """Mark a certificate revoked from now on. It is kept: data received before stays
    verifiable; nothing received from now on verifies with it, whatever its signing date says."""
    certificate = FacilityCertificate.objects.select_for_update().select_related("facility").get(pk=certificate.pk)
    if acting_user is not None and not access.can_manage_credentials(acting_user, certificate.facility):
        raise PermissionDenied
    if certificate.revoked_at is None:
        certificate.revoked_at = timezone.now()
        certificate.revoked_by = acting_user
        certificate.revoke_reason = (reason or "").strip()
        certificate.save(update_fields=["revoked_at", "revoked_by", "revoke_reason"])
        audit_record(
            actor=acting_user,
            action="facility_certificate_revoke",
            target=certificate.facility,
            details={"certificate": str(certificate.public_id), "reason": certificate.revoke_reason},
        )
    return certificate


def certificates_valid_at(*, facility: Facility, at: dt.datetime):
    """The facility's trusted certificates that were valid and not revoked at `at`."""
    return (
        FacilityCertificate.objects.trusted()
        .filter(facility=facility, not_before__lte=at, not_after__gte=at)
        .filter(Q(revoked_at__isnull=True) | Q(revoked_at__gt=at))
    )


# --- services: trust anchors (the ministry, through `manage.py ca_trust`) ----------------


@transaction.atomic
def trust_anchor_add(*, pem: bytes | str, acting_user: User | None = None) -> list[TrustAnchor]:
    """Register the CA certificate(s) of a PEM or DER file as trust anchors (a removed one is
    registered again). Each must be a CA certificate (basic constraints), valid now, with an
    accepted key."""
    added = []
    for cert in certificates_load(pem):
        try:
            basic = cert.extensions.get_extension_for_class(x509.BasicConstraints).value
        except x509.ExtensionNotFound:
            basic = None
        if basic is None or not basic.ca:
            raise ValidationError(
                _("%(subject)s is not a certification authority's certificate (no CA basic constraint).")
                % {"subject": _name_text(cert.subject)},
                code="anchor_not_ca",
            )
        problem = _key_problem(cert)
        if problem:
            raise problem
        if cert.not_valid_after_utc < timezone.now():
            raise ValidationError(
                _("%(subject)s has expired.") % {"subject": _name_text(cert.subject)}, code="anchor_expired"
            )
        facts = certificate_facts(cert)
        anchor, created = TrustAnchor.objects.get_or_create(
            fingerprint_sha256=facts["fingerprint_sha256"],
            defaults={k: facts[k] for k in ("pem", "subject", "not_before", "not_after")},
        )
        if not created and anchor.removed_at is not None:
            anchor.removed_at = None
            anchor.save(update_fields=["removed_at"])
            created = True
        if created:
            audit_record(
                actor=acting_user,
                action="trust_anchor_add",
                target=anchor,
                details={"fingerprint": anchor.fingerprint_sha256, "subject": anchor.subject},
            )
        added.append(anchor)
    return added


@transaction.atomic
def trust_anchor_remove(*, anchor: TrustAnchor, acting_user: User | None = None) -> TrustAnchor:
    """Stop trusting an anchor: the certificates that chained to it verify nothing from now on."""
    anchor = TrustAnchor.objects.select_for_update().get(pk=anchor.pk)
    if anchor.removed_at is None:
        anchor.removed_at = timezone.now()
        anchor.save(update_fields=["removed_at"])
        audit_record(
            actor=acting_user,
            action="trust_anchor_remove",
            target=anchor,
            details={
                "fingerprint": anchor.fingerprint_sha256,
                "certificates": anchor.certificates.count(),
            },
        )
    return anchor


def trust_anchor_find(fingerprint: str) -> TrustAnchor | None:
    """An anchor by its SHA-256 fingerprint, written with or without colons, any case."""
    digits = re.sub(r"[^0-9A-Fa-f]", "", fingerprint or "").upper()
    if len(digits) != 64:
        return None
    text = ":".join(digits[i : i + 2] for i in range(0, 64, 2))
    return TrustAnchor.objects.filter(fingerprint_sha256=text).first()
