"""Residences of unplaced citizens read again from their stored submissions (issue 16, point 4).

Visits and check-ins stored before issue 16 keep no MATINH_CU_TRU / MAXA_CU_TRU in
`patient_as_sent`, but the accepted submission that produced each of them is kept byte for byte
(SubmissionPayload). This reads those payloads again with the intake's own reader (processing's
read, signature included: only what was signed counts), once per payload and citizen batch, in
chunks, and applies the one residence rule (healthbook.intake.residence.residence_of).
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime

from django.db import connection

from healthbook.models import Submission, SubmissionPayload

from .processing import submissions_read_again
from .residence import residence_of

# Visits and check-ins of the unplaced citizens in [low, high] whose stored copy names no province,
# with the accepted submission that produced them.
LINKS = """
WITH unplaced AS (
    SELECT id FROM healthbook_citizen
    WHERE id BETWEEN %(low)s AND %(high)s AND residence_source = '' AND residence_province_id IS NULL
), links AS (
    SELECT b.citizen_id, e.submission_id, e.key, e.occurred_at AS at
    FROM healthbook_encounter e JOIN healthbook_book b ON b.id = e.book_id JOIN unplaced u ON u.id = b.citizen_id
    WHERE NOT (e.patient_as_sent ? 'province')
    UNION ALL
    SELECT b.citizen_id, ci.submission_id, ci.key, ci.occurred_at
    FROM healthbook_check_in ci JOIN healthbook_book b ON b.id = ci.book_id JOIN unplaced u ON u.id = b.citizen_id
    WHERE NOT (ci.patient_as_sent ? 'province')
)
SELECT l.citizen_id, l.submission_id, l.key, l.at
FROM links l JOIN healthbook_submission s ON s.id = l.submission_id
WHERE s.status IN ('accepted', 'accepted_with_warnings')
"""


def residences_from_submissions(*, low: int, high: int, chunk: int = 50) -> list[tuple[int, int, str]]:
    """(citizen id, province id, commune code) of the unplaced citizens in [low, high], each from
    the latest visit or check-in (by visit time) whose payload names a province in the list."""
    by_submission: dict[int, list[tuple[int, str, datetime]]] = defaultdict(list)
    with connection.cursor() as cur:
        cur.execute(LINKS, {"low": low, "high": high})
        for citizen_id, submission_id, key, at in cur:
            by_submission[submission_id].append((citizen_id, key, at))
    best: dict[int, tuple[datetime, int, str]] = {}
    ids = sorted(by_submission)
    for start in range(0, len(ids), max(chunk, 1)):
        part = ids[start : start + chunk]
        subs = list(Submission.objects.select_related("facility").filter(pk__in=part))
        bodies = {
            pk: bytes(body)
            for pk, body in SubmissionPayload.objects.filter(submission_id__in=part)
            .values_list("submission_id", "body")
            .iterator(chunk_size=chunk)
        }
        for pk, result in submissions_read_again(subs, bodies).items():
            if not result.ok:
                continue
            patients = {v.encounter.key: v.patient for v in result.visits if v.encounter is not None}
            patients.update({c.key: c.patient for c in result.checkins})
            for citizen_id, key, at in by_submission[pk]:
                patient = patients.get(key)
                if patient is None:
                    continue
                place, _ = residence_of(patient, table="", record_key=key)
                if place.province_id is not None and (citizen_id not in best or at > best[citizen_id][0]):
                    best[citizen_id] = (at, place.province_id, place.commune_code)
        del subs, bodies
    return [(citizen_id, province, commune) for citizen_id, (_, province, commune) in best.items()]
