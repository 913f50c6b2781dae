"""Reads of the cohorts app. The counts pages read only precomputed rows (runs and their totals),
never the book; `cohort_members` is the door for the line lists (h20b / issue 20 point 2)."""

from dataclasses import dataclass

from django.db.models import Count, QuerySet, Window

from cohorts.models import CohortDefinition, CohortMembership, CohortRun, CohortTotal, CohortVersion
from geo.models import Commune, Province

TREND_RUNS = 30


def cohort_members(
    cohort_version: CohortVersion | int, province_code: str, commune_code: str | None = None
) -> QuerySet:
    """The members of a cohort version in a province (and commune) as of the province's last
    run: a queryset of CohortMembership (citizen_id, commune_code, facility_id). Access is the
    caller's business (a province officer's scope, a stated purpose)."""
    version_id = cohort_version.pk if isinstance(cohort_version, CohortVersion) else cohort_version
    members = CohortMembership.objects.filter(version_id=version_id, province__code=province_code)
    if commune_code is not None:
        members = members.filter(commune_code=commune_code)
    return members.order_by("citizen_id")


def members_last_visits(cohort_version_id: int, citizen_ids: list[int]) -> dict[int, object]:
    """citizen id -> when their last visit was (None: no visit), as of the run that put them in
    the cohort version (one query by the membership's unique key); a citizen no longer a member is
    left out."""
    return dict(
        CohortMembership.objects.filter(version_id=cohort_version_id, citizen_id__in=citizen_ids).values_list(
            "citizen_id", "last_visit_at"
        )
    )


def current_versions() -> list[CohortVersion]:
    return sorted(CohortVersion.objects.current(), key=lambda v: v.definition.key)


def current_version(key: str) -> CohortVersion | None:
    return CohortVersion.objects.current().filter(definition__key=key).first()


def last_run(province: Province | None) -> CohortRun | None:
    """The province's last finished run (None: the nation's)."""
    return CohortRun.objects.filter(province=province, finished_at__isnull=False).order_by("-started_at").first()


def province_totals(run: CohortRun | None) -> dict[int, int]:
    """Members per version in one run (one query, a row per version)."""
    if run is None:
        return {}
    rows = CohortTotal.objects.filter(run=run, dimension=CohortTotal.ALL).values_list("version_id", "members")
    return dict(rows)


def national_totals() -> dict[tuple[int, int], int]:
    """(province id, definition id) -> members of each province's last run (one query, a row per
    province and version)."""
    last_runs = (
        CohortRun.objects.filter(province__isnull=False, finished_at__isnull=False)
        .order_by("province_id", "-started_at")
        .distinct("province_id")
        .values("pk")
    )
    rows = CohortTotal.objects.filter(run__in=last_runs, dimension=CohortTotal.ALL).values_list(
        "province_id", "version__definition_id", "members"
    )
    return {(province_id, definition_id): n for province_id, definition_id, n in rows}


def by_commune(run: CohortRun, version: CohortVersion) -> list[tuple[str, str, int]]:
    """(commune code, name, members) of one cohort in one run, communes of the province with
    no member included (two queries: the run's commune totals, the province's communes)."""
    counts = dict(
        CohortTotal.objects.filter(run=run, dimension=CohortTotal.COMMUNE, version=version).values_list(
            "commune_code", "members"
        )
    )
    rows = [
        (code, name, counts.pop(code, 0))
        for code, name in Commune.objects.filter(province_id=run.province_id)
        .order_by("code")
        .values_list("code", "name_vi")
    ]
    for code, n in sorted(counts.items()):  # unknown or pre-reform commune codes
        rows.append((code, "", n))
    return rows


@dataclass
class FacilityCounts:
    """Members by the facility of their last visit, as the job suppressed them: rows of (code,
    name, members, cell state), the total (members, cell state) and how many facilities there are.
    A cell state is empty for a run from before the job kept them."""

    rows: list[tuple[str, str, int, str]]
    total: tuple[int, str]
    facilities: int


def by_facility(run: CohortRun, version: CohortVersion, *, limit: int | None = None) -> FacilityCounts:
    """A run's facility rows of one version with the total (one query): with `limit`, the first
    `limit` in the job's page order, else every facility by code."""
    rows = (
        CohortTotal.objects.filter(run=run, version=version, dimension__in=[CohortTotal.ALL, CohortTotal.FACILITY])
        .annotate(rows=Window(Count("pk")))
        .order_by("dimension", "rank" if limit is not None else "facility__code")
        .values_list("dimension", "facility__code", "facility__name", "members", "cell", "rows")
    )
    rows = list(rows[: limit + 1] if limit is not None else rows)
    if not rows or rows[0][0] != CohortTotal.ALL:
        return FacilityCounts(rows=[], total=(0, ""), facilities=0)
    total = rows.pop(0)
    return FacilityCounts(
        rows=[(code or "", name or "", n, cell) for _d, code, name, n, cell, _r in rows],
        total=(total[3], total[4]),
        facilities=total[5] - 1,
    )


def trend(province: Province, definition: CohortDefinition) -> list[tuple]:
    """(as of, version number, members) of the cohort at each of the province's last runs, a run
    without members included as 0 (two queries, a row per run)."""
    runs = list(
        CohortRun.objects.filter(province=province, finished_at__isnull=False)
        .order_by("-started_at")
        .values_list("pk", "as_of")[:TREND_RUNS]
    )
    rows = CohortTotal.objects.filter(
        run_id__in=[pk for pk, _ in runs], dimension=CohortTotal.ALL, version__definition=definition
    ).values_list("run_id", "version__number", "members")
    found = {run_id: (number, n) for run_id, number, n in rows}
    return [(as_of, *found.get(pk, ("", 0))) for pk, as_of in reversed(runs)]
