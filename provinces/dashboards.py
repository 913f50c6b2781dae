"""Reads for the national and province dashboards: rollup tables only, a fixed number of
queries whatever the number of books, facilities or days.

Every figure the pages show is built here as a `Table` (title, columns, rows), so the page
and its CSV / XLSX exports show the same numbers.
"""

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass

from django.db.models import Max, Sum
from django.utils.translation import gettext_lazy as _

from facilities.health import UNRECORDED_REASON
from geo.models import Province
from provinces.facility_lists import breakdown, completeness, connectivity, pending, silent
from provinces.models import FacilityDayRollup, ProvinceDayRollup, RejectionReasonDay, RolloutTarget
from provinces.tables import LIST_LIMIT, Table, pct, per_10k

TARGET_YEAR_END = dt.date(2030, 12, 31)
# The trend table on a page shows the last days of the range (the chart and the export: all).
PAGE_TREND_ROWS = 31
# The map colours the provinces in this many classes of equal size (quantiles of books per
# 10,000 people), so that provinces differ at rollout levels (< 1 %) as well as later.
MAP_CLASSES = 5

_SUM_FIELDS = (
    "books_total",
    "books_new",
    "citizens_valid_card",
    "cards_imported",
    "facilities_pending",
    "facilities_rejected",
    "facilities_approved",
    "facilities_connected",
    "facilities_suspended",
    "facilities_closed",
    "facilities_public_active",
    "facilities_private_active",
    "facilities_public_connected",
    "facilities_private_connected",
    "facilities_sending_7d",
    "facilities_sending_30d",
    "facilities_public_sending_7d",
    "facilities_private_sending_7d",
    "facilities_silent",
    "submissions_received",
    "submissions_accepted",
    "submissions_rejected",
    "visits_received",
    "people_using",
    "followups_missed",
)


