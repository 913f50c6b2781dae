"""Card batch API: upload a file (multipart), follow its progress, download rejected rows."""

from django.core.exceptions import PermissionDenied
from django.http import StreamingHttpResponse
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.parsers import MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from core.api import error_response
from core.bodylimit import accepts_large_body
from core.roles import HasRole
from healthbook.cards.access import CARD_IMPORT_ROLES, card_batch_get_for_user
from healthbook.cards.files import FileRefused
from healthbook.cards.selectors import card_batch_rejected_csv
from healthbook.cards.serializers import CardBatchSerializer, CardBatchUploadSerializer
from healthbook.cards.services import UploadNotStored, card_batch_create


@accepts_large_body("CARD_IMPORT_MAX_BYTES")
class CardBatchCreateApi(APIView):
    """Upload a card file. 202: queued; 200: the same file was imported before (that batch);
    400 with a stable code when the file is refused (nothing is stored)."""

    parser_classes = [MultiPartParser]
    permission_classes = [HasRole.of(*CARD_IMPORT_ROLES)]

    @extend_schema(
        request={"multipart/form-data": CardBatchUploadSerializer},
        responses={
            202: CardBatchSerializer,
            200: CardBatchSerializer,
            400: OpenApiResponse(description="refused"),
            503: OpenApiResponse(description="upload area full or unavailable; nothing stored"),
        },
    )
    def post(self, request):
        serializer = CardBatchUploadSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        upload = serializer.validated_data["file"]
        try:
            result = card_batch_create(acting_user=request.user, fh=upload, name=upload.name)
        except FileRefused as exc:
            return error_response(exc.code, str(exc.message), status_code=400, details=exc.details)
        except UploadNotStored as exc:
            return error_response(exc.code, str(exc.message), status_code=status.HTTP_503_SERVICE_UNAVAILABLE)
        except PermissionDenied:
            raise
        if not result.created:
            body = CardBatchSerializer(result.batch).data | {"duplicate": True}
            return Response(body, status=status.HTTP_200_OK)
        return Response(CardBatchSerializer(result.batch).data | {"duplicate": False}, status=status.HTTP_202_ACCEPTED)


class CardBatchDetailApi(APIView):
    permission_classes = [HasRole.of(*CARD_IMPORT_ROLES)]

    @extend_schema(responses=CardBatchSerializer)
    def get(self, request, public_id):
        return Response(CardBatchSerializer(card_batch_get_for_user(request.user, public_id)).data)


class CardBatchRejectedApi(APIView):
    """Rejected rows as CSV: line, column, value, code, reason."""

    permission_classes = [HasRole.of(*CARD_IMPORT_ROLES)]

    @extend_schema(responses={(200, "text/csv"): OpenApiResponse(description="CSV")})
    def get(self, request, public_id):
        batch = card_batch_get_for_user(request.user, public_id)
        response = StreamingHttpResponse(card_batch_rejected_csv(batch), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="rejected-{batch.public_id}.csv"'
        return response
