"""A cohort's rule: its criteria (JSON), how they are checked and how they become one SQL
statement with parameters.

Criteria (every key optional, all given keys must hold):

| key | meaning |
| --- | --- |
| `diagnosis_codes` | ICD-10 code prefixes ("I10", "E11"): a visit with that main or secondary diagnosis |
| `diagnosis_groups` | names of code groups of the ICD-10 list (`chronic`): as above, with the group's prefixes |
| `age_min`, `age_max`, `age_unit` | age band on the run's day, whole `year`s or `month`s, both ends included |
| `sex` | a list of sexes (1 male, 2 female, 3 undetermined) |
| `residence_communes` | a list of commune codes of residence |
| `last_visit_before_days` | a visit recorded, the last one (any facility) more than N days ago |
| `follow_up_missed_days` | a follow-up appointment dated N to 365 days ago, no visit on or after its date |
| `vaccine_overdue` | `{"vaccine": code or "", "position": k or null}`: a dose of the schedule in force
  overdue as the book's vaccination page says (due over 30 days ago, child under 8, fewer doses of
  the vaccine recorded than the dose's place) |
| `pregnant_no_checkup_weeks` | a pregnancy under way (a check-up in the last 42 weeks, its expected
  delivery date ahead or unknown) and no check-up in the last N weeks |
| `lab_out_of_range` | `{"indicators": [codes] or [], "within_days": N}`: a lab result flagged high
  or low in the last N days |

Nothing of the criteria is ever formatted into SQL: every value is a parameter; the SQL text is
made only of fixed fragments chosen by the keys present.
"""

import datetime as dt
import re

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from codelists import lookups
from healthbook.book.header import SCHEDULE_AGE_LIMIT_YEARS
from healthbook.models import Immunization

KEYS = {
    "diagnosis_codes",
    "diagnosis_groups",
    "age_min",
    "age_max",
    "age_unit",
    "sex",
    "residence_communes",
    "last_visit_before_days",
    "follow_up_missed_days",
    "vaccine_overdue",
    "pregnant_no_checkup_weeks",
    "lab_out_of_range",
}
CODE_RE = re.compile(r"^[A-Z][0-9A-Z.]{0,9}$")
COMMUNE_RE = re.compile(r"^[0-9]{5}$")
SLUG_RE = re.compile(r"^[A-Za-z0-9_.-]{1,100}$")
OVERDUE_GRACE_DAYS = 30  # as the book's vaccination page (healthbook.book.header.vaccination_record)
PREGNANCY_MAX_WEEKS = 42
FOLLOW_UP_LOOKBACK_DAYS = 365
LAB_FLAGS = ["H", "L", "HH", "LL"]


def _int(value, low: int, high: int, label: str) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
        raise ValidationError(
            _("%(label)s must be a whole number from %(low)s to %(high)s.") % {"label": label, "low": low, "high": high}
        )
    return value


def _list(value, pattern, label: str) -> list:
    if not isinstance(value, list) or not value or len(value) > 200:
        raise ValidationError(_("%(label)s must be a list of 1 to 200 entries.") % {"label": label})
    for item in value:
        if not isinstance(item, str) or not pattern.match(item):
            raise ValidationError(_("%(label)s: “%(item)s” is not valid.") % {"label": label, "item": str(item)[:40]})
    return value