def quantile_breaks(values: list[float], classes: int = MAP_CLASSES) -> list[float]:
    """The upper bounds of the first `classes - 1` classes: the 1/n, 2/n … quantiles of the values
    (nearest rank: the ceil(k·N/n)-th smallest). Equal values fall in one class, so there may be
    fewer distinct classes."""
    ordered = sorted(values)
    if not ordered:
        return []
    return [ordered[max(0, -(-len(ordered) * k // classes) - 1)] for k in range(1, classes)]


def quantile_class(value: float, breaks: list[float]) -> int:
    """Index (0 … MAP_CLASSES - 1) of a value's class: how many class bounds lie below it."""
    return sum(value > b for b in breaks)


def map_legend(values: list[float], breaks: list[float]) -> list[dict]:
    """One legend item per class that has provinces: index and range (books per 10,000 people)."""
    if not values:
        return []
    out = []
    for i in range(len(breaks) + 1):
        members = [v for v in values if quantile_class(v, breaks) == i]
        if members:
            out.append({"index": i, "low": min(members), "high": max(members), "count": len(members)})
    return out


def latest_day(*, end: dt.date, province: Province | None = None) -> dt.date | None:
    """Return the last day on or before `end` that has rollups (one indexed query)."""
    qs = ProvinceDayRollup.objects.filter(day__lte=end)
    if province is not None:
        qs = qs.filter(province=province)
    return qs.aggregate(day=Max("day"))["day"]


def _pick(rows: list[RolloutTarget], attr: str, year: int) -> RolloutTarget | None:
    """The row that sets `attr` for `year`: the first year at or after it, else the latest."""
    having = sorted((r for r in rows if getattr(r, attr) is not None), key=lambda r: r.year)
    if not having:
        return None
    for row in having:
        if row.year >= year:
            return row
    return having[-1]


@dataclass
class Targets:
    population: RolloutTarget | None
    books: RolloutTarget | None
    users: RolloutTarget | None
    facilities: RolloutTarget | None


def targets_by_province(year: int) -> tuple[Targets, dict[int, Targets]]:
    """Return the national targets and the targets of each province (one query)."""
    rows: dict[int | None, list[RolloutTarget]] = defaultdict(list)
    for row in RolloutTarget.objects.all():
        rows[row.province_id].append(row)

    def build(items):
        population = [r for r in items if r.year <= year] or items
        return Targets(
            population=max(population, key=lambda r: r.year) if population else None,
            books=_pick(items, "books_target", year),
            users=_pick(items, "users_target", year),
            facilities=_pick(items, "facilities_connected_target_pct", year),
        )

    national = build(rows.pop(None, []))
    return national, {pid: build(items) for pid, items in rows.items()}


def _totals(rows) -> dict:
    totals = {name: 0 for name in _SUM_FIELDS}
    for name in ("visits_received", "people_using", "followups_missed"):
        totals[name] = None
    for row in rows:
        for name in _SUM_FIELDS:
            value = getattr(row, name)
            if value is None:
                continue
            totals[name] = (totals[name] or 0) + value
    return totals


def _pace(province: Province | None, as_of: dt.date) -> float:
    """Average books created per day over the 30 days ending `as_of` (one query)."""
    qs = ProvinceDayRollup.objects.filter(day__gt=as_of - dt.timedelta(days=30), day__lte=as_of)
    if province is not None:
        qs = qs.filter(province=province)
    return (qs.aggregate(n=Sum("books_new"))["n"] or 0) / 30


def kpis(totals: dict, targets: Targets, *, as_of: dt.date, pace: float) -> dict:
    """The KPI tiles: each value with its target, the share reached and where both come from."""
    population = targets.population.population if targets.population else None
    books_target = targets.books.books_target if targets.books else None
    days_left = max((TARGET_YEAR_END - as_of).days, 0)
    needed = max((books_target or 0) - totals["books_total"], 0)
    public_active, private_active = totals["facilities_public_active"], totals["facilities_private_active"]
    return {
        "books": totals["books_total"],
        "books_new": totals["books_new"],
        "population": population,
        "population_row": targets.population,
        "coverage_pct": pct(totals["books_total"], population),
        "per_10k": per_10k(totals["books_total"], population),
        "books_target": books_target,
        "books_target_row": targets.books,
        "books_target_pct": pct(totals["books_total"], books_target),
        "valid_card": totals["citizens_valid_card"],
        "valid_card_pct": pct(totals["citizens_valid_card"], population),
        "users": totals["people_using"],
        "users_target": targets.users.users_target if targets.users else None,
        "users_target_row": targets.users,
        # developer provenance of the rows above, for the administrators' technical note only
        "source_notes": list(
            dict.fromkeys(
                r.source_note for r in (targets.population, targets.books, targets.users) if r and r.source_note
            )
        ),
        "users_pct": pct(totals["people_using"], targets.users.users_target if targets.users else None),
        "public_connected": totals["facilities_public_connected"],
        "public_active": public_active,
        "public_connected_pct": pct(totals["facilities_public_connected"], public_active),
        "private_connected": totals["facilities_private_connected"],
        "private_active": private_active,
        "private_connected_pct": pct(totals["facilities_private_connected"], private_active),
        "facilities_target_pct": targets.facilities.facilities_connected_target_pct if targets.facilities else None,
        "facilities_target_row": targets.facilities,
        "public_sending_7d": totals["facilities_public_sending_7d"],
        "private_sending_7d": totals["facilities_private_sending_7d"],
        "sending_7d": totals["facilities_sending_7d"],
        "sending_30d": totals["facilities_sending_30d"],
        "silent": totals["facilities_silent"],
        "pending": totals["facilities_pending"],
        "followups_missed": totals["followups_missed"],
        "pace_per_day": round(pace, 1),
        "days_left": days_left,
        "needed_per_day": round(needed / days_left, 1) if days_left else None,
        "projected_2030": totals["books_total"] + round(pace * days_left),
        "projected_2030_pct": pct(totals["books_total"] + pace * days_left, books_target),
    }


def kpi_table(k: dict) -> Table:
    def val(v):
        return "" if v is None else v

    rows = [
        [_("Books created"), k["books"], val(k["population"]), val(k["coverage_pct"])],
        [_("Books vs the 2030 target"), k["books"], val(k["books_target"]), val(k["books_target_pct"])],
        [_("Citizens with a valid insurance card"), k["valid_card"], val(k["population"]), val(k["valid_card_pct"])],
        [_("People using the book"), val(k["users"]), val(k["users_target"]), val(k["users_pct"])],
        [_("Public facilities connected"), k["public_connected"], k["public_active"], val(k["public_connected_pct"])],
        [
            _("Private facilities connected"),
            k["private_connected"],
            k["private_active"],
            val(k["private_connected_pct"]),
        ],
        [
            _("Facilities sending data in the last 7 days"),
            k["sending_7d"],
            k["public_active"] + k["private_active"],
            val(pct(k["sending_7d"], k["public_active"] + k["private_active"])),
        ],
        [_("Silent facilities"), k["silent"], "", ""],
        [_("Pending registrations"), k["pending"], "", ""],
        [_("Missed follow-ups"), val(k["followups_missed"]), "", ""],
        [_("Books per day (last 30 days)"), k["pace_per_day"], val(k["needed_per_day"]), ""],
        [
            _("Books projected by end of 2030 at this pace"),
            k["projected_2030"],
            val(k["books_target"]),
            val(k["projected_2030_pct"]),
        ],
    ]
    return Table(
        "kpis",
        _("Key figures"),
        [
            ("indicator", _("Indicator")),
            ("value", _("Value")),
            ("against", _("Target or denominator")),
            ("pct", _("%")),
        ],
        rows,
    )


def trend(*, start: dt.date, end: dt.date, province: Province | None = None) -> Table:
    """One row per day in the range: the national (or one province's) sums (one query)."""
    qs = ProvinceDayRollup.objects.filter(day__gte=start, day__lte=end)
    if province is not None:
        qs = qs.filter(province=province)
    keys = ["books", "books_new", "valid_card", "connected", "sending_7d", "silent", "received", "accepted", "rejected"]
    rows = (
        qs.values("day")
        .annotate(
            books=Sum("books_total"),
            books_new=Sum("books_new"),
            valid_card=Sum("citizens_valid_card"),
            connected=Sum("facilities_connected"),
            sending_7d=Sum("facilities_sending_7d"),
            silent=Sum("facilities_silent"),
            received=Sum("submissions_received"),
            accepted=Sum("submissions_accepted"),
            rejected=Sum("submissions_rejected"),
        )
        .order_by("day")
        .values_list("day", *keys)  # tuples: a 730-day range is 730 rows
    )
    return Table(
        "trend",
        _("Trend over time"),
        [
            ("day", _("Day")),
            ("books", _("Books created")),
            ("books_new", _("New books")),
            ("valid_card", _("Citizens with a valid card")),
            ("connected", _("Facilities connected")),
            ("sending_7d", _("Facilities sending data in the last 7 days")),
            ("silent", _("Silent facilities")),
            ("received", _("Submissions received")),
            ("accepted", _("Accepted")),
            ("rejected", _("Rejected")),
        ],
        [list(r) for r in rows],
    )


def page_table(table: Table) -> Table:
    """The trend table as a page shows it: the last PAGE_TREND_ROWS days, newest first."""
    if len(table.rows) <= PAGE_TREND_ROWS:
        return Table(table.key, table.title, table.columns, table.rows[::-1], table.note)
    return Table(
        table.key,
        table.title,
        table.columns,
        table.rows[: -PAGE_TREND_ROWS - 1 : -1],
        _("The last 31 days, newest first; the chart and the export cover the whole range."),
    )


def chart_series(table: Table, *, books_target: int | None, as_of: dt.date | None) -> dict:
    """Series for the trend charts, with the straight path from the last day to the 2030 target."""
    days = [row[0] for row in table.rows]
    series = {
        "labels": [d.strftime("%d/%m/%Y") for d in days],
        "books": [row[1] for row in table.rows],
        "sending_7d": [row[5] for row in table.rows],
        "silent": [row[6] for row in table.rows],
        "accepted": [row[8] for row in table.rows],
        "rejected": [row[9] for row in table.rows],
        "trajectory": [],
    }
    if books_target and days and as_of:
        last = table.rows[-1][1]
        span = max((TARGET_YEAR_END - days[-1]).days, 1)
        series["trajectory"] = [
            round(last + (books_target - last) * max((d - days[-1]).days, 0) / span) if d >= days[-1] else None
            for d in days
        ]
    return series


def rejection_reasons(*, start: dt.date, end: dt.date, province: Province | None) -> Table:
    """Top rejection reasons in the range (one query); national view includes national batches."""
    qs = RejectionReasonDay.objects.filter(day__gte=start, day__lte=end)
    if province is not None:
        qs = qs.filter(province=province)
    rows = qs.values("source", "code").annotate(n=Sum("count")).order_by("-n", "code")[:LIST_LIMIT]
    labels = dict(RejectionReasonDay.Source.choices)
    from healthbook.cards.problems import message_for
    from healthbook.intake.problems import MESSAGES as SUBMISSION_MESSAGES

    def reason(source: str, code: str) -> str:
        if source == RejectionReasonDay.Source.SUBMISSION:
            if code == UNRECORDED_REASON:
                return str(_("No reason recorded"))
            return str(SUBMISSION_MESSAGES.get(code, code))
        return str(message_for(code))

    return Table(
        "rejections",
        _("Top rejection reasons"),
        [("source", _("Source")), ("code", _("Reason code")), ("reason", _("Reason")), ("count", _("Count"))],
        [[labels.get(r["source"], r["source"]), r["code"], reason(r["source"], r["code"]), r["n"]] for r in rows],
        note=_(
            "Rejected data submissions by their first error (they add up to the rejections of the trend) and "
            "rejected rows of insurance card imports."
        ),
    )


def _ranking(rows: list[ProvinceDayRollup], province_targets: dict[int, Targets]) -> tuple[Table, dict, list[dict]]:
    """The ranking table of the provinces, the values of the map's tiles and the map's legend."""
    ranking, tiles, exact = [], {}, {}
    for row in rows:
        t = province_targets.get(row.province_id)
        population = t.population.population if t and t.population else None
        coverage = pct(row.books_total, population)
        exact[row.province.code] = row.books_total / population if population else None
        connected = row.facilities_public_connected + row.facilities_private_connected
        ranking.append(
            [
                row.province.code,
                row.province.name_vi,
                row.books_total,
                population or "",
                per_10k(row.books_total, population),
                coverage,
                row.citizens_valid_card,
                connected,
                row.facilities_active,
                pct(connected, row.facilities_active),
                row.facilities_sending_7d,
                row.facilities_silent,
                row.facilities_pending,
            ]
        )
        tiles[row.province.code] = {
            "coverage": coverage,
            "per_10k": per_10k(row.books_total, population),
            "name": row.province.name_vi,
            "books": row.books_total,
        }
    # The exact ratio, never the rounded figure: at rollout levels most provinces round alike.
    ranking.sort(key=lambda r: (-(exact[r[0]] if exact[r[0]] is not None else -1.0), r[0]))
    values = [v * 10_000 for v in exact.values() if v is not None]
    breaks = quantile_breaks(values)
    for code, tile in tiles.items():
        ratio = exact[code]
        tile["class"] = quantile_class(ratio * 10_000, breaks) if ratio is not None else None
    ranking_table = Table(
        "ranking",
        _("Provinces ranked by coverage"),
        [
            ("code", _("Code")),
            ("province", _("Province")),
            ("books", _("Books created")),
            ("population", _("Approximate population")),
            ("per_10k", _("Books per 10,000 people")),
            ("coverage", _("Coverage (%)")),
            ("valid_card", _("Citizens with a valid card")),
            ("connected", _("Facilities connected")),
            ("active", _("Facilities approved")),
            ("connected_pct", _("Connected (%)")),
            ("sending_7d", _("Sending data in the last 7 days")),
            ("silent", _("Silent")),
            ("pending", _("Pending registrations")),
        ],
        [[i + 1] + r for i, r in enumerate(ranking)],
    )
    ranking_table.columns.insert(0, ("rank", _("Rank")))
    return ranking_table, tiles, map_legend(values, breaks)


def national(*, start: dt.date, end: dt.date, only: str | None = None) -> dict:
    """Everything on the national dashboard (seven queries). An export passes `only` (kpis,
    ranking, trend or rejections) and gets that table alone, without the queries of the others."""
    data: dict = {}
    if only in (None, "kpis", "ranking"):
        as_of = latest_day(end=end)
        national_targets, province_targets = targets_by_province(end.year)
        rows = list(ProvinceDayRollup.objects.filter(day=as_of).select_related("province").order_by("province__code"))
        data["as_of"] = as_of
        if only in (None, "kpis"):
            k = kpis(_totals(rows), national_targets, as_of=as_of or end, pace=_pace(None, as_of) if as_of else 0)
            data.update(kpis=k, kpi_table=kpi_table(k))
        if only in (None, "ranking"):
            data["ranking"], data["tiles"], data["legend"] = _ranking(rows, province_targets)
    if only in (None, "trend"):
        data["trend"] = trend(start=start, end=end)
    if only in (None, "rejections"):
        data["rejections"] = rejection_reasons(start=start, end=end, province=None)
    if only is None:
        data["trend_page"] = page_table(data["trend"])
        data["chart"] = chart_series(data["trend"], books_target=data["kpis"]["books_target"], as_of=as_of)
    return data


def province(*, province: Province, start: dt.date, end: dt.date, full: bool = False, only: str | None = None) -> dict:
    """Everything on one province's dashboard (eleven queries). Lists are capped on the page;
    an export passes `full` for every row and `only` (the table's key) to skip the others."""
    limit = None if full else LIST_LIMIT

    def want(key: str) -> bool:
        return only is None or only == key

    # The last day with rollups and its row, in one indexed step back from `end`.
    row = ProvinceDayRollup.objects.filter(province=province, day__lte=end).order_by("-day").first()
    as_of = row.day if row else None
    data: dict = {"as_of": as_of}
    if want("kpis"):
        _national, province_targets = targets_by_province(end.year)
        targets = province_targets.get(province.pk) or Targets(None, None, None, None)
        k = kpis(
            _totals([row] if row else []), targets, as_of=as_of or end, pace=_pace(province, as_of) if as_of else 0
        )
        data.update(kpis=k, kpi_table=kpi_table(k))
    if want("trend"):
        data["trend"] = trend(start=start, end=end, province=province)
    day_rows = FacilityDayRollup.objects.filter(province=province, day=as_of)
    if want("facilities"):
        data["breakdown"] = breakdown(day_rows)
    if want("completeness"):
        data["completeness"] = completeness(day_rows, limit=limit)
    if want("silent"):
        data["silent"] = silent(day_rows, limit=limit)
    if want("connectivity"):
        data["connectivity"] = connectivity(province=province, as_of=as_of, limit=limit)
    if want("pending"):
        data["pending"] = pending(day_rows, limit=limit)
    if want("rejections"):
        data["rejections"] = rejection_reasons(start=start, end=end, province=province)
    if only is None:
        data["trend_page"] = page_table(data["trend"])
        data["chart"] = chart_series(data["trend"], books_target=data["kpis"]["books_target"], as_of=as_of)
    return data
