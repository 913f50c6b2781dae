"""Reads behind the doctor's book pages and the history APIs (the access decision is made
before, in book.access). Each function makes a fixed number of queries whatever the length of
the history: lists are paged in SQL, detail rows are fetched per table, names of codes come
from codelists.lookups. The header's facts and the vaccination record are in book.header.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import cached_property

from django.db.models import OuterRef, Prefetch, Q, Subquery
from django.utils import timezone

from codelists import lookups
from core.replicas import connection  # the primary, or a lag-tolerant block's replica
from healthbook.models import (
    BirthCertificate,
    ClinicalNote,
    ClinicalProcedure,
    Condition,
    DiagnosticReport,
    DischargePaper,
    Document,
    Encounter,
    FollowUpAppointment,
    LabObservation,
    Medication,
    PregnancyCheckup,
    ReceivedTable,
    RecordSummary,
    Referral,
    ServiceItem,
    SickLeaveCertificate,
)
from healthbook.models.lab_ranges import FLAG_LABELS, parse_range

# HIV (XML6) and tuberculosis (XML15): shown only under the stricter rule of book.record, never served
SENSITIVE_TABLES = ("XML6", "XML15")
TIMELINE_KINDS = ("visit", "checkin", "lab", "prescription", "vaccination", "pregnancy", "certificate")
# The tables the header's facts and the timeline read. The book pages cache what they render
# from them under the book's content_version, which database triggers on exactly these tables
# bump (migration 0013); tests/healthbook/book/test_book_cache.py checks the queries read no other table.
CACHED_SOURCES = (
    "healthbook_encounter",
    "healthbook_lab_observation",
    "healthbook_medication",
    "healthbook_immunization",
    "healthbook_pregnancy_checkup",
    "healthbook_follow_up",
    "healthbook_birth_certificate",
    "healthbook_sick_leave",
    "healthbook_discharge_paper",
    "healthbook_referral",
    "healthbook_document",
    "healthbook_check_in",
    "healthbook_allergy",
    "healthbook_condition",
)
PAGE_SIZE = 25


def tune_connection_for_pages() -> None:
    """Switch off parallel workers and JIT on this database connection (once per connection).

    A citizen's rows are scattered over large tables, so the planner's estimates for "all rows
    of one book" look expensive enough to start parallel workers and JIT compilation, which
    cost far more than the few hundred index lookups they are meant to speed up (measured:
    10–30 ms per query on the 5-million-visit benchmark). Web requests never need either, so
    the setting stays on the (persistent) connection and costs one round trip per connection.
    """
    connection.ensure_connection()
    raw = connection.connection
    if getattr(raw, "_sskdt_pages_tuned", False):
        return
    with connection.cursor() as cur:
        cur.execute("SET max_parallel_workers_per_gather = 0; SET jit = off")
    raw._sskdt_pages_tuned = True


# ---------------------------------------------------------------- timeline

# One SELECT per kind of item; only the kinds asked for are put into the query.
_TIMELINE_BRANCHES = {
    "visit": """
  SELECT * FROM visits
""",
    "checkin": """
  SELECT 'checkin', c.occurred_at, c.id, c.facility_id, c.visit_type, '', 0, 0
    FROM healthbook_check_in c WHERE c.book_id = %(book)s
""",
    "lab": """
  SELECT 'lab', max(l.occurred_at), min(l.id), l.facility_id, '', coalesce(min(l.encounter_id)::text, ''),
         count(*), count(*) FILTER (WHERE l.abnormal_flag <> '')
    FROM healthbook_lab_observation l WHERE l.book_id = %(book)s AND l.occurred_at IS NOT NULL
     AND l.occurred_at >= (SELECT since FROM lab_cut)
    GROUP BY l.facility_id, l.encounter_id, (l.occurred_at AT TIME ZONE 'Asia/Ho_Chi_Minh')::date
""",
    "prescription": """
  SELECT 'prescription', max(m.occurred_at), min(m.id), m.facility_id, max(m.prescription_code),
         coalesce(min(m.encounter_id)::text, ''), count(*), 0
    FROM healthbook_medication m WHERE m.book_id = %(book)s AND m.occurred_at IS NOT NULL
     AND (m.encounter_id IS NULL OR m.encounter_id IN (
          SELECT r.encounter_id FROM healthbook_medication r
           WHERE r.book_id = %(book)s AND r.occurred_at >= (SELECT since FROM lab_cut)))
    GROUP BY m.facility_id, m.encounter_id, CASE WHEN m.encounter_id IS NULL THEN m.prescription_code END
    HAVING max(m.occurred_at) >= (SELECT since FROM lab_cut)
