"""Formatting of dashboard figures.

A page shows up to about 1,500 table cells. Rendered as `{% for %}` loops with a filter per
cell they cost more than all of the page's SQL, so `table_rows` formats a whole table body in
one pass, looking the language's separators up once per table; `cell` (single values, e-mails)
gives the same text.
"""

import datetime as dt
import html

from django import template
from django.utils import formats, numberformat, timezone
from django.utils.functional import Promise
from django.utils.safestring import mark_safe

from core.templatetags.numbers import number as number_filter

register = template.Library()

DASH = "—"


def _separators() -> tuple[str, str]:
    """The active language's decimal and thousand separators (what number_format would use)."""
    return formats.get_format("DECIMAL_SEPARATOR"), formats.get_format("THOUSAND_SEPARATOR")


def _date(value: dt.date) -> str:
    return f"{value.day:02d}/{value.month:02d}/{value.year:04d}"


def format_cell(value, decimal_sep: str, thousand_sep: str) -> str:
    """A table cell as text: dates dd/mm/yyyy, times in Vietnam time (dd/mm/yyyy HH:MM),
    numbers grouped in thousands (floats with one decimal), empty values as an em dash."""
    if value is None or value == "":
        return DASH
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int):
        return f"{value:,}".replace(",", thousand_sep)
    if isinstance(value, float):
        return numberformat.format(value, decimal_sep, 1, 3, thousand_sep, force_grouping=True)
    if isinstance(value, dt.datetime):
        local = timezone.localtime(value) if timezone.is_aware(value) else value
        return f"{_date(local)} {local.hour:02d}:{local.minute:02d}"
    if isinstance(value, dt.date):
        return _date(value)
    return str(value)


@register.filter
def cell(value):
    """Format a dashboard table cell: dates dd/mm/yyyy, times in Vietnam time, numbers localised."""
    if value is None or value == "":
        return DASH
    if isinstance(value, bool) or not isinstance(value, (int, float, dt.date)):
        return value
    return format_cell(value, *_separators())


@register.simple_tag
def table_rows(table):
    """The body rows (`<tr>…</tr>`) of a dashboard Table, every cell formatted and escaped."""
    decimal_sep, thousand_sep = _separators()
    parts = []
    for row in table.rows:
        parts.append("<tr>")
        for value in row:
            if isinstance(value, (str, Promise)) and value != "":
                # Text (names, labels) is escaped, unless already marked safe; numbers, dates
                # and the dash have no markup characters.
                text = value if hasattr(value, "__html__") else html.escape(str(value))
            else:
                text = format_cell(value, decimal_sep, thousand_sep)
            parts.append(f"<td>{text}</td>")
        parts.append("</tr>")
    return mark_safe("".join(parts))  # noqa: S308 — every text cell is escaped above


# The portal's one number filter (core.templatetags.numbers), under this library's name too:
# a KPI number grouped by thousands in the language's format, an em dash when not measured.
register.filter("number", number_filter)
