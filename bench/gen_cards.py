#!/usr/bin/env python
"""Generate BHYT card batch files (CSV or XLSX) for import tests and benchmarks: the command line
of healthbook/cards/demo (its docstring says what the files hold and guarantee).

    python bench/gen_cards.py --rows 1000000 --seed 7 --bad-share 0.05 \\
        --out var/cards-7.csv --emit-expected var/cards-7.expected.json
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from healthbook.cards.demo.generate import generate  # noqa: E402


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--rows", type=int, required=True)
    p.add_argument("--seed", type=int, required=True)
    p.add_argument("--bad-share", type=float, default=0.0)
    p.add_argument("--format", choices=("csv", "xlsx"), default="csv")
    p.add_argument("--out", default=None, help="output file (CSV: default stdout)")
    p.add_argument(
        "--as-of",
        default="2026-01-01",
        help="reference 'today' for ages, card validity and future births (fixed default keeps output deterministic)",
    )
    p.add_argument("--existing-share", type=float, default=0.0)
    p.add_argument("--existing-seed", type=int, default=None)
    p.add_argument("--existing-rows", type=int, default=None, help="rows of the earlier file (default: --rows)")
    p.add_argument("--existing-change-share", type=float, default=0.0)
    p.add_argument("--delimiter", default=",", help="CSV delimiter (default ',')")
    p.add_argument("--bom", action="store_true", help="write a UTF-8 BOM (Excel)")
    p.add_argument("--emit-expected", default=None, metavar="FILE")
    p.add_argument("--quiet", action="store_true")
    return p


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    for name in ("bad_share", "existing_share", "existing_change_share"):
        if not 0.0 <= getattr(args, name) <= 1.0:
            raise SystemExit(f"--{name.replace('_', '-')} must be between 0 and 1")
    if args.bad_share + args.existing_share > 1.0:
        raise SystemExit("--bad-share + --existing-share must be <= 1")
    if args.existing_rows is None and args.existing_share:
        args.existing_rows = args.rows
    result = generate(args)
    if not args.quiet:
        c = result["counts"]
        secs = result["seconds"]
        rate = c["rows"] / secs if secs else 0.0
        print(
            f"rows={c['rows']} accepted={c['accepted']} rejected={c['rejected']} "
            f"existing={c['existing']} in {secs:.2f}s ({rate:.0f} rows/s)",
            file=sys.stderr,
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
