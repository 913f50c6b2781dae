"""How long the access log takes to record a public-health line list (one entry per person,
issue 20): `entries_append_many` (BULK_CHUNK entries per transaction: one multi-row INSERT and
one head advance, migration 0006) for 1,000 / 5,000 / 20,000 people, against single appends
(`entry_append`, one transaction each, 1,000 timed and extrapolated), in the same run; then the
chain is verified.

    DATABASE_URL=postgres://…/a_migrated_db python bench/access_log_bulk.py [--legacy]

--legacy times instead the form used before migration 0006 (250 entries per transaction, an
INSERT and a head advance per entry, as the per-row triggers required), for a database still at
accesslog 0005: the "before" of a before/after run.
"""

import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.test_settings")

import django  # noqa: E402

django.setup()

from django.db import connection, transaction  # noqa: E402

from accesslog import chain  # noqa: E402
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


def legacy_append_many(rows: list[dict]) -> None:
    """The bulk append before migration 0006: 250 (INSERT + head advance) pairs per round trip."""
    entries = []
    for fields in rows:
        entry = {name: fields.get(name) for name in chain.FIELDS}
        entry["details"] = fields.get("details") or {}
        for text, limit in chain._MAX.items():
            entry[text] = (entry[text] or "")[:limit]
        entries.append(entry)
    for start in range(0, len(entries), 250):
        part = entries[start : start + 250]
        with transaction.atomic(), connection.cursor() as cur:
            cur.execute(chain._HEAD_SQL)
            head_seq, head_hash = cur.fetchone()
            for entry in part:
                chain._chain(entry, head_seq, head_hash)
                head_seq, head_hash = entry["seq"], entry["row_hash"]
            cur.execute("; ".join([chain._INSERT_SQL] * len(part)), [p for e in part for p in chain._insert_params(e)])


def main():
    legacy = "--legacy" in sys.argv
    append = legacy_append_many if legacy else entries_append_many
    form = "250 per transaction, per-entry INSERT + head advance" if legacy else f"{chain.BULK_CHUNK} per INSERT"
    start = time.perf_counter()
    for i in range(1000):
        entry_append(row(i))
    single = time.perf_counter() - start
    print(f"1,000 single appends: {single:.2f} s\n")
    print(f"| people listed | bulk append ({form}) | single appends (extrapolated) | ratio |")
    print("| ---: | ---: | ---: | ---: |")
    for n in (1000, 5000, 20000):
        start = time.perf_counter()
        append([row(i) for i in range(n)])  # as the line list calls it: transactions of its own
        bulk = time.perf_counter() - start
        print(f"| {n:,} | {bulk:.2f} s | {single * n / 1000:.1f} s | {single * n / 1000 / bulk:.0f}× |")
    start = time.perf_counter()
    result = chain_verify()
    print(f"\nchain_verify: {result.line()} in {time.perf_counter() - start:.1f} s")


if __name__ == "__main__":
    main()
