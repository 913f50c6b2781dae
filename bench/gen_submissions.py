"""Generate realistic signed XML 130 envelopes and FHIR bundles for one facility key: the command
line of healthbook/intake/demo/submissions.py (its docstring says what is written).

    python bench/gen_submissions.py --facility 01001 --key valid.key --cert valid.pem \\
        --citizens 100 --visits-per-citizen 3 --labs 20 --drugs 5 --out /tmp/subs \\
        [--format xml|fhir|both] [--seed 1]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from healthbook.intake.demo.submissions import generate  # noqa: E402


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description="Generate signed XML 130 envelopes and FHIR bundles.")
    ap.add_argument("--facility", required=True)
    ap.add_argument("--key", type=Path, required=True)
    ap.add_argument("--cert", type=Path, required=True)
    ap.add_argument("--citizens", type=int, default=10)
    ap.add_argument("--visits-per-citizen", type=int, default=3)
    ap.add_argument("--labs", type=int, default=20)
    ap.add_argument("--drugs", type=int, default=5)
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--format", choices=["xml", "fhir", "both"], default="both")
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args(argv)
    m = generate(
        facility=a.facility,
        key_pem=a.key.read_bytes(),
        cert_pem=a.cert.read_bytes(),
        citizens=a.citizens,
        visits_per_citizen=a.visits_per_citizen,
        labs=a.labs,
        drugs=a.drugs,
        out=a.out,
        fmt=a.format,
        seed=a.seed,
    )
    print(f"wrote {len(m['xml'])} XML envelopes and {len(m['fhir'])} FHIR bundles to {a.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
