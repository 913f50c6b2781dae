"""The ministry's data-protection report of citizens' copy requests (Law 91/2025: the right to
a copy): per month (Vietnam time) of the request, how many were asked, how they ended, and how
long making them took (median and longest, request to ready). One query."""

from __future__ import annotations

import zoneinfo

from django.db.models import Aggregate, Count, DurationField, ExpressionWrapper, F, Max, Q
from django.db.models.functions import TruncMonth

from healthbook.models import CopyRequest

VIETNAM = zoneinfo.ZoneInfo("Asia/Ho_Chi_Minh")
S = CopyRequest.Status


class Median(Aggregate):
    """PostgreSQL's percentile_cont(0.5) (an interval here)."""

    function = "percentile_cont"
    template = "%(function)s(0.5) WITHIN GROUP (ORDER BY %(expressions)s)"
    output_field = DurationField()


def copy_requests_by_month(limit: int = 24) -> list[dict]:
    """{"month", "requested", "downloaded", "expired", "failed", "waiting", "median", "longest"}
    for the last `limit` months with requests, newest first (durations are timedeltas)."""
    handling = ExpressionWrapper(F("finished_at") - F("requested_at"), output_field=DurationField())
    done = Q(finished_at__isnull=False)
    return list(
        CopyRequest.objects.annotate(month=TruncMonth("requested_at", tzinfo=VIETNAM))
        .values("month")
        .annotate(
            requested=Count("pk"),
            downloaded=Count("pk", filter=Q(status=S.DOWNLOADED)),
            expired=Count("pk", filter=Q(status=S.EXPIRED)),
            failed=Count("pk", filter=Q(status=S.FAILED)),
            waiting=Count("pk", filter=Q(status__in=[S.PENDING, S.READY])),
            median=Median(handling, filter=done),
            longest=Max(handling, filter=done),
        )
        .order_by("-month")[:limit]
    )


def seconds(value) -> int | None:
    return None if value is None else round(value.total_seconds())
