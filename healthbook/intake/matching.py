"""Find (or open) the health book of each patient of a submission, set-wise.

Rule: the personal ID number (SO_CCCD, 12 digits) first; else the social insurance number
(the last 10 digits of MA_THE_BHYT, or the FHIR bhxh identifier). An unknown person gets a
new citizen and book marked `created_via=facility_data`. A name, birth date or sex that differs
from the book, or a personal ID other than the one of the citizen found by insurance number, is
an identity contradiction (IDENTITY_CODES): it is never written over the book, and processing
holds the submission for review instead of attaching it (healthbook.intake.processing).

Visits and check-ins are matched alike (both carry a `patient`).

Two queries to match, and for new people one INSERT … ON CONFLICT DO NOTHING per table plus
a re-read (so two workers creating the same person at once end with one citizen).
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import connection
from django.db.models import Q

from healthbook.models import BirthPrecision, Citizen, HealthBook, ResidenceSource
from healthbook.names import normalize_name, search_name

from .problems import Problem, SeverityPolicy, problem
from .records import CheckInData, PatientData, VisitData
from .residence import Residence, residence_of

# The contradictions that hold a submission for review.
IDENTITY_CODES = frozenset(
    {"PATIENT_NAME_MISMATCH", "PATIENT_BIRTH_DATE_MISMATCH", "PATIENT_SEX_MISMATCH", "PATIENT_ID_MISMATCH"}
)


@dataclass
class Match:
    book: HealthBook | None
    created: bool = False


def _pid(p: PatientData) -> str | None:
    v = (p.personal_id or "").strip()
    return v if len(v) == 12 and v.isdigit() else None


def _sin(p: PatientData) -> str | None:
    v = (p.social_insurance_number or "").strip()
    return v if len(v) == 10 and v.isdigit() else None


def _new_citizen(p: PatientData, residence: Residence) -> Citizen:
    name = normalize_name(p.full_name) or "?"
    birth = p.birth_date
    sex = int(p.sex) if p.sex in ("1", "2", "3") else None
    legacy = (p.personal_id or "").strip()
    return Citizen(
        personal_id=_pid(p),
        social_insurance_number=_sin(p),
        legacy_id_number=legacy[:12] if legacy and _pid(p) is None else "",
        full_name=name[:255],
        search_name=search_name(name)[:255],
        birth_date=birth.value if birth else None,
        birth_date_precision=birth.precision if birth else BirthPrecision.DAY,
        birth_year=birth.value.year if birth else None,
        sex=sex,
        ethnicity_code=(p.ethnicity or "")[:8],
        nationality_code=(p.nationality or "")[:8],
        address=(p.address or "")[:500],
        phone=(p.phone or "")[:20],
        residence_province_id=residence.province_id,
        residence_commune_code=residence.commune_code,
        residence_source=ResidenceSource.FACILITY if residence.province_id else ResidenceSource.UNKNOWN,
    )


# Facility data places a citizen only where nothing placed them before (a card file's residence,
# or an earlier facility's, is never overwritten): one statement for the whole batch.
_RESIDENCE_FILL = """
UPDATE healthbook_citizen c
SET residence_province_id = v.province_id, residence_commune_code = v.commune,
    residence_source = %(source)s, updated_at = now()
