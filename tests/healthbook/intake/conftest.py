"""Fixtures for the intake tests: a throwaway test PKI, signed envelopes, the spec."""

from __future__ import annotations

import base64
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from lxml import etree
from signxml import XMLSigner, methods
from signxml.algorithms import DigestAlgorithm, SignatureMethod

from healthbook.intake.demo.pki import make_pki
from healthbook.intake.demo.submissions import build_envelope, load_seed, make_citizen, make_visit
from healthbook.intake.xml130 import load_spec

FACILITY = "01001"
C14N = "http://www.w3.org/TR/2001/REC-xml-c14n-20010315"
HOSTILE = Path(__file__).resolve().parents[2] / "fixtures" / "hostile"


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
    base = datetime.combine(today - timedelta(days=1), datetime.min.time()).replace(hour=8)
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


# --- stage 2: the endpoint, the database and the book ---------------------------------------

SEED_DIR = Path(__file__).resolve().parents[3] / "codelists" / "seed"
ICD_USED = ("E11", "I10", "J06", "K29", "A09", "J18", "N39", "M54", "E78", "K21", "J20", "I25")
SMALL_LISTS = ("visit-type", "treatment-result", "discharge-type", "lab-indicator", "vaccine")


def load_intake_codelists(effective_from=date(2020, 1, 1)):
    """The seed lists the intake checks, published and in force (ICD-10 limited to the
    chapters the generators use, to stay fast)."""
    import csv
    import json

    from tests.codelists import factories as cf

    for key in ("icd10",) + SMALL_LISTS:
        with open(SEED_DIR / f"{key}.csv", encoding="utf-8") as fh:
            rows = [
                (r["code"], r["display_vi"], r["active"] == "1", json.loads(r["properties"] or "{}"))
                for r in csv.DictReader(fh)
                if key != "icd10" or r["code"].startswith(ICD_USED)
            ]
        cf.version(cf.system(key, max_code_length=20), "seed", rows, effective_from=effective_from)


@pytest.fixture
def intake_codelists(db):
    load_intake_codelists()


@dataclass
class Sender:
    """Facility software: a facility with an API key and registered certificates."""

    facility: object
    key: str
    client: object

    def post(self, body: bytes, content_type: str = "application/xml", **headers):
        extra = {f"HTTP_{k.upper().replace('-', '_')}": v for k, v in headers.items()}
        return self.client.post(
            "/api/v1/submissions/",
            data=body,
            content_type=content_type,
            HTTP_AUTHORIZATION=f"Api-Key {self.key}",
            **extra,
        )

    def get(self, public_id):
        return self.client.get(f"/api/v1/submissions/{public_id}/", HTTP_AUTHORIZATION=f"Api-Key {self.key}")


def make_sender(facility, pki_leaves, client_cls=None):
    from django.test import Client

    from facilities.certificates import certificate_add, trust_anchor_add
    from facilities.credentials import api_key_create
    from facilities.models import FacilityStatus

    facility.status = FacilityStatus.APPROVED
    facility.save(update_fields=["status"])
    if "ca" in pki_leaves:  # the ministry trusts the test CA (explicitly: no anchor exists otherwise)
        trust_anchor_add(pem=pki_leaves["ca"].cert_path.read_bytes())
    for name in ("valid", "valid_ec", "expired"):
        if name in pki_leaves:
            certificate_add(facility=facility, pem=pki_leaves[name].cert_path.read_bytes(), acting_user=None)
    new = api_key_create(facility=facility, name="HIS test", acting_user=None)
    return Sender(facility, new.key, (client_cls or Client)())


@pytest.fixture
def sender(facility_a, pki):
    return make_sender(facility_a, pki)


def process(response):
    """Run the processing of the submission a 202 answer names (what the worker does)."""
    from healthbook.intake.processing import submission_process
    from healthbook.models import Submission

    assert response.status_code == 202, response.content
    sub = Submission.objects.get(public_id=response.json()["id"])
    submission_process(submission_id=sub.pk)
    sub.refresh_from_db()
    return sub
