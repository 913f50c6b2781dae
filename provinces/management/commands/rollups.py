"""Compute the dashboard rollups by hand: `rollups` (today), `rollups --yesterday`, or
`rollups --backfill FROM TO` (dates dd/mm/yyyy or yyyy-mm-dd, both included). Idempotent.
With --missing only what is not done yet is computed (days without rollups, days computed
before they ended, today when older than 15 minutes): what a warm `make run` does."""

import datetime as dt
import time

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from provinces.rollups import rollups_compute, rollups_compute_missing


def _date(value: str) -> dt.date:
    for fmt in ("%d/%m/%Y", "%Y-%m-%d"):
        try:
            return dt.datetime.strptime(value, fmt).date()
        except ValueError:
            continue
    raise CommandError(f"Not a date (dd/mm/yyyy or yyyy-mm-dd): {value!r}")


class Command(BaseCommand):
    help = "Compute the daily rollups of the dashboards (today, yesterday, or a range with --backfill)."

    def add_arguments(self, parser):
        group = parser.add_mutually_exclusive_group()
        group.add_argument("--backfill", nargs=2, metavar=("FROM", "TO"))
        group.add_argument("--yesterday", action="store_true")
        group.add_argument("--days", type=int, help="the last N days up to today")
        parser.add_argument(
            "--missing",
            action="store_true",
            help="only the days not computed yet or not final (and today when older than 15 minutes)",
        )

    def handle(self, *args, backfill=None, yesterday=False, days=None, missing=False, **options):
        today = timezone.localdate()
        if backfill:
            start, end = _date(backfill[0]), _date(backfill[1])
        elif yesterday:
            start = end = today - dt.timedelta(days=1)
        elif days:
            if days < 1:
                raise CommandError("--days must be at least 1")
            start, end = today - dt.timedelta(days=days - 1), today
        else:
            start = end = today
        if end < start:
            raise CommandError("TO is before FROM")
        if end > today:
            raise CommandError("TO is in the future")
        started = time.perf_counter()
        if missing:
            runs = rollups_compute_missing(start=start, end=end)
            computed = sum((r.end - r.start).days + 1 for r in runs)
            self.stdout.write(
                f"Rollups {start:%d/%m/%Y} – {end:%d/%m/%Y}: {computed} of {(end - start).days + 1} days computed "
                f"(the others were done already), {sum(r.facility_rows for r in runs)} facility-days in "
                f"{time.perf_counter() - started:.1f} s."
            )
            return
        run = rollups_compute(start=start, end=end)
        self.stdout.write(
            f"Rollups {start:%d/%m/%Y} – {end:%d/%m/%Y}: {run.facility_rows} facility-days, "
            f"{run.province_rows} province-days in {time.perf_counter() - started:.1f} s."
        )
