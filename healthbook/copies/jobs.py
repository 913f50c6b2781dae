"""The copy jobs' work (run by healthbook.copies.tasks): make a pending copy, and drop the bytes
of copies not downloaded in time."""

from __future__ import annotations

import datetime as dt
import hashlib
import logging

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import override

from healthbook.consent.notify import notify_citizen_copy_ready
from healthbook.copies.build import copy_archive
from healthbook.models import CopyRequest, HealthBook

logger = logging.getLogger(__name__)
S = CopyRequest.Status


def copy_request_produce(pk: int) -> CopyRequest | None:
    """Make the copy of a pending request (the job; running it again does nothing)."""
    req = CopyRequest.objects.filter(pk=pk, status=S.PENDING).defer("content").first()
    if req is None:
        return None
    book = HealthBook.objects.select_related("citizen").filter(citizen_id=req.citizen_id).first()
    try:
        if book is None:
            raise ValueError("no book")
        with override("vi"):
            content = copy_archive(book)
    except Exception as exc:  # noqa: BLE001 — any failure is recorded for the report, then re-raised
        CopyRequest.objects.filter(pk=pk, status=S.PENDING).update(
            status=S.FAILED, finished_at=timezone.now(), failure=type(exc).__name__[:200]
        )
        logger.exception("copy request %s failed", pk)
        return CopyRequest.objects.defer("content").get(pk=pk)
    now = timezone.now()
    with transaction.atomic():  # ready and its "your copy is ready" message together, or neither
        _mark_ready(pk, now, content)
    return CopyRequest.objects.defer("content").get(pk=pk)


def _mark_ready(pk: int, now, content: bytes) -> int:
    done = CopyRequest.objects.filter(pk=pk, status=S.PENDING).update(
        status=S.READY,
        finished_at=now,
        expires_at=now + dt.timedelta(days=settings.SSKDT_COPY_DAYS),
        content=content,
        content_size=len(content),
        content_sha256=hashlib.sha256(content).hexdigest(),
    )
    if done:
        notify_citizen_copy_ready(CopyRequest.objects.defer("content").get(pk=pk))
    return done


def copies_expire() -> int:
    """Drop the bytes of copies not downloaded in time (one statement)."""
    return CopyRequest.objects.filter(status=S.READY, expires_at__lte=timezone.now()).update(
        status=S.EXPIRED, content=None
    )