""",
    "vaccination": """
  SELECT 'vaccination', i.occurred_at, i.id, i.facility_id, i.vaccine_code, i.dose_number, 0, 0
    FROM healthbook_immunization i WHERE i.book_id = %(book)s AND i.occurred_at IS NOT NULL
""",
    "pregnancy": """
  SELECT 'pregnancy', p.occurred_at, p.id, p.facility_id, p.pregnancy_key,
         coalesce(p.gestational_age_weeks::text, ''), 0, 0
    FROM healthbook_pregnancy_checkup p WHERE p.book_id = %(book)s AND p.occurred_at IS NOT NULL
""",
    "certificate": """
  SELECT 'certificate', c.occurred_at, c.id, c.facility_id, c.paper, c.number, 0, 0 FROM (
      SELECT occurred_at, id, facility_id, 'birth' AS paper, number
        FROM healthbook_birth_certificate WHERE book_id = %(book)s
      UNION ALL SELECT occurred_at, id, facility_id, 'sick_leave', number
        FROM healthbook_sick_leave WHERE book_id = %(book)s
      UNION ALL SELECT occurred_at, id, facility_id, 'discharge', number
        FROM healthbook_discharge_paper WHERE book_id = %(book)s
      UNION ALL SELECT occurred_at, id, facility_id, 'referral', number
        FROM healthbook_referral WHERE book_id = %(book)s
      UNION ALL SELECT occurred_at, id, facility_id, kind, number
        FROM healthbook_document WHERE book_id = %(book)s
  ) c WHERE c.occurred_at IS NOT NULL
""",
}
# The newest visits of the page, filtered and limited in the branch (index encounter_book_time),
# and from them a lower bound for the lab groups: when limit visits are already newer than a
# time T, no older item can be on the page, so only lab groups at T or later matter. A lab
# group is the results of one visit (or facility) on one local day, so every row of such a
# group is on or after the start of T's day: the rows before it are skipped, whole groups only.
_TIMELINE_HEAD = """
WITH visits AS (
  SELECT 'visit'::text AS kind, e.occurred_at AS at, e.id AS ref, e.facility_id, e.main_diagnosis AS code,
         e.visit_type AS extra, 0 AS n, 0 AS flagged
    FROM healthbook_encounter e
   WHERE e.book_id = %(book)s
     AND (%(facility)s::text IS NULL
          OR e.facility_id IN (SELECT id FROM facilities_facility_view WHERE code = %(facility)s))
     AND (%(since)s::timestamptz IS NULL OR e.occurred_at >= %(since)s)
     AND (%(until)s::timestamptz IS NULL OR e.occurred_at < %(until)s)
     AND (%(before_at)s::timestamptz IS NULL
          OR (e.occurred_at, 'visit'::text, e.id) < (%(before_at)s, %(before_kind)s, %(before_ref)s))
   ORDER BY e.occurred_at DESC NULLS FIRST, e.id DESC
   LIMIT CASE WHEN %(with_visits)s THEN %(limit)s ELSE 0 END
), lab_cut AS (
  SELECT coalesce(CASE WHEN count(at) >= %(limit)s
           THEN ((min(at) AT TIME ZONE 'Asia/Ho_Chi_Minh')::date)::timestamp AT TIME ZONE 'Asia/Ho_Chi_Minh' END,
         '-infinity'::timestamptz) AS since
    FROM visits
), items (kind, at, ref, facility_id, code, extra, n, flagged) AS (
"""
_TIMELINE_TAIL = """
SELECT i.kind, i.at, i.ref, i.facility_id, f.code, f.name, i.code, i.extra, i.n, i.flagged
  FROM items i JOIN facilities_facility_view f ON f.id = i.facility_id
 WHERE i.kind = ANY(%(kinds)s)
   AND (%(facility)s::text IS NULL OR f.code = %(facility)s)
   AND (%(since)s::timestamptz IS NULL OR i.at >= %(since)s)
   AND (%(until)s::timestamptz IS NULL OR i.at < %(until)s)
   AND (%(before_at)s::timestamptz IS NULL OR (i.at, i.kind, i.ref) < (%(before_at)s, %(before_kind)s, %(before_ref)s))
 ORDER BY i.at DESC, i.kind DESC, i.ref DESC
 LIMIT %(limit)s
"""


@dataclass(frozen=True)
class TimelineFilter:
    kinds: tuple[str, ...] = TIMELINE_KINDS
    facility_code: str | None = None
    date_from: dt.date | None = None
    date_to: dt.date | None = None


@dataclass
class TimelineItem:
    kind: str
    at: dt.datetime
    ref: int
    facility_code: str
    facility_name: str
    code: str
    extra: str
    count: int
    flagged: int
    name: str = ""

    @property
    def cursor(self) -> str:
        return f"{self.at.isoformat()}|{self.kind}|{self.ref}"

    @property
    def at_text(self) -> str:
        """dd/mm/yyyy hh:mm in local time (what the template's date filter printed, cheaper)."""
        return timezone.localtime(self.at).strftime("%d/%m/%Y %H:%M") if self.at else ""


def _day_start(day: dt.date | None) -> dt.datetime | None:
    if day is None:
        return None
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))


