"""The ministry's data-protection page: citizens' copy requests per month, and its CSV."""

import csv

from django.http import HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from core.roles import Role, role_required
from healthbook.copies.report import copy_requests_by_month, seconds

REPORT_ROLES = (Role.MINISTRY_ADMIN,)


def _rows():
    rows = copy_requests_by_month()
    for row in rows:
        row["median_seconds"] = seconds(row["median"])
        row["longest_seconds"] = seconds(row["longest"])
    return rows


@require_GET
@role_required(*REPORT_ROLES)
def data_protection_view(request):
    return render(request, "healthbook/data_protection.html", {"rows": _rows()})


@require_GET
@role_required(*REPORT_ROLES)
def data_protection_csv_view(request):
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="copy-requests.csv"'
    writer = csv.writer(response)
    writer.writerow(
        [
            _("Month"),
            _("Requested"),
            _("Downloaded"),
            _("Expired without download"),
            _("Failed"),
            _("Waiting"),
            _("Median handling (seconds)"),
            _("Longest handling (seconds)"),
        ]
    )
    for r in _rows():
        writer.writerow(
            [
                r["month"].strftime("%m/%Y"),
                r["requested"],
                r["downloaded"],
                r["expired"],
                r["failed"],
                r["waiting"],
                "" if r["median_seconds"] is None else r["median_seconds"],
                "" if r["longest_seconds"] is None else r["longest_seconds"],
            ]
        )
    return response
