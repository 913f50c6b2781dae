"""Bulk onboarding for scripts: the same import as the web page.

    python manage.py import_facilities facilities.xlsx --dry-run
    python manage.py import_facilities facilities.csv

Exit status 1 and a row-by-row report when any row is wrong; then nothing is imported.
"""

from pathlib import Path

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from facilities.importing import MAX_FILE_BYTES, facility_import


class Command(BaseCommand):
    help = "Import facilities from a CSV or XLSX file (all or nothing)."

    def add_arguments(self, parser):
        parser.add_argument("file")
        parser.add_argument("--dry-run", action="store_true", help="check and report, change nothing")

    def handle(self, *args, **options):
        path = Path(options["file"])
        if not path.is_file():
            raise CommandError(f"No such file: {path}")
        if path.stat().st_size > MAX_FILE_BYTES:
            raise CommandError("The file is larger than 5 MB; split it into several files.")
        try:
            report = facility_import(
                acting_user=None, content=path.read_bytes(), file_name=path.name, dry_run=options["dry_run"]
            )
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from None
        for problem in report.problems:
            self.stderr.write(f"line {problem.line or '-'}: {problem.field or '-'}: {problem.message}")
        if not report.ok:
            raise CommandError(f"{report.invalid_lines} row(s) with errors; nothing imported.")
        verb = "would import" if report.dry_run else "imported"
        self.stdout.write(f"{verb}: {report.total} rows, {report.new} new, {report.updated} updated")
