"""Writes of the cohorts app: cohort definitions and their versions (ministry staff), and the
nightly computation of members and counts."""

import datetime as dt
import itertools
import logging
import time

from django.db import connection, transaction
from django.utils import timezone

from codelists import lookups
from cohorts import criteria as rules
from cohorts.models import CohortDefinition, CohortRun, CohortVersion
from cohorts.suppression import column_for_page
from geo.models import Province

logger = logging.getLogger(__name__)
LOCK_KEY = 2020_0001  # pg advisory lock: one computation at a time

# A run's totals, one scan of the province's memberships: per version in all, by commune of
# residence and by facility of last visit (GROUPING tells the three sets apart; an unknown commune
# is "" and no visit is NULL within their own set).
TOTALS_SQL = """
INSERT INTO cohorts_cohorttotal (run_id, version_id, province_id, dimension, commune_code, facility_id, members)
SELECT %s, version_id, province_id,
       CASE WHEN GROUPING(commune_code) = 0 THEN 'commune' WHEN GROUPING(facility_id) = 0 THEN 'facility'
            ELSE 'all' END,
       CASE WHEN GROUPING(commune_code) = 0 THEN commune_code ELSE '' END,
       CASE WHEN GROUPING(facility_id) = 0 THEN facility_id END,
       count(*)
FROM cohorts_cohortmembership WHERE province_id = %s
GROUP BY GROUPING SETS ((version_id, province_id), (version_id, province_id, commune_code),
                        (version_id, province_id, facility_id))
"""


FACILITY_ROWS_SQL = """
SELECT t.id, t.version_id, t.dimension, t.members, coalesce(f.code, '')
FROM cohorts_cohorttotal t LEFT JOIN facilities_facility f ON f.id = t.facility_id
WHERE t.run_id = %s AND t.dimension IN ('all', 'facility')
ORDER BY t.version_id, t.dimension, f.code NULLS LAST
"""
CELLS_UPDATE_SQL = """
UPDATE cohorts_cohorttotal t SET cell = v.cell, rank = v.rank
FROM unnest(%s::bigint[], %s::text[], %s::int[]) AS v(id, cell, rank) WHERE t.id = v.id
"""


def _facility_cells_store(cursor, run_id: int) -> None:
    """Suppress each version's facility table once, in the job (the table is fixed for the run's
    life), with the one suppression every page uses, and store each cell's state and its place on
    the page: shown cells by most members, then suppressed ones, each by facility code — an order
    from what is shown only. A page then reads its first rows and suppresses nothing."""
    cursor.execute(FACILITY_ROWS_SQL, [run_id])
    ids, cells, ranks = [], [], []
    for _version, rows in itertools.groupby(cursor.fetchall(), key=lambda row: row[1]):
        rows = list(rows)
        facilities = [row for row in rows if row[2] == "facility"]
        states, total, places = column_for_page([row[3] for row in facilities], [row[4] or "—" for row in facilities])
        for row, state, place in zip(facilities, states, places, strict=True):
            ids.append(row[0])
            cells.append(state.state)
            ranks.append(place)
        for row in rows:
            if row[2] == "all":
                ids.append(row[0])
                cells.append(total.state)
                ranks.append(0)
    cursor.execute(CELLS_UPDATE_SQL, [ids, cells, ranks])


@transaction.atomic
def cohort_create(*, key: str, name: str, description: str = "", criteria: dict, user=None) -> CohortVersion:
    """A new cohort with its first version."""
    rules.validate(criteria)
    definition = CohortDefinition.objects.create(key=key)
    return CohortVersion.objects.create(
        definition=definition, number=1, name=name, description=description, criteria=criteria, created_by=user
    )


@transaction.atomic
def cohort_version_add(
    *, definition: CohortDefinition, name: str, description: str = "", criteria: dict, user=None
) -> CohortVersion:
    """Editing a cohort adds a version; the earlier ones stay as they were (figures name them)."""
    rules.validate(criteria)
    definition = CohortDefinition.objects.select_for_update().get(pk=definition.pk)
    last = definition.versions.order_by("-number").first()
    return CohortVersion.objects.create(
        definition=definition,
        number=(last.number if last else 0) + 1,
        name=name,
        description=description,
        criteria=criteria,
        created_by=user,
    )