def validate(criteria) -> dict:
    """Check criteria and return them; ValidationError (Vietnamese message) otherwise."""
    if not isinstance(criteria, dict) or not criteria:
        raise ValidationError(_("A cohort needs at least one criterion."))
    unknown = set(criteria) - KEYS
    if unknown:
        raise ValidationError(_("Unknown criteria: %(keys)s.") % {"keys": ", ".join(sorted(unknown))})
    if "diagnosis_codes" in criteria:
        _list(criteria["diagnosis_codes"], CODE_RE, _("Diagnosis codes"))
    if "diagnosis_groups" in criteria:
        _list(criteria["diagnosis_groups"], SLUG_RE, _("Code groups"))
        for group in criteria["diagnosis_groups"]:
            if not lookups.group_prefixes("icd10", group):
                raise ValidationError(_("The ICD-10 list has no code group “%(group)s”.") % {"group": group})
    if "age_min" in criteria or "age_max" in criteria:
        if criteria.get("age_unit") not in ("year", "month"):
            raise ValidationError(_("An age band needs its unit: years or months."))
        low = _int(criteria.get("age_min", 0), 0, 1500, _("Minimum age"))
        high = _int(criteria.get("age_max", 1500), 0, 1500, _("Maximum age"))
        if low > high:
            raise ValidationError(_("The minimum age is above the maximum age."))
    elif "age_unit" in criteria:
        raise ValidationError(_("An age unit needs a minimum or maximum age."))
    if "sex" in criteria:
        if not isinstance(criteria["sex"], list) or not criteria["sex"] or not set(criteria["sex"]) <= {1, 2, 3}:
            raise ValidationError(_("Sex must be a list of 1 (male), 2 (female) or 3 (undetermined)."))
    if "residence_communes" in criteria:
        _list(criteria["residence_communes"], COMMUNE_RE, _("Communes of residence"))
    if "last_visit_before_days" in criteria:
        _int(criteria["last_visit_before_days"], 1, 3650, _("Days since the last visit"))
    if "follow_up_missed_days" in criteria:
        _int(criteria["follow_up_missed_days"], 0, FOLLOW_UP_LOOKBACK_DAYS, _("Days since a missed follow-up"))
    if "pregnant_no_checkup_weeks" in criteria:
        _int(criteria["pregnant_no_checkup_weeks"], 1, PREGNANCY_MAX_WEEKS, _("Weeks without a check-up"))
    if "vaccine_overdue" in criteria:
        spec = criteria["vaccine_overdue"]
        if not isinstance(spec, dict) or set(spec) - {"vaccine", "position"}:
            raise ValidationError(_("An overdue vaccine names a vaccine code and a dose place."))
        vaccine = spec.get("vaccine") or ""
        if vaccine and (not isinstance(vaccine, str) or not SLUG_RE.match(vaccine)):
            raise ValidationError(_("The vaccine code is not valid."))
        if spec.get("position") is not None:
            _int(spec["position"], 1, 20, _("Dose"))
    if "lab_out_of_range" in criteria:
        spec = criteria["lab_out_of_range"]
        if not isinstance(spec, dict) or set(spec) - {"indicators", "within_days"}:
            raise ValidationError(_("A lab criterion names its indicators and a number of days."))
        if spec.get("indicators"):
            _list(spec["indicators"], SLUG_RE, _("Lab indicators"))
        _int(spec.get("within_days"), 1, 3650, _("Days of lab results"))
    return criteria


def _schedule(spec: dict, today: dt.date) -> tuple[list, list, list]:
    units = {"day": "days", "week": "weeks", "month": "months", "year": "years"}
    codes, positions, ages = [], [], []
    for dose in lookups.vaccination_schedule(today):
        if spec.get("vaccine") and dose.vaccine_code != spec["vaccine"]:
            continue
        if spec.get("position") and dose.position != spec["position"]:
            continue
        codes.append(dose.vaccine_code)
        positions.append(dose.position)
        ages.append(f"{dose.age_value} {units[dose.age_unit]}")
    return codes, positions, ages


def _prefix_patterns(criteria: dict) -> list[str]:
    prefixes = set(criteria.get("diagnosis_codes") or [])
    for group in criteria.get("diagnosis_groups") or []:
        prefixes.update(lookups.group_prefixes("icd10", group))
    return sorted(p + "%" for p in prefixes)


