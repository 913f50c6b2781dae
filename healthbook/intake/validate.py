"""Validate the codes of a submission against the national code lists in force on the visit date.

Set-based: the codes of every visit are gathered per code system, and each system is checked
with **one** `codelists.validation.codes_validate` call per submission (three queries at most,
whatever the number of rows). The version in force on each visit date comes from
`codelists.in_force` and the codes of a version from `codelists.lookups` (both cached in the
process; every process forgets the versions as soon as one is published), so a submission
whose codes were all seen before needs no query for them; a code that fails is always checked
again (history, retirement). When the visits of one submission fall under different versions
of a list (a new ICD-10 edition took effect between two visits), there is one call per version.

Whether a code that fails is an error (the submission is rejected) or a warning (the data is
kept and the finding reported) is the severity table below, overridable per deployment with
the `INTAKE_SEVERITY_OVERRIDES` setting (same keys: `CODE`, `CODE:TABLE:FIELD`, `*`).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date

from django.conf import settings

from codelists.in_force import UnknownCodeSystem, version_in_force
from codelists.lookups import concept_rows
from codelists.validation import CodeCheck, codes_validate

from .crosswalk import codes_translate
from .fhir_clinical import ICD9CM_SYSTEMS, ICD10_SYSTEMS
from .problems import Problem, SeverityPolicy, problem
from .records import VisitData

# The documented default table: a code failing its list is a warning except for the main
# diagnosis of a visit, without which the visit cannot be classified.
DEFAULT_OVERRIDES: dict[str, str] = {
    "CODE_UNKNOWN:XML1:MA_BENH_CHINH": "error",
    "CODE_RETIRED:XML1:MA_BENH_CHINH": "error",
    "CODE_NOT_IN_FORCE:XML1:MA_BENH_CHINH": "error",
    "CODE_UNKNOWN:Encounter:reasonCode": "error",
}

REASON_CODES = {
    "unknown": "CODE_UNKNOWN",
    "retired": "CODE_RETIRED",
    "not_in_force": "CODE_NOT_IN_FORCE",
    "inactive": "CODE_INACTIVE",
}


def severity_policy() -> SeverityPolicy:
    """The policy in force: stage-1 defaults, this module's table, then the setting."""
    return SeverityPolicy(overrides={**DEFAULT_OVERRIDES, **getattr(settings, "INTAKE_SEVERITY_OVERRIDES", {})})


@dataclass
class CodeUse:
    """Where one code occurs: (visit index, table, record key, field)."""

    code: str
    visit: int
    table: str
    record_key: str
    field: str
    main: bool = False  # the visit's main diagnosis (XML1/XML14 MA_BENH_CHINH, a FHIR Encounter's first reasonCode)


@dataclass
class Validation:
    problems: list[Problem] = field(default_factory=list)
    # (system, code) -> CodeCheck for every code checked (the lab reference ranges use it)
    checks: dict[tuple[str, str], CodeCheck] = field(default_factory=dict)
    # visit index -> {system: version id}
    versions: dict[int, dict[str, int]] = field(default_factory=lambda: defaultdict(dict))
    rejected_visits: set[int] = field(default_factory=set)


def visit_date(visit: VisitData, fallback: date) -> date:
    """The date whose code lists apply: admission, else discharge, else receipt."""
    e = visit.encounter
    for at in (e.admitted_at, e.discharged_at) if e else ():
        if at is not None:
            return at.date()
    for items in (visit.immunizations, visit.pregnancy_checkups):
        for item in items:
            at = getattr(item, "occurred_at", None) or getattr(item, "at", None)
            if at is not None:
                return at.date()
    return fallback


def code_uses(visits: list[VisitData]) -> dict[str, list[CodeUse]]:
    """Gather every coded value per code system."""
    uses: dict[str, list[CodeUse]] = defaultdict(list)
    for i, v in enumerate(visits):
        e = v.encounter
        if e is not None:
            t, f_main, f_sec = (
                ("XML1", "MA_BENH_CHINH", "MA_BENH_KT")
                if e.source == "xml130"
                else ("Encounter", "reasonCode", "reasonCode")
            )
            if e.main_diagnosis:
                uses["icd10"].append(CodeUse(e.main_diagnosis, i, t, e.key, f_main, main=True))
            if e.source == "xml130":  # ICD-9-CM procedure codes of the visit (issue 17)
                for code in e.procedures:
                    uses["icd9cm"].append(CodeUse(code, i, "XML1", e.key, "MA_PTTT_QT"))
            for code in e.secondary_diagnoses:
                uses["icd10"].append(CodeUse(code, i, t, e.key, f_sec))
            if e.source == "xml130":
                for system, fld, value in (
                    ("visit-type", "MA_LOAI_KCB", e.visit_type),
                    ("treatment-result", "KET_QUA_DTRI", e.result),
                    ("discharge-type", "MA_LOAI_RV", e.discharge_type),
                ):
                    if value:
                        uses[system].append(CodeUse(value, i, "XML1", e.key, fld))
        key = e.key if e else ""
        for lab in v.lab_results:
            if not lab.indicator_code:
                continue
            if lab.code_system is None:  # XML4
                uses["lab-indicator"].append(CodeUse(lab.indicator_code, i, "XML4", f"{key}/{lab.seq}", "MA_CHI_SO"))
            elif lab.code_system == "lab-indicator":  # a FHIR Observation in the national list (LOINC: as sent)
                uses["lab-indicator"].append(CodeUse(lab.indicator_code, i, "Observation", lab.seq or "", "code"))
        for s in v.services:  # XML3 MA_PTTT_QT: the ICD-9-CM code(s) of a service line (issue 17)
            for code in (s.procedure_code or "").split(";"):
                if code.strip():
                    uses["icd9cm"].append(CodeUse(code.strip(), i, "XML3", f"{key}/{s.seq}", "MA_PTTT_QT"))
        for c in v.conditions:
            if c.code and (c.system in ICD10_SYSTEMS or not c.system):
                uses["icd10"].append(CodeUse(c.code, i, "Condition", c.key, "code"))
        for p in v.procedures:
            if p.code and p.system in ICD9CM_SYSTEMS:
                uses["icd9cm"].append(CodeUse(p.code, i, "Procedure", p.key, "code"))
        for fu in v.follow_ups:
            if fu.main_diagnosis:
                uses["icd10"].append(CodeUse(fu.main_diagnosis, i, "XML14", key, "MA_BENH_CHINH", main=True))
        for imm in v.immunizations:
            if imm.vaccine_code:
                uses["vaccine"].append(CodeUse(imm.vaccine_code, i, "Immunization", imm.key, "vaccineCode"))
    return uses


