"""The one door from the line lists to the cohorts (the `cohorts` app, issue 20 point 1): which
cohorts are current, who is in one for a province (and commune), and why. Everything the line
lists need of a cohort goes through these functions."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import Max, QuerySet
from django.utils import timezone

from cohorts.models import CohortVersion
from cohorts.selectors import cohort_members, current_versions, members_last_visits
from healthbook.models import Encounter


@dataclass(frozen=True)
class CohortRef:
    version_id: int
    key: str
    name: str  # also the list's "why listed" and the reminder's reason
    description: str = ""


def _ref(version: CohortVersion) -> CohortRef:
    return CohortRef(version.pk, version.definition.key, version.name, version.description)


def shipped_cohorts() -> list[CohortRef]:
    """The current version of every active cohort."""
    return [_ref(v) for v in current_versions()]


def cohort_get(version_id: int) -> CohortRef | None:
    """A current cohort version (an older version's list is not opened any more)."""
    version = CohortVersion.objects.current().filter(pk=version_id).first()
    return _ref(version) if version is not None else None


def members(cohort: CohortRef, province_code: str, commune_code: str | None = None) -> QuerySet:
    """The members (CohortMembership rows, a `citizen_id` column) as of the province's last run,
    by commune then citizen."""
    return cohort_members(cohort.version_id, province_code, commune_code).order_by("commune_code", "citizen_id")


def member_details(cohort: CohortRef, citizen_ids: list[int]) -> dict[int, tuple[str, dt.date | None]]:
    """citizen id -> (why they are in the cohort, day of their last visit): the day the nightly run
    read with the membership (one query); for someone a later run took out of the cohort, read
    from the book (a second query, only then)."""
    last = members_last_visits(cohort.version_id, citizen_ids)
    gone = [cid for cid in citizen_ids if cid not in last]
    if gone:
        last |= dict(
            Encounter.objects.filter(book__citizen_id__in=gone)
            .values("book__citizen_id")
            .annotate(last=Max("occurred_at"))
            .values_list("book__citizen_id", "last")
        )
    return {cid: (cohort.name, timezone.localtime(last[cid]).date() if last.get(cid) else None) for cid in citizen_ids}
