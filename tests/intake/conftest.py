"""Fixtures for the intake tests: a throwaway test PKI, signed envelopes, the spec."""

from __future__ import annotations

import base64
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from lxml import etree
from signxml import XMLSigner, methods
from signxml.algorithms import DigestAlgorithm, SignatureMethod

from bench.gen_submissions import build_envelope, load_seed, make_citizen, make_visit
from bench.make_test_pki import make_pki
from healthbook.intake.xml130 import load_spec

FACILITY = "01001"
C14N = "http://www.w3.org/TR/2001/REC-xml-c14n-20010315"
HOSTILE = Path(__file__).resolve().parents[1] / "fixtures" / "hostile"


@pytest.fixture(scope="session")
def pki(tmp_path_factory):
    return make_pki(tmp_path_factory.mktemp("pki"), facility=FACILITY, other="79001")


@pytest.fixture(scope="session")
def spec():
    return load_spec()


def sign(xml: bytes, leaf, *, alg: str | None = None, reference_uri=None, sha1: bool = False) -> bytes:
    """Sign ``xml`` (with a placeholder in CHUKYDONVI) using a test PKI leaf."""
    from cryptography.hazmat.primitives.asymmetric import ec

    if alg is None:
        alg = "ecdsa-sha256" if isinstance(leaf.key, ec.EllipticCurvePrivateKey) else "rsa-sha256"
    signer = XMLSigner(
        method=methods.enveloped, signature_algorithm=alg, digest_algorithm="sha256", c14n_algorithm=C14N
    )
    if sha1:  # signxml refuses SHA-1 by default; the fixture needs a genuine SHA-1 signature
        signer.sign_alg = SignatureMethod.RSA_SHA1
        signer.digest_alg = DigestAlgorithm.SHA1
    root = etree.fromstring(xml)
    kw = {"reference_uri": reference_uri} if reference_uri else {}
    signed = signer.sign(root, key=leaf.key, cert=leaf.cert_path.read_text(), **kw)
    return etree.tostring(signed, xml_declaration=True, encoding="utf-8")


@pytest.fixture(scope="session")
def today():
    return datetime.now(UTC).date()


@pytest.fixture(scope="session")
def visits(spec, today):
    import random

    rng = random.Random(7)
    icd, labs = load_seed()
    citizen = make_citizen(rng, 1)
    base = datetime.combine(today, datetime.min.time()).replace(hour=8)
    return [make_visit(rng, citizen, FACILITY, k, base, icd, labs, 20, 5) for k in (1, 2)]


@pytest.fixture(scope="session")
def unsigned(visits, spec, today):
    return build_envelope(FACILITY, visits, today, spec)


@pytest.fixture(scope="session")
def signed(unsigned, pki):
    return sign(unsigned, pki["valid"])


def b64(text: str) -> str:
    return base64.b64encode(text.encode("utf-8")).decode("ascii")


def envelope_with(files: list[tuple[str, str]], *, facility: str = FACILITY, ngaylap: date | None = None) -> bytes:
    """A GIAMDINHHS with one HOSO made of (LOAIHOSO, inner xml text) pairs and a placeholder."""
    ngaylap = ngaylap or datetime.now(UTC).date()
    hoso = "".join(
        f"<FILEHOSO><LOAIHOSO>{k}</LOAIHOSO><NOIDUNGFILE>{b64(v)}</NOIDUNGFILE></FILEHOSO>" for k, v in files
    )
    return (
        f'<?xml version="1.0" encoding="utf-8"?>\n<GIAMDINHHS><THONGTINDONVI><MACSKCB>{facility}</MACSKCB>'
        f"</THONGTINDONVI><THONGTINHOSO><NGAYLAP>{ngaylap:%Y%m%d}</NGAYLAP><SOLUONGHOSO>1</SOLUONGHOSO>"
        f"<DANHSACHHOSO><HOSO>{hoso}</HOSO></DANHSACHHOSO></THONGTINHOSO>"
        '<CHUKYDONVI><ds:Signature xmlns:ds="http://www.w3.org/2000/09/xmldsig#" Id="placeholder"/></CHUKYDONVI>'
        "</GIAMDINHHS>"
    ).encode()


def codes(problems) -> list[str]:
    return [p.code for p in problems]
