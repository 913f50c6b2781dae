"""The facility lists of a province's dashboard: facilities by status, completeness of
reporting, silent facilities, pending registrations and the connectivity monitor (rollup rows
of one day; a fixed number of queries)."""

import datetime as dt
from collections import defaultdict

from django.db.models import Count, Q
from django.utils.translation import gettext_lazy as _

from facilities.models import FacilityStatus, Level, Ownership
from geo.models import Province
from provinces.models import FacilityDayRollup
from provinces.tables import Table


def breakdown(day_rows) -> Table:
    """Facilities by status, ownership and level on the day (one grouped query)."""
    counts = (
        day_rows.values("status", "ownership", "level").annotate(n=Count("id")).order_by("level", "ownership", "status")
    )
    status_labels, own_labels, level_labels = (
        dict(FacilityStatus.choices),
        dict(Ownership.choices),
        dict(Level.choices),
    )
    grid: dict[tuple[str, str], dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for c in counts:
        grid[(c["level"], c["ownership"])][c["status"]] += c["n"]
    statuses = list(FacilityStatus.values)
    rows = [
        [level_labels.get(level, level), own_labels.get(own, own)]
        + [cells.get(s, 0) for s in statuses]
        + [sum(cells.values())]
        for (level, own), cells in sorted(grid.items())
    ]
    return Table(
        "facilities",
        _("Facilities by status, ownership and level"),
        [("level", _("Level")), ("ownership", _("Ownership"))]
        + [(s, status_labels[s]) for s in statuses]
        + [("total", _("Total"))],
        rows,
    )


def completeness(day_rows, *, limit: int | None) -> Table:
    """Completeness per facility expected to send (DHIS2-style reporting rate), worst first."""
    rows = (
        day_rows.filter(status__in=[FacilityStatus.APPROVED, FacilityStatus.CONNECTED, FacilityStatus.SUSPENDED])
        .order_by("days_with_data_30d", "facility__code")
        .values_list(
            "facility__code", "facility__name", "status", "days_with_data_30d", "accepted_30d", "expected_30d"
        )[:limit]
    )
    status_labels = dict(FacilityStatus.choices)
    return Table(
        "completeness",
        _("Completeness per facility (last 30 days)"),
        [
            ("code", _("Code")),
            ("facility", _("Facility")),
            ("status", _("Status")),
            ("days", _("Days with data (of 30)")),
            ("completeness", _("Completeness (%)")),
            ("accepted", _("Accepted submissions")),
            ("expected", _("Expected per month")),
            ("volume", _("Accepted vs expected (%)")),
        ],
        # The percentages are FacilityDayRollup.completeness_pct and .volume_pct.
        [
            [
                code,
                name,
                status_labels.get(status, status),
                days,
                round(100.0 * days / 30, 1),
                accepted,
                expected or "",
                round(100.0 * accepted / expected, 1) if expected else "",
            ]
            for code, name, status, days, accepted, expected in rows
        ],
        note=_("Facilities approved, connected or suspended; the worst first; 50 here, all in the export."),
    )


def _rate(rejected: int, received: int):
    return round(100.0 * rejected / received, 1) if received else ""


# The columns of the silent-facility list; the province page adds the reminder action after them.
SILENT_COLUMNS = [
    ("code", _("Code")),
    ("facility", _("Facility")),
    ("contact_name", _("Contact person")),
    ("contact_phone", _("Contact phone")),
    ("contact_email", _("Contact e-mail")),
    ("last_contact", _("Last contact")),
    ("last_accepted", _("Last accepted submission")),
    ("rejection_rate", _("Rejection rate, 7 days (%)")),
]


def silent(day_rows, *, limit: int | None) -> Table:
    """Silent facilities with their registered contact, so the province can call or remind them."""
    rows = (
        day_rows.filter(is_silent=True)
        .order_by("last_accepted_at", "facility__code")
        .values_list(
            "facility__code",
            "facility__name",
            "facility__contact_name",
            "facility__contact_phone",
            "facility__contact_email",
            "last_contact_at",
            "last_accepted_at",
            "rejected_7d",
            "received_7d",
        )[:limit]
    )
    return Table(
        "silent",
        _("Silent facilities"),
        SILENT_COLUMNS,
        [
            [code, name, person, phone, email, contact, accepted, _rate(rejected, received)]
            for code, name, person, phone, email, contact, accepted, rejected, received in rows
        ],
    )


def pending(day_rows, *, limit: int | None) -> Table:
    rows = (
        day_rows.filter(status=FacilityStatus.PENDING)
        .order_by("facility__registered_at", "facility__code")
        .values_list("facility__code", "facility__name", "facility__registered_at")[:limit]
    )
    return Table(
        "pending",
        _("Pending registrations"),
        [("code", _("Code")), ("facility", _("Facility")), ("registered", _("Registered at"))],
        [list(r) for r in rows],
    )


def _checkin_detail(n, avg, other, other_avg, first, first_avg) -> str:
    return _(
        "%(n)s check-ins (28-day average %(avg)s a day), %(other)s of people from other provinces "
        "(average %(other_avg)s), %(first)s first-ever (average %(first_avg)s)"
    ) % {
        "n": n,
        "avg": round(avg, 1),
        "other": other,
        "other_avg": round(other_avg, 1),
        "first": first,
        "first_avg": round(first_avg, 1),
    }


def _alert_row(row, labels) -> list:
    """One row of the connectivity alerts from connectivity()'s values (flags, then figures)."""
    day, code, name, silent, jumped, unusual = row[:6]
    contact, accepted, rejected, received, rejected_prev, received_prev = row[6:12]
    events = "; ".join(str(label) for label, on in zip(labels, (silent, jumped, unusual), strict=True) if on)
    return [
        day,
        code,
        name,
        events,
        contact,
        accepted,
        _rate(rejected, received),
        _rate(rejected_prev, received_prev),
        _checkin_detail(*row[12:]) if unusual else "",
    ]


def connectivity(*, province: Province, as_of: dt.date | None, limit: int | None) -> Table:
    """Facilities that went silent, whose rejection rate jumped or whose check-ins were unusual
    (in number, from other provinces, first-ever contacts) in the 7 days ending `as_of`."""
    rows = []
    if as_of is not None:
        rows = (
            FacilityDayRollup.objects.filter(province=province, day__gt=as_of - dt.timedelta(days=7), day__lte=as_of)
            .filter(Q(went_silent=True) | Q(rejection_jumped=True) | Q(checkins_unusual=True))
            .order_by("-day", "facility__code")
            .values_list(
                "day",
                "facility__code",
                "facility__name",
                "went_silent",
                "rejection_jumped",
                "checkins_unusual",
                "last_contact_at",
                "last_accepted_at",
                "rejected_7d",
                "received_7d",
                "rejected_prev_7d",
                "received_prev_7d",
                "checkins",
                "checkins_avg_28d",
                "checkins_other_province",
                "checkins_other_avg_28d",
                "checkins_first_contact",
                "checkins_first_avg_28d",
            )[:limit]
        )
    labels = (_("Went silent"), _("Rejection rate jumped"), _("Unusual check-ins"))
    return Table(
        "connectivity",
        _("Connectivity alerts (last 7 days)"),
        [
            ("day", _("Day")),
            ("code", _("Code")),
            ("facility", _("Facility")),
            ("event", _("Event")),
            ("last_contact", _("Last contact")),
            ("last_accepted", _("Last accepted submission")),
            ("rate", _("Rejection rate, 7 days (%)")),
            ("rate_before", _("The 7 days before (%)")),
            ("check_ins", _("Check-ins")),
        ],
        [_alert_row(row, labels) for row in rows],
    )
