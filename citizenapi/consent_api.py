"""The citizen's say over the book, through the citizen API (issue 19, points 2-3): close and
reopen the book, share codes for one facility (with their QR code and who used them), and
copies of the book (asked, made by a job, downloaded once).

Every view takes the VNeID platform's citizen token only (citizenapi.auth); the citizen is the
token's (`request.auth.citizen_id`: the child's when a parent or guardian acts for one), never a
URL's. An object of another citizen answers 404, as one that does not exist. The writes are
healthbook.consent / healthbook.copies services; who asked and how (`by`) is kept on each row.
"""

from __future__ import annotations

import base64

from django.core.exceptions import ValidationError
from django.db.models import Prefetch
from django.http import HttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiExample, OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from citizenapi.access import citizen_actor
from citizenapi.auth import CitizenTokenMixin
from core.api import ApiError
from facilities.models import Facility
from healthbook.consent import services as consent
from healthbook.copies import services as copies
from healthbook.models import BookClosure, Citizen, CopyRequest, ShareCode, ShareCodeAttempt

TAGS = ["citizen"]  # the citizen API's one tag (citizenapi.api)


def _by(request) -> dict:
    ctx = request.auth
    return consent.by_citizen(
        channel="vneid",
        token_id=ctx.token_id,
        acting_for_child=ctx.acting_for_child,
        relationship=ctx.relationship or "",
    )


def _citizen(request) -> Citizen:
    return Citizen.objects.only("id", "public_id").get(pk=request.auth.citizen_id)


def _ts(value):
    return timezone.localtime(value).isoformat() if value else None


def _facility(code: str) -> Facility:
    facility = Facility.objects.filter(code=(code or "").strip()).first() if code else None
    if facility is None or facility.is_stopped:
        raise ApiError("facility_unknown", _("No active facility with this code."), status_code=400)
    return facility


def _refuse(exc: ValidationError, status_code: int = 400):
    raise ApiError(getattr(exc, "code", None) or "invalid", " ".join(exc.messages), status_code=status_code) from None


def _facility_out(facility) -> dict | None:
    return {"code": facility.code, "name": facility.name} if facility else None


# ---------------------------------------------------------------- closures


class ClosureIn(serializers.Serializer):
    facility_code = serializers.CharField(
        required=False, allow_blank=True, max_length=16, help_text="Close to this facility only; empty: to everyone."
    )


def _closure_out(c: BookClosure) -> dict:
    return {
        "id": c.pk,
        "facility": _facility_out(c.facility),
        "closed_at": _ts(c.created_at),
        "reopened_at": _ts(c.revoked_at),
        "live": c.revoked_at is None,
        "by": c.by,
        "reopened_by": c.revoked_by,
    }


class ClosureListApi(CitizenTokenMixin, APIView):
    """The book's closures, newest first, live and reopened (the history); POST closes the book
    to everyone or to one facility (non-emergency access only: an emergency still opens it and
    is shown to the citizen)."""

    @extend_schema(
        operation_id="citizen_closures_list", tags=TAGS, responses={200: OpenApiResponse(description="closures")}
    )
    def get(self, request):
        rows = BookClosure.objects.filter(citizen_id=request.auth.citizen_id).select_related("facility")
        return Response({"closures": [_closure_out(c) for c in rows.order_by("-created_at", "-pk")]})

    @extend_schema(
        operation_id="citizen_closures_create",
        tags=TAGS,
        request=ClosureIn,
        examples=[
            OpenApiExample("to everyone", value={}),
            OpenApiExample("one facility", value={"facility_code": "01001"}),
        ],
        responses={201: OpenApiResponse(description="the live closure")},
    )
    def post(self, request):
        data = ClosureIn(data=request.data)
        data.is_valid(raise_exception=True)
        code = data.validated_data.get("facility_code") or ""
        facility = _facility(code) if code else None
        closure = consent.closure_add(_citizen(request), facility=facility, by=_by(request))
        return Response(_closure_out(closure), status=status.HTTP_201_CREATED)


class ClosureRevokeApi(CitizenTokenMixin, APIView):
    """Reopen: the closure stays in the history with its revocation."""

    @extend_schema(
        operation_id="citizen_closure_revoke",
        tags=TAGS,
        request=None,
        responses={200: OpenApiResponse(description="the closure")},
    )
    def post(self, request, pk: int):
        closure = BookClosure.objects.filter(pk=pk, citizen_id=request.auth.citizen_id).first()
        if closure is None:
            raise ApiError("not_found", _("No such closure."), status_code=404)
        consent.closure_revoke(closure, by=_by(request))
        closure.refresh_from_db()
        return Response(_closure_out(closure))


# ---------------------------------------------------------------- share codes


class ShareCodeIn(serializers.Serializer):
    facility_code = serializers.CharField(max_length=16, help_text="The facility the code opens the book to.")
    minutes = serializers.IntegerField(required=False, min_value=5, help_text="Lifetime (default 240).")


def _share_out(s: ShareCode, now) -> dict:
    uses = [a for a in s.attempts.all() if a.ok]
    return {
        "id": s.pk,
        "facility": _facility_out(s.facility),
        "issued_at": _ts(s.created_at),
        "expires_at": _ts(s.expires_at),
        "revoked_at": _ts(s.revoked_at),
        "live": s.revoked_at is None and s.expires_at > now,
        "by": s.by,
        "used_by": [
            {"at": _ts(a.at), "doctor": a.user.full_name or a.user.username, "facility": _facility_out(a.facility)}
            for a in uses
        ],
    }


