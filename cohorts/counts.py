"""The counts pages' tables: precomputed counts (cohorts.selectors) put through the one
suppression (cohorts.suppression.suppress), as `provinces.tables.Table`s that the pages render
and the exports write. No count reaches a page or an export any other way."""

from django.utils.translation import gettext as _

from cohorts import selectors
from cohorts.models import CohortRun, CohortVersion
from cohorts.suppression import Cell, column_for_page, suppress
from geo.models import Province
from provinces.tables import Table


def _note() -> str:
    return _(
        "Counts of 1 to 4 are shown as “< 5”; “×” hides another count so that a small one cannot be "
        "worked out from the totals."
    )


def _column(rows: list[tuple], key: str, title: str, columns: list) -> Table:
    """A list of (labels…, count) with its total: the counts suppressed with the total shown."""
    grid = suppress([[row[-1]] for row in rows], column_totals=True)
    body = [[*row[:-1], cells[0].export()] for row, cells in zip(rows, grid.cells, strict=True)]
    total = grid.column_totals[0].export() if rows else 0
    body.append([_("Total"), *[""] * (len(columns) - 2), total])
    return Table(key=key, title=title, columns=columns, rows=body, note=_note())


def communes_table(run: CohortRun, version: CohortVersion) -> Table:
    rows = [(code or "—", name or _("Commune not known"), n) for code, name, n in selectors.by_commune(run, version)]
    return _column(
        rows,
        "communes",
        _("Members by commune of residence"),
        [("code", _("Code")), ("commune", _("Commune")), ("members", _("Members"))],
    )


def facilities_table(run: CohortRun, version: CohortVersion, *, limit: int | None = None) -> Table:
    """Members by facility of last visit, suppressed as a whole table. With `limit` (the page;
    exports list every facility by code): the `limit` facilities with the most members shown,
    suppressed cells after them (cohorts.suppression.column_for_page). The job suppressed the
    table once for the run (cohorts.services); a run from before it did is suppressed here, alike."""
    counts = selectors.by_facility(run, version, limit=limit)
    if counts.rows and not counts.total[1]:
        counts = _suppressed_here(selectors.by_facility(run, version), limit)
    body = [
        [code or "—", name or _("No visit recorded"), Cell(n, cell).export()] for code, name, n, cell in counts.rows
    ]
    body.append([_("Total"), "", Cell(*counts.total).export() if counts.rows else 0])
    table = Table(
        key="facilities",
        title=_("Members by facility of last visit"),
        columns=[("code", _("Facility code")), ("facility", _("Facility")), ("members", _("Members"))],
        rows=body,
        note=_note(),
    )
    if limit is not None and counts.facilities > limit:
        table.note += " " + _(
            "The page lists the %(shown)s facilities with the most members (small counts last); the "
            "export lists all %(all)s."
        ) % {"shown": limit, "all": counts.facilities}
    return table


def _suppressed_here(every: selectors.FacilityCounts, limit: int | None) -> selectors.FacilityCounts:
    """What the job stores, worked out for a run from before it did (every facility, by code)."""
    cells, total, places = column_for_page([r[2] for r in every.rows], [r[0] or "—" for r in every.rows])
    rows = [(code, name, n, cell.state) for (code, name, n, _c), cell in zip(every.rows, cells, strict=True)]
    if limit is not None:
        rows = [row for _p, row in sorted(zip(places, rows, strict=True))][:limit]
    return selectors.FacilityCounts(rows=rows, total=(total.value, total.state), facilities=every.facilities)


def trend_table(province: Province, version: CohortVersion) -> Table:
    """Members of the cohort at each of the province's last runs (each run a count of its own:
    small ones suppressed, no total across runs)."""
    rows = selectors.trend(province, version.definition)
    grid = suppress([[n] for _as_of, _v, n in rows], column_totals=False)
    body = [[as_of, number, cells[0].export()] for (as_of, number, _n), cells in zip(rows, grid.cells, strict=True)]
    return Table(
        key="trend",
        title=_("Members at each run"),
        columns=[("as_of", _("As of")), ("version", _("Rule version")), ("members", _("Members"))],
        rows=body,
        note=_note(),
    )


def cohorts_table(run: CohortRun | None, versions: list[CohortVersion]) -> Table:
    """Every cohort's members in the province at its last run (cohorts overlap: no total)."""
    totals = selectors.province_totals(run)
    grid = suppress([[totals.get(v.pk, 0)] for v in versions], column_totals=False)
    body = [[v.name, v.number, cells[0].export()] for v, cells in zip(versions, grid.cells, strict=True)]
    return Table(
        key="cohorts",
        title=_("Cohorts"),
        columns=[("cohort", _("Cohort")), ("version", _("Rule version")), ("members", _("Members"))],
        rows=body,
        note=_note(),
    )


def national_table(provinces: list[Province], versions: list[CohortVersion]) -> Table:
    """Provinces × cohorts at each province's last run, with the national total of each cohort
    (column totals; no row totals, since cohorts overlap)."""
    totals = selectors.national_totals()
    counts = [[totals.get((p.pk, v.definition_id), 0) for v in versions] for p in provinces]
    grid = suppress(counts, column_totals=True, grand_total=False) if provinces and versions else None
    body = []
    if grid:
        for province, cells in zip(provinces, grid.cells, strict=True):
            body.append([province.code, province.name_vi, *[c.export() for c in cells]])
        body.append([_("Total"), "", *[c.export() for c in grid.column_totals]])
    return Table(
        key="national",
        title=_("Members by province"),
        columns=[("code", _("Code")), ("province", _("Province"))] + [(v.definition.key, v.name) for v in versions],
        rows=body,
        note=_note(),
    )
