#!/usr/bin/env python
"""Benchmark: finding a citizen at scale (run after bench/cards_import.py has filled the DB).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/sskdt_books \\
        python bench/cards_search.py [--samples 300]

Samples citizens at random, then times the finder (healthbook.selectors) as the doctor pages
will call it, ORM hydration included: exact by personal ID, by social insurance number, by
card number; by name typed without diacritics, alone, with birth year, with birth year and
province. Baseline in the same run: a trivial `SELECT 1` round trip.
"""

import argparse
import os
import random
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.test_settings")


def pct(values, p):
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))] * 1000


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--samples", type=int, default=300)
    parser.add_argument("--seed", type=int, default=5)
    parser.add_argument("--slow-samples", type=int, default=40, help="samples for the first- and middle-word typo rows")
    args = parser.parse_args()
    import django

    django.setup()
    from django.db import connection

    from healthbook.book.finder import citizen_find_exact, citizens_find_by_name

    rng = random.Random(args.seed)
    with connection.cursor() as cur:
        cur.execute("SELECT count(*) FROM healthbook_citizen")
        total = cur.fetchone()[0]
        cur.execute("SELECT max(id) FROM healthbook_citizen")
        max_id = cur.fetchone()[0]
        ids = [rng.randrange(1, max_id + 1) for _ in range(args.samples * 2)]
        cur.execute(
            "SELECT c.personal_id, c.social_insurance_number, k.card_number, c.search_name, c.birth_year, "
            "c.residence_province_id FROM healthbook_citizen c JOIN healthbook_card k ON k.citizen_id = c.id "
            "WHERE c.id = ANY(%s) AND c.personal_id IS NOT NULL AND length(k.card_number) = 15 LIMIT %s",
            [ids, args.samples],
        )
        people = cur.fetchall()
    print(f"citizens in the database: {total:,}; sampled people: {len(people)}")

    def timed(fn, results=None):
        out = []
        for p in people:
            t = time.perf_counter()
            result = fn(p)
            out.append(time.perf_counter() - t)
            assert result, p
            if results is not None:
                results.append(result)
        return out

    def select_one(p):
        with connection.cursor() as cur:
            cur.execute("SELECT 1")
            return cur.fetchone()

    def top_hit(matches, p):
        return any(m.citizen.personal_id == p[0] for m in matches) or matches

    runs = {
        "baseline SELECT 1": select_one,
        "exact personal ID": lambda p: citizen_find_exact(identifier=p[0]),
        "exact social insurance number": lambda p: citizen_find_exact(identifier=p[1]),
        "exact card number": lambda p: citizen_find_exact(identifier=p[2]),
        "name only": lambda p: citizens_find_by_name(name=p[3]),
        "name + birth year": lambda p: top_hit(citizens_find_by_name(name=p[3], birth_year=p[4]), p),
        "name + birth year + province": lambda p: top_hit(
            citizens_find_by_name(name=p[3], birth_year=p[4], province_id=p[5]), p
        ),
        # A typo (last letter doubled) takes the trigram path.
        "typo: name only": lambda p: citizens_find_by_name(name=p[3] + p[3][-1]) or [None],
        "typo: name + birth year": lambda p: citizens_find_by_name(name=p[3] + p[3][-1], birth_year=p[4]) or [None],
        "typo: name + birth year + province": lambda p: (
            citizens_find_by_name(name=p[3] + p[3][-1], birth_year=p[4], province_id=p[5]) or [None]
        ),
    }

    def first_word_typo(name: str) -> str:
        # Two letters of the family name swapped ("nguyen" -> "ngyuen"): the near-prefix step
        # cannot help, the trigram GIN index does the work.
        return name[:2] + name[3] + name[2] + name[4:] if len(name) > 4 and " " not in name[:4] else name + "x"

    def middle_word_typo(name: str) -> str:
        # Two letters of the middle name swapped ("van" -> "vna").
        words = name.split()
        if len(words) < 3 or len(words[1]) < 3:
            return first_word_typo(name)
        words[1] = words[1][0] + words[1][2] + words[1][1] + words[1][3:]
        return " ".join(words)

    slow = {
        "typo in the first word: name only": lambda p: citizens_find_by_name(name=first_word_typo(p[3])) or [None],
        "typo in the first word: name + birth year": lambda p: (
            citizens_find_by_name(name=first_word_typo(p[3]), birth_year=p[4]) or [None]
        ),
        "typo in the middle word: name only": lambda p: citizens_find_by_name(name=middle_word_typo(p[3])) or [None],
    }
    for label, fn in [*runs.items(), *slow.items()]:
        fn(people[0])  # warm
        saved = people[:]
        if label in slow:  # seconds a query at national scale: a smaller sample
            people[:] = people[: args.slow_samples]
        results: list = []
        t = timed(fn, results)
        quality = ""
        if label.startswith("typo"):
            # The sampled person's own name ranked first; the sampled person among the results.
            pairs = list(zip(results, people, strict=True))
            right_name = sum(bool(r and r[0] and r[0].citizen.search_name == p[3]) for r, p in pairs)
            person = sum(any(m and m.citizen.personal_id == p[0] for m in r) for r, p in pairs)
            quality = f"   right name first {right_name}/{len(people)}, person among results {person}/{len(people)}"
        people[:] = saved
        print(
            f"{label:32s} p50 {pct(t, 50):7.2f} ms   p95 {pct(t, 95):7.2f} ms   max {max(t) * 1000:7.2f} ms"
            f"   mean {statistics.mean(t) * 1000:6.2f} ms{quality}"
        )
    found_in_top = sum(
        any(m.citizen.personal_id == p[0] for m in citizens_find_by_name(name=p[3], birth_year=p[4])) for p in people
    )
    print(f"sampled person among the results of name + birth year: {found_in_top}/{len(people)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
