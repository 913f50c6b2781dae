"""A copy request's life: asked (pending), made by the job (ready, kept in the database for
SSKDT_COPY_DAYS), downloaded once (its bytes dropped), or expired unclaimed, or failed. Its
times and outcome stay for the data-protection report (healthbook.copies.report)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accesslog.models import Outcome
from accesslog.services import Actor, access_log_record
from healthbook.copies import tasks
from healthbook.models import Citizen, CopyRequest

S = CopyRequest.Status

# Machine reasons of a refused download (API `code`).
NOT_READY = "copy_not_ready"
ALREADY_DOWNLOADED = "copy_already_downloaded"
EXPIRED = "copy_expired"
FAILED = "copy_failed"


def copy_request_create(citizen: Citizen, *, by: dict) -> CopyRequest:
    """Ask for a copy; the job makes it after the commit. A citizen with a copy still being made
    or waiting to be downloaded gets that one back (asking twice makes no second copy)."""
    with transaction.atomic():
        Citizen.objects.select_for_update().filter(pk=citizen.pk).first()
        live = (
            CopyRequest.objects.filter(citizen=citizen, status__in=[S.PENDING, S.READY])
            .exclude(status=S.READY, expires_at__lte=timezone.now())
            .defer("content")
            .first()
        )
        if live is not None:
            return live
        req = CopyRequest.objects.create(public_id=uuid.uuid4(), citizen=citizen, by=by)
        transaction.on_commit(lambda: tasks.copy_request_task.delay(req.pk))
        return req


@dataclass(frozen=True)
class Download:
    filename: str
    content: bytes


def copy_request_download(req: CopyRequest, *, actor: Actor, request=None) -> Download:
    """Hand the copy over once: its bytes are dropped in the same transaction. A second
    download, an expired, failed or unfinished copy raise ValidationError (code above). One
    access-log entry either way (the citizen's own read of the whole book)."""
    with transaction.atomic():
        row = CopyRequest.objects.select_for_update().select_related("citizen").get(pk=req.pk)
        now = timezone.now()
        if row.status == S.READY and row.expires_at and row.expires_at <= now:
            reason = EXPIRED
        else:
            reason = {
                S.READY: "",
                S.PENDING: NOT_READY,
                S.DOWNLOADED: ALREADY_DOWNLOADED,
                S.EXPIRED: EXPIRED,
                S.FAILED: FAILED,
            }[row.status]
        content = bytes(row.content) if not reason else b""
        if not reason:
            CopyRequest.objects.filter(pk=row.pk).update(status=S.DOWNLOADED, downloaded_at=now, content=None)
        access_log_record(
            actor=actor,
            event="copy_download",
            viewed="copy",
            outcome=Outcome.DENIED if reason else Outcome.SUCCESS,
            citizen=row.citizen,
            request=request,
            details={"refused": reason, "copy": str(row.public_id)} if reason else {"copy": str(row.public_id)},
        )
    if reason:
        raise ValidationError(refusal_message(reason), code=reason)
    return Download(filename=f"so-suc-khoe-{row.requested_at:%Y%m%d}.zip", content=content)


def refusal_message(reason: str) -> str:
    return {
        NOT_READY: _("Your copy is still being prepared."),
        ALREADY_DOWNLOADED: _("This copy was already downloaded: ask for a new copy."),
        EXPIRED: _("This copy has expired: ask for a new copy."),
        FAILED: _("This copy could not be made: ask for a new copy."),
    }[reason]
