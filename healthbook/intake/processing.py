"""Processing of stored submissions: claim, read and verify, validate, match, merge, report.

Several queued submissions of one facility are processed together (a *batch*), which spreads
the fixed cost of a submission -- claim, loading, certificates, the transaction, problems,
status, connection health -- over the batch, while each submission keeps its own claim, its
own problems and status, and its own exactly-once merge:

1. **Claim** (one statement, autocommit): the submission the task names, if it is received
   (or its processing claim is stale), and with it up to `INTAKE_BATCH_SIZE - 1` other
   *received* submissions of the same facility, oldest first, within `INTAKE_BATCH_BYTES`
   (`FOR UPDATE SKIP LOCKED`: two workers never claim the same one). Their own tasks later
   find them claimed and return. The same statement sets `synchronous_commit` off for itself.
2. **Read and verify** each one outside any transaction (stage-1 pipeline).
3. **One transaction** (`synchronous_commit` off, set by its first statement): lock the claimed
   rows and keep those whose claim is still ours (a run presumed dead cannot write after a
   takeover, R5); then per submission, in id order: code-list validation, citizen matching
   (set-wise for the whole batch, with the same outcome as one by one), the merge
   (`merge.visits_merge`; its detail rows are COPYed once per table for the batch), the
   duplicate check; then for the batch: problems, statuses, connection health.
4. If the batch transaction fails for any reason, it is rolled back and each submission of the
   batch is processed alone (so one bad submission cannot hold back the others); a submission
   whose own run fails because the database went away stays in processing, where a retry or
   the sweeper finds it; one whose own run fails for any other reason (poison the checks did
   not foresee) is rejected with PROCESSING_FAILED, never left in processing.

Why `synchronous_commit = off` is safe here, and only here: the bytes were committed
synchronously at receipt (that is what the 202 promises); a result lost in a database crash
leaves the submission received/processing and the sweeper runs it again with the same outcome
(the merge is idempotent). It saves a disk flush per transaction in the worker.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import timedelta

from cryptography import x509
from django.conf import settings
from django.db import InterfaceError, OperationalError, connection, transaction
from django.db.models import Case, Q, Value, When
from django.utils import timezone, translation

from accounts.services import audit_record
from facilities.health import ConnectionEvent, facility_connection_events_record
from facilities.models import FacilityCertificate, FacilityStatus, trusted_q
from healthbook.models import Submission, SubmissionPayload, SubmissionProblem

from . import checkins, matching, merge, timing, validate
from .pipeline import SubmissionResult, read_fhir_submission, read_xml_submission
from .problems import ERROR, Problem, has_errors, problem
from .signals import check_ins_recorded
from .signature import fingerprint

logger = logging.getLogger(__name__)


def max_body_bytes() -> int:
    return int(getattr(settings, "INTAKE_MAX_BYTES", 20 * 1024 * 1024))


def stale_after() -> timedelta:
    return timedelta(seconds=int(getattr(settings, "INTAKE_STALE_SECONDS", 300)))


def batch_size() -> int:
    return max(1, int(getattr(settings, "INTAKE_BATCH_SIZE", 20)))


def batch_bytes() -> int:
    return int(getattr(settings, "INTAKE_BATCH_BYTES", 8 * 1024 * 1024))


# `(SELECT set_config('synchronous_commit', 'off', true))` in a FROM clause: SET LOCAL folded
# into the statement (no extra round trip); it applies when that transaction commits.
_CLAIM = """
WITH mine AS (
    UPDATE healthbook_submission AS s
    SET status = 'processing', claimed_at = %(now)s, attempts = s.attempts + 1
    FROM (SELECT set_config('synchronous_commit', 'off', true)) AS async_commit
    WHERE s.id = %(id)s AND (s.status = 'received' OR (s.status = 'processing' AND s.claimed_at < %(stale)s))
    RETURNING s.id, s.facility_id, s.size_bytes
), queued AS (
    SELECT q.id, q.size_bytes FROM healthbook_submission AS q, mine
    WHERE q.facility_id = mine.facility_id AND q.status = 'received' AND q.id <> mine.id
    ORDER BY q.id LIMIT %(more)s
    FOR UPDATE OF q SKIP LOCKED
), fitting AS (
    SELECT r.id FROM (SELECT id, sum(size_bytes) OVER (ORDER BY id) AS running FROM queued) AS r, mine
    WHERE mine.size_bytes + r.running <= %(budget)s
), more AS (
    UPDATE healthbook_submission AS s
    SET status = 'processing', claimed_at = %(now)s, attempts = s.attempts + 1
    FROM fitting WHERE s.id = fitting.id AND s.status = 'received'
    RETURNING s.id
)
SELECT id FROM mine UNION ALL SELECT id FROM more
"""


def submissions_claim(*, submission_id: int, batch: int = 1):
    """Claim the submission (and up to batch - 1 queued ones of its facility) for one run.

    Return (ids in id order, claim time), or None if another run holds the submission."""
    now = timezone.now()
    params = {"now": now, "id": submission_id, "stale": now - stale_after(), "more": batch - 1, "budget": batch_bytes()}
    with connection.cursor() as cur:
        cur.execute(_CLAIM, params)
        ids = sorted(row[0] for row in cur.fetchall())
    return (ids, now) if ids else None


_LOCK = """
SELECT s.id, s.status, s.claimed_at
FROM healthbook_submission AS s, (SELECT set_config('synchronous_commit', 'off', true)) AS async_commit
WHERE s.id = ANY(%s) ORDER BY s.id FOR UPDATE OF s
"""


def submission_process(*, submission_id: int) -> str | None:
    """Process a submission (with up to INTAKE_BATCH_SIZE - 1 queued ones of its facility);
    return its final status, or None if another run holds it."""
    claimed = submissions_claim(submission_id=submission_id, batch=batch_size())
    if claimed is None:
        return None
    ids, claimed_at = claimed
    if len(ids) > 1:
        try:
            return _process(ids, claimed_at).get(submission_id)
        except Exception:
            logger.warning("batch of %d submissions failed; processing them one by one", len(ids), exc_info=True)
    statuses, failure = {}, None
    for pk in ids:
        try:
            statuses.update(_process([pk], claimed_at))
        except TRANSIENT as exc:  # the database went away: a retry or the sweeper runs it again
            if pk == submission_id:
                failure = exc
            else:
                logger.exception("submission %s failed; it stays in processing for the sweeper", pk)
        except Exception:  # poison: running it again fails again, so it ends here, rejected
            logger.exception("submission %s cannot be processed; rejected", pk)
            statuses.update(_reject_unprocessable(pk, claimed_at))
    if failure is not None:
        raise failure
    return statuses.get(submission_id)


# Failures that say nothing about the submission: the same run succeeds later.
TRANSIENT = (OperationalError, InterfaceError)


def _reject_unprocessable(pk: int, claimed_at) -> dict[int, str]:
    """End a submission whose own processing failed with a non-transient error (issue 15,
    attack 14): rejected with PROCESSING_FAILED, nothing of it written (its transaction was
    rolled back), instead of staying in processing for a sweeper that would fail it forever.
    Only if the claim is still ours; the facility's administrator may reprocess it later."""
    with transaction.atomic():
        done = Submission.objects.filter(pk=pk, status=Submission.Status.PROCESSING, claimed_at=claimed_at).update(
            status=Submission.Status.REJECTED,
            processed_at=timezone.now(),
            claimed_at=None,
            error_count=1,
            warning_count=0,
            visits_count=0,
            encounters_created=0,
            encounters_updated=0,
            encounters_unchanged=0,
        )
        if not done:
            return {}
        sub = Submission(pk=pk)
        SubmissionProblem.objects.filter(submission_id=pk).delete()
        SubmissionProblem.objects.bulk_create(_problem_rows(sub, [problem("PROCESSING_FAILED")]))
    return {pk: Submission.Status.REJECTED}


