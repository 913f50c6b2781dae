"""Give citizens nobody placed a residence from what facilities sent (issue 16).

A citizen first known from facility data used to get no province. Each visit keeps the patient
as the facility sent it (Encounter.patient_as_sent, with MATINH_CU_TRU / MAXA_CU_TRU since
issue 16): this command fills the residence of citizens with none from their latest visit that
names a known province (old codes mapped to the new 34; a commune only if it is one of the list
and in that province), with provenance `facility_data`. Card data is never overwritten.

Visits and check-ins stored before issue 16 carry no residence in patient_as_sent. For citizens
still unplaced after that first step, a second step (on by default, `--no-from-submissions` skips
it) reads again the stored payload of each accepted submission that produced one of their visits or
check-ins (healthbook.intake.reread: the intake's own reader, signature included, each payload once
per batch, in chunks of --chunk) and places them by the same rule from their latest visit naming a
known province, with provenance `facility_data`.

Set-based and rerunnable: per range of --batch citizen ids, one UPDATE for each step (the second
from unnest arrays); a second run changes nothing. A citizen whose facility data names no known
province stays unplaced until a card file or a new visit names one.
"""

from argparse import BooleanOptionalAction

from django.core.management.base import BaseCommand
from django.db import connection, transaction

from geo.selectors import commune_province_ids, province_ids_by_code
from healthbook.intake.reread import residences_from_submissions

SQL = """
WITH codes AS (SELECT * FROM unnest(%(codes)s::text[], %(ids)s::bigint[]) AS t(code, province_id)),
communes AS (SELECT * FROM unnest(%(communes)s::text[], %(commune_provinces)s::bigint[]) AS t(code, province_id)),
latest AS (
    SELECT DISTINCT ON (b.citizen_id) b.citizen_id, k.province_id,
        COALESCE(m.code, '') AS commune
    FROM healthbook_encounter e
    JOIN healthbook_book b ON b.id = e.book_id
    JOIN healthbook_citizen c ON c.id = b.citizen_id
    JOIN codes k ON k.code = right(btrim(e.patient_as_sent->>'province'), 2)
    LEFT JOIN communes m ON m.code = btrim(e.patient_as_sent->>'commune') AND m.province_id = k.province_id
    WHERE c.id BETWEEN %(low)s AND %(high)s AND c.residence_source = '' AND c.residence_province_id IS NULL
      AND e.patient_as_sent ? 'province'
    ORDER BY b.citizen_id, e.occurred_at DESC, e.id DESC
)
UPDATE healthbook_citizen c
SET residence_province_id = l.province_id, residence_commune_code = l.commune,
    residence_source = 'facility_data', updated_at = now()
FROM latest l
WHERE c.id = l.citizen_id AND c.residence_source = '' AND c.residence_province_id IS NULL
"""

FROM_SUBMISSIONS_SQL = """
UPDATE healthbook_citizen c
SET residence_province_id = r.province_id, residence_commune_code = r.commune,
    residence_source = 'facility_data', updated_at = now()
FROM unnest(%s::bigint[], %s::bigint[], %s::text[]) AS r(citizen_id, province_id, commune)
WHERE c.id = r.citizen_id AND c.residence_source = '' AND c.residence_province_id IS NULL
"""


class Command(BaseCommand):
    help = "Fill the residence of citizens nobody placed from the facility data of their visits."

    def add_arguments(self, parser):
        parser.add_argument("--batch", type=int, default=50_000, help="citizen ids per statement")
        parser.add_argument(
            "--from-submissions",
            action=BooleanOptionalAction,
            default=True,
            help="then read again the stored submissions of citizens still unplaced (default: yes)",
        )
        parser.add_argument("--chunk", type=int, default=50, help="submission payloads read at a time")

    def handle(self, *args, batch, from_submissions, chunk, **options):
        provinces = province_ids_by_code()
        communes = commune_province_ids()
        params = {
            "codes": list(provinces),
            "ids": list(provinces.values()),
            "communes": list(communes),
            "commune_provinces": list(communes.values()),
        }
        with connection.cursor() as cur:
            cur.execute("SELECT COALESCE(MIN(id), 0), COALESCE(MAX(id), -1) FROM healthbook_citizen")
            low, high = cur.fetchone()
        filled = 0
        for start in range(low, high + 1, max(batch, 1)):
            with transaction.atomic(), connection.cursor() as cur:
                cur.execute(SQL, {**params, "low": start, "high": start + batch - 1})
                filled += cur.rowcount
        if from_submissions:
            for start in range(low, high + 1, max(batch, 1)):
                rows = residences_from_submissions(low=start, high=start + batch - 1, chunk=chunk)
                if not rows:
                    continue
                with transaction.atomic(), connection.cursor() as cur:
                    cur.execute(
                        FROM_SUBMISSIONS_SQL, [[r[0] for r in rows], [r[1] for r in rows], [r[2] for r in rows]]
                    )
                    filled += cur.rowcount
        self.stdout.write(f"citizens placed from facility data: {filled}")
