"""Writes of the citizen's consent: close and reopen the book, issue, revoke and redeem share
codes. Every change is a row (closures, share codes) or a revocation written once on it; who,
when and how is kept on the row (`by`). The access rule reads them (healthbook.book.access).

A share code is 8 letters and digits from an alphabet without look-alikes (no 0/O, 1/I/L),
shown as ABCD-EFGH (about 40 bits); only a keyed hash is stored. A doctor enters it on the
search page or on the refused book's page; a right code opens the book to the doctor's
facility until the code expires or the citizen revokes it. Wrong codes are counted per doctor
and per citizen and limited per hour (SSKDT_SHARE_CODE_FAILURES_PER_*).
"""

from __future__ import annotations

import datetime as dt
import io
import secrets
from dataclasses import dataclass

import qrcode
import qrcode.image.svg
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Count, Q
from django.utils import timezone
from django.utils.crypto import salted_hmac
from django.utils.translation import gettext as _

from accesslog.models import Outcome
from accesslog.services import Actor, access_log_record
from healthbook.models import BookClosure, Citizen, HealthBook, ShareCode, ShareCodeAttempt

CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 8

# Machine reasons of a refused share code (API `code`, access-log `refused`).
CODE_INVALID = "share_code_invalid"
CODE_TOO_MANY = "share_code_attempts"


def by_citizen(
    *, channel: str = "vneid", token_id: str = "", acting_for_child: bool = False, relationship: str = ""
) -> dict:
    """Who asked and how, as kept on each consent row."""
    return {
        "channel": channel,
        "token_id": str(token_id or ""),
        "acting_for_child": bool(acting_for_child),
        "relationship": relationship or "",
    }


# ---------------------------------------------------------------- closures


def closure_add(citizen: Citizen, *, facility=None, by: dict) -> BookClosure:
    """Close the book to everyone (`facility` None) or to one facility; asking twice returns the
    live closure."""
    with transaction.atomic():
        Citizen.objects.select_for_update().filter(pk=citizen.pk).first()  # one writer per citizen
        live = BookClosure.objects.filter(citizen=citizen, facility=facility, revoked_at__isnull=True).first()
        if live is not None:
            return live
        return BookClosure.objects.create(citizen=citizen, facility=facility, by=by)


def closure_revoke(closure: BookClosure, *, by: dict) -> bool:
    """Reopen: the closure keeps its history, with the revocation written once."""
    done = BookClosure.objects.filter(pk=closure.pk, revoked_at__isnull=True).update(
        revoked_at=timezone.now(), revoked_by=by
    )
    return bool(done)


# ---------------------------------------------------------------- share codes


def normalize_code(text: str) -> str:
    return "".join(ch for ch in (text or "").upper() if ch.isalnum())


def format_code(code: str) -> str:
    return f"{code[:4]}-{code[4:]}"


def code_hash(code: str) -> str:
    return salted_hmac("sskdt.share-code", normalize_code(code), algorithm="sha256").hexdigest()


@dataclass(frozen=True)
class IssuedCode:
    share: ShareCode
    code: str  # shown once, as ABCD-EFGH; only its hash is stored

    def qr_svg(self) -> str:
        """The code as a QR code (SVG), for the app to show."""
        image = qrcode.make(self.code, image_factory=qrcode.image.svg.SvgPathImage, box_size=10, border=2)
        return image.to_string(encoding="unicode")

    def qr_png(self) -> bytes:
        buffer = io.BytesIO()
        qrcode.make(self.code, box_size=8, border=2).save(buffer, format="PNG")
        return buffer.getvalue()


