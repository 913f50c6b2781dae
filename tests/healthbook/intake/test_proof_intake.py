"""Proof rows S20–S24: hostile XML, tampering, signature wrapping, bad certificates, replays.

Each test runs a whole family of variants and records one row with the measured figure
(`tests/proof/plugin.py`). The single variants, with their exact problem codes, are asserted
one by one in test_hostile.py, test_hostile_endpoint.py and test_signature.py; these tests
count them, time them and push the tampered ones through the endpoint as well.
"""

from __future__ import annotations

import base64
import copy
import datetime as dt
import time

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from lxml import etree

from healthbook.intake.demo.pki import Leaf
from healthbook.intake.pipeline import read_xml_submission
from healthbook.intake.signature import DS
from healthbook.intake.xmlsafe import make_parser
from healthbook.models import Encounter, Submission, SubmissionPayload

from .conftest import FACILITY, process, sign
from .test_hostile import Listener, make, signed_unsigned, xml_read

ENTITY_FIXTURES = [
    "billion_laughs.xml",
    "xxe_file.xml",
    "xxe_http.xml.tmpl",
    "external_dtd.xml.tmpl",
    "parameter_entity.xml.tmpl",
    "inner_file_entity.xml",
    "xinclude.xml.tmpl",
]
PASSWD = "root:x:0:0"


@pytest.fixture
def listener():
    lst = Listener()
    yield lst
    lst.close()


def _errors(result) -> set[str]:
    return {p.code for p in result.problems if p.severity == "error"}


# --- S20 ------------------------------------------------------------------------------------


def test_s20_entities_and_xinclude_never_read_a_file_or_reach_the_network(proof, pki, signed, unsigned, listener):
    row = proof.row(
        "S20",
        "external entities (file://, loopback http://), billion laughs, external DTD, parameter entity, "
        "entity inside an inner file, XInclude (http + file): as sent, base64-wrapped, signature check off, "
        "and parsed raw by our lxml parser without the pre-check",
    )
    signed_unsigned[:] = [unsigned]
    tries = accepted = leaked = 0
    slowest = 0.0
    for name in ENTITY_FIXTURES:
        _, body = make(name, pki, signed, listener)
        for data, kw in ((body, {}), (base64.b64encode(body), {}), (body, {"signature_required": False})):
            started = time.perf_counter()
            result = xml_read(data, pki, **kw)
            slowest = max(slowest, time.perf_counter() - started)
            tries += 1
            accepted += result.ok
            leaked += PASSWD in repr(result.visits) + repr(result.problems)
        started = time.perf_counter()  # the parser alone, as if the DOCTYPE pre-check were gone
        try:
            root = etree.fromstring(body, parser=make_parser())
            leaked += PASSWD in etree.tostring(root).decode("utf-8", "replace")
        except etree.XMLSyntaxError:
            pass
        slowest = max(slowest, time.perf_counter() - started)
        tries += 1
    row.set(
        times=tries,
        figure=f"{len(ENTITY_FIXTURES)} fixtures x 4 ways: {accepted} accepted, {listener.connections} connections "
        f"to the loopback listener, {leaked} reads of /etc/passwd, slowest parse {slowest * 1000:.0f} ms",
    )
    assert accepted == 0 and listener.connections == 0 and leaked == 0


# --- S21 ------------------------------------------------------------------------------------


def _tampered(signed: bytes, other_signed: bytes) -> list[tuple[str, bytes]]:
    """Variants of a genuinely signed envelope changed after signing (each must break the digest)."""
    out = []
    start = signed.index(b"<NOIDUNGFILE>") + len(b"<NOIDUNGFILE>")
    end = signed.index(b"</NOIDUNGFILE>", start)
    for k in range(20):  # one base64 letter changed for another letter: still valid base64
        i = start + 8 + (end - start - 16) * k // 20
        while not signed[i : i + 1].isalpha():
            i += 1
        swap = b"B" if signed[i : i + 1] == b"A" else b"A"
        out.append((f"one byte at offset {i}", signed[:i] + swap + signed[i + 1 :]))
    root = etree.fromstring(signed)
    files = root.findall(".//NOIDUNGFILE")
    files[0].text, files[1].text = files[1].text, files[0].text
    out.append(("NOIDUNGFILE swapped between the files of one submission", etree.tostring(root)))
    root = etree.fromstring(signed)
    mine, theirs = root.findall(".//NOIDUNGFILE"), etree.fromstring(other_signed).findall(".//NOIDUNGFILE")
    k = next(k for k, (a, b) in enumerate(zip(mine, theirs, strict=True)) if a.text != b.text)
    mine[k].text = theirs[k].text  # the same file (same LOAIHOSO, same MA_LK) as another submission has it
    out.append(("NOIDUNGFILE taken from another signed submission", etree.tostring(root)))
    out.append(("MACSKCB changed", signed.replace(b"<MACSKCB>01001<", b"<MACSKCB>01002<")))
    root = etree.fromstring(signed)
    day = dt.datetime.strptime(root.find("THONGTINHOSO/NGAYLAP").text, "%Y%m%d") - dt.timedelta(days=1)
    root.find("THONGTINHOSO/NGAYLAP").text = f"{day:%Y%m%d}"  # a day earlier: still inside the signing window
    out.append(("NGAYLAP changed", etree.tostring(root)))
    return out


