"""Load the national code lists shipped in codelists/seed/ (idempotent)."""

from pathlib import Path

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from codelists.loading import SEED_DIR, SeedError, codelists_load_all


class Command(BaseCommand):
    help = "Load the seed code lists as published versions (a version already loaded is skipped)."

    def add_arguments(self, parser):
        parser.add_argument("keys", nargs="*", help="only these system keys (default: all)")
        parser.add_argument("--seed-dir", default=str(SEED_DIR))

    def handle(self, *args, keys, seed_dir, **options):
        try:
            results = codelists_load_all(Path(seed_dir), keys or None)
        except (SeedError, OSError, ValueError, KeyError, ValidationError) as exc:
            raise CommandError(f"Seed not loaded: {exc}") from exc
        for r in results:
            style = self.style.WARNING if r.status == "changed_source" else self.style.SUCCESS
            note = (
                " (seed file differs from the loaded version: give it a new version_label)"
                if (r.status == "changed_source")
                else ""
            )
            self.stdout.write(style(f"{r.key:20s} {r.label:45s} {r.rows:6d} rows  {r.status}{note}"))
