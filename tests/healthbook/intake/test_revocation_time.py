"""T4: a revoked certificate signs nothing received after its revocation, whatever NGAYLAP says.

NGAYLAP is written by the signer. Before issue 15 the revocation was compared with the signing
time taken from it, so whoever held a revoked key could back-date NGAYLAP (up to the 30 days the
envelope may be old) to a day before the revocation and be accepted. The rule now: a
certificate revoked at R verifies no submission received at or after R; NGAYLAP still decides
whether the certificate was within its validity period, never whether it was revoked.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from facilities.models import FacilityCertificate
from healthbook.intake.demo.submissions import build_envelope

from .conftest import FACILITY, process, sign

pytestmark = pytest.mark.django_db


def _revoke(sender, at):
    FacilityCertificate.objects.filter(facility=sender.facility).update(revoked_at=at)


def _envelope_dated(visits, spec, day: dt.date) -> bytes:
    return build_envelope(FACILITY, visits, day, spec)


def _codes(sub) -> set[str]:
    return set(sub.problems.values_list("code", flat=True))


def test_t4_back_dated_ngaylap_does_not_escape_a_revocation(proof, sender, pki, visits, spec, intake_codelists):
    row = proof.row(
        "T4",
        "certificate revoked yesterday in the portal; envelopes signed with it today carrying NGAYLAP "
        "back-dated 2, 5, 10 and 29 days (before the revocation), through the endpoint",
    )
    revoked_at = timezone.now() - dt.timedelta(days=1)
    _revoke(sender, revoked_at)
    today = timezone.localdate()
    accepted, wrong_code = [], []
    back = (2, 5, 10, 29)
    for days in back:
        body = sign(_envelope_dated(visits, spec, today - dt.timedelta(days=days)), pki["valid"])
        sub = process(sender.post(body))
        if sub.status != "rejected":
            accepted.append(days)
        elif "SIG_CERT_REVOKED" not in _codes(sub):
            wrong_code.append((days, sorted(_codes(sub))))
    row.set(
        times=len(back),
        figure=f"accepted {len(accepted)}/{len(back)}; refused as SIG_CERT_REVOKED "
        f"{len(back) - len(accepted) - len(wrong_code)}/{len(back)} (the receipt time decides, not NGAYLAP)",
    )
    assert accepted == [] and wrong_code == [], (accepted, wrong_code)


def test_submission_received_before_the_revocation_still_verifies_when_processed_after(
    sender, pki, signed, intake_codelists
):
    """What arrived before R was signed while the key was trusted: a later (re)processing keeps it."""
    from healthbook.intake.processing import submission_process
    from healthbook.models import Submission

    response = sender.post(signed)
    assert response.status_code == 202
    sub = Submission.objects.get(public_id=response.json()["id"])
    _revoke(sender, timezone.now() + dt.timedelta(seconds=1))  # after the receipt, before processing
    submission_process(submission_id=sub.pk)
    sub.refresh_from_db()
    assert sub.status == "accepted", sorted(_codes(sub))
    assert sub.signature_verified


def test_fhir_bundle_signed_with_a_revoked_certificate_is_refused(sender, pki, intake_codelists):
    import random

    from healthbook.intake.demo.submissions import build_fhir_bundle, make_citizen
    from healthbook.intake.jws import sign_detached

    person = make_citizen(random.Random(3), 1)
    body, _expected = build_fhir_bundle(random.Random(3), person, FACILITY, dt.datetime.now() - dt.timedelta(days=3))
    _revoke(sender, timezone.now() - dt.timedelta(days=1))
    sub = process(
        sender.post(
            body, content_type="application/fhir+json", **{"X-Signature": sign_detached(body, pki["valid"].key)}
        )
    )
    assert sub.status == "rejected"


# --- only trusted certificates verify (T3 at the intake) ---------------------------------------


def test_certificate_registered_before_the_trust_rules_verifies_nothing(sender, signed, intake_codelists):
    FacilityCertificate.objects.filter(facility=sender.facility).update(trust="unchecked", anchor=None)
    sub = process(sender.post(signed))
    assert sub.status == "rejected" and "SIG_CERT_UNTRUSTED" in _codes(sub)


def test_removing_the_anchor_stops_verifying_its_certificates(sender, signed, pki, intake_codelists):
    from facilities.certificates import trust_anchor_remove
    from facilities.models import TrustAnchor

    assert process(sender.post(signed, **{"Idempotency-Key": "before"})).status != "rejected"
    trust_anchor_remove(anchor=TrustAnchor.objects.get())
    sub = process(sender.post(signed, **{"Idempotency-Key": "after"}))
    assert sub.status == "rejected" and "SIG_CERT_UNTRUSTED" in _codes(sub)