@dataclass
class _Run:
    """One submission of a batch on its way through processing."""

    sub: Submission
    result: SubmissionResult
    problems: list[Problem]
    visits: list = field(default_factory=list)
    checked: validate.Validation | None = None
    matches: list = field(default_factory=list)
    counts: merge.MergeCounts = field(default_factory=merge.MergeCounts)
    planned: tuple | None = None  # (merge plan, ids of the batch's joint encounter insert)
    conflicted: bool = False
    checkins: list = field(default_factory=list)
    checkin_books: list = field(default_factory=list)
    held: bool = False  # the patient contradicts the book: kept for a reviewer, nothing attached


def _load(ids: list[int]) -> tuple[list[Submission], dict[int, bytes]]:
    subs = list(Submission.objects.select_related("facility").filter(pk__in=ids).order_by("pk"))
    bodies = dict(SubmissionPayload.objects.filter(submission_id__in=ids).values_list("submission_id", "body"))
    return subs, {pk: bytes(body) for pk, body in bodies.items()}


def _certificates(facility_id: int, received_ats) -> list[tuple[FacilityCertificate, x509.Certificate]]:
    """The facility's certificates not revoked before the earliest receipt - 31 days, loaded once
    per batch (expired ones too: the verifier tells "expired" from "unknown"; revoked ones of the
    last month too, so that a signature made with one is reported as SIG_CERT_REVOKED). Each row
    carries `trusted` (FacilityCertificate.objects.trusted(): chained to a trust anchor still
    registered); only trusted ones verify anything, the others only name the problem."""
    rows = (
        FacilityCertificate.objects.filter(facility_id=facility_id)
        .filter(Q(revoked_at__isnull=True) | Q(revoked_at__gt=min(received_ats) - timedelta(days=31)))
        .annotate(trusted=Case(When(trusted_q(), then=Value(True)), default=Value(False)))
    )
    out = []
    for c in rows:
        try:
            out.append((c, x509.load_pem_x509_certificate(c.pem.encode())))
        except ValueError:
            continue
    return out


