import datetime as dt

from django import template
from django.utils import formats, timezone

register = template.Library()


@register.filter
def cell(value):
    """Format a dashboard table cell: dates dd/mm/yyyy, times in Vietnam time, numbers localised."""
    if value is None or value == "":
        return "—"
    if isinstance(value, dt.datetime):
        return formats.date_format(timezone.localtime(value), "d/m/Y H:i")
    if isinstance(value, dt.date):
        return formats.date_format(value, "d/m/Y")
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, float)):
        return formats.number_format(value, decimal_pos=1 if isinstance(value, float) else None,
                                     use_l10n=True, force_grouping=True)
    return value


@register.filter
def number(value):
    """Format a KPI number with grouping, or an em dash when it is not measured."""
    if value is None or value == "":
        return "—"
    return formats.number_format(value, decimal_pos=1 if isinstance(value, float) else None, use_l10n=True,
                                 force_grouping=True)
