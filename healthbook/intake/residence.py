"""The residence a facility file gives (MATINH_CU_TRU, MAXA_CU_TRU; a FHIR Patient.address, read
into the same fields by intake.fhir_bundle, or its province and commune names when it sends no
codes, matched through geo by name), read against geography.

Since 1 July 2025 there are two levels: 34 provinces and 3,321 communes. MATINH_CU_TRU may carry
a new code or an old (63-unit) one, mapped to the province that absorbed it; MAHUYEN_CU_TRU
(districts, abolished) is never read. MAXA_CU_TRU must be one of the communes in force: an old
commune code is not converted (no published correspondence the project trusts, see
geo/data/SOURCE.md) and, like any unknown code, is only a warning. Administrative fields never
reject clinical data, whatever `INTAKE_SEVERITY_OVERRIDES` says: these findings are built with
the default policy.
"""

from __future__ import annotations

from dataclasses import dataclass

from geo.selectors import (
    commune_codes_by_name,
    commune_province_ids,
    name_key,
    province_ids_by_code,
    province_ids_by_name,
)

from .problems import DEFAULT_POLICY, Problem, problem
from .records import PatientData


@dataclass(frozen=True, slots=True)
class Residence:
    province_id: int | None = None
    commune_code: str = ""


def residence_of(p: PatientData, *, table: str, record_key: str) -> tuple[Residence, list[Problem]]:
    """Return the residence the patient data names (only codes in the lists) and the warnings."""
    problems: list[Problem] = []
    province_id = None
    raw = (p.province_code or "").strip()
    if raw:
        code = raw[-2:] if len(raw) == 3 and raw.isdigit() else raw  # "02 ký tự cuối" of a 3-digit code
        province_id = province_ids_by_code().get(code)
        if province_id is None:
            problems.append(_warning("RESIDENCE_PROVINCE_UNKNOWN", table, record_key, "MATINH_CU_TRU", raw))
    elif p.province_name:  # FHIR Patient.address.state written out: matched by name
        province_id = province_ids_by_name().get(name_key(p.province_name))
        if province_id is None:
            problems.append(_warning("RESIDENCE_PROVINCE_UNKNOWN", table, record_key, "address.state", p.province_name))
    elif table == "XML1":  # required by the XML 130 summary table; optional in check-ins and FHIR
        problems.append(_warning("RESIDENCE_PROVINCE_MISSING", table, record_key, "MATINH_CU_TRU", ""))
    commune = (p.commune_code or "").strip()
    if not commune and p.commune_name and province_id is not None:  # address.city written out
        commune = commune_codes_by_name().get((province_id, name_key(p.commune_name)), "")
        if not commune:
            problems.append(_warning("RESIDENCE_COMMUNE_UNKNOWN", table, record_key, "address.city", p.commune_name))
    if commune:
        in_province = commune_province_ids().get(commune)
        if in_province is None:
            problems.append(_warning("RESIDENCE_COMMUNE_UNKNOWN", table, record_key, "MAXA_CU_TRU", commune))
            commune = ""
        elif province_id is not None and in_province != province_id:
            problems.append(_warning("RESIDENCE_COMMUNE_OTHER_PROVINCE", table, record_key, "MAXA_CU_TRU", commune))
            commune = ""
        elif province_id is None:
            province_id = in_province
    return Residence(province_id, commune), problems


def _warning(code: str, table: str, key: str, field: str, value: str) -> Problem:
    return problem(code, table=table, record_key=key, field=field, value=value[:20], policy=DEFAULT_POLICY)