MAIN_DIAGNOSIS_FIELDS = ("MA_BENH_CHINH",)
_AGE_UNITS = {"day": 1, "year": 365.25}


def _age_days(visit: VisitData, on: date) -> float | None:
    born = visit.patient.birth_date
    if born is None or born.precision == "year":
        return None
    return (on - born.value).days


def _outside(age: float, bounds: dict | None, *, lower: bool) -> bool:
    if not bounds:
        return False
    limit = bounds["value"] * _AGE_UNITS.get(bounds.get("unit"), 1)
    inclusive = bounds.get("inclusive", True)
    if lower:
        return age < limit if inclusive else age <= limit
    return age > limit if inclusive else age >= limit


def annex_problems(use: CodeUse, props: dict, visit: VisitData, on: date, policy: SeverityPolicy) -> list[Problem]:
    """The ICD-10 annex rules of QĐ 4469 (codelists/seed/SOURCES.md) for one diagnosis code:
    not to be used as the main diagnosis (annex A2), one sex only (A4.1/A4.2), an age range
    (A3.x). Warnings by default, configurable like the other severities."""
    out = []

    def add(code: str, value) -> None:
        out.append(
            problem(code, table=use.table, record_key=use.record_key, field=use.field, value=value, policy=policy)
        )

    if props.get("not_main_diagnosis") and (use.main or use.field in MAIN_DIAGNOSIS_FIELDS):
        add("ICD10_NOT_MAIN", use.code)
    sex = {"1": "M", "2": "F"}.get(visit.patient.sex or "")
    if props.get("sex") in ("M", "F") and sex and sex != props["sex"]:
        add("ICD10_SEX", use.code)
    age = _age_days(visit, on) if props.get("age_restrictions") else None
    if age is not None:
        for rule in props["age_restrictions"]:
            if _outside(age, rule.get("min"), lower=True) or _outside(age, rule.get("max"), lower=False):
                add("ICD10_AGE", use.code)
                break
    return out


def _validate(system: str, vid: int, codes: list[str], on: date) -> dict[str, CodeCheck]:
    """codes_validate for the version `vid` in force on `on`, with the codes active in that version
    read from the process cache (a submission whose codes were all seen before costs no query)."""
    out: dict[str, CodeCheck] = {}
    doubtful = []
    for code, row in concept_rows(vid, codes).items():
        if row is not None and row[1]:
            out[code] = CodeCheck(code, True, None, row[0], row[2], row[3] or {})
        else:
            doubtful.append(code)
    if doubtful:
        out.update(codes_validate(system, doubtful, on))
    return out


def _version_on(system: str, on: date) -> int | None:
    try:
        return version_in_force(system, on).version_id
    except UnknownCodeSystem:
        return None


def codes_check(visits: list[VisitData], *, received_on: date, policy: SeverityPolicy) -> Validation:
    """Check every code of the submission; one codes_validate call per system and version.
    Codes sent in other systems that the lists map (CVX, vaccine product names, LOINC) are
    translated to the national code first (intake.crosswalk)."""
    codes_translate(visits)
    out = Validation()
    dates = [visit_date(v, received_on) for v in visits]
    for system, uses in code_uses(visits).items():
        groups: dict[int | None, list[CodeUse]] = defaultdict(list)
        by_date: dict[date, int | None] = {}
        for use in uses:
            on = dates[use.visit]
            vid = by_date[on] if on in by_date else by_date.setdefault(on, _version_on(system, on))
            groups[vid].append(use)
            if vid is not None:
                out.versions[use.visit][system] = vid
        for vid, group in groups.items():
            if vid is None:
                for use in group:
                    out.problems.append(
                        problem(
                            "CODE_LIST_MISSING",
                            table=use.table,
                            record_key=use.record_key,
                            field=use.field,
                            value=use.code,
                            detail=system,
                            policy=policy,
                        )
                    )
                continue
            on = dates[group[0].visit]
            checks = _validate(system, vid, [u.code for u in group], on)
            for use in group:
                check = checks[use.code]
                out.checks[(system, use.code)] = check
                if check.ok:
                    if system == "icd10":
                        out.problems.extend(
                            annex_problems(use, check.properties, visits[use.visit], dates[use.visit], policy)
                        )
                    continue
                p = problem(
                    REASON_CODES[check.reason],
                    table=use.table,
                    record_key=use.record_key,
                    field=use.field,
                    value=use.code,
                    detail=system,
                    policy=policy,
                )
                out.problems.append(p)
                if p.severity == "error":
                    out.rejected_visits.add(use.visit)
    return out