def _read(sub: Submission, body: bytes, policy, certs) -> SubmissionResult:
    facility = sub.facility
    recent = [
        (c, cert) for c, cert in certs if c.revoked_at is None or c.revoked_at > sub.received_at - timedelta(days=31)
    ]
    loaded = {c: cert for c, cert in recent if c.trusted}
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
            if not revoked_for(c, received_at=sub.received_at)
        }
        return read_fhir_submission(body, jws=sub.signature_header or None, keys=keys, at=sub.received_at, **kw)
    result = read_xml_submission(
        body,
        certificates=list(loaded.values()),
        received_at=sub.received_at,
        signing_time_source=getattr(settings, "INTAKE_SIGNING_TIME_SOURCE", "NGAYLAP"),
        **kw,
    )
    sig = result.signature
    if sig is not None and sig.ok:
        row = next((c for c, cert in loaded.items() if fingerprint(cert) == sig.fingerprint), None)
        if row is not None and revoked_for(row, received_at=sub.received_at):
            result.problems.append(problem("SIG_CERT_REVOKED", table="CHUKYDONVI", policy=policy))
    elif sig is not None and sig.code == "SIG_CERT_UNKNOWN" and sig.fingerprint:
        # Registered, but not trusted (before the trust rules, or its anchor was removed): say so.
        if any(fingerprint(cert) == sig.fingerprint for c, cert in recent if not c.trusted):
            result.problems = [problem("SIG_CERT_UNTRUSTED", table="CHUKYDONVI", policy=policy)]
    return result


def revoked_for(certificate: FacilityCertificate, *, received_at) -> bool:
    """Whether a revocation stops `certificate` from verifying a submission received at
    `received_at` (T4): a certificate revoked at R verifies nothing received at or after R.

    The receipt time is the portal's own clock; NGAYLAP, the signing time the verifier uses for
    the validity period, is written by the signer and could be back-dated to before R, so it
    never decides a revocation. What was received before R stays verifiable when it is
    processed (or reprocessed) later."""
    return certificate.revoked_at is not None and certificate.revoked_at <= received_at


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


# (column, SQL type, value) of what processing writes on each submission row, for one
# UPDATE … FROM (VALUES …) over the batch (Django's bulk_update builds CASE expressions in Python).
_STATUS_COLUMNS = (
    ("status", "varchar", lambda s: s.status),
    ("processed_at", "timestamptz", lambda s: s.processed_at),
    ("visits_count", "integer", lambda s: s.visits_count),
    ("encounters_created", "integer", lambda s: s.encounters_created),
    ("encounters_updated", "integer", lambda s: s.encounters_updated),
    ("encounters_unchanged", "integer", lambda s: s.encounters_unchanged),
    ("error_count", "integer", lambda s: s.error_count),
    ("warning_count", "integer", lambda s: s.warning_count),
    ("signature_verified", "boolean", lambda s: s.signature_verified),
    ("signature_fingerprint", "varchar", lambda s: s.signature_fingerprint),
    ("claimed_at", "timestamptz", lambda s: s.claimed_at),
    ("duplicate_of_id", "bigint", lambda s: s.duplicate_of_id),
)
# column names from the constant above, values bound as parameters
_STATUS_UPDATE = (
    "UPDATE healthbook_submission AS s SET "  # noqa: S608
    + ", ".join(f"{c} = v.{c}" for c, _t, _g in _STATUS_COLUMNS)
    + " FROM (VALUES {rows}) AS v(id, "
    + ", ".join(c for c, _t, _g in _STATUS_COLUMNS)
    + ") WHERE s.id = v.id"
)
_STATUS_ROW = "(%s::bigint, " + ", ".join(f"%s::{t}" for _c, t, _g in _STATUS_COLUMNS) + ")"


