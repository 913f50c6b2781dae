"""Compute the cohorts now (what the nightly job does): `manage.py cohorts_compute [--province 01 …]`."""

from django.core.management.base import BaseCommand

from cohorts.services import memberships_compute


class Command(BaseCommand):
    help = "Compute every cohort's members and counts for all provinces (or the given ones)."

    def add_arguments(self, parser):
        parser.add_argument("--province", action="append", help="province code (repeatable)")

    def handle(self, *args, **options):
        runs = memberships_compute(provinces=options["province"])
        for run in runs:
            where = run.province.code if run.province_id else "national"
            self.stdout.write(f"{where}: {run.members} members in {run.duration_ms} ms")
