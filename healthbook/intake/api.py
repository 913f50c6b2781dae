"""POST /api/v1/submissions/ and GET /api/v1/submissions/{id}/ for facility software.

The POST reads the raw body itself (never `request.data`): the size limit is checked from
Content-Length and again while reading, in chunks, so an oversized or lying body is refused
with 413 without being held in memory; then the exact bytes are stored (one transaction) and
202 is answered with the submission id. Parsing happens later, in the worker.
"""

from django.db import OperationalError
from django.utils import translation
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_field
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from core.api import error_response
from core.authentication import FacilityApiKeyAuthentication, IsFacilityClient
from core.bodylimit import accepts_large_body
from healthbook.intake import processing, services
from healthbook.intake.access import sender_answer, submission_get_for_facility

CHUNK = 64 * 1024
MAX_IDEMPOTENCY_KEY = 255


class _TooLarge(Exception):
    pass


def read_body(request, limit: int) -> bytes:
    """Read the request body, refusing more than `limit` bytes (Content-Length may lie)."""
    django_request = request._request
    try:
        declared = int(django_request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        declared = 0
    if declared > limit:
        raise _TooLarge
    parts, size = [], 0
    while True:
        chunk = django_request.read(CHUNK)
        if not chunk:
            break
        size += len(chunk)
        if size > limit:
            raise _TooLarge
        parts.append(chunk)
    return b"".join(parts)


def accepted_body(sub) -> dict:
    """The 202 body: the same for the first answer and every Idempotency-Key replay."""
    return {"id": str(sub.public_id), "status": "received", "status_url": f"/api/v1/submissions/{sub.public_id}/"}


class SubmissionProblemSerializer(serializers.Serializer):
    code = serializers.CharField()
    severity = serializers.CharField()
    table = serializers.CharField()
    record_key = serializers.CharField()
    field = serializers.CharField()
    value = serializers.CharField()
    message = serializers.SerializerMethodField()

    def get_message(self, p) -> str:
        with translation.override("vi"):
            return _(p.message) if p.message else ""


class SubmissionSerializer(serializers.Serializer):
    """What facility software reads of its submission (healthbook.intake.access.sender_answer:
    nothing that tells whether a guessed identity matched a personal ID)."""

    id = serializers.UUIDField(source="public_id")
    status = serializers.SerializerMethodField()
    kind = serializers.CharField()
    received_at = serializers.DateTimeField()
    processed_at = serializers.DateTimeField(allow_null=True)
    size_bytes = serializers.IntegerField()
    sha256 = serializers.CharField()
    visits = serializers.IntegerField(source="visits_count")
    encounters_created = serializers.IntegerField()
    encounters_updated = serializers.IntegerField()
    encounters_unchanged = serializers.IntegerField()
    duplicate_of = serializers.SerializerMethodField()
    problems = serializers.SerializerMethodField()

    def get_duplicate_of(self, sub) -> str | None:
        return str(sub.duplicate_of.public_id) if sub.duplicate_of_id else None

    def get_status(self, sub) -> str:
        return sender_answer(sub, sub.problems.all())[0]

    @extend_schema_field(SubmissionProblemSerializer(many=True))
    def get_problems(self, sub) -> list[dict]:
        return SubmissionProblemSerializer(sender_answer(sub, sub.problems.all())[1], many=True).data


@accepts_large_body("INTAKE_MAX_BYTES")
class SubmissionCreateApi(APIView):
    """Receive one XML 130 envelope (application/xml, or base64 as text/plain) or one FHIR
    Bundle (application/fhir+json with the detached JWS in X-Signature)."""

    authentication_classes = [FacilityApiKeyAuthentication]
    permission_classes = [IsFacilityClient]

    @extend_schema(
        request={"application/xml": bytes, "application/fhir+json": bytes, "text/plain": bytes},
        parameters=[
            OpenApiParameter("Idempotency-Key", str, OpenApiParameter.HEADER, required=False),
            OpenApiParameter("X-Signature", str, OpenApiParameter.HEADER, required=False),
        ],
        responses={
            202: OpenApiResponse(description="stored; processing queued"),
            413: OpenApiResponse(description="too large"),
            415: OpenApiResponse(description="media type"),
            422: OpenApiResponse(description="Idempotency-Key reused with another body"),
        },
    )
    def post(self, request):
        content_type = request._request.META.get("CONTENT_TYPE", "")
        if services.kind_for(content_type) is None:
            return error_response(
                "unsupported_media_type",
                _("Send XML 130 as application/xml (or base64 as text/plain), or FHIR as application/fhir+json."),
                status_code=status.HTTP_415_UNSUPPORTED_MEDIA_TYPE,
            )
        key = request.headers.get("Idempotency-Key")
        if key is not None and not (0 < len(key) <= MAX_IDEMPOTENCY_KEY and key.isprintable()):
            return error_response(
                "idempotency_key_invalid",
                _("The Idempotency-Key must be 1 to 255 printable characters."),
                status_code=status.HTTP_400_BAD_REQUEST,
            )
        limit = processing.max_body_bytes()
        try:
            body = read_body(request, limit)
        except _TooLarge:
            return error_response(
                "body_too_large",
                _("The submission is larger than the allowed size (%(mb)s MB).") % {"mb": limit // 2**20},
                status_code=status.HTTP_413_REQUEST_ENTITY_TOO_LARGE,
            )
        if not body:
            return error_response("body_empty", _("The submission is empty."), status_code=status.HTTP_400_BAD_REQUEST)
        signature = (request.headers.get("X-Signature") or "")[:20000]
        try:
            received = services.submission_receive(
                facility=request.user.facility,
                api_key=request.auth,
                body=body,
                content_type=content_type,
                signature=signature,
                idempotency_key=key,
            )
        except services.IdempotencyConflict:
            return error_response(
                "idempotency_key_reused",
                _("This Idempotency-Key was already used for a different submission."),
                status_code=status.HTTP_422_UNPROCESSABLE_ENTITY,
            )
        except OperationalError:
            return error_response(
                "unavailable",
                _("The service is temporarily unavailable; send again later."),
                status_code=status.HTTP_503_SERVICE_UNAVAILABLE,
            )
        response = Response(accepted_body(received.submission), status=status.HTTP_202_ACCEPTED)
        response["Location"] = accepted_body(received.submission)["status_url"]
        if received.replayed:
            response["Idempotent-Replayed"] = "true"
        return response


class SubmissionDetailApi(APIView):
    """Status and problems of one of the facility's own submissions (another's → 404)."""

    authentication_classes = [FacilityApiKeyAuthentication]
    permission_classes = [IsFacilityClient]

    @extend_schema(responses=SubmissionSerializer)
    def get(self, request, public_id):
        sub = submission_get_for_facility(request.user.facility, public_id)
        return Response(SubmissionSerializer(sub).data)