def parse_cursor(value: str | None) -> tuple | None:
    try:
        at, kind, ref = (value or "").split("|")
        return dt.datetime.fromisoformat(at), kind, int(ref)
    except ValueError:
        return None


def timeline(access, flt: TimelineFilter, *, before: tuple | None = None, limit: int = PAGE_SIZE):
    """One page of the timeline, newest first (one query, plus code names): (items, next cursor)."""
    until = _day_start(flt.date_to + dt.timedelta(days=1)) if flt.date_to else None
    params = {
        "book": access.book.pk,
        "kinds": list(flt.kinds),
        "facility": flt.facility_code or None,
        "since": _day_start(flt.date_from),
        "until": until,
        "before_at": before[0] if before else None,
        "before_kind": before[1] if before else None,
        "before_ref": before[2] if before else None,
        "limit": limit + 1,
        "with_visits": "visit" in flt.kinds,
    }
    with connection.cursor() as cur:
        branches = "\n  UNION ALL\n".join(_TIMELINE_BRANCHES[k] for k in TIMELINE_KINDS if k in flt.kinds)
        cur.execute(_TIMELINE_HEAD + branches + "\n)" + _TIMELINE_TAIL, params)
        rows = cur.fetchall()
    items = [TimelineItem(*row[:2], row[2], *row[4:]) for row in rows[:limit]]
    _name_items(items)
    return items, (items[-1].cursor if len(rows) > limit else None)


def _name_items(items: list[TimelineItem]) -> None:
    icd = lookups.names("icd10", {i.code for i in items if i.kind == "visit"})
    vaccines = lookups.names("vaccine", {i.code for i in items if i.kind == "vaccination"})
    visit_types = lookups.names(
        "visit-type", {i.extra for i in items if i.kind == "visit"} | {i.code for i in items if i.kind == "checkin"}
    )
    for item in items:
        if item.kind == "visit":
            item.name = icd.get(item.code, "")
            item.extra = visit_types.get(item.extra, item.extra)
        elif item.kind == "checkin":
            item.name = visit_types.get(item.code, item.code)
        elif item.kind == "vaccination":
            item.name = vaccines.get(item.code, "")


class TimelinePage:
    """One page of the timeline, read when first used: a page shown from its cached fragment
    (healthbook/partials/timeline_rows.html) asks the database nothing. `key` names the page
    in that cache (the request's filter and cursor, as sent); `paged=False` shows no "older" link."""

    def __init__(self, access, flt: TimelineFilter, *, before=None, limit: int = PAGE_SIZE, paged=True, key=""):
        self.access, self.flt, self.before, self.limit, self.paged = access, flt, before, limit, paged
        self.key = f"{limit}|{int(paged)}|{key}"

    @cached_property
    def _page(self):
        return timeline(self.access, self.flt, before=self.before, limit=self.limit)

    @property
    def items(self) -> list[TimelineItem]:
        return self._page[0]

    @property
    def cursor(self) -> str | None:
        return self._page[1] if self.paged else None


