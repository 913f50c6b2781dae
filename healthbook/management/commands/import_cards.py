"""Import a card file from the command line.

    python manage.py import_cards FILE [--user USERNAME] [--wait] [--json] [--sync]

--user runs the import with that account's rights, recorded as theirs: a ministry administrator's
is national, a provincial officer's changes only the citizens of their province, anyone else is
refused. Without --user the import is the server console's own (national, audited as the command
line): whoever runs it has the server, and so the database, already.

Without --sync the import runs in a Celery worker, as uploads do; --wait follows it with a
progress bar (on stderr). --json prints one JSON object when the batch ends (it implies
--wait): batch_id, status (done/failed), rows_total, rows_accepted, rows_rejected,
citizens_created, books_created, cards_created, cards_updated. The same file again is
recognised by its SHA-256 and not imported twice: the earlier batch is reported.
"""

import json
import sys
import time
from pathlib import Path

from django.core.exceptions import PermissionDenied
from django.core.management.base import BaseCommand, CommandError

from healthbook.cards.files import FileRefused
from healthbook.cards.selectors import card_batch_progress
from healthbook.cards.services import UploadNotStored, card_batch_create
from healthbook.models import CardBatch

JSON_KEYS = (
    "batch_id",
    "status",
    "rows_total",
    "rows_accepted",
    "rows_rejected",
    "citizens_created",
    "books_created",
    "cards_created",
    "cards_updated",
)


def batch_summary(batch: CardBatch | None) -> dict:
    if batch is None:
        return {key: (None if key == "batch_id" else "failed" if key == "status" else 0) for key in JSON_KEYS}
    return {
        "batch_id": str(batch.public_id),
        "status": "done" if batch.status == CardBatch.Status.DONE else "failed",
        "rows_total": batch.rows_read,
        "rows_accepted": batch.rows_accepted,
        "rows_rejected": batch.rows_rejected,
        "citizens_created": batch.citizens_created,
        "books_created": batch.books_created,
        "cards_created": batch.cards_created,
        "cards_updated": batch.cards_updated,
    }


def _bar(batch: CardBatch, width: int = 30) -> str:
    progress = card_batch_progress(batch)
    percent = progress.percent or 0
    filled = int(width * percent / 100)
    rate = f"{progress.rate:,.0f} rows/s" if progress.rate else "—"
    left = f"{progress.seconds_left} s left" if progress.seconds_left is not None else ""
    return (
        f"\r[{'#' * filled}{'.' * (width - filled)}] {percent:3d}%  read {batch.rows_read:,}  "
        f"accepted {batch.rows_accepted:,}  rejected {batch.rows_rejected:,}  {rate} {left}   "
    )


class Command(BaseCommand):
    help = "Import a health-insurance card file (CSV or XLSX)."

    def add_arguments(self, parser):
        parser.add_argument("file")
        parser.add_argument("--wait", action="store_true", help="follow the import with a progress bar")
        parser.add_argument("--json", action="store_true", help="print one JSON object at the end (implies --wait)")
        parser.add_argument("--sync", action="store_true", help="run in this process instead of a Celery worker")
        parser.add_argument("--user", help=USER_HELP)
        parser.add_argument("--poll", type=float, default=0.5, help=WAIT_HELP)

    def handle(self, *args, file, wait, json: bool, sync, poll, user=None, **options):
        path = Path(file)
        if not path.is_file():
            raise CommandError(f"No such file: {path}")
        acting_user = _user(user) if user else None
        try:
            with path.open("rb") as fh:
                result = card_batch_create(acting_user=acting_user, fh=fh, name=path.name, run_now=sync)
        except PermissionDenied as exc:
            raise CommandError(
                f"{user} may not import card batches (ministry administrators and provincial officers)."
            ) from exc
        except FileRefused as exc:
            if json:
                self.stdout.write(_dumps(batch_summary(None)))
            raise CommandError(f"File refused ({exc.code}): {exc.message}") from exc
        except UploadNotStored as exc:
            raise CommandError(f"File not stored ({exc.code}): {exc.message}") from exc
        batch = result.batch
        if not result.created:
            self.stderr.write(f"This file was imported before: batch {batch.public_id} ({batch.status}).")
        if wait or json:
            batch = self._follow(batch, poll=poll, show=sys.stderr.isatty() or wait)
        if json:
            self.stdout.write(_dumps(batch_summary(batch)))
        else:
            self.stdout.write(
                f"batch {batch.public_id}: {batch.status}; read {batch.rows_read}, accepted {batch.rows_accepted}, "
                f"rejected {batch.rows_rejected}"
            )
        if batch.status == CardBatch.Status.FAILED:
            raise CommandError(f"Import failed ({batch.failure_code}): {batch.failure_message}")

    def _follow(self, batch: CardBatch, *, poll: float, show: bool) -> CardBatch:
        while True:
            batch.refresh_from_db()
            if show:
                self.stderr.write(_bar(batch), ending="")
                self.stderr.flush()
            if batch.is_finished:
                if show:
                    self.stderr.write("")
                return batch
            time.sleep(poll)


WAIT_HELP = "seconds between progress checks with --wait"
USER_HELP = "import with this account's rights (ministry administrator: national; provincial officer: their province)"


def _user(username: str):
    from accounts.models import User

    found = User.objects.filter(username=username, is_active=True).select_related("province").first()
    if found is None:
        raise CommandError(f"No active account {username!r}.")
    return found


def _dumps(data: dict) -> str:
    return json.dumps(data, ensure_ascii=False)
