"""Demo history through the real intake API (a DEMO_STEPS step of `make run`).

For the demo facilities 01001 (Hà Nội, bs.an) and 79001 (TP.HCM, bs.binh): a throwaway test
CA and certificate (healthbook/intake/demo/pki.py, kept under var/demo/); with DEBUG on the test
CA is registered as a trust anchor (never with DEBUG off: a demo CA must not be trusted by a
production portal, so there the demo sends nothing), the certificate registered and a fresh API
key made; then signed XML 130 envelopes and FHIR bundles (healthbook/intake/demo/submissions.py) are built for
about 200 citizens of the demo card batch (their names, IDs and cards, so books match) and
POSTed to /api/v1/submissions/ with the Django test client — the same view, authentication
and storage as a real HIS. Each accepted 202 is then processed here (the claim makes it safe
if the worker picks it up first). Idempotent: when the demo facilities already have accepted
submissions, nothing is sent again.
"""

import random
from datetime import date, datetime, timedelta
from pathlib import Path

from cryptography.hazmat.primitives.serialization import load_pem_private_key
from django.conf import settings
from django.core.management.base import BaseCommand
from django.test import Client
from django.utils import timezone

from facilities.certificates import certificate_add, certificate_parse, trust_anchor_add
from facilities.credentials import api_key_create, api_key_revoke
from facilities.models import Facility, FacilityApiKey, FacilityCertificate, FacilityStatus
from healthbook.intake.demo.pki import make_pki
from healthbook.intake.demo.submissions import build_envelope, build_fhir_bundle, load_seed, make_visit, sign_envelope
from healthbook.intake.jws import sign_detached
from healthbook.intake.processing import submission_process
from healthbook.intake.xml130 import load_spec
from healthbook.models import InsuranceCard, Submission

DEMO_FACILITIES = ("01001", "79001")
KEY_NAME = "Demo HIS (seed_demo_submissions)"


def _pki(code: str):
    out = Path(settings.VAR_DIR) / "demo" / f"pki-{code}"
    if not (out / "valid.key").exists() or not _profiled(out / "valid.pem"):
        make_pki(out, facility=code, other="99999")
    return (out / "valid.key").read_bytes(), (out / "valid.pem").read_bytes(), (out / "ca.pem").read_bytes()


def _profiled(cert_path: Path) -> bool:
    """Whether a demo certificate made earlier carries the authority key identifier the trust
    check needs (older demo folders were made without it: they are made again)."""
    from cryptography import x509

    cert = x509.load_pem_x509_certificate(cert_path.read_bytes())
    try:
        cert.extensions.get_extension_for_class(x509.AuthorityKeyIdentifier)
    except x509.ExtensionNotFound:
        return False
    return True


def _citizen(card: InsuranceCard, n: int) -> dict:
    c = card.citizen
    return {
        "n": n,
        "name": c.full_name,
        "female": c.sex == 2,
        "born": c.birth_date or date(1980, 1, 1),
        "pid": c.personal_id or "",
        "sin": card.social_insurance_number,
        "card": card.card_number,
        "province": (card.issuing_province_code or "01")[:2],
        "address": c.address or "Hà Nội",
        "patient_id": f"BN{n:08d}",
    }


class Command(BaseCommand):
    help = "Send demo examination data through the intake API (idempotent)."

    def add_arguments(self, parser):
        parser.add_argument("--citizens", type=int, default=200)
        parser.add_argument("--seed", type=int, default=6)

    def handle(self, *args, citizens, seed, **options):
        facilities = list(Facility.objects.filter(code__in=DEMO_FACILITIES).order_by("code"))
        if Submission.objects.filter(facility__in=facilities, status__in=Submission.FINAL[:2]).exists():
            self.stdout.write("Demo submissions already loaded.")
            return
        if not settings.DEBUG:
            self.stdout.write(
                self.style.WARNING("DEBUG is off: the demo CA is not trusted here, so no demo data is sent.")
            )
            return
        cards = list(
            InsuranceCard.objects.select_related("citizen")
            .filter(citizen__personal_id__isnull=False)
            .order_by("pk")[:citizens]
        )
        if not cards:
            self.stdout.write(self.style.WARNING("No demo citizens with cards: run seed_demo_cards first."))
            return
        rng, spec = random.Random(seed), load_spec()
        icd, labs = load_seed()
        today = timezone.localdate()
        client = Client(HTTP_HOST="localhost")
        sent = 0
        counts: dict[str, int] = {}
        for index, facility in enumerate(facilities):
            Facility.objects.filter(pk=facility.pk, status=FacilityStatus.PENDING).update(
                status=FacilityStatus.APPROVED, approved_at=timezone.now()
            )
            key_pem, cert_pem, ca_pem = _pki(facility.code)
            trust_anchor_add(pem=ca_pem)  # DEBUG only (above): the demo's own test CA
            if (
                not FacilityCertificate.objects.trusted()
                .filter(facility=facility, fingerprint_sha256=certificate_parse(cert_pem)["fingerprint_sha256"])
                .exists()
            ):
                certificate_add(facility=facility, pem=cert_pem, acting_user=None)
            for old in FacilityApiKey.objects.filter(facility=facility, name=KEY_NAME, revoked_at__isnull=True):
                api_key_revoke(api_key=old, acting_user=None)
            api_key = api_key_create(facility=facility, name=KEY_NAME, acting_user=None).key
            auth = {"HTTP_AUTHORIZATION": f"Api-Key {api_key}"}
            private_key = load_pem_private_key(key_pem, password=None)
            mine = cards[index :: len(facilities)]
            for n, card in enumerate(mine, start=1 + 10000 * index):
                person = _citizen(card, n)
                visits = []
                for k in range(1, rng.randint(1, 3) + 1):
                    when = datetime.combine(
                        today - timedelta(days=rng.randrange(1, 25) + 30 * (3 - k)), datetime.min.time()
                    ).replace(hour=rng.randrange(7, 16), minute=rng.randrange(60))
                    visits.append(make_visit(rng, person, facility.code, k, when, icd, labs, 12, 4))
                body = sign_envelope(build_envelope(facility.code, visits, today, spec), key_pem, cert_pem)
                responses = [
                    client.post(
                        "/api/v1/submissions/",
                        data=body,
                        content_type="application/xml",
                        HTTP_IDEMPOTENCY_KEY=f"demo-xml-{facility.code}-{n}",
                        **auth,
                    )
                ]
                if n % 3 == 0:
                    fhir, _exp = build_fhir_bundle(
                        rng,
                        person,
                        facility.code,
                        datetime.combine(today - timedelta(days=2), datetime.min.time()).replace(hour=9),
                    )
                    responses.append(
                        client.post(
                            "/api/v1/submissions/",
                            data=fhir,
                            content_type="application/fhir+json",
                            HTTP_X_SIGNATURE=sign_detached(fhir, private_key),
                            **auth,
                        )
                    )
                for response in responses:
                    sent += 1
                    if response.status_code != 202:
                        counts[f"http {response.status_code}"] = counts.get(f"http {response.status_code}", 0) + 1
                        continue
                    sub = Submission.objects.get(public_id=response.json()["id"])
                    status = submission_process(submission_id=sub.pk) or "processed by the worker"
                    counts[status] = counts.get(status, 0) + 1

        summary = ", ".join(f"{k}: {v}" for k, v in sorted(counts.items()))
        self.stdout.write(self.style.SUCCESS(f"Demo submissions sent through the API: {sent} ({summary})."))
