"""Retired-code impact report (issue 17, point 7): for the codes a version retires (or is about
to retire), which facilities sent them in the last 90 days and how often.

Code lists never read the health book (docs/architecture.md): the book fills the hook
`register_code_usage_source` when Django starts with a function that answers, in one aggregate
query, "which facilities sent these codes of this list since then". Without a registered source
(or for a list the book does not track) the report says so instead of guessing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from django.db import connection
from django.utils import timezone

from codelists.models import CodeSystemVersion, VersionStatus
from codelists.selectors import latest_published

IMPACT_DAYS = 90


@dataclass(frozen=True)
class CodeUsage:
    """One facility's use of one code in the period."""

    province_code: str
    province_name: str
    facility_code: str
    facility_name: str
    code: str
    records: int  # records (visits, diagnoses, results …) holding the code
    submissions: int  # submissions that brought them
    last_sent_at: datetime


# (system key, codes, since, province id or None) -> rows, or None when the list is not tracked
UsageSource = Callable[[str, list[str], datetime, int | None], list[CodeUsage] | None]
_sources: list[UsageSource] = []


def register_code_usage_source(source: UsageSource) -> None:
    """Called once at startup by the app that stores what facilities send (the health book)."""
    if source not in _sources:
        _sources.append(source)


@dataclass
class RetiredCode:
    code: str
    display_vi: str
    change: str  # "retired" (flagged inactive) | "removed" (absent from the version)


@dataclass
class Impact:
    version: CodeSystemVersion
    base: CodeSystemVersion | None
    since: datetime
    retired: dict[str, RetiredCode] = field(default_factory=dict)
    rows: list[CodeUsage] | None = None  # None: no source tracks this list

    @property
    def tracked(self) -> bool:
        return self.rows is not None

    @property
    def facility_count(self) -> int:
        return len({r.facility_code for r in self.rows or ()})

    @property
    def retired_codes_sent(self) -> int:
        return len({r.code for r in self.rows or ()})

    @property
    def effective_from(self) -> date | None:
        return self.version.effective_from

    def by_facility(self) -> list[tuple[tuple[str, str, str], list[CodeUsage]]]:
        """Rows grouped per facility ((province, facility code, name), rows), most used first."""
        groups: dict[tuple[str, str, str], list[CodeUsage]] = {}
        for r in self.rows or ():
            groups.setdefault((r.province_name, r.facility_code, r.facility_name), []).append(r)
        return sorted(groups.items(), key=lambda kv: (-sum(r.records for r in kv[1]), kv[0]))


def base_version(version: CodeSystemVersion) -> CodeSystemVersion | None:
    """What the version changes: the version it was started from, else the latest published before it."""
    if version.based_on_id:
        return version.based_on
    if version.status in (VersionStatus.DRAFT, VersionStatus.IN_REVIEW):
        return latest_published(version.system)
    return (
        CodeSystemVersion.objects.filter(
            system=version.system,
            status__in=(VersionStatus.PUBLISHED, VersionStatus.RETIRED),
            effective_from__lt=version.effective_from,
        )
        .order_by("-effective_from")
        .first()
    )


RETIRED_SQL = """
SELECT b.code, b.display_vi, CASE WHEN v.id IS NULL THEN 'removed' ELSE 'retired' END
FROM codelists_concept b
LEFT JOIN codelists_concept v ON v.version_id = %(version)s AND v.code = b.code
WHERE b.version_id = %(base)s AND b.active AND (v.id IS NULL OR NOT v.active)
ORDER BY b.code
"""


def retired_codes(version: CodeSystemVersion, base: CodeSystemVersion) -> dict[str, RetiredCode]:
    """Codes active in `base` that `version` flags inactive or leaves out: one set-based query."""
    with connection.cursor() as cur:
        cur.execute(RETIRED_SQL, {"version": version.pk, "base": base.pk})
        return {code: RetiredCode(code, display, change) for code, display, change in cur.fetchall()}


def retired_code_impact(
    version: CodeSystemVersion, *, province_id: int | None = None, now: datetime | None = None
) -> Impact:
    """The report for one version: its retired codes and who sent them in the last 90 days
    (`province_id`: only that province's facilities)."""
    since = (now or timezone.now()) - timedelta(days=IMPACT_DAYS)
    base = base_version(version)
    impact = Impact(version=version, base=base, since=since)
    if base is None:
        impact.rows = []
        return impact
    impact.retired = retired_codes(version, base)
    for source in _sources:
        if not impact.retired:
            impact.rows = []
            break
        rows = source(version.system.key, sorted(impact.retired), since, province_id)
        if rows is not None:
            impact.rows = rows
            break
    return impact
