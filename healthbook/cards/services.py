"""Writes on card batches: create one from a file (checksum, storage, layout, task on commit).
Batches whose run died are re-queued by the sweeper (tasks.card_batches_sweep_task)."""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from typing import IO

from django.core.files import File
from django.core.files.storage import default_storage
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import User
from accounts.services import audit_record
from healthbook.cards import files, tasks
from healthbook.cards.access import card_import_scope
from healthbook.cards.runs import card_batch_run
from healthbook.models import CardBatch

HASH_BLOCK = 1024 * 1024
logger = logging.getLogger(__name__)


class UploadNotStored(Exception):
    """The upload area could not take the file (disk full, quota, I/O error): nothing was kept."""

    code = "storage_unavailable"
    message = _(
        "The server could not store the file: its upload area is full or unavailable. Nothing was imported; "
        "try again later or tell the system administrator."
    )


@dataclass
class BatchCreated:
    batch: CardBatch
    created: bool  # False: the same file was imported before; `batch` is that batch


def _sha256(fh: IO[bytes]) -> tuple[str, int]:
    digest = hashlib.sha256()
    size = 0
    fh.seek(0)
    while block := fh.read(HASH_BLOCK):
        digest.update(block)
        size += len(block)
    fh.seek(0)
    return digest.hexdigest(), size


def _enqueue(batch_id: int) -> None:
    tasks.card_batch_import_task.delay(batch_id)


def card_batch_create(*, acting_user: User | None, fh: IO[bytes], name: str, run_now: bool = False) -> BatchCreated:
    """Store an uploaded card file and queue its import, or return the batch of the same file.

    The whole file is checked first (format, size, zip inflation, encoding, required columns):
    a refused file raises files.FileRefused and leaves nothing behind. `acting_user` None is
    the command line (national scope). With `run_now` the import runs in this process after
    commit instead of in a worker (command line `--sync`, demo data). A province officer's batch
    changes only the citizens of their province (healthbook.cards.access); national batches are
    the ministry administrator's (or the server's console, `acting_user` None).
    """
    scope = card_import_scope(acting_user) if acting_user is not None else None
    sha, size = _sha256(fh)
    # The same file is the same batch only within one scope (a province, or national): a file
    # another province imported is a new batch here, and the answer says nothing about it.
    existing = CardBatch.objects.filter(sha256=sha, scope_province=scope).first()
    if existing is not None:
        return BatchCreated(existing, False)
    layout = files.inspect_file(fh, size=size)
    extension = "xlsx" if layout.file_format == "xlsx" else "csv"
    fh.seek(0)
    stored = _store(f"card-batches/{sha[:2]}/{sha}.{extension}", fh)
    try:
        with transaction.atomic():
            batch = CardBatch.objects.create(
                sha256=sha,
                file=stored,
                original_name=(name or stored)[-255:],
                size_bytes=size,
                file_format=layout.file_format,
                encoding=layout.encoding,
                delimiter=layout.delimiter,
                columns={"positions": {str(k): v for k, v in layout.columns.items()}, "width": layout.header_width},
                rows_estimated=layout.rows_estimated,
                uploaded_by=acting_user,
                scope_province=scope,
                heartbeat_at=timezone.now(),
            )
            audit_record(
                actor=acting_user,
                action="card_batch_create",
                target=batch,
                details={"sha256": sha, "size": size, "name": batch.original_name},
            )
            if not run_now:
                transaction.on_commit(lambda: _enqueue(batch.pk))
    except IntegrityError:
        default_storage.delete(stored)
        return BatchCreated(CardBatch.objects.get(sha256=sha, scope_province=scope), False)
    if run_now:
        card_batch_run(batch_id=batch.pk)
        batch.refresh_from_db()
    return BatchCreated(batch, True)


def _store(target: str, fh: IO[bytes]) -> str:
    """Save the file under `target` (or a free variant of it). On a full or failing disk remove
    whatever part was written and raise UploadNotStored: no half file is left for a batch."""
    name = default_storage.get_available_name(target)
    try:
        return default_storage.save(name, File(fh))
    except OSError as exc:
        logger.error("card file not stored (%s): %s", name, exc)
        try:
            if default_storage.exists(name) and not CardBatch.objects.filter(file=name).exists():
                default_storage.delete(name)
        except OSError:
            logger.exception("could not remove the partial card file %s", name)
        raise UploadNotStored from exc
