"""Verify the enveloped XML-DSig in GIAMDINHHS/CHUKYDONVI (security-plan S21-S23, §2.8).

Rules, each with its own problem code:

* exactly one ``ds:Signature`` anywhere in the document (SIG_MISSING / SIG_COUNT), and it is
  a child of the single ``GIAMDINHHS/CHUKYDONVI`` (SIG_LOCATION);
* exactly one ``ds:Reference`` and it covers the whole document: ``URI=""`` or ``"#id"`` of
  the root element, the id unique in the document (SIG_REFERENCE) -- wrapping (XSW) variants
  that point at a copy or a sub-element fail here or at the digest;
* transforms limited to enveloped-signature + canonicalisation (SIG_TRANSFORM);
* RSA (PKCS#1 v1.5 or PSS) or ECDSA with SHA-256 or stronger; SHA-1 anywhere (signature,
  digest, or the registered certificate's own signature) -> SIG_WEAK_ALGORITHM; anything
  else -> SIG_ALGORITHM;
* the signing certificate is one of the ``certificates`` the caller passes -> else
  SIG_CERT_UNKNOWN (matched by the certificate in KeyInfo, else by trying each); the caller
  passes only the facility's *trusted* certificates: registered after chaining to a trust
  anchor of the ministry (facilities.certificates, issue 15 T3), so trust is never the upload;
* the certificate is valid at the signing time (SIG_CERT_EXPIRED / SIG_CERT_NOT_YET_VALID);
* MACSKCB inside the *signed* document equals the authenticated facility
  (ENVELOPE_FACILITY_MISMATCH).

Signing time ([UNVERIFIED] what hospitals put there; parameter ``signing_time_source``):
``"NGAYLAP"`` (default) uses the envelope's NGAYLAP (yyyyMMdd, covered by the signature): the
certificate must be valid at some moment of that day (Asia/Ho_Chi_Minh), NGAYLAP may not be
more than ``future_tolerance`` after receipt nor older than ``max_signing_age``.  ``"RECEIVED"``
uses the time of receipt.  The signing time decides the certificate's validity period only,
never a revocation: the signer writes NGAYLAP, so the caller compares a revocation with the
time of receipt (healthbook.intake.processing.revoked_for, issue 15 T4).  A ``SigningTime``
property inside ``ds:Object`` is NOT used: with one whole-document reference it is not covered
by the signature (XAdES would need a second reference to SignedProperties; no hospital sample
was available to confirm that profile).

The data must then be read from :attr:`SignatureResult.signed_root` -- the canonical form of
what was verified -- never from the submitted tree ("see what is signed").
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.serialization import Encoding
from lxml import etree
from signxml import SignatureConfiguration, XMLVerifier
from signxml.algorithms import CanonicalizationMethod, DigestAlgorithm, SignatureMethod
from signxml.exceptions import SignXMLException

from .problems import MESSAGES, Problem, problem
from .xmlsafe import leaf_text, local, make_parser

DS = "http://www.w3.org/2000/09/xmldsig#"
VN_TZ = ZoneInfo("Asia/Ho_Chi_Minh")
ENVELOPED = "http://www.w3.org/2000/09/xmldsig#enveloped-signature"

ALLOWED_SIGNATURE_METHODS = frozenset(
    {
        SignatureMethod.RSA_SHA256,
        SignatureMethod.RSA_SHA384,
        SignatureMethod.RSA_SHA512,
        SignatureMethod.ECDSA_SHA256,
        SignatureMethod.ECDSA_SHA384,
        SignatureMethod.ECDSA_SHA512,
        SignatureMethod.SHA256_RSA_MGF1,
        SignatureMethod.SHA384_RSA_MGF1,
        SignatureMethod.SHA512_RSA_MGF1,
    }
)
ALLOWED_DIGESTS = frozenset(
    {
        DigestAlgorithm.SHA256,
        DigestAlgorithm.SHA384,
        DigestAlgorithm.SHA512,
        DigestAlgorithm.SHA3_256,
        DigestAlgorithm.SHA3_384,
        DigestAlgorithm.SHA3_512,
    }
)
ALLOWED_TRANSFORMS = frozenset({ENVELOPED} | {m.value for m in CanonicalizationMethod})
SIGNING_TIME_SOURCES = ("NGAYLAP", "RECEIVED")


@dataclass
class SignatureResult:
    ok: bool
    code: str | None = None
    message: object = None
    fingerprint: str | None = None  # SHA-256 of the DER certificate used, hex
    signed_root: etree._Element | None = None
    signing_time: datetime | None = None
    problems: list[Problem] = field(default_factory=list)


def fingerprint(cert: x509.Certificate) -> str:
    return hashlib.sha256(cert.public_bytes(Encoding.DER)).hexdigest()


def _fail(code: str, *, detail: str = "", value=None, fp: str | None = None) -> SignatureResult:
    p = problem(code, table="CHUKYDONVI", detail=detail, value=value)
    return SignatureResult(False, code, MESSAGES[code], fp, None, None, [p])


def _child(parent, name):
    found = [c for c in parent if local(c.tag) == name]
    return found[0] if len(found) == 1 else None


def _text_at(root, *path) -> str | None:
    el = root
    for name in path:
        el = _child(el, name) if el is not None else None
    if el is None:
        return None
    value, ok = leaf_text(el)
    return value if ok else None


def _is_sha1(uri: str | None) -> bool:
    return bool(uri) and "sha1" in uri.lower()


def _check_algorithms(sig: etree._Element) -> SignatureResult | None:
    sm = sig.find(f"{{{DS}}}SignedInfo/{{{DS}}}SignatureMethod")
    alg = sm.get("Algorithm") if sm is not None else None
    if _is_sha1(alg):
        return _fail("SIG_WEAK_ALGORITHM", value=alg)
    try:
        if SignatureMethod(alg) not in ALLOWED_SIGNATURE_METHODS:
            return _fail("SIG_ALGORITHM", value=alg)
    except ValueError:
        return _fail("SIG_ALGORITHM", value=alg)
    for dm in sig.iterfind(f"{{{DS}}}SignedInfo/{{{DS}}}Reference/{{{DS}}}DigestMethod"):
        d = dm.get("Algorithm")
        if _is_sha1(d):
            return _fail("SIG_WEAK_ALGORITHM", value=d)
        try:
            if DigestAlgorithm(d) not in ALLOWED_DIGESTS:
                return _fail("SIG_ALGORITHM", value=d)
        except ValueError:
            return _fail("SIG_ALGORITHM", value=d)
    c14n = sig.find(f"{{{DS}}}SignedInfo/{{{DS}}}CanonicalizationMethod")
    if c14n is None or c14n.get("Algorithm") not in {m.value for m in CanonicalizationMethod}:
        return _fail("SIG_TRANSFORM", value=c14n.get("Algorithm") if c14n is not None else None)
    return None


def _check_reference(root: etree._Element, sig: etree._Element) -> SignatureResult | None:
    refs = sig.findall(f"{{{DS}}}SignedInfo/{{{DS}}}Reference")
    if len(refs) != 1:
        return _fail("SIG_REFERENCE", value=len(refs))
    uri = refs[0].get("URI")
    if uri is None:
        return _fail("SIG_REFERENCE")
    if uri != "":
        if not uri.startswith("#"):
            return _fail("SIG_REFERENCE", value=uri[:100])
        wanted = uri[1:]
        root_ids = {root.get(a) for a in ("Id", "ID", "id")}
        if wanted not in root_ids:
            return _fail("SIG_REFERENCE", value=uri[:100])
        holders = root.xpath("//*[@*[local-name()='Id' or local-name()='ID' or local-name()='id']=$v]", v=wanted)
        if len(holders) != 1:
            return _fail("SIG_REFERENCE", value=uri[:100])
    transforms = [t.get("Algorithm") for t in refs[0].iterfind(f"{{{DS}}}Transforms/{{{DS}}}Transform")]
    if any(t not in ALLOWED_TRANSFORMS for t in transforms) or ENVELOPED not in transforms:
        return _fail("SIG_TRANSFORM", value=";".join(t or "" for t in transforms)[:200])
    return None


def _embedded_cert(sig: etree._Element) -> x509.Certificate | None:
    el = sig.find(f"{{{DS}}}KeyInfo/{{{DS}}}X509Data/{{{DS}}}X509Certificate")
    if el is None or not el.text:
        return None
    import base64

    try:
        return x509.load_der_x509_certificate(base64.b64decode("".join(el.text.split())))
    except ValueError:
        return None


def _signing_window(root, source: str, received_at: datetime, future_tolerance, max_age):
    """Return (start, end) of the signing time, or a failed result."""
    if source == "RECEIVED":
        return received_at, received_at
    raw = _text_at(root, "THONGTINHOSO", "NGAYLAP")
    if not raw or len(raw) != 8 or not raw.isdigit():
        return _fail("SIG_SIGNING_TIME", value=raw)
    try:
        day = datetime.strptime(raw, "%Y%m%d").date()
    except ValueError:
        return _fail("SIG_SIGNING_TIME", value=raw)
    start = datetime.combine(day, time(0, 0), tzinfo=VN_TZ).astimezone(UTC)
    end = start + timedelta(days=1) - timedelta(microseconds=1)
    if start > received_at + future_tolerance:
        return _fail("SIG_SIGNING_TIME", value=raw, detail="in the future")
    if max_age is not None and end < received_at - max_age:
        return _fail("SIG_SIGNING_TIME", value=raw, detail="too old")
    return start, end


def verify_envelope(
    root: etree._Element,
    *,
    certificates: Sequence[x509.Certificate],
    facility_code: str,
    signing_time_source: str = "NGAYLAP",
    received_at: datetime | None = None,
    future_tolerance: timedelta = timedelta(days=1),
    max_signing_age: timedelta | None = timedelta(days=30),
) -> SignatureResult:
    """Verify the signature of a parsed GIAMDINHHS root (see the module docstring)."""
    if signing_time_source not in SIGNING_TIME_SOURCES:
        raise ValueError(f"signing_time_source must be one of {SIGNING_TIME_SOURCES}")
    received_at = received_at or datetime.now(UTC)
    if local(root.tag) != "GIAMDINHHS":
        return _fail("ENVELOPE_ROOT")
    sigs = list(root.iter(f"{{{DS}}}Signature"))
    if not sigs:
        return _fail("SIG_MISSING")
    if len(sigs) > 1:
        return _fail("SIG_COUNT", value=len(sigs))
    sig = sigs[0]
    if sig.find(f"{{{DS}}}SignedInfo") is None or sig.find(f"{{{DS}}}SignatureValue") is None:
        return _fail("SIG_MISSING")  # an empty placeholder is not a signature
    blocks = [c for c in root if local(c.tag) == "CHUKYDONVI"]
    if len(blocks) != 1 or sig.getparent() is not blocks[0]:
        return _fail("SIG_LOCATION")
    failed = _check_algorithms(sig) or _check_reference(root, sig)
    if failed:
        return failed

    window = _signing_window(root, signing_time_source, received_at, future_tolerance, max_signing_age)
    if isinstance(window, SignatureResult):
        return window
    start, end = window

    embedded = _embedded_cert(sig)
    if embedded is not None:
        fp = fingerprint(embedded)
        pub = embedded.public_key()
        candidates = [c for c in certificates if fingerprint(c) == fp] or [
            c for c in certificates if c.public_key() == pub
        ]
    else:
        candidates = list(certificates)
    if not candidates:
        return _fail("SIG_CERT_UNKNOWN", fp=fingerprint(embedded) if embedded is not None else None)

    last: SignatureResult | None = None
    for cert in candidates:
        fp = fingerprint(cert)
        if isinstance(cert.signature_hash_algorithm, hashes.SHA1):
            last = _fail("SIG_WEAK_ALGORITHM", value="certificate signed with SHA-1", fp=fp)
            continue
        nvb, nva = cert.not_valid_before_utc, cert.not_valid_after_utc
        if nva < start:
            last = _fail("SIG_CERT_EXPIRED", fp=fp)
            continue
        if nvb > end:
            last = _fail("SIG_CERT_NOT_YET_VALID", fp=fp)
            continue
        at = min(max(start, nvb), nva)
        config = SignatureConfiguration(
            location="./CHUKYDONVI/",
            expect_references=1,
            signature_methods=ALLOWED_SIGNATURE_METHODS,
            digest_algorithms=ALLOWED_DIGESTS,
            verification_time=at,
        )
        try:
            result = XMLVerifier().verify(root, x509_cert=cert, parser=make_parser(), expect_config=config)
        except (SignXMLException, etree.DocumentInvalid, ValueError) as exc:
            last = _fail("SIG_INVALID", detail=str(exc)[:200], fp=fp)
            continue
        signed = result.signed_xml
        if signed is None or local(signed.tag) != "GIAMDINHHS":
            return _fail("SIG_REFERENCE", fp=fp)
        macskcb = _text_at(signed, "THONGTINDONVI", "MACSKCB")
        if macskcb != facility_code:
            r = _fail("ENVELOPE_FACILITY_MISMATCH", value=macskcb, fp=fp)
            r.problems[0] = problem("ENVELOPE_FACILITY_MISMATCH", table="THONGTINDONVI", field="MACSKCB", value=macskcb)
            return r
        return SignatureResult(True, None, None, fp, signed, at, [])
    assert last is not None
    return last