def _statuses_write(runs: list[_Run]) -> None:
    """The final status and counts of every submission of the batch, in one statement."""
    if not runs:
        return
    params = [x for r in runs for x in (r.sub.pk, *(g(r.sub) for _c, _t, g in _STATUS_COLUMNS))]
    with connection.cursor() as cur:
        cur.execute(_STATUS_UPDATE.format(rows=", ".join([_STATUS_ROW] * len(runs))), params)


def _process(ids: list[int], claimed_at) -> dict[int, str]:
    """Process claimed submissions in one transaction; return {id: final status} of those whose
    claim was still ours."""
    subs, bodies = _load(ids)
    if not subs:
        return {}
    policy = validate.severity_policy()
    certs = _certificates(subs[0].facility_id, [s.received_at for s in subs])
    runs = []
    for sub in subs:
        result = _read(sub, bodies[sub.pk], policy, certs)
        problems = list(result.problems)
        if not has_errors(problems):  # nothing begins in the future (issue 15, point 2)
            problems.extend(
                timing.times_check(result.visits, result.checkins, received_at=sub.received_at, policy=policy)
            )
        ok = not has_errors(problems)
        run = _Run(sub, result, problems, result.visits if ok else [], checkins=result.checkins if ok else [])
        for v in run.visits:
            problems.extend(v.problems)
        runs.append(run)
    with transaction.atomic():
        with connection.cursor() as cur:
            cur.execute(_LOCK, [[r.sub.pk for r in runs]])
            rows = cur.fetchall()
        ours = {pk for pk, status, at in rows if status == Submission.Status.PROCESSING and at == claimed_at}
        runs = [r for r in runs if r.sub.pk in ours]  # others: a newer run took over (R5); it alone may write
        now = timezone.now()
        for r in runs:
            r.sub.processed_at = now
            if (r.visits or r.checkins) and not has_errors(r.problems):
                r.checked = validate.codes_check(
                    r.visits, received_on=timezone.localdate(r.sub.received_at), policy=policy
                )
                r.problems.extend(r.checked.problems)
        to_match = [r for r in runs if r.checked is not None]  # as before: also when a code was refused
        for r, (matches, match_problems) in zip(
            to_match, matching.books_match_many([r.visits + r.checkins for r in to_match], policy=policy), strict=True
        ):
            r.matches, r.checkin_books = matches[: len(r.visits)], [m.book for m in matches[len(r.visits) :]]
            r.problems.extend(match_problems)
            r.held = _holds(r)
        batch = merge.MergeBatch(runs[0].sub.facility) if runs else None
        known_checkins: dict[str, int] = {}
        if batch is not None:  # one SELECT … FOR UPDATE for the encounters (and check-ins) of the whole batch
            batch.lock(v.encounter.key for r in to_match for v in r.visits if v.encounter is not None)
            known_checkins = _checkin_conflicts(runs, batch.facility, policy)
            _insert_ahead([r for r in runs if r.matches and not r.held and not has_errors(r.problems)], policy, batch)
        accepted: dict[str, list[Submission]] = {}  # sha256 -> submissions of this batch accepted (or held) so far
        new_checkins: list[int] = []
        for r in runs:
            if r.held:
                r.counts = _would_be_counts(r, batch)
            elif r.matches and not r.conflicted and not has_errors(r.problems):
                _merge(r, policy, batch)
            if r.checkins and not r.held and not has_errors(r.problems):
                new_checkins += checkins.write(
                    submission=r.sub,
                    facility=r.sub.facility,
                    checkins=r.checkins,
                    books=r.checkin_books,
                    known_before=known_checkins,
                )
                known_checkins.update((c.key[:100], b.pk) for c, b in zip(r.checkins, r.checkin_books, strict=True))
            rejected = has_errors(r.problems)
            if r.held or (not rejected and not r.counts.created and not r.counts.updated):
                dup = _duplicate_of(r.sub, accepted.get(r.sub.sha256, []))
                if dup is not None:
                    r.sub.duplicate_of = dup
                    r.problems.append(problem("SUBMISSION_DUPLICATE", policy=policy))
                    if r.held:  # answered as the attached copy would be: nothing new
                        r.counts = merge.MergeCounts(unchanged=r.counts.created + r.counts.updated + r.counts.unchanged)
            if not rejected:
                accepted.setdefault(r.sub.sha256, []).append(r.sub)
            _finish(r)
        if batch is not None:
            batch.details.flush()
        if new_checkins:
            transaction.on_commit(lambda: check_ins_recorded.send(sender=Submission, check_in_ids=new_checkins))
        SubmissionProblem.objects.filter(submission_id__in=[r.sub.pk for r in runs]).delete()
        SubmissionProblem.objects.bulk_create([row for r in runs for row in _problem_rows(r.sub, r.problems)])
        _statuses_write(runs)
        _health(runs)
        for r in runs:
            if any(p.code.startswith(("SIG_", "JWS_")) for p in r.problems):
                audit_record(
                    actor=None,
                    action="sign_verify_fail",
                    target=r.sub,
                    details={"codes": sorted({p.code for p in r.problems if p.severity == ERROR})},
                )
    return {r.sub.pk: r.sub.status for r in runs}


