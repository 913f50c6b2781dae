"""Make a throwaway test PKI (TEST ONLY): the command line of healthbook/intake/demo/pki.py.

python bench/make_test_pki.py --out /tmp/pki [--facility 01001] [--other 79001]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from healthbook.intake.demo.pki import make_pki  # noqa: E402


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description="Make a throwaway test PKI (TEST ONLY).")
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--facility", default="01001")
    ap.add_argument("--other", default="79001")
    args = ap.parse_args(argv)
    leaves = make_pki(args.out, facility=args.facility, other=args.other)
    for leaf in leaves.values():
        print(f"{leaf.name:14} {leaf.cert_path}  {leaf.key_path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
