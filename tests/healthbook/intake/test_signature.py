"""XML-DSig verification: what must pass, and every way it must fail (S21-S23, XSW)."""

import base64
import copy
from datetime import UTC, datetime, timedelta

from lxml import etree

from healthbook.intake import envelope
from healthbook.intake.pipeline import read_xml_submission
from healthbook.intake.signature import DS, verify_envelope

from .conftest import FACILITY, codes, sign

NS = {"ds": DS}


def verify(body, pki, *, certs=("valid",), facility=FACILITY, **kw):
    root, problems = envelope.load(body)
    assert root is not None, problems
    return verify_envelope(root, certificates=[pki[c].cert for c in certs], facility_code=facility, **kw)


def test_valid_rsa_signature_verifies_and_names_the_certificate(signed, pki):
    from healthbook.intake.signature import fingerprint

    r = verify(signed, pki)
    assert r.ok and r.fingerprint == fingerprint(pki["valid"].cert)


def test_valid_ecdsa_signature_verifies(unsigned, pki):
    assert verify(sign(unsigned, pki["valid_ec"]), pki, certs=("valid_ec",)).ok


def test_signature_over_the_root_id_verifies(unsigned, pki):
    body = unsigned.replace(b"<GIAMDINHHS ", b'<GIAMDINHHS Id="hs1" ', 1)
    assert verify(sign(body, pki["valid"], reference_uri="#hs1"), pki).ok


def test_full_pipeline_reads_only_signed_data(signed, pki):
    result = read_xml_submission(signed, facility_code=FACILITY, certificates=[pki["valid"].cert])
    assert result.ok and result.signature.ok and len(result.visits) == 2


def test_unsigned_file_is_refused(unsigned, pki):
    assert verify(unsigned, pki).code == "SIG_MISSING"  # an empty placeholder is no signature
    stripped = etree.fromstring(unsigned)
    for s in stripped.iter(f"{{{DS}}}Signature"):
        s.getparent().remove(s)
    assert verify(etree.tostring(stripped), pki).code == "SIG_MISSING"


def test_one_changed_byte_breaks_the_signature(signed, pki):
    i = signed.index(b"<NOIDUNGFILE>") + len(b"<NOIDUNGFILE>") + 10
    tampered = signed[:i] + (b"A" if signed[i : i + 1] != b"A" else b"B") + signed[i + 1 :]
    assert verify(tampered, pki).code == "SIG_INVALID"


def test_changed_facility_code_breaks_the_signature(signed, pki):
    assert verify(signed.replace(b"<MACSKCB>01001<", b"<MACSKCB>01002<"), pki, facility="01002").code == "SIG_INVALID"


def test_swapped_file_content_breaks_the_signature(signed, pki):
    root = etree.fromstring(signed)
    files = root.findall(".//NOIDUNGFILE")
    files[0].text, files[1].text = files[1].text, files[0].text
    assert verify(etree.tostring(root), pki).code == "SIG_INVALID"


# --- signature wrapping (XSW) -------------------------------------------------------------


def test_xsw_extra_record_added_after_signing_fails(signed, pki):
    root = etree.fromstring(signed)
    ds = root.find("THONGTINHOSO/DANHSACHHOSO")
    ds.append(copy.deepcopy(ds[0]))
    assert verify(etree.tostring(root), pki).code == "SIG_INVALID"


def test_xsw_signed_document_wrapped_inside_an_evil_one_fails(signed, pki):
    """XSW1-style: the genuinely signed document is moved inside CHUKYDONVI of a new root."""
    original = etree.fromstring(signed)
    evil = etree.fromstring(signed)
    evil.find("THONGTINDONVI/MACSKCB").text = FACILITY
    evil.find("THONGTINHOSO/DANHSACHHOSO").append(copy.deepcopy(evil.find("THONGTINHOSO/DANHSACHHOSO")[0]))
    block = evil.find("CHUKYDONVI")
    block.remove(block[0])
    block.append(original)
    assert verify(etree.tostring(evil), pki).code == "SIG_LOCATION"


def test_xsw_reference_to_a_wrapped_copy_by_id_fails(unsigned, pki):
    """XSW2-style: signature over #hs1 on the original root; an evil root keeps the signed copy."""
    body = unsigned.replace(b"<GIAMDINHHS ", b'<GIAMDINHHS Id="hs1" ', 1)
    good = etree.fromstring(sign(body, pki["valid"], reference_uri="#hs1"))
    evil = etree.fromstring(unsigned)
    evil.find("CHUKYDONVI").clear()
    evil.find("CHUKYDONVI").append(good.find(f"CHUKYDONVI/{{{DS}}}Signature"))
    hidden = etree.SubElement(evil.find("THONGTINHOSO"), "EXTRA")
    hidden.append(good)
    assert verify(etree.tostring(evil), pki).code in ("SIG_COUNT", "SIG_REFERENCE")
    good.find("CHUKYDONVI").clear()  # remove the second Signature: now only the reference can catch it
    assert verify(etree.tostring(evil), pki).code == "SIG_REFERENCE"


