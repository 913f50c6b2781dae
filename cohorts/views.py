"""Cohort pages: counts per province, commune and facility (read from precomputed counts only),
their exports, and the ministry's cohort rules. Thin: access from cohorts.access, tables from
cohorts.counts (where every count is suppressed), writes in cohorts.services."""

from django.contrib import messages
from django.db import transaction
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_safe

from cohorts import counts, maps, selectors, services
from cohorts.access import COUNT_ROLES, EDIT_ROLES, NATIONAL_ROLES, province_get_for_dashboard
from cohorts.forms import CohortForm
from cohorts.models import CohortDefinition
from core.replicas import lag_tolerant
from core.roles import Role, has_role, role_required
from geo.models import Province
from provinces.exports import csv_response, xlsx_response
from provinces.tables import LIST_LIMIT

FORMATS = {"csv": csv_response, "xlsx": xlsx_response}
DETAIL_TABLES = ("communes", "facilities", "trend")


@role_required(*COUNT_ROLES)
@require_safe
def cohorts_mine_view(request):
    """The navigation entry: ministry staff land on the national page, officers on theirs."""
    if has_role(request.user, Role.PROVINCE_OFFICER):
        return redirect("cohorts-province", code=request.user.province.code)
    return redirect("cohorts-national")


def _national_table():
    provinces = list(Province.objects.order_by("code"))  # ministry staff: the whole country
    return counts.national_table(provinces, selectors.current_versions()), provinces


@role_required(*NATIONAL_ROLES)
@require_safe
@lag_tolerant()  # counts of the nightly job: seconds of replica lag change nothing
def cohorts_national_view(request):
    table, provinces = _national_table()
    return render(
        request,
        "cohorts/national.html",
        {
            "table": table,
            "run": selectors.last_run(None),
            "provinces": provinces,
            "export_base": reverse("cohorts-national") + "export/",
        },
    )


@role_required(*NATIONAL_ROLES)
@require_safe
@lag_tolerant()
def cohorts_national_export_view(request, table: str, fmt: str):
    if table != "national" or fmt not in FORMATS:
        raise Http404
    return FORMATS[fmt](_national_table()[0], "nhom-toan-quoc")


def _province_table(province):
    run = selectors.last_run(province)
    return counts.cohorts_table(run, selectors.current_versions()), run


@role_required(*COUNT_ROLES)
@require_safe
def cohorts_province_view(request, code: str):
    province = province_get_for_dashboard(request.user, code)
    with lag_tolerant():  # access decided above, on the primary
        table, run = _province_table(province)
        versions = selectors.current_versions()
        return render(
            request,
            "cohorts/province.html",
            {
                "province": province,
                "table": table,
                "links": list(zip(versions, table.rows, strict=True)),
                "run": run,
                "is_national_user": has_role(request.user, *NATIONAL_ROLES),
            },
        )


@role_required(*COUNT_ROLES)
@require_safe
def cohorts_province_export_view(request, code: str, table: str, fmt: str):
    province = province_get_for_dashboard(request.user, code)
    if table != "cohorts" or fmt not in FORMATS:
        raise Http404
    with lag_tolerant():
        return FORMATS[fmt](_province_table(province)[0], f"nhom-tinh-{province.code}")


def _detail_tables(province, version, only=None) -> dict:
    run = selectors.last_run(province)
    tables = {}
    if run is not None and only in (None, "communes"):
        tables["communes"] = counts.communes_table(run, version)
    if run is not None and only in (None, "facilities"):
        tables["facilities"] = counts.facilities_table(run, version, limit=None if only else LIST_LIMIT)
    if only in (None, "trend"):
        tables["trend"] = counts.trend_table(province, version)
    return tables


def _version_or_404(key: str):
    version = selectors.current_version(key)
    if version is None:
        raise Http404
    return version


@role_required(*COUNT_ROLES)
@require_safe
def cohort_detail_view(request, code: str, key: str):
    province = province_get_for_dashboard(request.user, code)
    with lag_tolerant():
        version = _version_or_404(key)
        tables = _detail_tables(province, version)
        return render(
            request,
            "cohorts/detail.html",
            {
                "province": province,
                "version": version,
                "tables": tables,
                "map": maps.communes_map(province, tables["communes"]) if "communes" in tables else None,
                "run": selectors.last_run(province),
                "export_base": reverse("cohorts-detail", args=[province.code, key]) + "export/",
                "is_national_user": has_role(request.user, *NATIONAL_ROLES),
            },
        )


@role_required(*COUNT_ROLES)
@require_safe
def cohort_detail_export_view(request, code: str, key: str, table: str, fmt: str):
    province = province_get_for_dashboard(request.user, code)
    if table not in DETAIL_TABLES or fmt not in FORMATS:
        raise Http404
    with lag_tolerant():
        version = _version_or_404(key)
        tables = _detail_tables(province, version, only=table)
        if table not in tables:
            raise Http404
        return FORMATS[fmt](tables[table], f"nhom-{key}-tinh-{province.code}")


# ---------------------------------------------------------------- the ministry's rules


@role_required(*EDIT_ROLES)
@require_safe
def definitions_view(request):
    return render(request, "cohorts/definitions.html", {"versions": selectors.current_versions()})


@role_required(*EDIT_ROLES)
@require_http_methods(["GET", "POST"])
def definition_new_view(request):
    form = CohortForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        services.cohort_create(
            key=data["key"],
            name=data["name"],
            description=data["description"],
            criteria=data["criteria"],
            user=request.user,
        )
        messages.success(request, _("The cohort was created. It is computed at the next nightly run."))
        return redirect("cohorts-definition", key=data["key"])
    return render(request, "cohorts/definition_form.html", {"form": form, "definition": None})


@role_required(*EDIT_ROLES)
@require_http_methods(["GET", "POST"])
def definition_view(request, key: str):
    """A cohort's versions, and the form that adds one (a version is never changed)."""
    definition = get_object_or_404(CohortDefinition, key=key)
    versions = list(definition.versions.order_by("-number"))
    if request.method == "POST":
        form = CohortForm(request.POST, definition=definition)
        if form.is_valid():
            data = form.cleaned_data
            with transaction.atomic():
                version = services.cohort_version_add(
                    definition=definition,
                    name=data["name"],
                    description=data["description"],
                    criteria=data["criteria"],
                    user=request.user,
                )
            messages.success(request, _("Version %(number)s was saved.") % {"number": version.number})
            return redirect("cohorts-definition", key=key)
    else:
        form = CohortForm(initial=CohortForm.initial_from(versions[0]) if versions else None, definition=definition)
    return render(
        request, "cohorts/definition_form.html", {"form": form, "definition": definition, "versions": versions}
    )
