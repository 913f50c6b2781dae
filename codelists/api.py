"""JSON API for code lists under /api/v1/codelists/.

Published versions are public (no sign-in); drafts are listed only for ministry staff.
"""

from django.utils import timezone
from drf_spectacular.utils import extend_schema
from rest_framework import generics
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from codelists import selectors
from codelists.access import system_get, version_get_for_user
from codelists.in_force import version_in_force
from codelists.models import CodeSystem
from codelists.serializers import (
    CodeCheckSerializer,
    CodeSystemSerializer,
    ConceptQuerySerializer,
    ConceptSerializer,
    ValidateQuerySerializer,
    VersionSerializer,
)
from codelists.validation import code_validate
from core.api import ApiError


class SystemListApi(generics.ListAPIView):
    """Every national code list with its canonical URL."""

    permission_classes = [AllowAny]
    serializer_class = CodeSystemSerializer
    queryset = CodeSystem.objects.order_by("key")


class SystemDetailApi(generics.RetrieveAPIView):
    permission_classes = [AllowAny]
    serializer_class = CodeSystemSerializer

    def get_object(self):
        return system_get(self.kwargs["key"])


class VersionListApi(generics.ListAPIView):
    """Versions of one list: published and retired for everyone, drafts for ministry staff."""

    permission_classes = [AllowAny]
    serializer_class = VersionSerializer

    def get_queryset(self):
        system = system_get(self.kwargs["key"])
        return selectors.version_list_for_user(self.request.user, system).select_related("system")


class ConceptListApi(generics.ListAPIView):
    """Concepts of one version, searchable by code or text (diacritics optional), paged."""

    permission_classes = [AllowAny]
    serializer_class = ConceptSerializer

    @extend_schema(parameters=[ConceptQuerySerializer])
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    def get_queryset(self):
        query = ConceptQuerySerializer(data=self.request.query_params)
        query.is_valid(raise_exception=True)
        system = system_get(self.kwargs["key"])
        version = version_get_for_user(self.request.user, system, self.kwargs["version_id"])
        return selectors.concept_search(
            version, query.validated_data.get("q", ""), active=query.validated_data.get("active", "")
        )


class ValidateApi(APIView):
    """Validate one code against the version in force on a date (default today)."""

    permission_classes = [AllowAny]

    @extend_schema(parameters=[ValidateQuerySerializer], responses=CodeCheckSerializer)
    def get(self, request, key):
        system = system_get(key)
        query = ValidateQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        on = query.validated_data.get("date") or timezone.localdate()
        if len(query.validated_data["code"]) > system.max_code_length:
            raise ApiError(
                "code_too_long",
                "The code is longer than this list allows.",
                details={"max_code_length": system.max_code_length},
            )
        check = code_validate(system.key, query.validated_data["code"], on)
        label = version_in_force(system.key, on).label
        return Response(CodeCheckSerializer({**check.__dict__, "version": label}).data)
