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


def floor_view(request, pk):
    """The doctor-page benchmark's floor: one primary-key query and a small template."""
    from django.http import HttpResponse
    from django.shortcuts import get_object_or_404
    from django.template import engines

    from facilities.models import Facility

    facility = get_object_or_404(Facility, pk=pk)
    template = engines["django"].from_string("<html><body><h1>{{ f.name }}</h1><p>{{ f.code }}</p></body></html>")
    return HttpResponse(template.render({"f": facility}))


urlpatterns = [
    path("bench/bare/", BareAccept.as_view()),
    path("bench/floor/<int:pk>/", floor_view),
    *project_urls,
]
