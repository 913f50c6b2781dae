"""Submission services: receive (store the bytes), process (verify, read, validate, match,
merge), reprocess, sweep. The Celery tasks and the API call these.

Receive: the Submission row and the exact body bytes are written by one statement (so in one
transaction, one round trip) before anything reads them; the processing task is queued on
commit. Process: the submission is claimed with a conditional UPDATE (received → processing,
or a stale processing claim); the reading and signature check run outside any transaction;
then one transaction locks the row, checks the claim is still ours, merges, writes problems
and the final status, and records the connection-health event. Any failure before that
commit leaves the submission in processing, where the retry or the sweeper finds it.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from datetime import timedelta

from cryptography import x509
from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import Q
from django.utils import timezone, translation

from accounts.services import audit_record
from facilities.health import facility_connection_event_record
from facilities.models import Facility, FacilityCertificate
from healthbook.models import Submission, SubmissionPayload, SubmissionProblem

from . import matching, merge, validate
from .pipeline import SubmissionResult, read_fhir_submission, read_xml_submission
from .problems import ERROR, Problem, has_errors, problem

logger = logging.getLogger(__name__)

XML_TYPES = ("application/xml", "text/xml", "text/plain", "application/base64")
FHIR_TYPES = ("application/fhir+json",)


class IdempotencyConflict(Exception):
    """The Idempotency-Key was used before with a different request."""


@dataclass
class Received:
    submission: Submission
    replayed: bool


def max_body_bytes() -> int:
    return int(getattr(settings, "INTAKE_MAX_BYTES", 20 * 1024 * 1024))


def stale_after() -> timedelta:
    return timedelta(seconds=int(getattr(settings, "INTAKE_STALE_SECONDS", 300)))


def kind_for(content_type: str) -> str | None:
    """Return "xml130" / "fhir" for an accepted media type (parameters ignored), else None."""
    media = (content_type or "").split(";", 1)[0].strip().lower()
    if media in XML_TYPES:
        return Submission.Kind.XML130
    if media in FHIR_TYPES:
        return Submission.Kind.FHIR
    return None


def submission_receive(
    *,
    facility: Facility,
    api_key,
    body: bytes,
    content_type: str,
    signature: str = "",
    idempotency_key: str | None = None,
) -> Received:
    """Store a submission and its exact bytes; queue its processing. Same Idempotency-Key and
    same request → the first submission (replayed); same key, other request → IdempotencyConflict."""
    kind = kind_for(content_type)
    if kind is None:
        raise ValueError("unsupported content type")
    sha = hashlib.sha256(body).hexdigest()
    request_hash = hashlib.sha256(b"\0".join([body, content_type.encode(), signature.encode()])).hexdigest()
    if idempotency_key is not None:
        first = Submission.objects.filter(facility=facility, idempotency_key=idempotency_key).first()
        if first is not None:
            return _replay(first, request_hash)
    sub = Submission(
        facility=facility,
        api_key=api_key,
        received_at=timezone.now(),
        kind=kind,
        content_type=content_type[:100],
        size_bytes=len(body),
        sha256=sha,
        signature_header=signature,
        idempotency_key=idempotency_key,
        request_hash=request_hash,
    )
    try:
        sub.pk = _insert_with_payload(sub, body)
    except IntegrityError:
        if idempotency_key is None:
            raise
        first = Submission.objects.get(facility=facility, idempotency_key=idempotency_key)
        return _replay(first, request_hash)
    sub._state.adding = False
    transaction.on_commit(lambda: _enqueue(sub.pk))
    return Received(sub, replayed=False)


_SUBMISSION_FIELDS = [f for f in Submission._meta.concrete_fields if not f.primary_key]
_INSERT_WITH_PAYLOAD = (  # noqa: S608 — column names from the model, values bound as parameters
    "WITH s AS (INSERT INTO healthbook_submission ({cols}) VALUES ({vals}) RETURNING id) "
    "INSERT INTO healthbook_submission_payload (submission_id, body) SELECT id, %s FROM s RETURNING submission_id"
).format(
    cols=", ".join(connection.ops.quote_name(f.column) for f in _SUBMISSION_FIELDS),
    vals=", ".join(["%s"] * len(_SUBMISSION_FIELDS)),
)


def _insert_with_payload(sub: Submission, body: bytes) -> int:
    """Write the submission row and its bytes with ONE statement (one round trip).

    Outside a transaction the statement is its own transaction: both rows are committed
    together (synchronously — that is what the 202 promises) or neither is. Inside an outer
    atomic block (tests, reprocessing tools) it simply joins it."""
    params = [f.get_db_prep_save(f.pre_save(sub, True), connection) for f in _SUBMISSION_FIELDS]
    if connection.in_atomic_block:  # a savepoint, so a duplicate Idempotency-Key leaves the outer block usable
        with transaction.atomic(), connection.cursor() as cur:
            cur.execute(_INSERT_WITH_PAYLOAD, [*params, body])
            return cur.fetchone()[0]
    with connection.cursor() as cur:
        cur.execute(_INSERT_WITH_PAYLOAD, [*params, body])
        return cur.fetchone()[0]


def _replay(first: Submission, request_hash: str) -> Received:
    if first.request_hash != request_hash:
        raise IdempotencyConflict
    return Received(first, replayed=True)


def _enqueue(submission_id: int) -> None:
    if getattr(settings, "INTAKE_PROCESS_INLINE", False):
        submission_process(submission_id=submission_id)
        return
    from healthbook.tasks import submission_process_task

    try:
        submission_process_task.delay(submission_id)
    except Exception:  # noqa: BLE001 — the broker is a doorbell: the sweeper finds the row later
        logger.exception("could not queue submission %s; the sweeper will", submission_id)


_CLAIM = """
UPDATE healthbook_submission SET status = 'processing', claimed_at = %s, attempts = attempts + 1
WHERE id = %s AND (status = 'received' OR (status = 'processing' AND claimed_at < %s))
RETURNING claimed_at
"""


def submission_claim(*, submission_id: int):
    """Claim the submission for one run; return the claim time, or None if another run has it."""
    now = timezone.now()
    with transaction.atomic(), connection.cursor() as cur:
        _async_commit(cur)
        cur.execute(_CLAIM, [now, submission_id, now - stale_after()])
        row = cur.fetchone()
    return row[0] if row else None


def _async_commit(cur) -> None:
    """Do not wait for the WAL flush when this transaction commits.

    Safe here, and only here: the bytes were committed synchronously at receipt (that is what
    the 202 promises); a processing result lost in a database crash leaves the submission
    received/processing, and the sweeper runs it again with the same outcome (the merge is
    idempotent). It saves one disk flush per transaction in the worker."""
    cur.execute("SET LOCAL synchronous_commit = off")


def _certificates(facility: Facility, received_at) -> list[FacilityCertificate]:
    """The facility's certificates not revoked at receipt (expired ones too: the verifier
    tells "expired" from "unknown")."""
    return list(
        FacilityCertificate.objects.filter(facility=facility).filter(
            Q(revoked_at__isnull=True) | Q(revoked_at__gt=received_at - timedelta(days=31))
        )
    )


def _read(sub: Submission, body: bytes, policy) -> SubmissionResult:
    facility = sub.facility
    certs = _certificates(facility, sub.received_at)
    loaded = {}
    for c in certs:
        try:
            loaded[c] = x509.load_pem_x509_certificate(c.pem.encode())
        except ValueError:
            continue
    kw = {
        "facility_code": facility.code,
        "signature_required": facility.signature_required,
        "policy": policy,
        "max_bytes": max_body_bytes(),
    }
    if sub.kind == Submission.Kind.FHIR:
        # kid (optional) may name a certificate by its SHA-256 fingerprint; otherwise all are tried
        keys = {
            c.fingerprint_sha256.replace(":", "").lower(): cert
            for c, cert in loaded.items()
            if c.revoked_at is None or c.revoked_at > sub.received_at
        }
        result = read_fhir_submission(body, jws=sub.signature_header or None, keys=keys, at=sub.received_at, **kw)
    else:
        result = read_xml_submission(
            body,
            certificates=list(loaded.values()),
            received_at=sub.received_at,
            signing_time_source=getattr(settings, "INTAKE_SIGNING_TIME_SOURCE", "NGAYLAP"),
            **kw,
        )
        sig = result.signature
        if sig is not None and sig.ok:
            row = next((c for c, cert in loaded.items() if _fp(cert) == sig.fingerprint), None)
            if (
                row is not None
                and row.revoked_at is not None
                and sig.signing_time
                and row.revoked_at <= sig.signing_time
            ):
                result.problems.append(problem("SIG_CERT_REVOKED", table="CHUKYDONVI", policy=policy))
    return result


def _fp(cert) -> str:
    from .signature import fingerprint

    return fingerprint(cert)


def _problem_rows(sub: Submission, problems: list[Problem]) -> list[SubmissionProblem]:
    with translation.override(None):  # store the English msgid; pages translate it
        return [
            SubmissionProblem(
                submission=sub,
                severity=p.severity,
                code=p.code,
                table=(p.table or "")[:50],
                record_key=(p.record_key or "")[:120],
                field=(p.field or "")[:60],
                value="" if p.value is None else str(p.value)[:200],
                message=str(p.message or ""),
                detail=(p.detail or "")[:300],
            )
            for p in problems
        ]


def submission_process(*, submission_id: int) -> str | None:
    """Process one submission; return its final status, or None if another run holds it."""
    claimed_at = submission_claim(submission_id=submission_id)
    if claimed_at is None:
        return None
    sub = Submission.objects.select_related("facility").get(pk=submission_id)
    body = bytes(SubmissionPayload.objects.values_list("body", flat=True).get(submission_id=submission_id))
    policy = validate.severity_policy()
    result = _read(sub, body, policy)
    problems = list(result.problems)
    visits = result.visits if not has_errors(problems) else []
    for v in visits:
        problems.extend(v.problems)
    with transaction.atomic():
        with connection.cursor() as cur:
            _async_commit(cur)
        locked = Submission.objects.select_for_update().select_related("facility").get(pk=submission_id)
        if locked.status != Submission.Status.PROCESSING or locked.claimed_at != claimed_at:
            return None  # a newer run took over (R5): it alone may write
        sub = locked
        sub.processed_at = timezone.now()
        counts = merge.MergeCounts()
        if visits and not has_errors(problems):
            checked = validate.codes_check(visits, received_on=timezone.localdate(sub.received_at), policy=policy)
            problems.extend(checked.problems)
            matches, match_problems = matching.books_match(visits, policy=policy)
            problems.extend(match_problems)
            if not has_errors(problems):
                try:
                    with transaction.atomic():
                        counts = merge.visits_merge(
                            submission=sub,
                            facility=sub.facility,
                            visits=visits,
                            books=[m.book for m in matches],
                            checks=checked.checks,
                            versions=checked.versions,
                            policy=policy,
                            signature_verified=bool(result.signature and result.signature.ok)
                            or (sub.kind == Submission.Kind.FHIR and sub.facility.signature_required),
                        )
                except merge.EncounterConflict as exc:
                    problems.extend(exc.problems)
        rejected = has_errors(problems)
        if not rejected and not counts.created and not counts.updated:
            dup = (
                Submission.objects.filter(
                    facility=sub.facility,
                    sha256=sub.sha256,
                    status__in=[Submission.Status.ACCEPTED, Submission.Status.ACCEPTED_WITH_WARNINGS],
                )
                .exclude(pk=sub.pk)
                .order_by("received_at")
                .first()
            )
            if dup is not None:
                sub.duplicate_of = dup
                problems.append(problem("SUBMISSION_DUPLICATE", policy=policy))
        SubmissionProblem.objects.filter(submission=sub).delete()
        SubmissionProblem.objects.bulk_create(_problem_rows(sub, problems))
        sub.status = (
            Submission.Status.REJECTED
            if rejected
            else Submission.Status.ACCEPTED_WITH_WARNINGS
            if problems
            else Submission.Status.ACCEPTED
        )
        sub.visits_count = len(visits)
        sub.encounters_created, sub.encounters_updated, sub.encounters_unchanged = (
            counts.created,
            counts.updated,
            counts.unchanged,
        )
        sub.error_count = sum(p.severity == ERROR for p in problems)
        sub.warning_count = len(problems) - sub.error_count
        sub.signature_verified = bool(result.signature and result.signature.ok)
        sub.signature_fingerprint = (result.signature.fingerprint or "") if result.signature else ""
        sub.claimed_at = None
        sub.save(
            update_fields=[
                "status",
                "processed_at",
                "visits_count",
                "encounters_created",
                "encounters_updated",
                "encounters_unchanged",
                "error_count",
                "warning_count",
                "signature_verified",
                "signature_fingerprint",
                "claimed_at",
                "duplicate_of",
            ]
        )
        if sub.attempts <= 1 or not rejected:
            facility_connection_event_record(facility=sub.facility, at=sub.received_at, accepted=not rejected)
        if any(p.code.startswith("SIG_") or p.code.startswith("JWS_") for p in problems):
            audit_record(
                actor=None,
                action="sign_verify_fail",
                target=sub,
                details={"codes": sorted({p.code for p in problems if p.severity == ERROR})},
            )
    return sub.status


@transaction.atomic
def submission_reprocess(*, submission: Submission, acting_user=None) -> Submission:
    """Send a rejected submission through processing again (after a code-list or registry fix)."""
    sub = Submission.objects.select_for_update().get(pk=submission.pk)
    if sub.status != Submission.Status.REJECTED:
        return sub
    sub.status = Submission.Status.RECEIVED
    sub.claimed_at = None
    sub.reprocessed_by = acting_user if getattr(acting_user, "pk", None) else None
    sub.save(update_fields=["status", "claimed_at", "reprocessed_by"])
    audit_record(actor=acting_user, action="submission_reprocess", target=sub, details={"attempts": sub.attempts})
    transaction.on_commit(lambda: _enqueue(sub.pk))
    return sub


def submissions_sweep() -> list[int]:
    """Re-queue submissions left in received (lost doorbell) or processing (dead run) too long."""
    cutoff = timezone.now() - stale_after()
    ids = list(
        Submission.objects.filter(
            Q(status=Submission.Status.RECEIVED, received_at__lt=cutoff)
            | Q(status=Submission.Status.PROCESSING, claimed_at__lt=cutoff)
        ).values_list("pk", flat=True)[:1000]
    )
    for pk in ids:
        _enqueue(pk)
    return ids
