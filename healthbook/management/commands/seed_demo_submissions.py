"""Demo history through the real intake API (a DEMO_STEPS step of `make run`).

Four sending facilities: the demo facilities 01001 (Hà Nội, bs.an) and 79001 (TP.HCM, bs.binh),
a commune health station of Hà Nội and a facility of Đà Nẵng (the first connected ones of the
generated registry). For each: a throwaway test CA and certificate (healthbook/intake/demo/pki.py,
kept under var/demo/); with DEBUG on the test CA is registered as a trust anchor (never with
DEBUG off: a demo CA must not be trusted by a production portal, so there the demo sends
nothing), the certificate registered and a fresh API key made. Then signed XML 130 envelopes
(visits) and FHIR bundles (vaccinations, pregnancy check-ups) are POSTed to
/api/v1/submissions/ with the Django test client — the same view, authentication and storage as
a real HIS — and each accepted 202 is processed here (the claim makes it safe if the worker picks
it up first). What is sent (healthbook/intake/demo/stories.py): the named demo people of the
README and the start banner, and about 200 citizens of the demo card batch with visits
plausible for their age and sex at their home facility and sometimes at another, in another
province; children get their vaccinations on the schedule of the vaccine code list.

Last, books are given creation times over the past months (one UPDATE each, set-based): the
card-import books spread over 180 days, and no book younger than its first visit, so the
dashboards' trends are not flat then a spike on the day of the demo.

Idempotent: when the demo facilities already have accepted submissions, nothing is sent again.
"""

import random
from datetime import date, datetime, timedelta
from pathlib import Path

from cryptography.hazmat.primitives.serialization import load_pem_private_key
from django.conf import settings
from django.core.management.base import BaseCommand
from django.db.models import DateTimeField, DurationField, ExpressionWrapper, F, OuterRef, Subquery, Value
from django.db.models.functions import Coalesce, Least
from django.test import Client
from django.utils import timezone

from facilities.certificates import certificate_add, certificate_parse, trust_anchor_add
from facilities.credentials import api_key_create, api_key_revoke
from facilities.models import Facility, FacilityApiKey, FacilityCertificate, FacilityStatus, Level
from healthbook.intake.demo import clinical, stories
from healthbook.intake.demo.pki import make_pki
from healthbook.intake.demo.submissions import build_envelope, load_seed, make_visit, sign_envelope
from healthbook.intake.jws import sign_detached
from healthbook.intake.processing import submission_process
from healthbook.intake.xml130 import load_spec
from healthbook.models import Encounter, HealthBook, InsuranceCard, Submission

DEMO_FACILITIES = ("01001", "79001")
KEY_NAME = "Demo HIS (seed_demo_submissions)"
BOOKS_SPREAD_DAYS = 180
STORY_FIRST_N = 900_001
ENVELOPE_VISITS = 40  # visits (HOSO) per XML envelope


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


def demo_facilities() -> dict[str, Facility]:
    """Facility role (healthbook.intake.demo.stories) -> facility."""
    roles = {f.code: f for f in Facility.objects.filter(code__in=DEMO_FACILITIES)}
    found = {"hn": roles.get("01001"), "hcm": roles.get("79001")}
    generated = Facility.objects.filter(status=FacilityStatus.CONNECTED).exclude(code__in=DEMO_FACILITIES)
    found["hn_station"] = (
        generated.filter(province__code="01", level=Level.COMMUNE_STATION).order_by("code").first()
        or generated.filter(province__code="01").order_by("code").first()
    )
    found["dn"] = (
        generated.filter(province__code="48", level__in=[Level.REGIONAL, Level.PROVINCIAL]).order_by("code").first()
        or generated.filter(province__code="48").order_by("code").first()
    )
    return {role: f for role, f in found.items() if f is not None}


class Sender:
    """One facility's signed POSTs to the intake API, each processed at once."""

    def __init__(self, facility: Facility, client: Client, counts: dict):
        if facility.status == FacilityStatus.PENDING:
            Facility.objects.filter(pk=facility.pk).update(status=FacilityStatus.APPROVED, approved_at=timezone.now())
        self.facility, self.client, self.counts = facility, client, counts
        self.key_pem, self.cert_pem, ca_pem = _pki(facility.code)
        trust_anchor_add(pem=ca_pem)  # DEBUG only (the command checks): the demo's own test CA
        fingerprint = certificate_parse(self.cert_pem)["fingerprint_sha256"]
        if not FacilityCertificate.objects.trusted().filter(facility=facility, fingerprint_sha256=fingerprint).exists():
            certificate_add(facility=facility, pem=self.cert_pem, acting_user=None)
        for old in FacilityApiKey.objects.filter(facility=facility, name=KEY_NAME, revoked_at__isnull=True):
            api_key_revoke(api_key=old, acting_user=None)
        key = api_key_create(facility=facility, name=KEY_NAME, acting_user=None).key
        self.auth = {"HTTP_AUTHORIZATION": f"Api-Key {key}"}
        self.private_key = load_pem_private_key(self.key_pem, password=None)
        self.pending: list[dict] = []
        self.sent = 0

    def xml(self, visits: list[dict], today: date, spec) -> None:
        """Queue visits (HOSO); an envelope of about ENVELOPE_VISITS of them is sent at a time,
        as a HIS sends its day's file (fewer signatures and requests than one per patient)."""
        self.pending += visits
        if len(self.pending) >= ENVELOPE_VISITS:
            self.flush(today, spec)

    def flush(self, today: date, spec) -> None:
        if not self.pending:
            return
        visits, self.pending = self.pending, []
        self.sent += 1
        body = sign_envelope(build_envelope(self.facility.code, visits, today, spec), self.key_pem, self.cert_pem)
        self._post(body, "application/xml", HTTP_IDEMPOTENCY_KEY=f"demo-xml-{self.facility.code}-{self.sent}")

    def fhir(self, body: bytes) -> None:
        self._post(body, "application/fhir+json", HTTP_X_SIGNATURE=sign_detached(body, self.private_key))

    def _post(self, body: bytes, content_type: str, **headers) -> None:
        response = self.client.post(
            "/api/v1/submissions/", data=body, content_type=content_type, **headers, **self.auth
        )
        if response.status_code != 202:
            label = f"http {response.status_code}"
        else:
            sub = Submission.objects.get(public_id=response.json()["id"])
            label = submission_process(submission_id=sub.pk) or "processed by the worker"
        self.counts[label] = self.counts.get(label, 0) + 1


