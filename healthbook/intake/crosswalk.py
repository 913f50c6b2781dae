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

from codelists import crosswalk

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