def facilities_in_book(access) -> list[tuple[str, str]]:
    """(code, name) of the facilities that sent visits, for the timeline filter (one query)."""
    with connection.cursor() as cur:
        cur.execute(
            "SELECT f.code, f.name FROM facilities_facility_view f WHERE f.id IN"
            " (SELECT e.facility_id FROM healthbook_encounter e WHERE e.book_id = %s) ORDER BY f.name, f.id",
            [access.book.pk],
        )
        return cur.fetchall()


# ---------------------------------------------------------------- one visit


def visit_detail(access, visit_id: int) -> dict | None:
    """The visit with diagnoses (named), services, drugs, labs, notes and discharge papers."""
    visit = Encounter.objects.select_related("facility").filter(book=access.book, pk=visit_id).first()
    if visit is None:
        return None
    labs = list(LabObservation.objects.filter(encounter=visit).order_by("occurred_at", "id"))
    icd_codes = [visit.main_diagnosis, *visit.secondary_diagnoses]
    icd = lookups.names("icd10", icd_codes)
    indicator_names = lookups.names("lab-indicator", {lab.indicator_code for lab in labs})
    for lab in labs:
        lab.display_name = indicator_names.get(lab.indicator_code) or lab.indicator_name or lab.indicator_code
    return {
        "visit": visit,
        "visit_type": lookups.names("visit-type", [visit.visit_type]).get(visit.visit_type, visit.visit_type),
        "diagnoses": [(c, icd.get(c, ""), i == 0) for i, c in enumerate(icd_codes) if c],
        "services": list(ServiceItem.objects.filter(encounter=visit).order_by("id")),
        "medications": list(Medication.objects.filter(encounter=visit).order_by("id")),
        "labs": labs,
        "notes": list(ClinicalNote.objects.filter(encounter=visit).order_by("occurred_at", "id")),
        "discharge_papers": list(DischargePaper.objects.filter(encounter=visit).order_by("id")),
    }


def encounters_page(book, *, page: int, count: int, papers: bool = True) -> tuple[list[Encounter], bool]:
    """One page of the book's visits, newest first, with their drugs, lab results, conditions,
    procedures, diagnostic reports, follow-ups, pregnancy check-ups, XML3 services, XML5 progress
    notes, XML8 record summaries and the tables kept as received (XML10, XML12, FHIR resources;
    never the sensitive ones) (twelve queries): (visits, whether an older page follows). For the
    history API and $everything; without `papers` (the citizen's visit list) the last two are not
    read (ten queries)."""
    start = (page - 1) * count
    kept = (
        [
            Prefetch("recordsummarys", RecordSummary.objects.order_by("id")),
            Prefetch(
                "receivedtables",
                ReceivedTable.objects.exclude(table__in=(*SENSITIVE_TABLES, "XML0")).order_by("table", "id"),
            ),
        ]
        if papers
        else []
    )
    visits = list(
        Encounter.objects.filter(book=book)
        .select_related("facility")
        .prefetch_related(
            Prefetch("medications", Medication.objects.order_by("id")),
            Prefetch("labobservations", LabObservation.objects.order_by("occurred_at", "id")),
            Prefetch("conditions", Condition.objects.order_by("id")),
            Prefetch("clinicalprocedures", ClinicalProcedure.objects.order_by("id")),
            Prefetch("diagnosticreports", DiagnosticReport.objects.order_by("id")),
            Prefetch("followupappointments", FollowUpAppointment.objects.order_by("id")),
            Prefetch("pregnancycheckups", PregnancyCheckup.objects.order_by("occurred_at", "id")),
            Prefetch("serviceitems", ServiceItem.objects.order_by("id")),
            Prefetch("clinicalnotes", ClinicalNote.objects.order_by("occurred_at", "id")),
            *kept,
        )
        .order_by("-occurred_at", "-id")[start : start + count + 1]
    )
    return visits[:count], len(visits) > count


# ---------------------------------------------------------------- labs