def _holds(r: _Run) -> bool:
    """Whether the submission is held for review: its patient contradicts the matched book and no
    reviewer released it (a released one is attached, its contradictions kept as warnings)."""
    return (
        r.sub.review_status != Submission.Review.RELEASED
        and not has_errors(r.problems)
        and any(p.code in matching.IDENTITY_CODES for p in r.problems)
    )


def _checkin_conflicts(runs: list[_Run], facility, policy) -> dict[str, int]:
    """Lock the batch's existing check-ins (one statement) and mark, in order, the submissions
    whose check-in key belongs to another citizen's book; return {key: book id} as locked."""
    eligible = [r for r in runs if r.checkins and not r.held and not has_errors(r.problems)]
    locked = checkins.lock(facility, (c.key for r in eligible for c in r.checkins))
    known = dict(locked)
    for r in eligible:
        if any(b is None for b in r.checkin_books):
            continue  # PATIENT_NOT_IDENTIFIED: an error already
        found = checkins.conflicts(r.checkins, r.checkin_books, known, policy=policy)
        if found:
            r.problems.extend(found)
            r.conflicted = True
    return locked


def _would_be_counts(r: _Run, batch: merge.MergeBatch | None) -> merge.MergeCounts:
    """What attaching a held submission would count (created / updated / unchanged), from the
    encounters the batch locked: the sender's answer must not tell a held submission from an
    attached one (an oracle on whether a guessed name matched a personal ID)."""
    counts = merge.MergeCounts()
    for v in r.visits:
        if v.encounter is None:
            continue
        existing = batch.encounters.get(v.encounter.key) if batch is not None else None
        if existing is None:
            counts.created += 1
        elif existing.content_hash == merge.visit_hash(v):
            counts.unchanged += 1
        else:
            counts.updated += 1
    return counts


def _insert_ahead(runs: list[_Run], policy, batch: merge.MergeBatch) -> None:
    """Insert the new encounters of the batch's independent submissions with one statement.

    Independent: no encounter key shared with an earlier submission of the batch, and nothing
    read from rows an earlier one writes (no pregnancy check-ups, no items outside an
    encounter). For those, inserting first and all at once is what one-by-one merging would
    have inserted; the others are merged one by one, in order, after them."""
    seen: set[str] = set()
    ahead = []
    for r in runs:
        keys = {v.encounter.key[:100] for v in r.visits if v.encounter is not None}
        if not (keys & seen) and all(v.encounter is not None and not v.pregnancy_checkups for v in r.visits):
            ahead.append(r)
        seen |= keys
    plans = []
    for r in ahead:
        try:
            plan = merge.merge_plan(
                submission=r.sub,
                facility=r.sub.facility,
                visits=r.visits,
                books=[m.book for m in r.matches],
                versions=r.checked.versions,
                policy=policy,
                batch=batch,
            )
        except merge.EncounterConflict as exc:  # nothing written for it
            r.problems.extend(exc.problems)
            r.conflicted = True
            continue
        plans.append((r, plan))
    if plans:
        inserted = merge.encounters_insert([plan for _r, plan in plans])
        for r, plan in plans:
            r.planned = (plan, inserted)