def _send_person(senders, person: dict, visits, vaccines, checkups, rng, today, spec, icd, labs) -> None:
    """The person's visits at each facility into that facility's next XML envelope; one FHIR
    bundle per facility with their vaccinations and pregnancy check-ups there."""
    roles = sorted({v[0] for v in visits} | {v[0] for v in vaccines} | {c[0] for c in checkups})
    for role in roles:
        sender = senders.get(role)
        if sender is None:
            continue
        mine = sorted((v for v in visits if v[0] == role), key=lambda v: v[1])
        if mine:
            tables = [
                make_visit(
                    rng,
                    person,
                    sender.facility.code,
                    k,
                    when,
                    icd,
                    labs,
                    0,
                    0,
                    clinical=clinical.clinical_of(rng, person, visit),
                )
                for k, (_role, when, visit) in enumerate(mine, start=1)
            ]
            sender.xml(tables, today, spec)
        shots = [(when, code, dose) for r, when, code, dose in vaccines if r == role]
        exams = [(when, weeks, lmp) for r, when, weeks, lmp in checkups if r == role]
        if shots or exams:
            sender.fhir(clinical.fhir_bundle(person, shots, exams))


def _child_vaccines(person: dict, today: date, role: str) -> list[tuple]:
    """The doses of the schedule a child has reached, given at the home facility on time (those
    dated while the vaccine code list is in force: older ones would not be checked)."""
    born = person["born"]
    since = clinical.vaccine_list_since()
    out = []
    for dose in clinical.vaccine_schedule():
        day = born + timedelta(days=max(dose.age_days, 1) + (dose.dose % 3))
        if since <= day < today:
            out.append((role, datetime.combine(day, datetime.min.time()).replace(hour=9), dose.code, dose.dose))
    return out


def books_spread_over_months(now) -> None:
    """Card-import books created over the last BOOKS_SPREAD_DAYS days (by id), then no book
    younger than its first visit: two UPDATEs."""
    day = Value(timedelta(days=1), output_field=DurationField())
    minute = Value(timedelta(minutes=1), output_field=DurationField())
    HealthBook.objects.filter(
        created_via=HealthBook.CreatedVia.CARD_IMPORT, created_at__gte=now - timedelta(days=1)
    ).update(
        created_at=ExpressionWrapper(
            Value(now) - day * ((F("id") * 7919) % BOOKS_SPREAD_DAYS) - minute * ((F("id") * 31) % 600),
            output_field=DateTimeField(),
        )
    )
    first_visit = Encounter.objects.filter(book_id=OuterRef("pk")).order_by("occurred_at").values("occurred_at")[:1]
    HealthBook.objects.update(created_at=Least(F("created_at"), Coalesce(Subquery(first_visit), F("created_at"))))


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
        rng, spec = random.Random(seed), load_spec()
        icd, labs = load_seed()
        today = timezone.localdate()
        client = Client(HTTP_HOST="localhost")
        counts: dict[str, int] = {}
        senders = {role: Sender(f, client, counts) for role, f in demo_facilities().items()}
        roles = list(senders)

        for i, story in enumerate(stories.stories(today)):
            person = story.as_citizen(STORY_FIRST_N + i)
            _send_person(senders, person, story.visits, story.vaccines, story.checkups, rng, today, spec, icd, labs)

        for n, card in enumerate(cards, start=1):
            person = _citizen(card, n)
            home = "hn" if n % 2 else "hcm"
            order = [home, *[r for r in roles if r != home]]
            visits = clinical.background_visits(rng, person, today, order)
            age = today.year - person["born"].year
            vaccines = _child_vaccines(person, today, home) if age < 6 else []
            _send_person(senders, person, visits, vaccines, [], rng, today, spec, icd, labs)

        for sender in senders.values():
            sender.flush(today, spec)
        books_spread_over_months(timezone.now())
        summary = ", ".join(f"{k}: {v}" for k, v in sorted(counts.items()))
        self.stdout.write(
            self.style.SUCCESS(f"Demo submissions sent through the API: {sum(counts.values())} ({summary}).")
        )
