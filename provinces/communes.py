"""Reads for a province's per-commune page: the commune rollups of one day (two queries, one
indexed range of provinces_commune_day whatever the number of days stored)."""

import datetime as dt

from django.utils.translation import gettext_lazy as _

from geo.models import CommuneKind, Province
from provinces.models import CommuneDayRollup
from provinces.tables import Table

# Sortable columns: key -> the rollup field it orders by.
SORT_FIELDS = {
    "code": "commune__code",
    "commune": "commune__name_vi",
    "kind": "commune__kind",
    "books": "books_total",
    "books_new": "books_new",
    "people_using": "people_using",
    "facilities": "facilities_active",
    "connected": "facilities_connected",
}
DEFAULT_SORT = "books"
COLUMNS = [
    ("code", _("Code")),
    ("commune", _("Commune")),
    ("kind", _("Kind")),
    ("books", _("Books created")),
    ("books_new", _("Books created that day")),
    ("people_using", _("People using the book")),
    ("facilities", _("Facilities approved")),
    ("connected", _("Facilities connected")),
]


def sort_param(value: str | None) -> tuple[str, bool]:
    """(column key, descending) from a `sort` parameter such as "books" or "-books"; an unknown
    column falls back to the default (books, most first)."""
    value = (value or "").strip()
    descending = value.startswith("-")
    key = value.lstrip("-")
    if key not in SORT_FIELDS:
        return DEFAULT_SORT, True
    return key, descending


def communes_table(*, province: Province, end: dt.date, sort: str | None = None) -> tuple[Table, dt.date | None]:
    """The communes of a province on the last day with rollups up to `end`, sorted."""
    as_of = (
        CommuneDayRollup.objects.filter(province=province, day__lte=end)
        .order_by("-day")
        .values_list("day", flat=True)
        .first()
    )
    key, descending = sort_param(sort)
    field = SORT_FIELDS[key]
    rows = (
        CommuneDayRollup.objects.filter(province=province, day=as_of)
        .order_by(f"-{field}" if descending else field, "commune__code")
        .values_list(
            "commune__code",
            "commune__name_vi",
            "commune__kind",
            "books_total",
            "books_new",
            "people_using",
            "facilities_active",
            "facilities_connected",
        )
        if as_of
        else []
    )
    kinds = dict(CommuneKind.choices)
    table = Table(
        "communes",
        _("Communes of the province"),
        list(COLUMNS),
        [[code, name, kinds.get(kind, kind), *figures] for code, name, kind, *figures in rows],
        note=_(
            "Books and people using the book count citizens by their commune of residence (citizens whose "
            "commune is unknown are in no commune); facilities by the commune they stand in."
        ),
    )
    return table, as_of