def _merge(r: _Run, policy, batch: merge.MergeBatch) -> None:
    sub = r.sub
    try:
        r.counts = merge.visits_merge(
            submission=sub,
            facility=sub.facility,
            visits=r.visits,
            books=[m.book for m in r.matches],
            checks=r.checked.checks,
            versions=r.checked.versions,
            policy=policy,
            signature_verified=bool(r.result.signature and r.result.signature.ok)
            or (sub.kind == Submission.Kind.FHIR and sub.facility.signature_required),
            batch=batch,
            planned=r.planned,
        )
    except merge.EncounterConflict as exc:  # raised before this submission wrote anything
        r.problems.extend(exc.problems)


def _duplicate_of(sub: Submission, earlier_in_batch: list[Submission]) -> Submission | None:
    """The first accepted submission with the same bytes: stored ones, or earlier ones of this batch."""
    stored = (
        Submission.objects.filter(
            facility=sub.facility,
            sha256=sub.sha256,
            status__in=[Submission.Status.ACCEPTED, Submission.Status.ACCEPTED_WITH_WARNINGS, Submission.Status.HELD],
        )
        .exclude(pk=sub.pk)
        .order_by("received_at")
        .first()
    )
    candidates = [s for s in (stored, *earlier_in_batch) if s is not None]
    return min(candidates, key=lambda s: s.received_at) if candidates else None


def _finish(r: _Run) -> None:
    sub, problems = r.sub, r.problems
    rejected = has_errors(problems)
    sub.status = (
        Submission.Status.REJECTED
        if rejected
        else Submission.Status.HELD
        if r.held
        else Submission.Status.ACCEPTED_WITH_WARNINGS
        if problems
        else Submission.Status.ACCEPTED
    )
    sub.visits_count = len(r.visits)
    sub.encounters_created, sub.encounters_updated, sub.encounters_unchanged = (
        r.counts.created,
        r.counts.updated,
        r.counts.unchanged,
    )
    sub.error_count = sum(p.severity == ERROR for p in problems)
    sub.warning_count = len(problems) - sub.error_count
    sub.signature_verified = bool(r.result.signature and r.result.signature.ok)
    sub.signature_fingerprint = (r.result.signature.fingerprint or "") if r.result.signature else ""
    sub.claimed_at = None


def _health(runs: list[_Run]) -> None:
    """One connection event per processed submission (a reprocessed one only if now accepted)."""
    events = [
        ConnectionEvent(
            facility_id=r.sub.facility_id,
            at=r.sub.received_at,
            accepted=r.sub.status != Submission.Status.REJECTED,
            # The first error is the reason the dashboards count (one per rejected submission).
            reason=next((p.code for p in r.problems if p.severity == ERROR), ""),
        )
        for r in runs
        if r.sub.attempts <= 1 or r.sub.status != Submission.Status.REJECTED
    ]
    for facility_id in facility_connection_events_record(events=events):
        for r in runs:
            if r.sub.facility_id == facility_id:
                r.sub.facility.status = FacilityStatus.CONNECTED


def submissions_stale() -> list[int]:
    """Submissions left in received (lost doorbell) or processing (dead run) too long: the
    sweeper queues them again (at most 1,000 per run)."""
    cutoff = timezone.now() - stale_after()
    return list(
        Submission.objects.filter(
            Q(status=Submission.Status.RECEIVED, received_at__lt=cutoff)
            | Q(status=Submission.Status.PROCESSING, claimed_at__lt=cutoff)
        ).values_list("pk", flat=True)[:1000]
    )


def submissions_read_again(subs: list[Submission], bodies: dict[int, bytes]) -> dict[int, SubmissionResult]:
    """Read stored bodies again as processing read them (signature checked as at receipt), e.g. to
    back-fill a field added later. `subs` need `facility` loaded; one certificate query per facility."""
    policy = validate.severity_policy()
    out: dict[int, SubmissionResult] = {}
    for facility_id in {s.facility_id for s in subs}:
        mine = [s for s in subs if s.facility_id == facility_id and s.pk in bodies]
        certs = _certificates(facility_id, [s.received_at for s in mine]) if mine else []
        out.update({s.pk: _read(s, bodies[s.pk], policy, certs) for s in mine})
    return out
