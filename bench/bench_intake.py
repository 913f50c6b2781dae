"""Intake parsing benchmark (run by hand; see bench/RESULTS.md "Intake parsing").

    python bench/bench_intake.py [--citizens 100] [--visits-per-citizen 4] [--labs 20] [--drugs 5]

Generates signed envelopes with a fresh test PKI in a temp dir, then times, in this one
process: (a) baseline = the hardened lxml parse of each envelope only (envelope.load), and
(b) the full path = parse + XML-DSig verification + base64 decoding + every table parsed and
checked against the spec + mapping to records (pipeline.read_xml_submission).  Prints
visits/s for both and their ratio.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))


def main(argv=None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--citizens", type=int, default=100)
    ap.add_argument("--visits-per-citizen", type=int, default=4)
    ap.add_argument("--labs", type=int, default=20)
    ap.add_argument("--drugs", type=int, default=5)
    ap.add_argument("--rounds", type=int, default=3)
    a = ap.parse_args(argv)
    from healthbook.intake import envelope
    from healthbook.intake.demo.pki import make_pki
    from healthbook.intake.demo.submissions import generate
    from healthbook.intake.pipeline import read_xml_submission

    with tempfile.TemporaryDirectory() as tmp:
        pki = make_pki(Path(tmp) / "pki")
        leaf = pki["valid"]
        generate(
            facility="01001",
            key_pem=leaf.key_path.read_bytes(),
            cert_pem=leaf.cert_path.read_bytes(),
            citizens=a.citizens,
            visits_per_citizen=a.visits_per_citizen,
            labs=a.labs,
            drugs=a.drugs,
            out=Path(tmp) / "out",
            fmt="xml",
        )
        bodies = [p.read_bytes() for p in sorted((Path(tmp) / "out" / "xml").glob("*.xml"))]
    visits = a.citizens * a.visits_per_citizen
    size = sum(map(len, bodies))
    best_base = best_full = float("inf")
    for _ in range(a.rounds):
        t0 = time.perf_counter()
        for b in bodies:
            envelope.load(b)
        best_base = min(best_base, time.perf_counter() - t0)
        t0 = time.perf_counter()
        for b in bodies:
            r = read_xml_submission(b, facility_code="01001", certificates=[leaf.cert])
            assert r.ok and len(r.visits) == a.visits_per_citizen, r.problems[:3]
        best_full = min(best_full, time.perf_counter() - t0)
    print(f"envelopes={len(bodies)} visits={visits} labs/visit={a.labs} drugs/visit={a.drugs} bytes={size}")
    print(f"baseline (hardened parse only): {visits / best_base:,.0f} visits/s")
    print(f"full (parse+verify+decode+check+map): {visits / best_full:,.0f} visits/s")
    print(f"ratio full/baseline: {best_base / best_full:.3f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
