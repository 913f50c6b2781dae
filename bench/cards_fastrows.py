#!/usr/bin/env python
"""Micro-benchmark: the fast path of card-row validation (healthbook.cards.fastrows) per record.

    python bench/cards_fastrows.py FILE.csv [--rows 200000]

Reads the first ROWS records of a generated card file (bench/gen_cards.py, e.g. the batch file
of bench/cards_import.py), then times FastValidator over them, best of five passes, and the
name forms alone with the name cache emptied before each pass, against the same work uncached
(baseline in the same run). Run it from two checkouts in turn to compare code (bench/RESULTS.md,
"Eleventh session"). No database is used.
"""

import argparse
import csv
import os
import sys
import time
from datetime import date
from itertools import islice
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.test_settings")


def best_of(passes, fn) -> float:
    best = float("inf")
    for _ in range(passes):
        started = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - started)
    return best


def bench_context():
    """The rows' context of the card micro-benchmarks, without a database (after django.setup()):
    every two-digit province code, no code list or facility registry but one facility."""
    from healthbook import identifiers as ids
    from healthbook.cards.rows import RowContext

    provinces = frozenset(f"{n:02d}" for n in range(1, 100))
    return RowContext(
        refs=ids.ReferenceSets.defaults(new_province_codes=provinces),
        today=date.today(),
        province_ids={code: i for i, code in enumerate(sorted(provinces))},
        old_to_new={},
        known_facilities=frozenset({"79001"}),
        ethnicity_codes=None,
        scope_province_code=None,
    )


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("file")
    parser.add_argument("--rows", type=int, default=200_000)
    args = parser.parse_args()
    import django

    django.setup()
    from healthbook.cards import fastrows

    ctx = bench_context()
    with open(args.file, newline="", encoding="utf-8") as fh:
        reader = csv.reader(fh)
        header = next(reader)
        records = list(islice(reader, args.rows))
    validator = fastrows.FastValidator(ctx, dict(enumerate(header)))
    accepted = sum(validator(i, cells) is not None for i, cells in enumerate(records))

    def validate():
        for i, cells in enumerate(records):
            validator(i, cells)

    per_record = best_of(5, validate) / len(records) * 1e6
    print(f"fast validator: {per_record:.2f} us a record ({accepted:,} of {len(records):,} taken by the fast path)")
    forms = getattr(fastrows, "_name_forms", None)
    if forms is not None:
        names = [cells[header.index("HO_TEN")] for cells in records]
        uncached = best_of(5, lambda: [forms.__wrapped__(n) for n in names]) / len(names) * 1e6

        def cached():
            forms.cache_clear()
            for n in names:
                forms(n)

        print(
            f"name forms: {best_of(5, cached) / len(names) * 1e6:.2f} us a name cached (emptied first), "
            f"{uncached:.2f} uncached; {len(set(names)):,} distinct names"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