def test_xsw_reference_to_a_sub_element_fails(unsigned, pki):
    body = unsigned.replace(b"<THONGTINDONVI>", b'<THONGTINDONVI Id="d1">', 1)
    assert verify(sign(body, pki["valid"], reference_uri="#d1"), pki).code == "SIG_REFERENCE"


def test_xsw_duplicate_id_fails(unsigned, pki):
    body = unsigned.replace(b"<GIAMDINHHS ", b'<GIAMDINHHS Id="hs1" ', 1)
    root = etree.fromstring(sign(body, pki["valid"], reference_uri="#hs1"))
    etree.SubElement(root.find("THONGTINHOSO"), "X", Id="hs1")
    assert verify(etree.tostring(root), pki).code == "SIG_REFERENCE"


def test_second_signature_is_refused(signed, pki):
    root = etree.fromstring(signed)
    sig = root.find(f"CHUKYDONVI/{{{DS}}}Signature")
    root.find("THONGTINDONVI").append(copy.deepcopy(sig))
    assert verify(etree.tostring(root), pki).code == "SIG_COUNT"


def test_signature_outside_chukydonvi_is_refused(signed, pki):
    root = etree.fromstring(signed)
    sig = root.find(f"CHUKYDONVI/{{{DS}}}Signature")
    root.append(sig)
    assert verify(etree.tostring(root), pki).code == "SIG_LOCATION"


def test_second_reference_is_refused(signed, pki):
    root = etree.fromstring(signed)
    ref = root.find(f"CHUKYDONVI/{{{DS}}}Signature/{{{DS}}}SignedInfo/{{{DS}}}Reference")
    ref.addnext(copy.deepcopy(ref))
    assert verify(etree.tostring(root), pki).code == "SIG_REFERENCE"


def test_xpath_transform_is_refused(signed, pki):
    root = etree.fromstring(signed)
    t = root.find(f".//{{{DS}}}Transforms")
    etree.SubElement(t, f"{{{DS}}}Transform", Algorithm="http://www.w3.org/TR/1999/REC-xpath-19991116")
    assert verify(etree.tostring(root), pki).code == "SIG_TRANSFORM"


def test_comment_injected_into_a_signed_value_does_not_change_what_is_read(signed, pki):
    body = signed.replace(b"<MACSKCB>01001</MACSKCB>", b"<MACSKCB>01<!-- -->001</MACSKCB>")
    result = read_xml_submission(body, facility_code=FACILITY, certificates=[pki["valid"].cert])
    assert result.ok and result.facility_code == "01001"


# --- certificates and algorithms ----------------------------------------------------------


def test_expired_certificate_is_refused(unsigned, pki):
    assert verify(sign(unsigned, pki["expired"]), pki, certs=("expired",)).code == "SIG_CERT_EXPIRED"


def test_not_yet_valid_certificate_is_refused(unsigned, pki):
    assert verify(sign(unsigned, pki["not_yet_valid"]), pki, certs=("not_yet_valid",)).code == "SIG_CERT_NOT_YET_VALID"


def test_another_facilitys_certificate_is_refused(unsigned, pki):
    r = verify(sign(unsigned, pki["other"]), pki, certs=("valid", "valid_ec"))
    assert r.code == "SIG_CERT_UNKNOWN"


def test_facility_code_must_match_the_authenticated_facility(signed, pki):
    assert verify(signed, pki, facility="79001").code == "ENVELOPE_FACILITY_MISMATCH"


def test_sha1_signature_is_refused_with_its_own_code(unsigned, pki):
    body = sign(unsigned, pki["valid"], sha1=True)
    assert b"rsa-sha1" in body
    assert verify(body, pki).code == "SIG_WEAK_ALGORITHM"


def test_certificate_signed_with_sha1_is_refused(unsigned, pki):
    assert verify(sign(unsigned, pki["sha1"]), pki, certs=("sha1",)).code == "SIG_WEAK_ALGORITHM"


def test_signing_date_in_the_future_is_refused(signed, pki):
    r = verify(signed, pki, received_at=datetime.now(UTC) - timedelta(days=5))
    assert r.code == "SIG_SIGNING_TIME"


def test_signing_date_too_old_is_refused(signed, pki):
    r = verify(signed, pki, received_at=datetime.now(UTC) + timedelta(days=60))
    assert r.code == "SIG_SIGNING_TIME"


def test_receipt_time_can_be_the_signing_time(unsigned, pki):
    body = sign(unsigned.replace(b"<NGAYLAP>", b"<NGAYLAP>x"), pki["valid"])
    assert verify(body, pki).code == "SIG_SIGNING_TIME"
    assert verify(body, pki, signing_time_source="RECEIVED").ok


def test_base64_envelope_signature_verifies(signed, pki):
    result = read_xml_submission(base64.b64encode(signed), facility_code=FACILITY, certificates=[pki["valid"].cert])
    assert result.ok, codes(result.problems)
