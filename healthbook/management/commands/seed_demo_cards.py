"""Demo data: generate a batch of about 20,000 cards and import it through the real pipeline.

Idempotent: the generated file is the same every time (fixed seed), so its checksum makes the
second run a no-op. Runs the import in this process (`make run` may have no broker yet).
"""

from pathlib import Path

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand

from healthbook.cards.demo.generate import batch_file_write
from healthbook.models import CardBatch

ROWS = 20_000
SEED = 2025


class Command(BaseCommand):
    help = "Import a generated batch of about 20,000 insurance cards (idempotent)."

    def add_arguments(self, parser):
        parser.add_argument("--rows", type=int, default=ROWS)

    def handle(self, *args, rows, **options):
        out = Path(settings.VAR_DIR) / "demo" / f"cards-demo-{rows}-{SEED}.csv"
        out.parent.mkdir(parents=True, exist_ok=True)
        if not out.exists():
            partial = out.with_suffix(".partial")
            batch_file_write(partial, rows=rows, seed=SEED, bad_share=0.02)
            partial.replace(out)
        call_command("import_cards", str(out), "--sync", stdout=self.stdout, stderr=self.stderr)
        done = CardBatch.objects.filter(status=CardBatch.Status.DONE).count()
        self.stdout.write(self.style.SUCCESS(f"Demo card batches done: {done}."))
