"""Dashboard pages and their exports. Thin: access from provinces.access, figures from
provinces.dashboards (rollup tables only)."""

import json
from functools import lru_cache
from pathlib import Path

from django.http import Http404
from django.shortcuts import redirect, render
from django.views.decorators.http import require_safe

from accesslog.selectors import emergency_pending_count
from core.replicas import lag_tolerant
from core.roles import NATIONAL_ROLES, Role, has_role, role_required
from facilities.access import can_remind_in_province
from facilities.reminders import reminders_sent_today
from provinces import communes, dashboards
from provinces.access import PROVINCE_ROLES, province_get_for_dashboard
from provinces.dashboards import MAP_CLASSES
from provinces.exports import csv_response, xlsx_response
from provinces.forms import date_range

TILES = Path(__file__).resolve().parent / "data" / "province_tiles.json"
NATIONAL_TABLES = ("kpis", "ranking", "trend", "rejections")
PROVINCE_TABLES = ("kpis", "facilities", "completeness", "silent", "connectivity", "pending", "rejections", "trend")
FORMATS = {"csv": csv_response, "xlsx": xlsx_response}
TABLE_KEYS = {"kpis": "kpi_table", "facilities": "breakdown"}


@lru_cache(maxsize=1)
def tile_layout() -> dict:
    return json.loads(TILES.read_text(encoding="utf-8"))


@role_required(*PROVINCE_ROLES)
@require_safe
def dashboard_mine_view(request):
    """The navigation entry: ministry staff land on the national dashboard, officers on theirs."""
    if has_role(request.user, Role.PROVINCE_OFFICER):
        return redirect("dashboard-province", code=request.user.province.code)
    return redirect("dashboard-national")


@role_required(*NATIONAL_ROLES)
@require_safe
@lag_tolerant()  # rollups, recomputed every 15 minutes: seconds of replica lag change nothing
def national_dashboard_view(request):
    form, start, end = date_range(request.GET)
    data = dashboards.national(start=start, end=end)
    map_data = {"layout": tile_layout(), "values": data["tiles"], "classes": MAP_CLASSES}
    return render(
        request,
        "provinces/dashboard_national.html",
        {
            "form": form,
            "start": start,
            "end": end,
            "data": data,
            "map_data": map_data,
            "legend": data["legend"],
            "query": request.GET.urlencode(),
            "export_tables": NATIONAL_TABLES,
        },
    )


@role_required(*PROVINCE_ROLES)
@require_safe
def province_dashboard_view(request, code: str):
    province = province_get_for_dashboard(request.user, code)
    form, start, end = date_range(request.GET)
    with lag_tolerant():  # access decided above, on the primary
        return _province_page(request, province, form, start, end)


def _province_page(request, province, form, start, end):
    data = dashboards.province(province=province, start=start, end=end)
    # Contact details and today's reminders next to each silent facility (issue 18).
    reminders = reminders_sent_today(row[0] for row in data["silent"].rows)
    silent_rows = [(row, reminders.get(row[0])) for row in data["silent"].rows]
    return render(
        request,
        "provinces/dashboard_province.html",
        {
            "province": province,
            "form": form,
            "start": start,
            "end": end,
            "data": data,
            "query": request.GET.urlencode(),
            "is_national_user": has_role(request.user, *NATIONAL_ROLES),
            # Every emergency opening alerts the province: the count waiting for its verdict.
            "emergency_pending": emergency_pending_count(province.pk),
            "silent_rows": silent_rows,
            "can_remind": can_remind_in_province(request.user, province.pk),
        },
    )


def _export(table_key: str, fmt: str, data: dict, prefix: str):
    table = data[TABLE_KEYS.get(table_key, table_key)]
    return FORMATS[fmt](table, prefix)


@role_required(*NATIONAL_ROLES)
@require_safe
@lag_tolerant()
def national_export_view(request, table: str, fmt: str):
    if table not in NATIONAL_TABLES or fmt not in FORMATS:
        raise Http404
    _form, start, end = date_range(request.GET)
    return _export(table, fmt, dashboards.national(start=start, end=end, only=table), "toan-quoc")


@role_required(*PROVINCE_ROLES)
@require_safe
def province_export_view(request, code: str, table: str, fmt: str):
    province = province_get_for_dashboard(request.user, code)
    if table not in PROVINCE_TABLES or fmt not in FORMATS:
        raise Http404
    _form, start, end = date_range(request.GET)
    with lag_tolerant():
        data = dashboards.province(province=province, start=start, end=end, full=True, only=table)
        return _export(table, fmt, data, f"tinh-{province.code}")


@role_required(*PROVINCE_ROLES)
@require_safe
def province_communes_view(request, code: str):
    """Books, people using the book and facilities per commune of one province (issue 16)."""
    province = province_get_for_dashboard(request.user, code)
    form, start, end = date_range(request.GET)
    key, descending = communes.sort_param(request.GET.get("sort"))
    with lag_tolerant():
        table, as_of = communes.communes_table(province=province, end=end, sort=request.GET.get("sort"))
    params = request.GET.copy()
    params.pop("sort", None)
    return render(
        request,
        "provinces/dashboard_communes.html",
        {
            "province": province,
            "form": form,
            "start": start,
            "end": end,
            "data": {"as_of": as_of},
            "table": table,
            "sort_key": key,
            "sort_descending": descending,
            "range_query": params.urlencode(),
            "query": request.GET.urlencode(),
            "is_national_user": has_role(request.user, *NATIONAL_ROLES),
        },
    )


@role_required(*PROVINCE_ROLES)
@require_safe
def province_communes_export_view(request, code: str, table: str, fmt: str):
    province = province_get_for_dashboard(request.user, code)
    if table != "communes" or fmt not in FORMATS:
        raise Http404
    _form, _start, end = date_range(request.GET)
    with lag_tolerant():
        data, _as_of = communes.communes_table(province=province, end=end, sort=request.GET.get("sort"))
        return FORMATS[fmt](data, f"tinh-{province.code}")
