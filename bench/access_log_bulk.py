"""How long the access log takes to record a public-health line list (one entry per person,
issue 20): `entries_append_many` (250 entries per transaction, their INSERT + head advance pairs in
one round trip) for 1,000 / 5,000 / 20,000 people, against the same number of single appends
(`entry_append`, one transaction each), in the same run; then the chain is verified.

    DATABASE_URL=postgres://…/a_migrated_db python bench/access_log_bulk.py
"""

import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.test_settings")

import django  # noqa: E402

django.setup()

from accesslog.chain import chain_verify, entries_append_many, entry_append  # noqa: E402


def row(n: int) -> dict:
    return {
        "actor_kind": "person",
        "actor_username": "bench.ytcc",
        "actor_role": "public_health_officer",
        "citizen_id": n,
        "event": "cohort_list",
        "viewed": "cohort:follow_up:Người tăng huyết áp quá hạn tái khám",
        "purpose": "PUBHLTH",
        "outcome": 0,
        "details": {"cohort": "hypertension-follow-up-missed", "purpose": "follow_up", "purpose_text": "bench"},
    }


def main():
    print("| people listed | bulk append (250 per transaction) | single appends | ratio |")
    print("| ---: | ---: | ---: | ---: |")
    for n in (1000, 5000, 20000):
        start = time.perf_counter()
        entries_append_many([row(i) for i in range(n)])  # as the line list calls it: chunks of its own
        bulk = time.perf_counter() - start
        singles = min(n, 1000)
        start = time.perf_counter()
        for i in range(singles):
            entry_append(row(i))
        single = (time.perf_counter() - start) * n / singles
        print(
            f"| {n:,} | {bulk:.2f} s | {single:.1f} s{'' if singles == n else ' (extrapolated)'} | {single / bulk:.0f}× |"
        )
    start = time.perf_counter()
    result = chain_verify()
    print(f"\nchain_verify: {result.line()} in {time.perf_counter() - start:.1f} s")


if __name__ == "__main__":
    main()
