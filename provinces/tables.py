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