def share_code_issue(citizen: Citizen, *, facility, by: dict, minutes: int | None = None) -> IssuedCode:
    """Issue a code that opens the book to `facility` (an active facility) for `minutes`."""
    if facility is None or facility.is_stopped:
        raise ValidationError(_("This facility cannot receive a share code."), code="facility_invalid")
    minutes = minutes or settings.SSKDT_SHARE_CODE_MINUTES
    if not 5 <= minutes <= settings.SSKDT_SHARE_CODE_MAX_MINUTES:
        raise ValidationError(
            _("A share code lasts from 5 minutes to %(max)s minutes.") % {"max": settings.SSKDT_SHARE_CODE_MAX_MINUTES},
            code="minutes_invalid",
        )
    now = timezone.now()
    with transaction.atomic():
        Citizen.objects.select_for_update().filter(pk=citizen.pk).first()
        live = ShareCode.objects.filter(citizen=citizen, revoked_at__isnull=True, expires_at__gt=now).count()
        if live >= settings.SSKDT_SHARE_CODES_LIVE:
            raise ValidationError(
                _("You already have %(n)s share codes in use: revoke one first.") % {"n": live},
                code="share_codes_limit",
            )
        for _attempt in range(5):  # a collision of two live 40-bit codes is all but impossible
            code = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
            try:
                with transaction.atomic():
                    share = ShareCode.objects.create(
                        citizen=citizen,
                        facility=facility,
                        code_hash=code_hash(code),
                        expires_at=now + dt.timedelta(minutes=minutes),
                        by=by,
                    )
            except IntegrityError:
                continue
            return IssuedCode(share=share, code=format_code(code))
    raise RuntimeError("no free share code")  # pragma: no cover


def share_code_revoke(share: ShareCode, *, by: dict) -> bool:
    done = ShareCode.objects.filter(pk=share.pk, revoked_at__isnull=True).update(
        revoked_at=timezone.now(), revoked_by=by
    )
    return bool(done)


def _failures(user, citizen_id: int | None, since) -> tuple[int, int]:
    """Wrong codes in the last hour: the doctor's and against the citizen (one query)."""
    who, theirs = Q(user=user), Q(pk__in=[])
    if citizen_id is not None:
        theirs = Q(citizen_id=citizen_id)
        who |= theirs
    counts = ShareCodeAttempt.objects.filter(who, ok=False, at__gte=since).aggregate(
        mine=Count("pk", filter=Q(user=user)), theirs=Count("pk", filter=theirs)
    )
    return counts["mine"], counts["theirs"]


def share_code_redeem(user, text: str, *, book: HealthBook | None = None, request=None) -> HealthBook:
    """A doctor enters a code (on the refused book's page, `book`, or on the search page). Right
    and live, for the doctor's facility (and that book): the book opens to the facility and the
    book is returned. Otherwise ValidationError (code CODE_INVALID, or CODE_TOO_MANY beyond the
    hourly limits). One access-log entry (event `share_code`) and one attempt row either way."""
    facility = user.facility
    actor = Actor.for_user(user)
    now = timezone.now()
    citizen_id = book.citizen_id if book is not None else None
    mine, theirs = _failures(user, citizen_id, now - dt.timedelta(hours=1))
    share = None
    if (
        mine >= settings.SSKDT_SHARE_CODE_FAILURES_PER_DOCTOR
        or theirs >= settings.SSKDT_SHARE_CODE_FAILURES_PER_CITIZEN
    ):
        reason = CODE_TOO_MANY
    else:
        code = normalize_code(text)
        if len(code) == CODE_LENGTH and set(code) <= set(CODE_ALPHABET):
            share = ShareCode.objects.select_related("citizen").filter(code_hash=code_hash(code)).first()
        if share is None or (book is not None and share.citizen_id != book.citizen_id):
            reason, share = "unknown", None
        elif share.revoked_at is not None:
            reason = "revoked"
        elif share.expires_at <= now:
            reason = "expired"
        elif share.facility_id != facility.pk:
            reason = "other_facility"
        else:
            reason = ""
    if share is not None and book is None:
        book = HealthBook.objects.filter(citizen_id=share.citizen_id).select_related("citizen").first()
    citizen = book.citizen if book is not None else None
    ok = not reason
    if reason != CODE_TOO_MANY:
        ShareCodeAttempt.objects.create(
            user=user, facility=facility, citizen=citizen, code=share, ok=ok, reason=reason[:32]
        )
    access_log_record(
        actor=actor,
        event="share_code",
        viewed="book",
        outcome=Outcome.SUCCESS if ok else Outcome.DENIED,
        citizen=citizen,
        book=book,
        request=request,
        details={"share_code": share.pk}
        if ok
        else {"refused": reason if reason == CODE_TOO_MANY else CODE_INVALID, "why": reason},
    )
    if reason == CODE_TOO_MANY:
        raise ValidationError(
            _("Too many wrong share codes: try again in an hour, or ask the citizen for a new code."),
            code=CODE_TOO_MANY,
        )
    if not ok:
        raise ValidationError(
            _("This share code is wrong, expired, revoked or was issued for another facility."), code=CODE_INVALID
        )
    return book