@pytest.fixture
def other_signed(visits, spec, today, pki):
    from healthbook.intake.demo.submissions import build_envelope

    changed = copy.deepcopy(visits)
    changed[0]["XML4"][0]["GIA_TRI"] = "99.99"
    return sign(build_envelope(FACILITY, changed, today, spec), pki["valid"])


@pytest.mark.django_db
def test_s21_tampered_signed_files_are_refused_and_kept(proof, sender, signed, other_signed, intake_codelists):
    row = proof.row(
        "S21",
        "signed XML 130 changed after signing: one byte at 20 places of NOIDUNGFILE, NOIDUNGFILE swapped within "
        "and between submissions, MACSKCB, NGAYLAP; through POST /api/v1/submissions/",
    )
    variants = _tampered(signed, other_signed)
    accepted = sig_invalid = kept = 0
    for _what, body in variants:
        sub = process(sender.post(body))
        accepted += sub.status != "rejected"
        sig_invalid += sub.problems.filter(code="SIG_INVALID").exists()
        kept += bytes(SubmissionPayload.objects.get(submission=sub).body) == body
    n = len(variants)
    row.set(
        times=n,
        figure=f"tampered accepted {accepted}/{n}; refused as SIG_INVALID {sig_invalid}/{n}; "
        f"raw bytes kept for review {kept}/{n}; encounters stored {Encounter.objects.count()}",
    )
    assert accepted == 0 and sig_invalid == n and kept == n and Encounter.objects.count() == 0


# --- S22 ------------------------------------------------------------------------------------

XSW_FIXTURES = [
    "generated:xsw-wrapped-original",
    "generated:xsw-second-signature",
    "generated:xsw-signature-moved",
    "generated:xsw-extra-hoso",
    "generated:xsw-subelement-reference",
]


def _more_wrapping(signed: bytes, unsigned: bytes, pki) -> list[tuple[str, bytes]]:
    body = unsigned.replace(b"<GIAMDINHHS ", b'<GIAMDINHHS Id="hs1" ', 1)
    by_id = sign(body, pki["valid"], reference_uri="#hs1")
    out = []
    good = etree.fromstring(by_id)  # XSW2: the signed copy hidden inside an evil root that keeps the signature
    evil = etree.fromstring(unsigned)
    evil.find("CHUKYDONVI").clear()
    evil.find("CHUKYDONVI").append(good.find(f"CHUKYDONVI/{{{DS}}}Signature"))
    good.find("CHUKYDONVI").clear()
    etree.SubElement(evil.find("THONGTINHOSO"), "EXTRA").append(good)
    out.append(("wrapped copy referenced by Id", etree.tostring(evil)))
    root = etree.fromstring(by_id)  # a second element carrying the referenced Id
    etree.SubElement(root.find("THONGTINHOSO"), "X", Id="hs1")
    out.append(("duplicated Id", etree.tostring(root)))
    root = etree.fromstring(signed)
    ref = root.find(f"CHUKYDONVI/{{{DS}}}Signature/{{{DS}}}SignedInfo/{{{DS}}}Reference")
    ref.addnext(copy.deepcopy(ref))
    out.append(("second Reference", etree.tostring(root)))
    root = etree.fromstring(signed)
    transforms = root.find(f".//{{{DS}}}Transforms")
    etree.SubElement(transforms, f"{{{DS}}}Transform", Algorithm="http://www.w3.org/TR/1999/REC-xpath-19991116")
    out.append(("XPath transform", etree.tostring(root)))
    return out


def test_s22_signature_wrapping_variants_are_all_refused(proof, pki, signed, unsigned, listener):
    row = proof.row(
        "S22",
        "signature wrapping: XSW1 (original inside an evil root), XSW2 (copy referenced by Id), second "
        "ds:Signature, signature moved, unsigned HOSO appended, Reference to a sub-element, duplicated Id, "
        "second Reference, XPath transform; plus a comment inside a signed value",
    )
    signed_unsigned[:] = [unsigned]
    variants = [(n, make(n, pki, signed, listener)[1]) for n in XSW_FIXTURES] + _more_wrapping(signed, unsigned, pki)
    accepted = [name for name, body in variants if xml_read(body, pki).ok]
    # C14N without comments: a comment inside a signed value verifies, and what is read is what was signed.
    commented = signed.replace(b"<MACSKCB>01001</MACSKCB>", b"<MACSKCB>01<!-- 79 -->001</MACSKCB>")
    result = xml_read(commented, pki)
    comment_changed_data = int(not result.ok or result.facility_code != FACILITY)
    n = len(variants)
    row.set(
        times=n + 1,
        figure=f"wrapping variants accepted {len(accepted)}/{n}; comment inside a signed value changed what was "
        f"read {comment_changed_data}/1",
    )
    assert not accepted and comment_changed_data == 0
    assert n >= 8


