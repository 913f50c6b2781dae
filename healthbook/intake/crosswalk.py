"""Codes sent in other systems, translated to the national lists before the codes are checked.

- A dose (FHIR Immunization) sent with a CVX code or a product name of the programme gets the
  national vaccine code it stands for, so it counts on the schedule (the book's vaccination
  record, the reminders); the coding as sent is kept (`sent_code`, `sent_system`).
- A lab Observation sent with a LOINC code mapped to a national indicator is stored under that
  indicator (the LOINC code is served back next to it, from the same mapping row).

The mappings are the code lists' (codelists.crosswalk); nothing is translated when no list
version is loaded. Cached per list version: no query per row.
"""

from __future__ import annotations

from django.db import connection

from codelists import crosswalk
from codelists.lookups import all_concepts

from .records import VisitData

LAB_LIST = "lab-indicator"


def codes_translate(visits: list[VisitData]) -> None:
    for v in visits:
        for imm in v.immunizations:
            if not imm.vaccine_code:
                continue
            codings = [(imm.vaccine_system, imm.vaccine_code, imm.vaccine_name), *imm.other_codings]
            national = crosswalk.vaccine_code_for(codings, imm.vaccine_name)
            if national is not None and national != imm.vaccine_code:
                imm.sent_code, imm.sent_system = imm.vaccine_code, imm.vaccine_system
                imm.vaccine_code, imm.vaccine_system = national, crosswalk.VACCINE_SYSTEM
        for lab in v.lab_results:
            if lab.code_system == crosswalk.LOINC and lab.indicator_code:
                national = crosswalk.national_code(LAB_LIST, crosswalk.LOINC, lab.indicator_code)
                if national is not None:
                    lab.indicator_code, lab.code_system = national, LAB_LIST


_STORED_SQL = """
SELECT DISTINCT vaccine_system, vaccine_code, vaccine_name FROM healthbook_immunization
WHERE sent_code = '' AND NOT (vaccine_code = ANY(%s))
"""
_TRANSLATE_SQL = """
UPDATE healthbook_immunization i
SET sent_system = i.vaccine_system, sent_code = i.vaccine_code, vaccine_code = t.national, vaccine_system = %s
FROM unnest(%s::text[], %s::text[], %s::text[], %s::text[]) AS t(system, code, name, national)
WHERE i.sent_code = '' AND i.vaccine_system = t.system AND i.vaccine_code = t.code AND i.vaccine_name = t.name
"""


def stored_doses_translate() -> int:
    """Doses stored before their code was mapped (a CVX code, a product name) get the national
    code the way intake now gives it; the coding as stored moves to sent_system / sent_code.
    Set-based: one read of the distinct codings not in the list, one UPDATE; a second run
    changes nothing. Returns the number of doses translated."""
    national = sorted(all_concepts(crosswalk.VACCINE_SYSTEM))
    if not national:
        return 0
    with connection.cursor() as cur:
        cur.execute(_STORED_SQL, [national])
        found = []
        for system, code, name in cur.fetchall():
            target = crosswalk.vaccine_code_for([(system, code, name)], name)
            if target is not None and target != code:
                found.append((system, code, name, target))
        if not found:
            return 0
        cur.execute(_TRANSLATE_SQL, [crosswalk.VACCINE_SYSTEM, *([row[i] for row in found] for i in range(4))])
        return cur.rowcount
