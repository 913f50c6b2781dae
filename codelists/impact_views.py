"""The retired-code impact report (issue 17, point 7): page, CSV/XLSX export, and the summary
the review page includes. Ministry staff see every facility and every version (drafts too); a
provincial officer sees published versions only (drafts do not exist for them) and only the
facilities of their province, and sends them the notice the page prepares."""

from django.db.models import Q
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import pgettext
from import_export.formats.base_formats import CSV, XLSX
from tablib import Dataset

from codelists.access import MINISTRY, system_get, version_get_for_user, versions_visible_to
from codelists.impact import IMPACT_DAYS, retired_code_impact
from core.roles import Role, role_required
from core.scope import NATIONAL, scope_of
from core.spreadsheet import neutralise_formula

impact_readers = role_required(*MINISTRY, Role.PROVINCE_OFFICER)
FORMATS = {
    "csv": (CSV, "text/csv; charset=utf-8"),
    "xlsx": (XLSX, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
}


def province_of(user) -> int | None:
    scope = scope_of(user)
    return None if scope.kind == NATIONAL else scope.province_id


def _impact(request, key, version_id):
    system = system_get(key)
    version = version_get_for_user(request.user, system, version_id)
    return system, version, retired_code_impact(version, province_id=province_of(request.user))


INDEX_VERSIONS = 50


@impact_readers
def impact_index_view(request):
    """Where the reports are: the versions that change a list (drafts and versions in review for
    ministry staff; published versions for everyone who may read reports), newest first."""
    versions = (
        versions_visible_to(request.user)
        .select_related("system")
        .filter(Q(based_on__isnull=False) | Q(status__in=("draft", "in_review")))
        .order_by("-effective_from", "-id")[:INDEX_VERSIONS]
    )
    return render(request, "codelists/impact_index.html", {"versions": versions, "days": IMPACT_DAYS})


@impact_readers
def impact_view(request, key, version_id):
    system, version, impact = _impact(request, key, version_id)
    return render(
        request,
        "codelists/impact.html",
        {"system": system, "version": version, "impact": impact, "days": IMPACT_DAYS},
    )


@impact_readers
def impact_export_view(request, key, version_id, fmt):
    if fmt not in FORMATS:
        raise Http404
    system, version, impact = _impact(request, key, version_id)
    data = Dataset(
        headers=[
            _("Province code"),
            _("Province"),
            _("Facility code"),
            _("Facility"),
            _("Code"),
            _("Name in the list"),
            pgettext("code-list change", "Change"),
            _("Records sent"),
            pgettext("impact report", "Submissions"),
            _("Last sent (Vietnam time)"),
        ]
    )
    changes = {"retired": _("Retired"), "removed": _("Removed")}
    for r in impact.rows or ():
        retired = impact.retired.get(r.code)
        data.append(
            [
                neutralise_formula(str(v)) if isinstance(v, str) else v
                for v in (
                    r.province_code,
                    r.province_name,
                    r.facility_code,
                    r.facility_name,
                    r.code,
                    retired.display_vi if retired else "",
                    changes.get(retired.change, "") if retired else "",
                    r.records,
                    r.submissions,
                    timezone.localtime(r.last_sent_at).strftime("%d/%m/%Y %H:%M"),
                )
            ]
        )
    fmt_class, content_type = FORMATS[fmt]
    response = HttpResponse(fmt_class().export_data(data), content_type=content_type)
    stamp = timezone.localdate().strftime("%Y%m%d")
    response["Content-Disposition"] = f'attachment; filename="{system.key}-{version.pk}-impact-{stamp}.{fmt}"'
    return response