# --- S23 ------------------------------------------------------------------------------------


def _self_signed(tmp_path) -> Leaf:
    """A certificate made by the attacker with the facility's name in it, signed by itself."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(x509.NameOID.COMMON_NAME, f"TEST facility {FACILITY} (self-signed)")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=365))
        .sign(key, hashes.SHA256())
    )
    cert_path = tmp_path / "self.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return Leaf("self_signed", key, cert, tmp_path / "self.key", cert_path)


@pytest.mark.django_db
def test_s23_bad_certificates_are_refused(proof, pki, unsigned, signed, sender, intake_codelists, tmp_path):
    row = proof.row(
        "S23",
        "signed with: an expired, a not-yet-valid, a self-signed (facility name, unregistered), another "
        "facility's, a SHA-1-signed certificate; an RSA-SHA1 signature; a valid certificate but another "
        "MACSKCB; a certificate revoked in the portal (through the endpoint)",
    )
    registered = [pki[n].cert for n in ("valid", "valid_ec", "expired", "not_yet_valid", "sha1")]
    cases = [
        ("expired", sign(unsigned, pki["expired"]), "SIG_CERT_EXPIRED"),
        ("not yet valid", sign(unsigned, pki["not_yet_valid"]), "SIG_CERT_NOT_YET_VALID"),
        ("self-signed", sign(unsigned, _self_signed(tmp_path)), "SIG_CERT_UNKNOWN"),
        ("other facility", sign(unsigned, pki["other"]), "SIG_CERT_UNKNOWN"),
        ("SHA-1-signed certificate", sign(unsigned, pki["sha1"]), "SIG_WEAK_ALGORITHM"),
        ("RSA-SHA1 signature", sign(unsigned, pki["valid"], sha1=True), "SIG_WEAK_ALGORITHM"),
        (
            "other MACSKCB",
            sign(unsigned.replace(b"<MACSKCB>01001<", b"<MACSKCB>01002<"), pki["valid"]),
            "ENVELOPE_FACILITY_MISMATCH",
        ),
    ]
    accepted, wrong_code = [], []
    for what, body, code in cases:
        result = read_xml_submission(body, facility_code=FACILITY, certificates=registered)
        if result.ok:
            accepted.append(what)
        elif code not in _errors(result):
            wrong_code.append((what, sorted(_errors(result))))
    # Revocation is kept in the portal's certificate register (no CRL is fetched or read).
    from django.utils import timezone

    from facilities.models import FacilityCertificate

    revoked_at = timezone.now() - dt.timedelta(days=2)
    FacilityCertificate.objects.filter(facility=sender.facility).update(revoked_at=revoked_at)
    sub = process(sender.post(signed))
    if sub.status != "rejected":
        accepted.append("revoked")
    elif not sub.problems.filter(code="SIG_CERT_REVOKED").exists():
        wrong_code.append(("revoked", list(sub.problems.values_list("code", flat=True))))
    n = len(cases) + 1
    own_code = n - len(accepted) - len(wrong_code)
    row.set(
        times=n,
        figure=f"accepted {len(accepted)}/{n}; refused with its own problem code {own_code}/{n}; "
        "revocation = the portal's certificate register (no CRL: not supported)",
    )
    assert not accepted and not wrong_code, (accepted, wrong_code)


# --- S24 (fast part; 50 parallel POSTs through a real worker: test_worker.py) -------------------


@pytest.mark.django_db
def test_s24_replays_store_one_record(proof, sender, signed, visits, intake_codelists):
    row = proof.row(
        "S24",
        "the same signed submission again: 5x with one Idempotency-Key, 5x each with a new key, 5x without a key",
    )
    first = process(sender.post(signed, **{"Idempotency-Key": "s24"}))
    same_key = [sender.post(signed, **{"Idempotency-Key": "s24"}) for _ in range(5)]
    replayed = sum(r.status_code == 202 and r.json()["id"] == str(first.public_id) for r in same_key)
    new_key = [process(sender.post(signed, **{"Idempotency-Key": f"s24-{i}"})) for i in range(5)]
    no_key = [process(sender.post(signed)) for _ in range(5)]
    flagged = sum(s.duplicate_of_id == first.pk and s.encounters_created == 0 for s in new_key + no_key)
    encounters = Encounter.objects.count()
    expected = len(visits)  # one encounter per MA_LK of the envelope
    row.set(
        times=15,
        figure=f"same key: {replayed}/5 got the stored answer, submissions stored {Submission.objects.count()} "
        f"(1 + 10 new-key/no-key); new key or no key: {flagged}/10 flagged duplicate with 0 encounters created; "
        f"duplicate encounters stored {encounters - expected}",
    )
    assert replayed == 5 and flagged == 10 and encounters == expected == 2
    assert Submission.objects.count() == 11
