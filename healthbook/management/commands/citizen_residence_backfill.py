"""Give citizens nobody placed a residence from what facilities sent (issue 16).

A citizen first known from facility data used to get no province. Each visit keeps the patient
as the facility sent it (Encounter.patient_as_sent, with MATINH_CU_TRU / MAXA_CU_TRU since
issue 16): this command fills the residence of citizens with none from their latest visit that
names a known province (old codes mapped to the new 34; a commune only if it is one of the list
and in that province), with provenance `facility_data`. Card data is never overwritten.

Set-based and rerunnable: one UPDATE per range of --batch citizen ids; a second run changes
nothing. Visits stored before issue 16 carry no residence: their citizens stay unplaced until a
card file or a new visit names one.
"""

from django.core.management.base import BaseCommand
from django.db import connection, transaction

from geo.selectors import commune_province_ids, province_ids_by_code

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


class Command(BaseCommand):
    help = "Fill the residence of citizens nobody placed from the facility data of their visits."

    def add_arguments(self, parser):
        parser.add_argument("--batch", type=int, default=50_000, help="citizen ids per statement")

    def handle(self, *args, batch, **options):
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
        self.stdout.write(f"citizens placed from facility data: {filled}")
