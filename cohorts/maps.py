"""The commune map of a cohort's page (issue 20, point 2: "tables, trend, map"): a server-rendered
SVG of the province, one disc per commune at its approximate centre with the commune's area,
shaded by the members the communes table shows. The values are the table's, already through the
one suppression (cohorts.counts.communes_table → cohorts.suppression.suppress): a "< 5" or "×"
commune is drawn hatched, never shaded by its count.

Points, not boundaries: the vendored file (geo.selectors.commune_point) gives each commune a
centre and an area, not its outline; no openly licensed boundary file of the communes in force
since 1 July 2025 was installable (geo/data/SOURCE.md)."""

import html
import math
from dataclasses import dataclass, field

from django.utils.formats import localize
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _

from geo.models import Commune, Province
from geo.selectors import commune_point
from provinces.tables import Table

WIDTH = 600
MAX_HEIGHT = 640
MIN_RADIUS = 2.5  # px: a small urban ward stays visible
KM_PER_DEGREE = 111.2
SUPPRESSED = {"< 5": "small", "×": "hidden"}
CLASSES = 4


@dataclass
class Disc:
    code: str
    name: str
    cx: float
    cy: float
    r: float
    value: object  # the table's value: a number, "< 5" or "×"
    shade: str  # css class (coverage-1..4, coverage-none) or "small" / "hidden" (hatched)


@dataclass
class CommuneMap:
    width: int
    height: int
    discs: list[Disc]
    legend: list[tuple[str, str]] = field(default_factory=list)  # (shade, label)
    unplaced: int = 0  # communes of the province without a point in the vendored file

    def svg_discs(self) -> str:
        """The discs as SVG elements, joined in Python (a template loop over a province's
        communes cost more than the rest of the page); names escaped, values localised."""
        parts = []
        for d in self.discs:
            paint = f'fill="url(#hatch-{d.shade})"' if d.shade in ("small", "hidden") else f'class="{d.shade}"'
            value = html.escape(d.value) if isinstance(d.value, str) else localize(d.value)
            parts.append(
                f'<circle data-commune="{html.escape(d.code)}" data-shade="{d.shade}" cx="{d.cx}" cy="{d.cy}" '
                f'r="{d.r}" {paint}><title>{html.escape(d.name)} ({html.escape(d.code)}): {value}</title></circle>'
            )
        return mark_safe("\n".join(parts))  # noqa: S308 — every text above is escaped


def _nice(x: float) -> int:
    """The nearest of 1, 2, 5 × 10^k."""
    power = 10 ** math.floor(math.log10(x))
    return min((m * power for m in (1, 2, 5, 10)), key=lambda v: abs(v - x))


def _breaks(values: list[int]) -> list[int]:
    """Lower bounds of up to four classes of the shown counts (all ≥ 5), log-spaced, rounded."""
    if not values:
        return []
    top, low = max(values), 5
    edges = [low]
    for i in range(1, CLASSES):
        edge = _nice(low * (top / low) ** (i / CLASSES))
        if edge > edges[-1] and edge <= top:
            edges.append(edge)
    return edges


def _shade(value, edges: list[int]) -> str:
    if value in SUPPRESSED:
        return SUPPRESSED[value]
    if not value:
        return "coverage-none"
    index = sum(1 for edge in edges if value >= edge)
    return f"coverage-{max(index, 1)}"


def _legend(edges: list[int]) -> list[tuple[str, str]]:
    items = [("coverage-none", _("No member"))]
    for i, edge in enumerate(edges):
        nxt = edges[i + 1] if i + 1 < len(edges) else None
        label = f"{edge}–{nxt - 1}" if nxt else f"≥ {edge}"
        items.append((f"coverage-{i + 1}", label))
    items.append(("small", _("1 to 4 members (“< 5”)")))
    items.append(("hidden", _("Hidden so that a small count cannot be worked out (“×”)")))
    return items


def communes_map(province: Province, table: Table) -> CommuneMap | None:
    """The map of a communes table of `province` (None when no commune can be placed). One query:
    the province's communes (code, name)."""
    values = {row[0]: row[-1] for row in table.rows[:-1]}  # the last row is the total
    communes = list(Commune.objects.filter(province=province).order_by("code").values_list("code", "name_vi"))
    placed = []
    for code, name in communes:
        point = commune_point(province.code, code, name)
        if point is not None:
            radius_km = math.sqrt((point.area_km2 or 1.0) / math.pi)
            placed.append((code, name, point.lat, point.lon, radius_km / KM_PER_DEGREE, values.get(code, 0)))
    if not placed:
        return None
    squeeze = math.cos(math.radians(sum(p[2] for p in placed) / len(placed)))  # degrees of longitude
    west = min(p[3] * squeeze - p[4] for p in placed)
    east = max(p[3] * squeeze + p[4] for p in placed)
    north = max(p[2] + p[4] for p in placed)
    south = min(p[2] - p[4] for p in placed)
    scale = min(WIDTH / max(east - west, 1e-6), MAX_HEIGHT / max(north - south, 1e-6))
    edges = _breaks([v for *_, v in placed if isinstance(v, int) and v >= 5])
    discs = [
        Disc(
            code=code,
            name=name,
            cx=round((lon * squeeze - west) * scale, 1),
            cy=round((north - lat) * scale, 1),
            r=round(max(radius * scale, MIN_RADIUS), 1),
            value=value,
            shade=_shade(value, edges),
        )
        for code, name, lat, lon, radius, value in placed
    ]
    discs.sort(key=lambda d: -d.r)  # large rural communes first, small wards drawn on top
    return CommuneMap(
        width=math.ceil((east - west) * scale),
        height=math.ceil((north - south) * scale),
        discs=discs,
        legend=_legend(edges),
        unplaced=len(communes) - len(placed),
    )
