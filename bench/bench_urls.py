"""Bench-only URLs: the project's URLs plus a bare DRF endpoint that answers 202 without
storing (the baseline of bench/bench_submissions.py). Never used by the portal."""

from django.urls import path
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from config.urls import urlpatterns as project_urls


class BareAccept(APIView):
    authentication_classes: list = []
    permission_classes = [AllowAny]

    def post(self, request):
        return Response({"id": "bare", "status": "received"}, status=202)


urlpatterns = [path("bench/bare/", BareAccept.as_view()), *project_urls]