def vaccine_cohorts_ensure(*, today: dt.date | None = None) -> int:
    """One cohort per dose of the immunisation schedule in force ("children overdue for each
    expanded-immunisation dose"), created when missing: the schedule is a code list, so a dose
    added to it gets its cohort at the next run. Returns how many were created."""
    created = 0
    existing = set(CohortDefinition.objects.filter(key__startswith="vaccine-").values_list("key", flat=True))
    for dose in lookups.vaccination_schedule(today):
        key = f"vaccine-{dose.vaccine_code}-{dose.position}".lower()[:80]
        if key in existing:
            continue
        cohort_create(
            key=key,
            name=f"Trẻ quá hạn tiêm {dose.vaccine_name} mũi {dose.dose}",
            description="Trẻ dưới 8 tuổi quá hạn mũi tiêm này hơn 30 ngày theo lịch tiêm chủng mở rộng đang hiệu lực.",
            criteria={"vaccine_overdue": {"vaccine": dose.vaccine_code, "position": dose.position}},
        )
        existing.add(key)
        created += 1
    return created


def _province_compute(province_id: int, versions: list[CohortVersion], today: dt.date) -> CohortRun:
    """Replace one province's members and add its totals, in one transaction: readers see the
    previous run or this one, never a mixture."""
    started = time.monotonic()
    with transaction.atomic():
        run = CohortRun.objects.create(province_id=province_id, as_of=today, started_at=timezone.now())
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL jit = off")
            cursor.execute("DELETE FROM cohorts_cohortmembership WHERE province_id = %s", [province_id])
            for version in versions:
                select, params = rules.compile_members(version.criteria, today=today)
                params.update(province=province_id, version=version.pk, run=run.pk)
                cursor.execute(
                    "INSERT INTO cohorts_cohortmembership"  # noqa: S608 (fixed fragments, values are parameters)
                    " (version_id, citizen_id, province_id, commune_code, facility_id, last_visit_at, run_id)"
                    " SELECT %(version)s, m.citizen_id, m.province_id, m.commune_code, m.facility_id,"
                    " m.last_visit_at, %(run)s"
                    " FROM (" + select + ") m"
                    " ON CONFLICT (version_id, citizen_id) DO UPDATE SET province_id = EXCLUDED.province_id,"
                    " commune_code = EXCLUDED.commune_code, facility_id = EXCLUDED.facility_id,"
                    " last_visit_at = EXCLUDED.last_visit_at, run_id = EXCLUDED.run_id",
                    params,
                )
            cursor.execute(TOTALS_SQL, [run.pk, province_id])
            _facility_cells_store(cursor, run.pk)
            cursor.execute(
                "SELECT coalesce(sum(members), 0) FROM cohorts_cohorttotal WHERE run_id = %s AND dimension = 'all'",
                [run.pk],
            )
            run.members = cursor.fetchone()[0]
        run.finished_at = timezone.now()
        run.duration_ms = int((time.monotonic() - started) * 1000)
        run.save(update_fields=["finished_at", "duration_ms", "members"])
    return run


def memberships_compute(*, provinces: list[str] | None = None, today: dt.date | None = None) -> list[CohortRun]:
    """Compute every current cohort version for the given provinces (default: all, then a
    national run row with the whole job's time). Set-based: one INSERT … SELECT per cohort and
    province, no row through Python. Serialised by an advisory lock."""
    today = today or timezone.localdate()
    vaccine_cohorts_ensure(today=today)
    versions = list(CohortVersion.objects.current())
    ids = Province.objects.order_by("code")
    if provinces:
        ids = ids.filter(code__in=provinces)
    province_ids = list(ids.values_list("pk", flat=True))
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_lock(%s)", [LOCK_KEY])
    try:
        started_at, started = timezone.now(), time.monotonic()
        runs = [_province_compute(pid, versions, today) for pid in province_ids]
        if not provinces:
            runs.append(
                CohortRun.objects.create(
                    province=None,
                    as_of=today,
                    started_at=started_at,
                    finished_at=timezone.now(),
                    duration_ms=int((time.monotonic() - started) * 1000),
                    members=sum(run.members for run in runs),
                )
            )
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(%s)", [LOCK_KEY])
    logger.info("cohorts computed: %d provinces, %d versions", len(province_ids), len(versions))
    return runs