class ShareCodeListApi(CitizenTokenMixin, APIView):
    """The citizen's share codes (never the codes themselves: only their hash is kept) and who
    opened the book with each; POST issues one for a facility: the answer holds the code once,
    as text (ABCD-EFGH) and as a QR code (SVG text and PNG in base64) for the app to show."""

    @extend_schema(
        operation_id="citizen_share_codes_list", tags=TAGS, responses={200: OpenApiResponse(description="share codes")}
    )
    def get(self, request):
        uses = ShareCodeAttempt.objects.filter(ok=True).select_related("user", "facility").order_by("at")
        rows = (
            ShareCode.objects.filter(citizen_id=request.auth.citizen_id)
            .select_related("facility")
            .prefetch_related(Prefetch("attempts", uses))
            .order_by("-created_at", "-pk")
        )
        now = timezone.now()
        return Response({"share_codes": [_share_out(s, now) for s in rows]})

    @extend_schema(
        operation_id="citizen_share_codes_create",
        tags=TAGS,
        request=ShareCodeIn,
        examples=[OpenApiExample("for a clinic, 2 hours", value={"facility_code": "01001", "minutes": 120})],
        responses={201: OpenApiResponse(description="the code (shown once) with its QR code")},
    )
    def post(self, request):
        data = ShareCodeIn(data=request.data)
        data.is_valid(raise_exception=True)
        facility = _facility(data.validated_data["facility_code"])
        try:
            issued = consent.share_code_issue(
                _citizen(request), facility=facility, by=_by(request), minutes=data.validated_data.get("minutes")
            )
        except ValidationError as exc:
            _refuse(exc, 409 if exc.code == "share_codes_limit" else 400)
        body = _share_out(issued.share, timezone.now())
        body["used_by"] = []
        body["code"] = issued.code
        body["qr_svg"] = issued.qr_svg()
        body["qr_png_base64"] = base64.b64encode(issued.qr_png()).decode()
        return Response(body, status=status.HTTP_201_CREATED)


class ShareCodeRevokeApi(CitizenTokenMixin, APIView):
    @extend_schema(
        operation_id="citizen_share_code_revoke",
        tags=TAGS,
        request=None,
        responses={200: OpenApiResponse(description="revoked")},
    )
    def post(self, request, pk: int):
        share = ShareCode.objects.filter(pk=pk, citizen_id=request.auth.citizen_id).select_related("facility").first()
        if share is None:
            raise ApiError("not_found", _("No such share code."), status_code=404)
        consent.share_code_revoke(share, by=_by(request))
        share.refresh_from_db()
        return Response({"id": share.pk, "revoked_at": _ts(share.revoked_at)})


# ---------------------------------------------------------------- copies


def _copy_out(c: CopyRequest) -> dict:
    return {
        "id": str(c.public_id),
        "status": c.status,
        "status_text": c.get_status_display(),
        "requested_at": _ts(c.requested_at),
        "ready_at": _ts(c.finished_at),
        "expires_at": _ts(c.expires_at),
        "downloaded_at": _ts(c.downloaded_at),
        "size": c.content_size or None,
        "sha256": c.content_sha256 or None,
    }


def _copy(request, public_id) -> CopyRequest:
    row = CopyRequest.objects.defer("content").filter(public_id=public_id, citizen_id=request.auth.citizen_id).first()
    if row is None:
        raise ApiError("not_found", _("No such copy."), status_code=404)
    return row


class CopyListApi(CitizenTokenMixin, APIView):
    """The citizen's copy requests; POST asks for a full copy of the book (a FHIR Bundle and a
    readable PDF in one ZIP), made by a job: 202, then poll the copy until `ready`."""

    @extend_schema(
        operation_id="citizen_copies_list", tags=TAGS, responses={200: OpenApiResponse(description="copy requests")}
    )
    def get(self, request):
        rows = CopyRequest.objects.defer("content").filter(citizen_id=request.auth.citizen_id)
        return Response({"copies": [_copy_out(c) for c in rows.order_by("-requested_at")[:50]]})

    @extend_schema(
        operation_id="citizen_copies_create",
        tags=TAGS,
        request=None,
        responses={202: OpenApiResponse(description="the copy request")},
    )
    def post(self, request):
        row = copies.copy_request_create(_citizen(request), by=_by(request))
        return Response(_copy_out(row), status=status.HTTP_202_ACCEPTED)


class CopyDetailApi(CitizenTokenMixin, APIView):
    @extend_schema(
        operation_id="citizen_copy_retrieve",
        tags=TAGS,
        responses={200: OpenApiResponse(description="the copy request")},
    )
    def get(self, request, public_id):
        return Response(_copy_out(_copy(request, public_id)))


class CopyDownloadApi(CitizenTokenMixin, APIView):
    """The ZIP (sskdt-copy.json: FHIR Bundle; sskdt-copy.pdf), once: its bytes are then dropped.
    A second download answers 410 `copy_already_downloaded`; expired 410 `copy_expired`; not
    ready yet 409 `copy_not_ready`. Logged as the citizen's own read of the whole book."""

    STATUS = {copies.NOT_READY: 409, copies.ALREADY_DOWNLOADED: 410, copies.EXPIRED: 410, copies.FAILED: 410}

    @extend_schema(
        operation_id="citizen_copy_download",
        tags=TAGS,
        responses={(200, "application/zip"): OpenApiResponse(description="ZIP")},
    )
    def get(self, request, public_id):
        row = _copy(request, public_id)
        try:
            download = copies.copy_request_download(row, actor=citizen_actor(request.auth), request=request)
        except ValidationError as exc:
            _refuse(exc, self.STATUS.get(exc.code, 400))
        response = HttpResponse(download.content, content_type="application/zip")
        response["Content-Disposition"] = f'attachment; filename="{download.filename}"'
        response["Cache-Control"] = "no-store"
        return response
