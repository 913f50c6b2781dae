"""Submission services: receive (store the bytes), process (verify, read, validate, match,
merge), reprocess, sweep. The Celery tasks and the API call these.

Receive: the Submission row and the exact body bytes are written by one statement (so in one
transaction, one round trip) before anything reads them; the processing task is queued on
commit. Processing (claim, read, validate, match, merge, report -- several queued submissions
of one facility per transaction) is in `processing`; the sweeper in `tasks`.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass

from django.db import IntegrityError, connection, transaction
from django.utils import timezone, translation

from accounts.services import audit_record
from facilities.models import Facility
from healthbook.intake import tasks
from healthbook.models import Submission

from .sql import bound_cursor

logger = logging.getLogger(__name__)

XML_TYPES = ("application/xml", "text/xml", "text/plain", "application/base64")
FHIR_TYPES = ("application/fhir+json",)


class IdempotencyConflict(Exception):
    """The Idempotency-Key was used before with a different request."""


@dataclass
class Received:
    submission: Submission
    replayed: bool


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
    transaction.on_commit(lambda: tasks.submission_enqueue(sub.pk))
    return Received(sub, replayed=False)


_SUBMISSION_FIELDS = [f for f in Submission._meta.concrete_fields if not f.primary_key]
_INSERT_WITH_PAYLOAD = (  # noqa: S608 — column names from the model, values bound as parameters
    "WITH s AS (INSERT INTO healthbook_submission ({cols}) VALUES ({vals}) RETURNING id) "
    "INSERT INTO healthbook_submission_payload (submission_id, body) SELECT id, %b FROM s RETURNING submission_id"
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
        with transaction.atomic():
            return _execute_bound(_INSERT_WITH_PAYLOAD, [*params, body])
    return _execute_bound(_INSERT_WITH_PAYLOAD, [*params, body])


def _execute_bound(sql: str, params: list) -> int:
    """Run `sql` with server-side parameters (the body as one binary parameter, `%b`, instead of
    a hex literal twice its size); return the first column."""
    with bound_cursor() as cur:
        cur.execute(sql, params)
        return cur.fetchone()[0]


def _replay(first: Submission, request_hash: str) -> Received:
    if first.request_hash != request_hash:
        raise IdempotencyConflict
    return Received(first, replayed=True)


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
    transaction.on_commit(lambda: tasks.submission_enqueue(sub.pk))
    return sub


def _held(submission: Submission) -> Submission:
    sub = Submission.objects.select_for_update().get(pk=submission.pk)
    if sub.status != Submission.Status.HELD:
        raise SubmissionNotHeld
    return sub


class SubmissionNotHeld(Exception):
    """The submission is no longer held (another reviewer decided it first)."""


@transaction.atomic
def submission_hold_release(*, submission: Submission, acting_user, note: str = "") -> Submission:
    """A reviewer confirms that a held submission is about the citizen of the matched book: it is
    processed again and attached (its identity contradictions kept as warnings). Audited with the
    reviewer's name and note; only a named person may decide (healthbook.intake.access)."""
    sub = _held(submission)
    sub.review_status = Submission.Review.RELEASED
    sub.reviewed_by, sub.reviewed_at, sub.review_note = acting_user, timezone.now(), note[:500]
    sub.status = Submission.Status.RECEIVED
    sub.claimed_at = None
    sub.save(update_fields=["review_status", "reviewed_by", "reviewed_at", "review_note", "status", "claimed_at"])
    audit_record(actor=acting_user, action="submission_hold_release", target=sub, details={"note": sub.review_note})
    transaction.on_commit(lambda: tasks.submission_enqueue(sub.pk))
    return sub


@transaction.atomic
def submission_hold_reject(*, submission: Submission, acting_user, note: str = "") -> Submission:
    """A reviewer decides that a held submission is not about the citizen of the matched book: it
    is rejected (IDENTITY_REJECTED) and nothing of it enters a book. Audited."""
    from healthbook.intake.problems import problem
    from healthbook.models import SubmissionProblem

    sub = _held(submission)
    sub.review_status = Submission.Review.REJECTED
    sub.reviewed_by, sub.reviewed_at, sub.review_note = acting_user, timezone.now(), note[:500]
    sub.status = Submission.Status.REJECTED
    sub.error_count += 1
    sub.save(update_fields=["review_status", "reviewed_by", "reviewed_at", "review_note", "status", "error_count"])
    p = problem("IDENTITY_REJECTED")
    with translation.override(None):
        SubmissionProblem.objects.create(
            submission=sub, severity=p.severity, code=p.code, table="", message=str(p.message)
        )
    audit_record(actor=acting_user, action="submission_hold_reject", target=sub, details={"note": sub.review_note})
    return sub
