"""Small-cell suppression (cohorts.suppression.suppress, the one function every counts page and
export uses): no count of 1 to 4 is shown, and none can be recovered from the totals shown.

The attacker of these tests knows what the page shows: "< 5" cells are 1 to 4, "×" cells are 0
or at least 5, shown cells and totals are exact. Two checks: by subtraction along each row and
column (a lone hidden cell in a line with a shown total), and by exhaustive search on small
tables (every assignment of the hidden cells consistent with every shown total)."""

import itertools
import random

import pytest

from cohorts.suppression import suppress


def shown(cell):
    return None if cell.suppressed else cell.value


def lines(table, row_totals, column_totals):
    out = []
    if row_totals:
        out += [(row, table.row_totals[i]) for i, row in enumerate(table.cells)]
    if column_totals:
        width = len(table.cells[0])
        out += [([row[j] for row in table.cells], table.column_totals[j]) for j in range(width)]
    if table.total is not None:
        if column_totals and len(table.column_totals) > 1:
            out.append((table.column_totals, table.total))
        if row_totals and len(table.row_totals) > 1:
            out.append((table.row_totals, table.total))
    return out


def assert_no_subtraction_recovers(table, row_totals=False, column_totals=True):
    for cells, margin in lines(table, row_totals, column_totals):
        hidden = [c for c in [*cells, margin] if c.suppressed]
        assert len(hidden) != 1, "a lone hidden cell in a line is total minus the others"


def candidates(cell, cap):
    if cell.state == "small":
        return range(1, 5)
    if cell.state == "hidden":
        return [0, *range(5, cap + 1)]
    return [cell.value]


def assert_no_search_recovers(table, row_totals=False, column_totals=True):
    """Every small cell keeps at least two possible values under every shown total."""
    everything = [c for row in table.cells for c in row]
    everything += (table.row_totals or []) + (table.column_totals or []) + ([table.total] if table.total else [])
    hidden = [c for c in everything if c.suppressed]
    cap = max(c.value for c in everything) + 5
    possible = {id(c): set() for c in hidden}
    for values in itertools.product(*(candidates(c, cap) for c in hidden)):
        guess = {id(c): v for c, v in zip(hidden, values, strict=True)}

        def val(c, guess=guess):
            return guess.get(id(c), c.value)

        if all(sum(val(c) for c in cells) == val(margin) for cells, margin in lines(table, row_totals, column_totals)):
            for c, v in zip(hidden, values, strict=True):
                possible[id(c)].add(v)
    for c in hidden:
        if c.state == "small":
            assert len(possible[id(c)]) >= 2, (c, possible[id(c)])


def test_small_counts_read_less_than_five_and_zero_and_five_show():
    table = suppress([[0], [1], [4], [5], [12]])
    assert [row[0].export() for row in table.cells] == [0, "< 5", "< 5", 5, 12]
    assert table.column_totals[0].export() == 22


def test_a_lone_small_cell_in_a_column_hides_the_next_smallest():
    table = suppress([[3], [40], [7], [100]])
    assert [row[0].export() for row in table.cells] == ["< 5", 40, "×", 100]
    assert table.column_totals[0].export() == 150
    assert_no_subtraction_recovers(table)
    assert_no_search_recovers(table)


def test_two_small_cells_that_sum_to_a_known_pair_get_a_third():
    # 1 + 1 = 2 would pin both down: a third cell is hidden
    table = suppress([[1], [1], [30], [50]])
    assert sum(row[0].suppressed for row in table.cells) == 3
    assert_no_search_recovers(table)


def test_a_small_total_is_suppressed_too():
    table = suppress([[0], [3], [0]])
    assert table.column_totals[0].export() == "< 5"


def test_two_dimensional_with_row_and_column_totals():
    counts = [[2, 10, 8], [7, 0, 9], [12, 6, 3]]
    table = suppress(counts, row_totals=True, column_totals=True)
    assert table.cells[0][0].text == "< 5" and table.cells[2][2].text == "< 5"
    assert_no_subtraction_recovers(table, row_totals=True, column_totals=True)


@pytest.mark.parametrize("seed", range(40))
def test_random_columns_never_give_a_small_cell_away(seed):
    rng = random.Random(seed)
    counts = [[rng.choice([0, 1, 2, 3, 4, 5, 6, 9, 15, 40])] for _ in range(rng.randint(1, 7))]
    table = suppress(counts)
    assert all(not (1 <= c.value <= 4) or c.suppressed for row in table.cells for c in row)
    assert_no_subtraction_recovers(table)
    assert_no_search_recovers(table)


@pytest.mark.parametrize("seed", range(25))
def test_random_grids_never_give_a_small_cell_away(seed):
    rng = random.Random(1000 + seed)
    counts = [[rng.choice([0, 1, 2, 3, 6, 8, 12]) for _ in range(3)] for _ in range(rng.randint(2, 3))]
    table = suppress(counts, row_totals=False, column_totals=True, grand_total=False)
    assert all(not (1 <= c.value <= 4) or c.suppressed for row in table.cells for c in row)
    assert_no_subtraction_recovers(table)
    assert_no_search_recovers(table)
