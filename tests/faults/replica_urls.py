"""The portal's URLs plus two probes of R12 (tests/faults/replica_probe.py): a request that writes a
rollup and then reads it inside a lag-tolerant block, outside and inside a transaction. No
product view writes and then reads dashboards in one request, so the rule is shown on one made
for the check; everything else R12 asks goes through the product's own pages."""

from django.db import transaction
from django.http import JsonResponse
from django.urls import include, path

from core.replicas import lag_tolerant
from provinces.models import ProvinceDayRollup


def write_then_read(request, pk: int, value: int):
    ProvinceDayRollup.objects.filter(pk=pk).update(books_total=value)
    with lag_tolerant() as alias:
        seen = ProvinceDayRollup.objects.get(pk=pk).books_total
    return JsonResponse({"seen": seen, "block": alias})


def read_write_read(request, pk: int, value: int):
    with lag_tolerant() as alias:
        before = ProvinceDayRollup.objects.get(pk=pk).books_total
        ProvinceDayRollup.objects.filter(pk=pk).update(books_total=value)
        after = ProvinceDayRollup.objects.get(pk=pk).books_total
    return JsonResponse({"before": before, "after": after, "block": alias})


def read_in_transaction(request, pk: int, value: int):
    with transaction.atomic():
        ProvinceDayRollup.objects.filter(pk=pk).update(books_total=value)
        with lag_tolerant():
            seen = ProvinceDayRollup.objects.get(pk=pk).books_total
    return JsonResponse({"seen": seen})


urlpatterns = [
    path("r12/write-then-read/<int:pk>/<int:value>/", write_then_read),
    path("r12/read-write-read/<int:pk>/<int:value>/", read_write_read),
    path("r12/read-in-transaction/<int:pk>/<int:value>/", read_in_transaction),
    path("", include("config.urls")),
]