def compile_members(criteria: dict, *, today: dt.date) -> tuple[str, dict]:
    """The SELECT of a cohort's members in one province: columns (citizen_id, province_id,
    commune_code, facility_id); parameters %(province)s plus the criteria's own. Fixed SQL
    fragments only; the criteria's values are parameters."""
    params: dict = {"today": today, "tz": settings.TIME_ZONE}  # a day is a calendar day in Vietnam
    where = ["c.residence_province_id = %(province)s"]
    if "diagnosis_codes" in criteria or "diagnosis_groups" in criteria:
        params["dx"] = _prefix_patterns(criteria)
        where.append(
            "EXISTS (SELECT 1 FROM healthbook_encounter_view e WHERE e.book_id = b.id AND"
            " (e.main_diagnosis LIKE ANY(%(dx)s::text[])"
            " OR EXISTS (SELECT 1 FROM unnest(e.secondary_diagnoses) d WHERE d LIKE ANY(%(dx)s::text[]))))"
        )
    if "age_min" in criteria or "age_max" in criteria:
        unit = "years" if criteria["age_unit"] == "year" else "months"
        params["age_min"] = f"{criteria.get('age_min', 0)} {unit}"
        params["age_max"] = f"{criteria.get('age_max', 1500) + 1} {unit}"
        where.append("c.birth_date <= %(today)s::date - %(age_min)s::interval")
        where.append("c.birth_date > %(today)s::date - %(age_max)s::interval")
    if "sex" in criteria:
        params["sex"] = list(criteria["sex"])
        where.append("c.sex = ANY(%(sex)s::int[])")
    if "residence_communes" in criteria:
        params["communes"] = list(criteria["residence_communes"])
        where.append("c.residence_commune_code = ANY(%(communes)s::text[])")
    if "last_visit_before_days" in criteria:
        params["seen_after"] = today - dt.timedelta(days=criteria["last_visit_before_days"])
        where.append("last.occurred_at IS NOT NULL AND (last.occurred_at AT TIME ZONE %(tz)s)::date < %(seen_after)s")
    if "follow_up_missed_days" in criteria:
        params["fu_from"] = today - dt.timedelta(days=FOLLOW_UP_LOOKBACK_DAYS)
        params["fu_to"] = today - dt.timedelta(days=criteria["follow_up_missed_days"])
        where.append(
            "EXISTS (SELECT 1 FROM healthbook_follow_up_view f WHERE f.book_id = b.id"
            " AND f.appointment_date BETWEEN %(fu_from)s AND %(fu_to)s AND f.appointment_date < %(today)s"
            " AND (last.occurred_at IS NULL OR (last.occurred_at AT TIME ZONE %(tz)s)::date < f.appointment_date))"
        )
    if "vaccine_overdue" in criteria:
        codes, positions, ages = _schedule(criteria["vaccine_overdue"], today)
        params.update(
            v_codes=codes, v_positions=positions, v_ages=ages, not_given=list(Immunization.NOT_GIVEN_STATUSES)
        )
        params["child_limit"] = f"{SCHEDULE_AGE_LIMIT_YEARS} years"
        params["overdue_before"] = today - dt.timedelta(days=OVERDUE_GRACE_DAYS)
        where.append("c.birth_date > %(today)s::date - %(child_limit)s::interval")
        where.append(
            "EXISTS (SELECT 1 FROM unnest(%(v_codes)s::text[], %(v_positions)s::int[], %(v_ages)s::interval[])"
            " AS s(code, position, age) WHERE (c.birth_date + s.age)::date < %(overdue_before)s"
            " AND (SELECT count(*) FROM healthbook_immunization_view i WHERE i.book_id = b.id"
            " AND i.vaccine_code = s.code AND NOT (i.status = ANY(%(not_given)s::text[]))) < s.position)"
        )
    if "pregnant_no_checkup_weeks" in criteria:
        params["preg_since"] = today - dt.timedelta(weeks=PREGNANCY_MAX_WEEKS)
        params["checkup_since"] = today - dt.timedelta(weeks=criteria["pregnant_no_checkup_weeks"])
        where.append(
            "EXISTS (SELECT 1 FROM healthbook_pregnancy_checkup_view p WHERE p.book_id = b.id"
            " AND (p.occurred_at AT TIME ZONE %(tz)s)::date >= %(preg_since)s AND (p.expected_delivery_date IS NULL"
            " OR p.expected_delivery_date >= %(today)s))"
        )
        where.append(
            "NOT EXISTS (SELECT 1 FROM healthbook_pregnancy_checkup_view p WHERE p.book_id = b.id"
            " AND (p.occurred_at AT TIME ZONE %(tz)s)::date >= %(checkup_since)s)"
        )
    if "lab_out_of_range" in criteria:
        spec = criteria["lab_out_of_range"]
        params["lab_since"] = today - dt.timedelta(days=spec["within_days"])
        params["lab_flags"] = LAB_FLAGS
        indicator = ""
        if spec.get("indicators"):
            params["lab_indicators"] = list(spec["indicators"])
            indicator = " AND o.indicator_code = ANY(%(lab_indicators)s::text[])"
        where.append(
            "EXISTS (SELECT 1 FROM healthbook_lab_observation_view o WHERE o.book_id = b.id"  # noqa: S608 (fixed fragments)
            " AND (o.occurred_at AT TIME ZONE %(tz)s)::date >= %(lab_since)s"
            " AND upper(o.abnormal_flag) = ANY(%(lab_flags)s::text[])" + indicator + ")"
        )
    # fixed fragments chosen by the keys present; every value is a parameter
    sql = (
        "SELECT c.id AS citizen_id"  # noqa: S608
        ", c.residence_province_id AS province_id,"
        " coalesce(c.residence_commune_code, '') AS commune_code, last.facility_id,"
        " last.occurred_at AS last_visit_at"
        " FROM healthbook_citizen_view c JOIN healthbook_book_view b ON b.citizen_id = c.id"
        " LEFT JOIN LATERAL (SELECT e.facility_id, e.occurred_at FROM healthbook_encounter_view e"
        " WHERE e.book_id = b.id ORDER BY e.occurred_at DESC LIMIT 1) last ON true"
        " WHERE " + " AND ".join(where)
    )
    return sql, params
