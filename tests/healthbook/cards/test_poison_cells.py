"""Issue 15, attack 14: a NUL in one cell of a card file is a problem row
for that row only, with its line, column and reason; every other row is imported."""

import pytest

from healthbook.models import CardBatch, Citizen
from tests.healthbook.conftest import card_csv, person

pytestmark = pytest.mark.django_db

POISONED = ["HO_TEN", "DIA_CHI", "MA_THE_BHYT", "MA_SO_BHXH", "SO_CCCD", "NGAY_SINH", "MA_DKBD", "GT_THE_TU"]


def test_a_nul_in_one_cell_rejects_that_row_only(import_file, proof):
    row = proof.row("T14", "A NUL in one cell of a card file (CSV, each of 8 columns in turn)")
    rows, poisoned_lines = [], {}
    for i, column in enumerate(POISONED):
        rows.append(person(2 * i + 1))
        poisoned = person(2 * i + 2)
        poisoned[column] = poisoned[column][:3] + "\x00" + poisoned[column][3:]
        rows.append(poisoned)
        poisoned_lines[len(rows) + 1] = column  # line 1 is the header
    batch = import_file(card_csv(rows))
    problems = {(p.line, p.column): p.code for p in batch.problems.all()}
    row.set(
        times=len(poisoned_lines),
        figure=f"{len(rows)} rows, {len(poisoned_lines)} poisoned: batch {batch.status}, "
        f"{batch.rows_accepted} imported, {batch.rows_rejected} problem rows",
    )
    assert batch.status == CardBatch.Status.DONE
    counts = (batch.rows_read, batch.rows_accepted, batch.rows_rejected)
    assert counts == (len(rows), len(POISONED), len(poisoned_lines))
    assert problems == {(line, column): "CELL_UNSTORABLE" for line, column in poisoned_lines.items()}
    assert Citizen.objects.count() == len(POISONED)
