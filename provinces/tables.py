"""A figure as the pages and exports show it: a `Table` (title, columns, rows)."""

from dataclasses import dataclass, field

# Short lists on a page stop at this many rows (exports list everything).
LIST_LIMIT = 50


@dataclass
class Table:
    key: str
    title: str
    columns: list[tuple[str, str]]
    rows: list[list] = field(default_factory=list)
    note: str = ""


def pct(part, whole) -> float | None:
    if part is None or not whole:
        return None
    return round(100.0 * part / whole, 1)


def per_10k(part, whole) -> float | None:
    """Per 10,000 (people): small coverage stays readable (0.004 % is 0.4 per 10,000)."""
    if part is None or not whole:
        return None
    return round(10_000.0 * part / whole, 2)
