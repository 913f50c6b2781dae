"""The one door from the line lists to the cohorts (h20a's `cohorts` app, issue 20 point 1):
which cohorts are shipped, who is in one for a province (and commune), and why.

Everything the line lists need of a cohort goes through these four functions, so the cohort
model can change without touching the lists.

LOCAL STAND-IN (h20b): until `cohorts` is merged, a single placeholder cohort whose members are
the citizens residing in the province. Replaced by calls to `cohorts.selectors.cohort_members`
at merge.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import F, QuerySet

from healthbook.models import Citizen


@dataclass(frozen=True)
class CohortRef:
    version_id: int
    key: str
    name: str
    reason: str  # the words of the reminder ("your blood-pressure check-up is overdue")


_STANDIN = CohortRef(1, "standin", "Nhóm thử (tạm)", "you are due for a check-up")


def shipped_cohorts() -> list[CohortRef]:
    return [_STANDIN]


def cohort_get(version_id: int) -> CohortRef | None:
    return _STANDIN if version_id == _STANDIN.version_id else None


def members(cohort: CohortRef, province_code: str, commune_code: str | None = None) -> QuerySet:
    """The members as a queryset with a `citizen_id` column, in list order (set-based: the caller
    narrows it in SQL)."""
    qs = Citizen.objects.filter(residence_province__code=province_code)
    if commune_code:
        qs = qs.filter(residence_commune_code=commune_code)
    return qs.annotate(citizen_id=F("id")).order_by("residence_commune_code", "search_name", "id")


def member_details(cohort: CohortRef, citizen_ids: list[int]) -> dict[int, tuple[str, dt.date | None]]:
    """citizen id -> (why they are in the cohort, last contact with care)."""
    return {cid: (cohort.reason, None) for cid in citizen_ids}
