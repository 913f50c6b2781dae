"""Clinical content of the demo, plausible for age and sex (healthbook.intake.demo.stories
tells the stories with it; seed_demo_submissions sends it): diagnoses drawn by age and sex
(DIAGNOSES; never a type 2 diabetes in a child), lab values placed on the reference ranges of
the lab-indicator code list in its units (mostly in range, some out), vaccinations on the
schedule of the vaccine code list, the FHIR bundles of vaccinations and pregnancy check-ups.
Pure Python (no Django); codes are read from the code-list seed files (codelists/seed/).
"""

from __future__ import annotations

import csv
import json
import random
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import cache

from healthbook.intake.demo.submissions import DRUGS, SEED_DIR

# ---------------------------------------------------------------- code lists (seed files)


@cache
def icd_names() -> dict[str, str]:
    with (SEED_DIR / "icd10.csv").open(encoding="utf-8") as fh:
        return {row["code"]: row["display_vi"] for row in csv.DictReader(fh) if row["code"] in _ALL_CODES}


@cache
def lab_indicators() -> dict[str, dict]:
    """code -> {"name", "unit", "ranges": {"M": (low, high), "F": (low, high)}} (None: open side)."""
    out = {}
    with (SEED_DIR / "lab-indicator.csv").open(encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            props = json.loads(row["properties"] or "{}")
            if props.get("kind") != "indicator" or not props.get("unit"):
                continue
            by_sex = props.get("ref_by_sex") or {}
            ranges = {
                sex: (
                    (by_sex.get(sex) or props).get("ref_low"),
                    (by_sex.get(sex) or props).get("ref_high"),
                )
                for sex in ("M", "F")
            }
            out[row["code"]] = {"name": row["display_vi"], "unit": props["unit"], "ranges": ranges}
    return out


@cache
def tetanus_vaccine_code() -> str | None:
    """The code of the vaccine list whose only antigen is tetanus (given in pregnancy), if any."""
    with (SEED_DIR / "vaccine.csv").open(encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            if json.loads(row["properties"] or "{}").get("antigen") == ["tetanus"]:
                return row["code"]
    return None


@cache
def vaccine_list_since() -> date:
    """The date from which the vaccine code list is in force (codelists/seed/systems.json)."""
    systems = json.loads((SEED_DIR / "systems.json").read_text(encoding="utf-8"))
    found = next((s for s in systems if s.get("key") == "vaccine"), {})
    return date.fromisoformat(found.get("effective_from") or "2025-01-01")


@dataclass(frozen=True)
class Dose:
    code: str
    dose: int
    age_days: int


@cache
def vaccine_schedule() -> list[Dose]:
    """The childhood doses of the vaccine code list, in order of age (days)."""
    per_unit = {"day": 1, "week": 7, "month": 30, "year": 365}
    doses = []
    with (SEED_DIR / "vaccine.csv").open(encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            props = json.loads(row["properties"] or "{}")
            for step in props.get("schedule") or []:
                age = step.get("age") or {}
                if age.get("unit") in per_unit and age.get("value") is not None:
                    doses.append(Dose(row["code"], int(step.get("dose", 1)), int(age["value"]) * per_unit[age["unit"]]))
    return sorted(doses, key=lambda d: (d.age_days, d.code, d.dose))


# ---------------------------------------------------------------- diagnoses by age and sex

# (ICD-10 code, min age, max age, sex or None, weight, lab panel, drugs)
DIAGNOSES = [
    ("J06.9", 0, 120, None, 10, None, ("40.1",)),
    ("J02.9", 3, 120, None, 4, None, ("40.1", "40.218")),
    ("A09.0", 0, 120, None, 4, None, ()),
    ("H66.9", 0, 12, None, 3, None, ("40.1", "40.218")),
    ("J20.9", 0, 120, None, 4, "infection", ("40.1",)),
    ("J18.9", 0, 120, None, 1, "infection", ("40.218",)),
    ("L20.9", 0, 40, None, 2, None, ("40.96",)),
    ("J45.9", 5, 120, None, 2, None, ("40.96",)),
    ("K29.7", 15, 120, None, 5, "general", ("40.691",)),
    ("K21.9", 18, 120, None, 3, None, ("40.691",)),
    ("M54.5", 18, 120, None, 5, None, ("40.1", "40.1005")),
    ("N39.0", 15, 120, "F", 4, "infection", ("40.218",)),
    ("J30.4", 10, 70, None, 2, None, ("40.96",)),
    ("I10", 35, 120, None, 8, "hypertension", ("40.473",)),
    ("E11.9", 35, 120, None, 5, "diabetes", ("40.677",)),
    ("E78.5", 35, 120, None, 4, "lipids", ("40.517",)),
    ("M17.9", 45, 120, None, 3, None, ("40.1",)),
    ("I25.9", 50, 120, None, 2, "hypertension", ("40.517",)),
    ("J44.9", 45, 120, None, 2, None, ()),
]
CHRONIC = frozenset({"I10", "E11.9", "E78.5", "I25.9", "J44.9", "M17.9"})
PREGNANCY_CODES = frozenset({"O99.0", "O21.0", "O26.8"})
_ALL_CODES = frozenset(code for code, *_ in DIAGNOSES) | PREGNANCY_CODES


def plausible(code: str, age: int, female: bool) -> bool:
    """Whether a diagnosis of DIAGNOSES (or a pregnancy) fits a person of that age and sex."""
    if code in PREGNANCY_CODES:
        return female and 15 <= age <= 49
    for c, low, high, sex, *_ in DIAGNOSES:
        if c == code:
            return low <= age <= high and sex in (None, "F" if female else "M")
    return False


def diagnosis_for(rng: random.Random, age: int, female: bool) -> tuple[str, str | None, tuple[str, ...]]:
    """A diagnosis drawn by age and sex: (code, lab panel, drug codes)."""
    fitting = [d for d in DIAGNOSES if plausible(d[0], age, female)]
    code, _low, _high, _sex, _w, panel, drugs = rng.choices(fitting, [d[4] for d in fitting])[0]
    return code, panel, drugs


# ---------------------------------------------------------------- lab values

PANELS = {
    "general": ("WBC", "HGB", "PLT", "Glucose", "ALT", "AST"),
    "infection": ("WBC", "NEU_PERCENT", "LYM_PERCENT", "HGB", "PLT"),
    "hypertension": ("Creatinin", "Ure", "Kali", "Natri", "Cholesteroltoanphan", "Glucose"),
    "diabetes": ("Glucose", "HbA1c", "Creatinin", "Cholesteroltoanphan", "Triglycerid"),
    "lipids": ("Cholesteroltoanphan", "Triglycerid", "HDLC", "LDLC", "ALT"),
    "pregnancy": ("HGB", "HCT", "WBC", "Glucose"),
}


def _decimals(value: float) -> int:
    return 0 if value >= 50 else 1 if value >= 5 else 2


def lab_value(code: str, female: bool, rng: random.Random, *, level: float | None = None) -> tuple:
    """(code, name, unit, value as text) — `level` places the value on the reference range:
    0 its low end, 1 its high end (above 1: high, below 0: low); None draws one in range."""
    ind = lab_indicators()[code]
    low, high = ind["ranges"]["F" if female else "M"]
    if low is None and high is not None:
        low = high * 0.3
    if high is None and low is not None:
        high = low * 2.2
    if level is None:
        level = rng.uniform(0.1, 0.9)
    value = low + (high - low) * level
    value = max(value, (high - low) * 0.05)
    return code, ind["name"], ind["unit"], f"{value:.{_decimals(value)}f}"


def lab_panel(panel: str | None, female: bool, rng: random.Random, *, out_of_range: dict | None = None) -> list:
    """The panel's values: in range, except those of `out_of_range` (code -> level), and with
    a small chance one other is mildly out of range (as in life)."""
    if not panel:
        return []
    out_of_range = dict(out_of_range or {})
    codes = PANELS[panel]
    if not out_of_range and rng.random() < 0.2:
        out_of_range[rng.choice(codes)] = rng.choice([1.15, 1.3, -0.15])
    return [lab_value(c, female, rng, level=out_of_range.get(c)) for c in codes]


def at_days_back(today: date, days_back: int, hour: int = 8, minute: int = 30) -> datetime:
    return datetime.combine(today - timedelta(days=days_back), datetime.min.time()).replace(hour=hour, minute=minute)


def visit(code: str, *, panel=None, out=None, drugs=(), note=None, follow=0, weight=None, secondary=()):
    return {
        "code": code,
        "panel": panel,
        "out": out or {},
        "drugs": drugs,
        "note": note,
        "follow_up_days": follow,
        "weight": weight,
        "secondary": list(secondary),
    }


# ---------------------------------------------------------------- assembling visits


def clinical_of(rng: random.Random, person: dict, visit: dict) -> dict:
    """make_visit's `clinical` argument from a story or background visit."""
    drugs = [d for d in DRUGS if d[0] in visit["drugs"]]
    return {
        "diagnosis": (visit["code"], icd_names().get(visit["code"], visit["code"])),
        "secondary": visit["secondary"],
        "drugs": drugs,
        "labs": lab_panel(visit["panel"], person["female"], rng, out_of_range=visit["out"]),
        "note": visit["note"],
        "follow_up_days": visit["follow_up_days"],
        "weight": visit["weight"],
    }


def weight_for(age: int, female: bool, rng: random.Random) -> float:
    if age < 1:
        return rng.uniform(5, 9)
    if age < 15:
        return 9 + age * 2.6 + rng.uniform(-2, 3)
    return rng.uniform(42, 68) if female else rng.uniform(52, 82)


def age_on(born: date, day: date) -> int:
    return day.year - born.year - ((day.month, day.day) < (born.month, born.day))


def background_visits(rng: random.Random, person: dict, today: date, roles: list[str]) -> list[tuple]:
    """1 to 4 visits of a card-batch citizen over the last year (never before their birth), at
    their home facility and sometimes at another one: [(facility role, datetime, visit)]. The
    diagnosis fits the age on the visit day; a chronic one comes back at follow-ups."""
    out = []
    home = roles[0]
    n = rng.choices([1, 2, 3, 4], [3, 4, 2, 1])[0]
    lived = (today - person["born"]).days
    chronic = None
    for k in range(n):
        back = rng.randrange(2, 60) + 85 * (n - 1 - k)
        if back >= lived:
            continue
        when = at_days_back(today, back, rng.randrange(7, 16), rng.randrange(60))
        age = min(max(age_on(person["born"], when.date()), 0), 100)
        role = home if rng.random() < 0.7 else rng.choice(roles[1:])
        if chronic and rng.random() < 0.7:
            code, panel, drugs = chronic
        else:
            code, panel, drugs = diagnosis_for(rng, age, person["female"])
            if code in CHRONIC:
                chronic = (code, panel, drugs)
        weight = weight_for(age, person["female"], rng)
        out.append(
            (
                role,
                when,
                visit(
                    code,
                    panel=panel if age >= 16 else None,  # the reference ranges of the code list are adults'
                    drugs=drugs if age >= 12 else (),  # the demo's drug list has adult tablets only
                    follow=30 if code in CHRONIC else 0,
                    weight=round(weight, 1),
                ),
            )
        )
    return out


# ---------------------------------------------------------------- FHIR: vaccinations, check-ups

VACCINE_SYSTEM = "https://sskdt.example.vn/fhir/CodeSystem/vaccine"


def fhir_bundle(citizen: dict, vaccines: list, checkups: list) -> bytes:
    """A FHIR R4 collection Bundle of one person at one facility: Immunizations (code, dose,
    time) and pregnancy check-ups (an Encounter with gestational age, weight, blood pressure,
    fundal height, fetal heart rate, due date and last menstrual period)."""
    from healthbook.intake.fhir_bundle import SYSTEMS

    pid = f"p{citizen['n']}"
    tz = "+07:00"
    entries = [
        {
            "resourceType": "Patient",
            "id": pid,
            "identifier": [
                {"system": SYSTEMS["personal_id"], "value": citizen["pid"]},
                {"system": SYSTEMS["social_insurance"], "value": citizen["sin"]},
            ],
            "name": [{"text": citizen["name"]}],
            "gender": "female" if citizen["female"] else "male",
            "birthDate": citizen["born"].isoformat(),
        }
    ]
    for i, (when, code, dose) in enumerate(vaccines):
        entries.append(
            {
                "resourceType": "Immunization",
                "id": f"imm{citizen['n']}-{i}",
                "status": "completed",
                "vaccineCode": {"coding": [{"system": VACCINE_SYSTEM, "code": code}]},
                "patient": {"reference": f"Patient/{pid}"},
                "occurrenceDateTime": f"{when:%Y-%m-%dT%H:%M:%S}{tz}",
                "lotNumber": f"L{(citizen['n'] * 7919 + i) % 10**5:05d}",
                "protocolApplied": [{"doseNumberPositiveInt": dose}],
            }
        )
    for i, (when, weeks, lmp) in enumerate(checkups):
        eid = f"enc{citizen['n']}-{i}"
        at = f"{when:%Y-%m-%dT%H:%M:%S}{tz}"
        entries.append(
            {
                "resourceType": "Encounter",
                "id": eid,
                "status": "finished",
                "class": {"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "AMB"},
                "subject": {"reference": f"Patient/{pid}"},
                "period": {"start": at},
            }
        )

        def obs(oid, code, _eid=eid, _at=at, _i=i, **value):
            return {
                "resourceType": "Observation",
                "id": f"{oid}{citizen['n']}-{_i}",
                "status": "final",
                "code": {"coding": [{"system": "http://loinc.org", "code": code}]},
                "subject": {"reference": f"Patient/{pid}"},
                "encounter": {"reference": f"Encounter/{_eid}"},
                "effectiveDateTime": _at,
                **value,
            }

        def q(v, unit, code):
            return {"valueQuantity": {"value": v, "unit": unit, "system": "http://unitsofmeasure.org", "code": code}}

        entries += [
            obs("ga", "11884-4", **q(weeks, "wk", "wk")),
            obs("wt", "29463-7", **q(round(50 + weeks * 0.35, 1), "kg", "kg")),
            obs("edd", "11778-8", valueDateTime=(lmp + timedelta(days=280)).isoformat()),
            obs("lmp", "8665-2", valueDateTime=lmp.isoformat()),
            {
                **obs("bp", "85354-9"),
                "component": [
                    {
                        "code": {"coding": [{"system": "http://loinc.org", "code": "8480-6"}]},
                        **q(112, "mmHg", "mm[Hg]"),
                    },
                    {"code": {"coding": [{"system": "http://loinc.org", "code": "8462-4"}]}, **q(72, "mmHg", "mm[Hg]")},
                ],
            },
        ]
        if weeks >= 12:
            entries.append(obs("fhr", "55283-6", **q(140 + (weeks % 5), "/min", "/min")))
        if weeks >= 20:
            entries.append(obs("fh", "11881-0", **q(weeks - 1, "cm", "cm")))
    bundle = {"resourceType": "Bundle", "type": "collection", "entry": [{"resource": r} for r in entries]}
    return json.dumps(bundle, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
