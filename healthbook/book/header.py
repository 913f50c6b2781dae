"""The book's header (age, card, primary-care facility, chronic conditions, allergies, active
problems, alerts) and the child's vaccination record against the immunisation schedule.

Chronic conditions and recorded allergies are the visit diagnoses that fall in the code groups
of the ICD-10 list (its `groups`: `chronic`, `allergy`, as code prefixes); recorded allergies
also hold every allergy or intolerance a facility sent (FHIR AllergyIntolerance: SNOMED CT, a
national drug code or free text, as sent) that is active, and active problems are the
conditions sent (FHIR Condition) still active and not resolved. The schedule is the `vaccine`
list's (codelists.lookups.vaccination_schedule).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from functools import cached_property

from dateutil.relativedelta import relativedelta
from django.utils import timezone

from codelists import lookups
from core.replicas import connection  # the primary, or a lag-tolerant block's replica
from facilities.selectors import facility_by_code
from healthbook.book.selectors import FOLLOW_UP_LIMIT, follow_up_missed
from healthbook.models import Immunization

CHRONIC_GROUP = "chronic"
ALLERGY_GROUP = "allergy"
# Children under 8 have a schedule: the last dose of TT 10/2024 is the Td booster at 7 years.
SCHEDULE_AGE_LIMIT_YEARS = 8


@dataclass
class HeaderFacts:
    """What the header reads from the clinical records (cached with the book's version)."""

    chronic: list[tuple[str, str]] = field(default_factory=list)
    allergies: list[tuple[str, str]] = field(default_factory=list)
    problems: list[tuple[str, str]] = field(default_factory=list)
    missed_follow_ups: int = 0
    overdue_vaccines: list[str] = field(default_factory=list)


@dataclass
class Header:
    """Identity facts and card status (from the rows the access decision loaded) and, read
    only when the page renders them (not when its cached fragment is used), `facts`."""

    age: int | None
    card_status: str  # "valid" | "expired" | "none"
    primary_care: object | None  # the facility (code and name), or None
    access: object = None

    @cached_property
    def facts(self) -> HeaderFacts:
        return header_facts(self.access) if self.access is not None else HeaderFacts()


def age_on(birth_date: dt.date | None, today: dt.date) -> int | None:
    if birth_date is None:
        return None
    return today.year - birth_date.year - ((today.month, today.day) < (birth_date.month, birth_date.day))


def book_header(access) -> Header:
    """Identity facts and card status, no query (facility names from the process cache);
    the clinical facts follow in `Header.facts` when they are rendered."""
    citizen = access.citizen
    today = timezone.localdate()
    card = getattr(citizen, "card", None) if _has_card(citizen) else None
    status = "none"
    primary = None
    if card is not None:
        status = (
            "valid" if card.valid_from <= today and (card.valid_to is None or card.valid_to >= today) else "expired"
        )
        primary = facility_by_code(card.primary_care_facility_code)
    return Header(age_on(citizen.birth_date, today), status, primary, access)


def header_facts(access) -> HeaderFacts:
    """Chronic conditions, allergies and alerts: one query (diagnosis codes, the newest
    follow-up dates and the last visit, see _HEADER_SQL), plus the given vaccinations for a
    child under SCHEDULE_AGE_LIMIT_YEARS; code names from the process caches."""
    today = timezone.localdate()
    with connection.cursor() as cur:
        cur.execute(_HEADER_SQL, {"book": access.book.pk, "limit": FOLLOW_UP_LIMIT})
        codes, appointment_dates, last_visit_at, allergies, problems = cur.fetchone()
    codes = set(codes)
    names = lookups.names("icd10", codes | {code for code, _d in problems or []})
    chronic = lookups.group_prefixes("icd10", CHRONIC_GROUP)
    allergy = lookups.group_prefixes("icd10", ALLERGY_GROUP)
    sent_allergies = {(code or "", display or "") for code, display in allergies or []}
    facts = HeaderFacts(
        chronic=sorted((c, names.get(c, "")) for c in codes if lookups.in_group(c, chronic)),
        allergies=sorted({(c, names.get(c, "")) for c in codes if lookups.in_group(c, allergy)} | sent_allergies),
        problems=sorted({(code or "", names.get(code or "") or display or "") for code, display in problems or []}),
    )
    last_visit = timezone.localtime(last_visit_at).date() if last_visit_at else None
    facts.missed_follow_ups = sum(1 for day in appointment_dates if follow_up_missed(day, last_visit, today))
    age = age_on(access.citizen.birth_date, today)
    if age is not None and age < SCHEDULE_AGE_LIMIT_YEARS:  # adults have no schedule (no overdue doses)
        facts.overdue_vaccines = [
            row["name"] for row in vaccination_record(access)["rows"] if row["state"] == "overdue"
        ]
    return facts


# The header's facts in one round trip: the distinct diagnosis codes, the dates of the newest
# follow-up appointments and the newest visit (the same rows follow_ups() reads), the active
# allergies and the active conditions sent (code, display as sent).
_HEADER_SQL = """
SELECT ARRAY(SELECT DISTINCT code FROM (
           SELECT main_diagnosis AS code FROM healthbook_encounter WHERE book_id = %(book)s
           UNION ALL SELECT unnest(secondary_diagnoses) FROM healthbook_encounter WHERE book_id = %(book)s
       ) d WHERE code <> ''),
       ARRAY(SELECT appointment_date FROM healthbook_follow_up
              WHERE book_id = %(book)s AND appointment_date IS NOT NULL
              ORDER BY appointment_date DESC LIMIT %(limit)s),
       (SELECT occurred_at FROM healthbook_encounter WHERE book_id = %(book)s ORDER BY occurred_at DESC LIMIT 1),
       (SELECT json_agg(DISTINCT jsonb_build_array(code, display)) FROM healthbook_allergy
         WHERE book_id = %(book)s AND clinical_status IN ('', 'active')
           AND verification_status NOT IN ('refuted', 'entered-in-error')),
       (SELECT json_agg(DISTINCT jsonb_build_array(code, display)) FROM healthbook_condition
         WHERE book_id = %(book)s AND clinical_status IN ('', 'active', 'recurrence', 'relapse')
           AND verification_status NOT IN ('refuted', 'entered-in-error') AND abatement_on IS NULL)
"""


def _has_card(citizen) -> bool:
    try:
        return citizen.card is not None
    except Exception:  # noqa: BLE001 — RelatedObjectDoesNotExist: no card on file
        return False


# ---------------------------------------------------------------- vaccinations

_AGE_UNITS = {"day": "days", "week": "weeks", "month": "months", "year": "years"}


def due_date(birth: dt.date, dose: lookups.ScheduledDose) -> dt.date:
    return birth + relativedelta(**{_AGE_UNITS[dose.age_unit]: dose.age_value})


def vaccination_record(access) -> dict:
    """Given doses, and the expanded-immunisation schedule for children: each scheduled dose
    given, due (within a month) or overdue. A dose counts as given once as many doses of its
    vaccine are recorded as its place in the vaccine's series (records not given do not count)."""
    given = list(
        Immunization.objects.filter(book=access.book).select_related("facility").order_by("-occurred_on", "-id")
    )
    names = lookups.names("vaccine", {row.vaccine_code for row in given})
    for row in given:
        row.display_name = names.get(row.vaccine_code) or row.vaccine_name or row.vaccine_code
    birth = access.citizen.birth_date
    today = timezone.localdate()
    rows = []
    age = age_on(birth, today)
    if birth and age is not None and age < SCHEDULE_AGE_LIMIT_YEARS:
        counts: dict[str, int] = {}
        for row in given:
            if row.counts_as_given:
                counts[row.vaccine_code] = counts.get(row.vaccine_code, 0) + 1
        for dose in lookups.vaccination_schedule(today):
            due = due_date(birth, dose)
            if counts.get(dose.vaccine_code, 0) >= dose.position:
                state = "given"
            elif due < today - dt.timedelta(days=30):
                state = "overdue"
            elif due <= today + dt.timedelta(days=30):
                state = "due"
            else:
                state = "later"
            rows.append(
                {
                    "code": dose.vaccine_code,
                    "name": dose.vaccine_name,
                    "dose": dose.dose,
                    "due": due,
                    "state": state,
                    "note": dose.note,
                }
            )
        rows.sort(key=lambda r: (r["due"], r["code"]))
    # the legal text the schedule is taken from, cited under it (the list's `legal_basis` property)
    basis = sorted({props.get("legal_basis") or "" for _n, props in lookups.all_concepts("vaccine").values()} - {""})
    return {"given": given, "rows": rows, "child": bool(rows), "basis": "; ".join(basis) if rows else ""}
