"""The fast path of row validation (healthbook.cards.fastrows) gives, for every record, exactly
what the full validator gives: it accepts only rows the full rules accept without a problem
(a FACILITY_UNKNOWN warning aside) and builds the same staged row; anything else goes to the
full rules. Checked on generated files with many defects and on hand-made edge cases."""

import csv
import io
import random
from datetime import date

import pytest

from healthbook import identifiers as ids
from healthbook.cards import files
from healthbook.cards.fastrows import FastValidator
from healthbook.cards.pipeline import ChunkValidator
from healthbook.cards.rows import RowContext, validate_row
from tests.healthbook.conftest import person
from tests.healthbook.idrules import load_gen

TODAY = date(2026, 11, 26)
HEADER = [
    "MA_THE_BHYT",
    "MA_SO_BHXH",
    "SO_CCCD",
    "HO_TEN",
    "NGAY_SINH",
    "GIOI_TINH",
    "MA_DKBD",
    "GT_THE_TU",
    "GT_THE_DEN",
    "MATINH_CU_TRU",
    "MAXA_CU_TRU",
    "DIA_CHI",
    "MA_DANTOC",
    "MA_QUOCTICH",
    "DIEN_THOAI",
]
# Values the full rules treat in every way: blanks, spaces, Unicode digits, partial and odd dates…
ODD = [
    "",
    " ",
    " 79 ",
    "７９",
    "'79",
    "00",
    "0",
    "00000",
    "0000000000",
    "12345",
    "1234567890",
    "dn4797900000001",
    "DN4797900000001 ",
    "XX4797900000001",
    "DN6797900000001",
    "DN4007900000001",
    "DN4790000000000",
    "19850300",
    "19850000",
    "00001231",
    "19851332",
    "20990101",
    "18000101",
    "1985-03-12",
    "12/3/1985",
    "198503121230",
    "3",
    "9",
    "B1234567",
    "b1234567",
    "123456789",
    "079085200001",
    "079185200001",
    "999085200001",
    "01",
    "AB",
    "ABCD",
    "+84912345678",
    "0912-345-678",
    "Nguyá»…n",
    "a\u0000b",
    "x" * 300,
    "Nguyễn Văn An",
    "K",
    "79001",
]


def _context(known_facilities=frozenset({"79001"}), scope=None, ethnicity=frozenset({"01", "02", "K"})):
    provinces = frozenset(f"{n:02d}" for n in range(1, 100, 2))
    return RowContext(
        refs=ids.ReferenceSets.defaults(new_province_codes=provinces),
        today=TODAY,
        province_ids={code: i for i, code in enumerate(sorted(provinces))},
        old_to_new={"79": "79", "74": "79"},
        known_facilities=known_facilities,
        ethnicity_codes=ethnicity,
        scope_province_code=scope,
    )


def _records(rows):
    out = io.StringIO(newline="")
    writer = csv.writer(out)
    writer.writerow(HEADER)
    for row in rows:
        writer.writerow([row.get(h, "") for h in HEADER])
    data = out.getvalue().encode()
    fh = io.BytesIO(data)
    layout = files.inspect_file(fh, size=len(data))
    return layout, list(files.iter_cells(fh, layout))


def _same(ctx, layout, records):
    check = ChunkValidator(ctx, layout)
    assert check.fast is not None
    columns = [(int(i), key) for i, key in layout.columns.items()]
    fast_hits = 0
    for line, cells in records:
        got = check.row(line, cells)
        want = validate_row(line, files.cells_to_row(cells, columns), ctx)
        assert got[0] == want[0], (line, cells)
        assert [(p.code, p.field, p.value, p.severity) for p in got[1]] == [
            (p.code, p.field, p.value, p.severity) for p in want[1]
        ], (line, cells)
        fast_hits += cells is not None and check.fast(line, cells) is not None
    return fast_hits


def test_generated_rows_with_defects_agree():
    gen = load_gen()
    rows = [row for _i, row, _info in gen.iter_rows(rows=3000, seed=31, as_of=TODAY, bad_share=0.4)]
    layout, records = _records(rows)
    assert _same(_context(), layout, records) > 500  # the fast path did many of the valid rows


@pytest.mark.parametrize("scope", [None, "79", "01"])
def test_each_cell_replaced_by_odd_values_agrees(scope):
    rng = random.Random(5)
    rows = []
    for n in range(1, 400):
        row = person(n, MAXA_CU_TRU="26734", MA_DANTOC="01", MA_QUOCTICH="VN", DIEN_THOAI="0912345678")
        for key in rng.sample(HEADER, rng.choice((0, 1, 1, 2))):
            row[key] = rng.choice(ODD)
        rows.append(row)
    layout, records = _records(rows)
    hits = _same(_context(scope=scope), layout, records)
    assert hits > 50 if scope != "01" else hits == 0  # province 01 scope: every row is outside
    assert _same(_context(known_facilities=None, ethnicity=None), layout, records) > 50


def test_files_lacking_columns_and_short_records_agree():
    """The cells are picked by column position: a file without some columns (in another order) and
    records with fewer cells than the header give what the full rules give."""
    rng = random.Random(11)
    header = [h for h in HEADER if h not in ("MAXA_CU_TRU", "MA_DANTOC", "DIEN_THOAI")]
    rng.shuffle(header)
    out = io.StringIO(newline="")
    writer = csv.writer(out)
    writer.writerow(header)
    for n in range(1, 300):
        row = person(n, MA_QUOCTICH="VN")
        cells = [row.get(h, "") for h in header]
        writer.writerow(cells[: rng.choice((len(cells), len(cells), len(cells) - 1, len(cells) - 3, 2))])
    data = out.getvalue().encode()
    fh = io.BytesIO(data)
    layout = files.inspect_file(fh, size=len(data))
    records = list(files.iter_cells(fh, layout))
    assert any(len(cells) < len(header) for _line, cells in records if cells is not None)
    assert _same(_context(), layout, records) > 100


def test_fast_path_never_takes_a_row_with_a_warning_other_than_the_facility():
    ctx = _context()
    layout, records = _records([person(1, NGAY_SINH="18900101", SO_CCCD=""), person(2, MA_DKBD="79002")])
    fast = FastValidator(ctx, layout.columns)
    assert fast(*records[0]) is None  # BIRTH_TOO_OLD: the full rules report it
    staged, problems = fast(*records[1])
    assert [p.code for p in problems] == ["FACILITY_UNKNOWN"]
