"""Issue 15, attack 14, through POST /api/v1/submissions/ and the worker's processing call: a
NUL or a lone surrogate in a FHIR string, JSON nested far too deep, a NUL in XML 130 text --
each submission ends rejected with a machine reason and a Vietnamese message, never left in
processing, nothing written to the book."""

import base64
import json
import random
import re
from datetime import datetime

import pytest
from django.db import OperationalError
from django.utils import translation

from healthbook.intake import processing
from healthbook.intake.demo.submissions import build_fhir_bundle, make_citizen
from healthbook.intake.jws import sign_detached
from healthbook.intake.problems import CATALOG
from healthbook.models import Encounter, Submission

from .conftest import sign

pytestmark = pytest.mark.django_db


def _bundle() -> dict:
    c = make_citizen(random.Random(3), 5)
    body, _expected = build_fhir_bundle(random.Random(3), c, "01001", datetime(2025, 3, 1, 9))
    return json.loads(body)


def _resource(doc, rtype):
    return next(e["resource"] for e in doc["entry"] if e["resource"]["resourceType"] == rtype)


def _nul_in_name(doc):
    _resource(doc, "Patient")["name"][0]["text"] = "Nguyễn\x00Hương"


def _nul_in_lot(doc):
    _resource(doc, "Immunization")["lotNumber"] = "L7\x00"


def _nul_in_description(doc):
    _resource(doc, "Appointment")["description"] = "Tái khám\x00"


def _nul_in_code(doc):
    _resource(doc, "Observation")["code"]["coding"][0]["code"] = "11884-4\x00"


def _nul_in_a_key(doc):
    _resource(doc, "Patient")["name"][0]["te\x00xt"] = "x"


def _surrogate_in_name(doc):
    _resource(doc, "Patient")["name"][0]["text"] = "Nguyễn\ud800"


def _nested(depth):
    def mutate(doc):
        inner = {"url": "http://example.org/x", "valueString": "x"}
        for _ in range(depth):
            inner = {"url": "http://example.org/x", "extension": [inner]}
        _resource(doc, "Patient")["extension"] = [inner]

    return mutate


FHIR_CASES = {
    "nul-in-patient-name": _nul_in_name,
    "nul-in-immunization-lot": _nul_in_lot,
    "nul-in-appointment-description": _nul_in_description,
    "nul-in-observation-code": _nul_in_code,
    "nul-in-a-key": _nul_in_a_key,
    "lone-surrogate-in-name": _surrogate_in_name,
    "nested-200": _nested(200),
    "nested-100000": _nested(100_000),
}


def _fhir_body(mutate) -> bytes:
    doc = _bundle()
    mutate(doc)
    try:
        return json.dumps(doc, ensure_ascii=True).encode()
    except RecursionError:  # json.dumps recurses too: write the deep nesting by hand
        text = json.dumps(_bundle(), ensure_ascii=True)
        depth = 100_000
        deep = '{"url":"http://example.org/x","extension":[' * depth + '{"url":"u","valueString":"x"}' + "]}" * depth
        patient = '"resourceType": "Patient",'
        return text.replace(patient, f'{patient} "extension": [{deep}],', 1).encode()


def _xml_with(unsigned: bytes, pki, replace: bytes) -> bytes:
    """The envelope with XML1's HO_TEN replaced (inside the base64 of NOIDUNGFILE), signed."""
    text = unsigned

    def swap(match):
        inner = base64.b64decode(match.group(2))
        if b"<HO_TEN>" not in inner:
            return match.group(0)
        inner, n = re.subn(
            rb"<HO_TEN>(?:<!\[CDATA\[.*?\]\]>|[^<]*)</HO_TEN>", b"<HO_TEN>" + replace + b"</HO_TEN>", inner, count=1
        )
        swapped.append(n)
        return match.group(1) + base64.b64encode(inner) + match.group(3)

    swapped: list[int] = []
    text = re.sub(rb"(<NOIDUNGFILE>)([^<]+)(</NOIDUNGFILE>)", swap, text)
    assert sum(swapped) >= 1
    return sign(text, pki["valid"])


def _outcome(response) -> tuple[str, Submission | None]:
    """(status, submission) after the worker's call; 'stuck' if processing raised."""
    assert response.status_code == 202, response.content
    sub = Submission.objects.get(public_id=response.json()["id"])
    try:
        processing.submission_process(submission_id=sub.pk)
    except Exception:  # noqa: BLE001 — what the worker would see: the row stays in processing
        sub.refresh_from_db()
        return ("stuck" if sub.status in ("received", "processing") else sub.status), sub
    sub.refresh_from_db()
    return sub.status, sub


def _vietnamese(code: str) -> bool:
    msgid = CATALOG[code][0]
    with translation.override("vi"):
        vi = str(msgid)
    with translation.override(None):
        return vi != str(msgid)


def test_poison_submissions_end_rejected_with_a_reason(sender, pki, unsigned, intake_codelists, proof):
    row = proof.row("T14", "FHIR strings with NUL or lone surrogate, JSON nested 200/100 000 deep, NUL in XML 130")
    outcomes = {}
    for name, mutate in FHIR_CASES.items():
        body = _fhir_body(mutate)
        jws = sign_detached(body, pki["valid"].key, kid="01001")
        outcomes[name] = _outcome(sender.post(body, "application/fhir+json", **{"X-Signature": jws}))
    for name, raw in (("xml-char-ref-nul", b"Nguy&#0;en"), ("xml-raw-nul", b"Nguy\x00en")):
        outcomes[name] = _outcome(sender.post(_xml_with(unsigned, pki, raw)))
    stuck = [n for n, (status, _s) in outcomes.items() if status == "stuck"]
    rejected = {n: s for n, (status, s) in outcomes.items() if status == "rejected"}
    reasons = {n: sorted({p.code for p in s.problems.all() if p.severity == "error"}) for n, s in rejected.items()}
    untranslated = [n for n, codes in reasons.items() if not codes or not all(_vietnamese(c) for c in codes)]
    row.set(
        times=len(outcomes),
        figure=f"{len(outcomes)} poison submissions: {len(rejected)} rejected with a reason, {len(stuck)} stuck in "
        f"processing, {Encounter.objects.count()} visits written",
    )
    assert not stuck, stuck
    assert set(rejected) == set(outcomes), {n: o[0] for n, o in outcomes.items()}
    assert not untranslated, reasons
    assert Encounter.objects.count() == 0


def test_an_unforeseen_failure_rejects_the_submission_instead_of_leaving_it_processing(
    sender, unsigned, pki, intake_codelists, monkeypatch
):
    """Poison no check foresaw (here: reading raises) ends rejected with PROCESSING_FAILED;
    the database going away (OperationalError) leaves it for a retry, as before (R3)."""
    body = sign(unsigned, pki["valid"])

    def broken(*args, **kwargs):
        raise ValueError("unforeseen")

    monkeypatch.setattr(processing, "_read", broken)
    status, sub = _outcome(sender.post(body))
    assert status == "rejected" and sub.claimed_at is None
    assert list(sub.problems.values_list("code", flat=True)) == ["PROCESSING_FAILED"] and _vietnamese(
        "PROCESSING_FAILED"
    )

    def gone(*args, **kwargs):
        raise OperationalError("server closed the connection")

    monkeypatch.setattr(processing, "_read", gone)
    status, sub = _outcome(sender.post(body + b" "))
    assert status == "stuck" and sub.status == "processing"  # the sweeper runs it again