def lab_indicators(access) -> list[dict]:
    """Indicators measured in this book: code, name, count, last date (one query)."""
    with connection.cursor() as cur:
        cur.execute(
            "SELECT indicator_code, max(indicator_name), count(*), max(occurred_at),"
            " count(*) FILTER (WHERE abnormal_flag <> '') FROM healthbook_lab_observation"
            " WHERE book_id = %s AND indicator_code <> '' GROUP BY indicator_code ORDER BY max(occurred_at) DESC",
            [access.book.pk],
        )
        rows = cur.fetchall()
    names = lookups.names("lab-indicator", {r[0] for r in rows})
    return [
        {"code": r[0], "name": names.get(r[0]) or r[1] or r[0], "count": r[2], "last": r[3], "flagged": r[4]}
        for r in rows
    ]


MAX_LAB_POINTS = 500


def lab_series(access, code: str) -> dict:
    """One indicator over time: the newest MAX_LAB_POINTS results, oldest first (one query)."""
    rows = list(
        LabObservation.objects.filter(book=access.book, indicator_code=code, occurred_at__isnull=False)
        .select_related("facility")
        .order_by("-occurred_at", "-id")[:MAX_LAB_POINTS]
    )
    rows.reverse()
    name = lookups.names("lab-indicator", [code]).get(code) or (rows[0].indicator_name if rows else code)
    points = [
        {
            "t": timezone.localtime(r.occurred_at).strftime("%Y-%m-%d"),
            "y": float(r.value_number) if r.value_number is not None else None,
            "flag": r.abnormal_flag,
            "flag_label": str(FLAG_LABELS.get(r.abnormal_flag, r.abnormal_flag)),
        }
        for r in rows
    ]
    # The reference band of the chart: the newest result's range that reads as numbers.
    band_text = next((r.reference_range for r in reversed(rows) if parse_range(r.reference_range)), "")
    band = [float(x) if x is not None else None for x in parse_range(band_text)] if band_text else None
    return {
        "code": code,
        "name": name,
        "rows": rows,
        "points": points,
        "unit": rows[-1].unit if rows else "",
        "band": band,
        "band_text": band_text,
    }


# ---------------------------------------------------------------- pregnancy, prescriptions, follow-ups


def pregnancies(access) -> list[dict]:
    """Check-ups grouped into one timeline per pregnancy, newest pregnancy first (one query)."""
    groups: dict[str, list] = {}
    for row in (
        PregnancyCheckup.objects.filter(book=access.book).select_related("facility").order_by("occurred_at", "id")
    ):
        groups.setdefault(row.pregnancy_key or "?", []).append(row)
    result = []
    for key, rows in groups.items():
        sent = next((r.expected_delivery_date for r in reversed(rows) if r.expected_delivery_date), None)
        # no due date sent: the one the pregnancy was keyed with (derived from the gestational age)
        estimated = None if sent else _iso_date(key) if any(r.gestational_age_weeks for r in rows) else None
        result.append({"key": key, "checkups": rows, "edd": sent or estimated, "estimated": bool(estimated)})
    result.sort(key=lambda g: g["checkups"][-1].occurred_at or timezone.now(), reverse=True)
    return result


def _iso_date(value: str) -> dt.date | None:
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        return None


PRESCRIPTIONS_PAGE = 20
GIVEN_OR_PRESCRIBED = ("", "request")  # XML2 drugs given, FHIR e-prescriptions (not statements)

# One prescription: the drugs of one visit (XML2, or FHIR requests tied to an Encounter), else the
# e-prescriptions sharing a national prescription code, else the drug alone.
_PRESCRIPTION_PAGE_SQL = """
SELECT g, max(occurred_at) AS at FROM (
  SELECT CASE WHEN encounter_id IS NOT NULL THEN 'e' || encounter_id
              WHEN prescription_code <> '' THEN 'r' || prescription_code
              ELSE 'm' || id END AS g, occurred_at
    FROM healthbook_medication WHERE book_id = %(book)s AND kind = ANY(%(kinds)s)
) t GROUP BY g ORDER BY max(occurred_at) DESC NULLS LAST, g DESC LIMIT %(limit)s OFFSET %(offset)s
"""


@dataclass
class Prescription:
    key: str
    at: dt.datetime | None
    drugs: list
    facility: object = None
    code: str = ""  # the national prescription code, when sent
    encounter_id: int | None = None