FROM unnest(%(ids)s::bigint[], %(provinces)s::bigint[], %(communes)s::text[]) AS v(id, province_id, commune)
WHERE c.id = v.id AND c.residence_source = '' AND c.residence_province_id IS NULL
"""


def _residence_fill(found: dict[int, Residence]) -> None:
    if not found:
        return
    ids = list(found)
    with connection.cursor() as cur:
        cur.execute(
            _RESIDENCE_FILL,
            {
                "source": ResidenceSource.FACILITY.value,
                "ids": ids,
                "provinces": [found[i].province_id for i in ids],
                "communes": [found[i].commune_code for i in ids],
            },
        )


def _disagreements(c: Citizen, p: PatientData, key: str, table: str, policy) -> list[Problem]:
    out = []
    pid = _pid(p)
    if pid and c.personal_id and pid != c.personal_id:  # found by insurance number, another ID sent
        out.append(
            problem("PATIENT_ID_MISMATCH", table=table, record_key=key, field="SO_CCCD", value=pid, policy=policy)
        )
    if p.sex in ("1", "2") and c.sex in (1, 2) and int(p.sex) != c.sex:
        out.append(
            problem("PATIENT_SEX_MISMATCH", table=table, record_key=key, field="GIOI_TINH", value=p.sex, policy=policy)
        )
    if p.full_name and c.search_name and search_name(p.full_name) != c.search_name:
        out.append(
            problem(
                "PATIENT_NAME_MISMATCH",
                table=table,
                record_key=key,
                field="HO_TEN",
                value=normalize_name(p.full_name)[:200],
                policy=policy,
            )
        )
    b = p.birth_date
    if b is not None and c.birth_date is not None:
        same = (
            (b.value.year == c.birth_date.year)
            if "year" in (b.precision, c.birth_date_precision)
            else (
                (b.value.year, b.value.month) == (c.birth_date.year, c.birth_date.month)
                if "month" in (b.precision, c.birth_date_precision)
                else b.value == c.birth_date
            )
        )
        if not same:
            out.append(
                problem(
                    "PATIENT_BIRTH_DATE_MISMATCH",
                    table=table,
                    record_key=key,
                    field="NGAY_SINH",
                    value=b.value.isoformat(),
                    policy=policy,
                )
            )
    return out


def _where(item: VisitData | CheckInData) -> tuple[str, str]:
    """(record key, table) of a visit or a check-in, for its problems."""
    if isinstance(item, CheckInData):
        return item.key, "XML0" if item.source == "xml130" else "Encounter"
    if item.encounter is None:  # FHIR items not tied to an Encounter (an XML HOSO always has XML1)
        return "", "Patient"
    return item.encounter.key, "XML1" if item.encounter.source == "xml130" else "Patient"


def books_match(visits: list[VisitData], *, policy: SeverityPolicy) -> tuple[list[Match], list[Problem]]:
    """Return one Match per visit (same order) and the problems found."""
    return books_match_many([visits], policy=policy)[0]


def books_match_many(
    groups: list[list[VisitData | CheckInData]], *, policy: SeverityPolicy
) -> list[tuple[list[Match], list[Problem]]]:
    """`books_match` for the visits of several submissions at once (a batch), with the same
    queries as for one: a person first met in group g is created there, and later groups see
    them as an existing citizen (name and birth date compared), as when run one after another."""
    visits = [v for g in groups for v in g]
    pids = {x for v in visits if (x := _pid(v.patient))}
    sins = {x for v in visits if (x := _sin(v.patient))}

    def load() -> tuple[dict, dict]:
        if not pids and not sins:
            return {}, {}
        rows = Citizen.objects.filter(Q(personal_id__in=pids) | Q(social_insurance_number__in=sins))
        return (
            {c.personal_id: c for c in rows if c.personal_id},
            {c.social_insurance_number: c for c in rows if c.social_insurance_number},
        )

    by_pid, by_sin = load()

    def find(p: PatientData) -> Citizen | None:
        pid, sin = _pid(p), _sin(p)
        return (by_pid.get(pid) if pid else None) or (by_sin.get(sin) if sin else None)

    existing_ids: set[int] = set()
    missing: dict[tuple, Citizen] = {}
    residences: list[tuple[Residence, list[Problem]]] = []
    for v in visits:
        p = v.patient
        key, table = _where(v)
        residences.append(residence_of(p, table=table, record_key=key))
        if _pid(p) is None and _sin(p) is None:
            continue
        c = find(p)
        if c is not None:
            existing_ids.add(c.pk)
        else:
            missing.setdefault((_pid(p), _sin(p)), _new_citizen(p, residences[-1][0]))
    if missing:
        Citizen.objects.bulk_create(list(missing.values()), ignore_conflicts=True)
        by_pid, by_sin = load()
    citizens = {c.pk: c for c in list(by_pid.values()) + list(by_sin.values())}
    created_citizens = {c.pk for c in citizens.values() if c.pk not in existing_ids}
    books = {b.citizen_id: b for b in HealthBook.objects.filter(citizen_id__in=citizens)}
    lacking = [cid for cid in citizens if cid not in books]
    if lacking:
        HealthBook.objects.bulk_create(
            [HealthBook(citizen_id=cid, created_via=HealthBook.CreatedVia.FACILITY_DATA) for cid in lacking],
            ignore_conflicts=True,
        )
        books = {b.citizen_id: b for b in HealthBook.objects.filter(citizen_id__in=citizens)}
    first_group: dict[int, int] = {}  # citizen id -> the first group that names them
    fill: dict[int, Residence] = {}  # known citizens nobody placed yet -> the residence sent
    out = []
    at = 0
    for gi, group in enumerate(groups):
        matches: list[Match] = []
        problems: list[Problem] = []
        for v in group:
            p = v.patient
            key, table = _where(v)
            residence, residence_problems = residences[at]
            at += 1
            problems.extend(residence_problems)
            c = find(p)
            if c is None:
                problems.append(
                    problem("PATIENT_NOT_IDENTIFIED", table=table, record_key=key, field="SO_CCCD", policy=policy)
                )
                matches.append(Match(None))
                continue
            book = books.get(c.pk)
            if book is not None:
                book.citizen = c
            created = c.pk in created_citizens and first_group.setdefault(c.pk, gi) == gi
            if not created:
                disagreements = _disagreements(c, p, key, table, policy)
                problems.extend(disagreements)
                if not disagreements and residence.province_id and c.residence_province_id is None:
                    fill.setdefault(c.pk, residence)
            matches.append(Match(book, created=created))
        out.append((matches, problems))
    _residence_fill(fill)
    return out
