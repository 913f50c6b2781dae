"""Write the check-ins of accepted submissions, set-wise and exactly once (issue 15, point 1).

A check-in (records.CheckInData) is keyed like an encounter by (facility, key). Per batch of
submissions of one facility:

1. `lock`: `SELECT … FOR UPDATE` of the check-ins that already exist for the batch's keys (one
   statement, key order); `conflicts_mark` then walks the submissions in order, as merging them one
   by one would: a key the facility already used for another citizen's book is an error
   (CHECKIN_OTHER_PATIENT), found before the submission writes anything.
2. `write`: one `INSERT … ON CONFLICT (facility, key) DO UPDATE` per submission. A new check-in
   records whether it is the citizen's first contact with the facility (no visit, no check-in, no
   primary-care card there) and whether the citizen lives in another province — what the
   province's alert on unusual check-ins counts (provinces.rollups). The same check-in sent again
   only moves `last_at` forward (a later status of the same visit).

Times: `occurred_at` (shown on the timeline) is the check-in time, or the receipt of its first
message if that was earlier; `last_at` (where the door's window starts) is the latest time the
message reports, or its receipt if that was earlier (healthbook.intake.timing). So the window never
starts in the future, and a back-dated check-in opens only what is left of its window.
"""

from __future__ import annotations

import json
from collections.abc import Iterable

from django.db import connection

from healthbook.models import CheckIn

from .problems import Problem, problem
from .records import CheckInData
from .timing import care_start


class CheckInRaced(Exception):
    """Another run inserted one of these keys for another book between the lock and the write:
    the batch is rolled back and processed again (then the lock sees the row)."""


def lock(facility, keys: Iterable[str]) -> dict[str, int]:
    """{key: book id} of the facility's existing check-ins among `keys`, locked (one statement)."""
    keys = sorted({k[:100] for k in keys})
    if not keys:
        return {}
    rows = CheckIn.objects.select_for_update().filter(facility=facility, key__in=keys).order_by("key")
    return dict(rows.values_list("key", "book_id"))


def conflicts(checkins: list[CheckInData], books: list, known: dict[str, int], *, policy) -> list[Problem]:
    """CHECKIN_OTHER_PATIENT for each check-in whose key belongs to another book; otherwise the
    keys are added to `known` (what this submission will have written)."""
    out = [
        problem(
            "CHECKIN_OTHER_PATIENT",
            table="XML0" if c.source == "xml130" else "Encounter",
            record_key=c.key,
            field="MA_LK",
            policy=policy,
        )
        for c, book in zip(checkins, books, strict=True)
        if known.get(c.key[:100], book.pk) != book.pk
    ]
    if not out:
        known.update((c.key[:100], book.pk) for c, book in zip(checkins, books, strict=True))
    return out


_WRITE = """
WITH v AS (
    SELECT * FROM unnest(%(book)s::bigint[], %(key)s::text[], %(source)s::text[], %(checked)s::timestamptz[],
                         %(occurred)s::timestamptz[], %(last)s::timestamptz[], %(vtype)s::text[], %(patient)s::text[])
        AS v(book_id, key, source, checked_in_at, occurred_at, last_at, visit_type, patient)
)
INSERT INTO healthbook_check_in (
    book_id, facility_id, submission_id, key, source, checked_in_at, occurred_at, last_at, visit_type,
    first_contact, other_province, patient_as_sent, created_at, updated_at)
SELECT v.book_id, %(facility)s, %(submission)s, v.key, v.source, v.checked_in_at, v.occurred_at, v.last_at,
    v.visit_type,
    NOT EXISTS (SELECT 1 FROM healthbook_encounter e WHERE e.book_id = v.book_id AND e.facility_id = %(facility)s)
    AND NOT EXISTS (SELECT 1 FROM healthbook_check_in c WHERE c.book_id = v.book_id AND c.facility_id = %(facility)s)
    AND NOT EXISTS (SELECT 1 FROM healthbook_book b JOIN healthbook_card k ON k.citizen_id = b.citizen_id
                    WHERE b.id = v.book_id AND k.primary_care_facility_code = %(code)s),
    COALESCE((SELECT c.residence_province_id <> %(province)s FROM healthbook_book b
              JOIN healthbook_citizen c ON c.id = b.citizen_id WHERE b.id = v.book_id), false),
    v.patient::jsonb, %(now)s, %(now)s
FROM v ORDER BY v.key
ON CONFLICT (facility_id, key) DO UPDATE SET
    last_at = EXCLUDED.last_at, submission_id = EXCLUDED.submission_id, updated_at = EXCLUDED.updated_at
WHERE healthbook_check_in.book_id = EXCLUDED.book_id AND healthbook_check_in.last_at < EXCLUDED.last_at
RETURNING id, key, (xmax = 0) AS inserted
"""


def _patient(c: CheckInData) -> str:
    p = c.patient
    return json.dumps(
        {
            "name": p.full_name,
            "birth_date": p.birth_date.value.isoformat() if p.birth_date else None,
            "personal_id": p.personal_id,
            "cards": p.card_numbers,
            "sex": p.sex,
        },
        ensure_ascii=False,
    )


def write(*, submission, facility, checkins: list[CheckInData], books: list, known_before: dict[str, int]) -> list[int]:
    """Insert or move the check-ins of one submission (books[i] is the book of checkins[i]); return
    the ids of the check-ins created. `known_before`: the keys that existed when the batch locked
    them (a key absent there must come back inserted, else another run raced: CheckInRaced)."""
    if not checkins:
        return []
    received = submission.received_at
    rows = sorted(zip(checkins, books, strict=True), key=lambda cb: cb[0].key)
    latest = [max((at for _n, at in c.times), default=None) for c, _b in rows]
    params = {
        "book": [b.pk for _c, b in rows],
        "key": [c.key[:100] for c, _b in rows],
        "source": [c.source for c, _b in rows],
        "checked": [c.checked_in_at for c, _b in rows],
        "occurred": [care_start(c.checked_in_at, received) for c, _b in rows],
        "last": [care_start(at, received) for at in latest],
        "vtype": [(c.visit_type or "")[:4] for c, _b in rows],
        "patient": [_patient(c) for c, _b in rows],
        "facility": facility.pk,
        "submission": submission.pk,
        "code": facility.code,
        "province": facility.province_id,
        "now": submission.processed_at or received,
    }
    with connection.cursor() as cur:
        cur.execute(_WRITE, params)
        returned = cur.fetchall()
    written = {key for _id, key, _inserted in returned}
    if any(key not in written and key not in known_before for key in params["key"]):
        raise CheckInRaced
    return [pk for pk, _key, inserted in returned if inserted]
