"""`table_rows` (one pass over a table body) gives the text a template loop with Django's formats gave."""

import datetime as dt
from decimal import Decimal

from django.template import engines
from django.utils import formats, timezone, translation
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy as _

from provinces.tables import Table
from provinces.templatetags.dashboards import cell, table_rows

VALUES = [
    1234567,
    -4321,
    0,
    12.345,
    99.96,
    0.04,
    1e-7,
    Decimal("1234"),
    dt.date(2025, 7, 1),
    timezone.make_aware(dt.datetime(2025, 7, 1, 23, 30), dt.UTC),
    None,
    "",
    True,
    False,
    "Bệnh viện <b>A</b> & \"B\" 'C'",
    _("Went silent"),
    mark_safe("<i>safe</i>"),
]


def _reference(value):
    """The per-cell filter as it was: Django's localised formats for every cell."""
    if value is None or value == "":
        return "—"
    if isinstance(value, dt.datetime):
        return formats.date_format(timezone.localtime(value), "d/m/Y H:i")
    if isinstance(value, dt.date):
        return formats.date_format(value, "d/m/Y")
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, float)):
        return formats.number_format(
            value, decimal_pos=1 if isinstance(value, float) else None, use_l10n=True, force_grouping=True
        )
    return value


def _per_cell(table: Table) -> str:
    template = engines["django"].from_string(
        "{% for row in rows %}<tr>{% for value in row %}<td>{{ value }}</td>{% endfor %}</tr>{% endfor %}"
    )
    return template.render({"rows": [[_reference(v) for v in row] for row in table.rows]})


def test_one_pass_equals_the_per_cell_filter_in_both_languages():
    table = Table("t", "T", [("v", "V")] * len(VALUES), [VALUES, list(reversed(VALUES))])
    for language in ("vi", "en"):
        with translation.override(language):
            assert str(table_rows(table)) == _per_cell(table)


def test_cells_are_escaped_and_formatted():
    with translation.override("vi"):
        html = str(
            table_rows(
                Table(
                    "t",
                    "T",
                    [("a", "A")] * 5,
                    [["<script>alert(1)</script>", 1234567, 12.5, dt.date(2025, 7, 1), None]],
                )
            )
        )
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert "<td>1.234.567</td><td>12,5</td><td>01/07/2025</td><td>—</td>" in html


def test_times_are_shown_in_vietnam_time():
    at = timezone.make_aware(dt.datetime(2025, 7, 1, 18, 5), dt.UTC)
    assert cell(at) == "02/07/2025 01:05"