def prescriptions(access, *, page: int = 1) -> tuple[list[Prescription], bool]:
    """One page of prescriptions, newest first, each with its drugs (two queries): (page, whether
    an older page follows)."""
    with connection.cursor() as cur:
        cur.execute(
            _PRESCRIPTION_PAGE_SQL,
            {
                "book": access.book.pk,
                "kinds": list(GIVEN_OR_PRESCRIBED),
                "limit": PRESCRIPTIONS_PAGE + 1,
                "offset": (page - 1) * PRESCRIPTIONS_PAGE,
            },
        )
        rows = cur.fetchall()
    more, rows = len(rows) > PRESCRIPTIONS_PAGE, rows[:PRESCRIPTIONS_PAGE]
    groups = {g: Prescription(key=g, at=at, drugs=[]) for g, at in rows}
    if not groups:
        return [], False
    encounters = [int(g[1:]) for g in groups if g[0] == "e"]
    codes = [g[1:] for g in groups if g[0] == "r"]
    singles = [int(g[1:]) for g in groups if g[0] == "m"]
    drugs = (
        Medication.objects.filter(book=access.book, kind__in=GIVEN_OR_PRESCRIBED)
        .filter(
            Q(encounter_id__in=encounters) | Q(encounter__isnull=True, prescription_code__in=codes) | Q(pk__in=singles)
        )
        .select_related("facility")
        .order_by("id")
    )
    for m in drugs:
        if m.encounter_id is not None:
            g = f"e{m.encounter_id}"
        elif m.prescription_code:
            g = f"r{m.prescription_code}"
        else:
            g = f"m{m.pk}"
        group = groups.get(g)
        if group is not None:
            group.drugs.append(m)
            group.facility = group.facility or m.facility
            group.code = group.code or m.prescription_code
            group.encounter_id = m.encounter_id
    return list(groups.values()), more


MISSED_GRACE_DAYS = 7
FOLLOW_UP_LIMIT = 200


def follow_up_missed(day: dt.date, last_visit: dt.date | None, today: dt.date) -> bool:
    """An appointment is missed when its date passed more than MISSED_GRACE_DAYS ago and no
    visit was recorded from the day before it on."""
    return day < today - dt.timedelta(days=MISSED_GRACE_DAYS) and (
        last_visit is None or last_visit < day - dt.timedelta(days=1)
    )


def follow_ups(access) -> dict:
    """Upcoming and missed follow-up appointments (one query). Missed: the date has passed by
    more than MISSED_GRACE_DAYS and no visit was recorded from the day before it on."""
    today = timezone.localdate()
    newest_visit = Encounter.objects.filter(book_id=OuterRef("book_id")).order_by("-occurred_at").values("occurred_at")
    rows = list(
        FollowUpAppointment.objects.filter(book=access.book, appointment_date__isnull=False)
        .select_related("facility")
        .annotate(last_visit_at=Subquery(newest_visit[:1]))
        .order_by("-appointment_date")[:FOLLOW_UP_LIMIT]
    )
    last_visit = timezone.localtime(rows[0].last_visit_at).date() if rows and rows[0].last_visit_at else None
    upcoming, missed, kept = [], [], []
    for row in rows:
        if row.appointment_date >= today:
            upcoming.append(row)
        elif follow_up_missed(row.appointment_date, last_visit, today):
            missed.append(row)
        else:
            kept.append(row)
    upcoming.reverse()
    return {"upcoming": upcoming, "missed": missed, "past": kept}


# ---------------------------------------------------------------- certificates

CERTIFICATE_MODELS = (
    ("birth", BirthCertificate),
    ("sick_leave", SickLeaveCertificate),
    ("discharge", DischargePaper),
    ("referral", Referral),
)


def certificates(access, *, with_content: bool = False) -> list[dict]:
    """Birth, sick-leave, discharge, referral papers and signed documents (death notices…),
    with their signature status (five queries); the documents' stored files only when asked."""
    result = []
    for kind, model in CERTIFICATE_MODELS:
        for row in model.objects.filter(book=access.book).select_related("facility", "submission"):
            verified = row.submission.signature_verified
            result.append({"kind": kind, "row": row, "verified": verified})
    documents = Document.objects.filter(book=access.book).select_related("facility")
    for row in documents if with_content else documents.defer("content"):
        result.append({"kind": row.kind, "row": row, "verified": row.signature_status == "verified"})
    result.sort(key=lambda r: (r["row"].issued_on or dt.date.min, r["row"].pk), reverse=True)
    return result
