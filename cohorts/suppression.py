"""Small-cell suppression: the one function every counts page and export uses.

A count of 1 to 4 is never shown: it reads "< 5" (primary suppression). Totals are shown, so a
lone hidden count in a row or column could be worked out by subtracting the others from the
total: such a line gets a second hidden cell, the smallest shown count in it (complementary
suppression, shown "×"), and this repeats until every line holds. A line is also given another
hidden cell when its hidden counts could still be pinned down by their sum (two hidden cells of
a line summing to 2 are both 1). When a line has no shown count left to hide, its total is hidden.

What an onlooker knows, and what the test assumes: a "< 5" cell is 1 to 4, a "×" cell is 0 or at
least 5, shown cells and totals are exact.
"""

from dataclasses import dataclass

SMALL_MAX = 4


@dataclass
class Cell:
    value: int
    state: str = "shown"  # shown | small ("< 5") | hidden ("×", complementary)

    @property
    def suppressed(self) -> bool:
        return self.state != "shown"

    @property
    def text(self) -> str:
        return {"small": "< 5", "hidden": "×"}.get(self.state, "")

    def export(self):
        """The value an export writes: the number, or the text of a suppressed cell."""
        return self.text if self.suppressed else self.value


@dataclass
class SuppressedTable:
    cells: list[list[Cell]]
    row_totals: list[Cell] | None
    column_totals: list[Cell] | None
    total: Cell | None


def _feasible(line: list[Cell]) -> set[int]:
    """Values 1..4 any small cell of the line may take given the line's total and its other
    cells (the same for every small cell of the line: the others are the same kinds of cell)."""
    margin = line[-1]
    if margin.suppressed:
        return {1, 2, 3, 4}
    rest = margin.value - sum(c.value for c in line[:-1] if not c.suppressed)
    small = sum(1 for c in line[:-1] if c.state == "small") - 1  # the others
    hidden = any(c.state == "hidden" for c in line[:-1])
    values = set()
    for v in range(1, SMALL_MAX + 1):
        need = rest - v
        if small <= need <= SMALL_MAX * small or (hidden and need >= small + SMALL_MAX + 1):
            values.add(v)
    return values


def _weak(line: list[Cell]) -> bool:
    hidden = [c for c in line if c.suppressed]
    if not hidden:
        return False
    if len(hidden) == 1:
        return True
    return any(c.state == "small" for c in line[:-1]) and len(_feasible(line)) <= 1


def _hide_another(line: list[Cell]) -> bool:
    candidates = [c for c in line[:-1] if not c.suppressed]
    if candidates:
        min(candidates, key=lambda c: (c.value == 0, c.value)).state = "hidden"
        return True
    if not line[-1].suppressed:
        line[-1].state = "hidden"
        return True
    return False


def suppress(
    counts: list[list[int]], *, row_totals: bool = False, column_totals: bool = True, grand_total: bool = True
) -> SuppressedTable:
    """Suppress a table of counts (rows × columns) shown with its row and/or column totals, and
    the grand total when both margins add up to one (`grand_total`; off when rows overlap)."""
    cells = [[Cell(int(v)) for v in row] for row in counts]
    width = len(cells[0]) if cells else 0
    rows_t = [Cell(sum(c.value for c in row)) for row in cells] if row_totals else None
    cols_t = [Cell(sum(row[j].value for row in cells)) for j in range(width)] if column_totals else None
    total = Cell(sum(c.value for row in cells for c in row)) if grand_total and (row_totals or column_totals) else None
    everything = [c for row in cells for c in row] + (rows_t or []) + (cols_t or []) + ([total] if total else [])
    for cell in everything:
        if 1 <= cell.value <= SMALL_MAX:
            cell.state = "small"
    lines: list[list[Cell]] = []  # interior cells, then the margin they add up to
    if row_totals:
        lines += [row + [rows_t[i]] for i, row in enumerate(cells)]
        if total and column_totals:
            lines.append(cols_t + [total])
        elif total and len(cells) > 1:
            lines.append(rows_t + [total])
    if column_totals:
        lines += [[row[j] for row in cells] + [cols_t[j]] for j in range(width)]
        if total and row_totals:
            lines.append(rows_t + [total])
        elif total and width > 1:
            lines.append(cols_t + [total])
    changed = True
    while changed:
        changed = False
        for line in lines:
            if _weak(line) and _hide_another(line):
                changed = True
    return SuppressedTable(cells=cells, row_totals=rows_t, column_totals=cols_t, total=total)


def column_for_page(values: list[int], keys: list[str]) -> tuple[list[Cell], Cell, list[int]]:
    """One column of counts shown with its total (a cohort's members by facility), suppressed, and
    each cell's place on a page that lists the largest first: shown cells by count, then the
    suppressed ones, each by its key — an order from what is shown only, so it tells nothing about
    a hidden count. Returns the cells, the total's cell and each cell's place (1 = first)."""
    grid = suppress([[v] for v in values], column_totals=True)
    cells = [row[0] for row in grid.cells]
    order = sorted(
        range(len(cells)),
        key=lambda i: (cells[i].suppressed, 0 if cells[i].suppressed else -cells[i].value, keys[i]),
    )
    places = [0] * len(cells)
    for place, i in enumerate(order, start=1):
        places[i] = place
    total = grid.column_totals[0] if cells else Cell(0)
    return cells, total, places
