"""Which facilities sent given codes of a national list, since when and how often: the source the
health book registers with `codelists.impact` at startup for the retired-code impact report
(issue 17, point 7). Code lists never read the book; the book answers them through this hook.

One aggregate statement per call, whatever the number of codes or facilities: the records of
the submissions received since the date that hold one of the codes, in every column where the
intake stores codes of that list (the same places `validate.code_uses` checks), counted per
facility and code. Facilities and provinces are named through their apps' views.
"""

from __future__ import annotations

from datetime import datetime

from django.db import connection

from codelists.impact import CodeUsage

from .fhir_clinical import ICD9CM_SYSTEMS, ICD10_SYSTEMS

# Per list: (table, expression giving the code, extra condition) — an array column is unnested.
_ICD10 = "'" + "','".join(("", *ICD10_SYSTEMS)) + "'"
_ICD9 = "'" + "','".join(ICD9CM_SYSTEMS) + "'"
PARTS: dict[str, list[tuple[str, str, str]]] = {
    "icd10": [
        ("healthbook_encounter", "t.main_diagnosis", ""),
        ("healthbook_encounter", "unnest(t.secondary_diagnoses)", ""),
        ("healthbook_condition", "t.code", f"t.code_system IN ({_ICD10})"),
        ("healthbook_follow_up", "t.main_diagnosis", ""),
    ],
    "icd9cm": [
        ("healthbook_encounter", "unnest(t.procedures)", ""),
        ("healthbook_service_item", "unnest(string_to_array(t.procedure_code, ';'))", ""),
        ("healthbook_procedure", "t.code", f"t.code_system IN ({_ICD9})"),
    ],
    "lab-indicator": [("healthbook_lab_observation", "t.indicator_code", "t.code_system IN ('', 'lab-indicator')")],
    "vaccine": [("healthbook_immunization", "t.vaccine_code", "")],
    "visit-type": [("healthbook_encounter", "t.visit_type", "t.source = 'xml130'")],
    "treatment-result": [("healthbook_encounter", "t.result", "t.source = 'xml130'")],
    "discharge-type": [("healthbook_encounter", "t.discharge_type", "t.source = 'xml130'")],
}


def _part(table: str, expr: str, condition: str) -> str:
    where = " AND ".join(c for c in ("t.submission_id IN (SELECT id FROM recent)", condition) if c)
    # Only the constant table and column names of PARTS are formatted in; values are parameters.
    inner = f"SELECT t.facility_id, t.submission_id, {expr} AS code FROM {table} t WHERE {where}"  # noqa: S608
    return f"SELECT u.facility_id, u.submission_id, u.code FROM ({inner}) u WHERE u.code = ANY(%(codes)s)"  # noqa: S608


def usage_sql(system_key: str) -> str | None:
    parts = PARTS.get(system_key)
    if not parts:
        return None
    uses = "\nUNION ALL\n".join(_part(*p) for p in parts)
    return f"""
WITH recent AS (SELECT id, received_at FROM healthbook_submission WHERE received_at >= %(since)s),
uses AS ({uses})
SELECT coalesce(p.code, ''), coalesce(p.name_vi, ''), f.code, f.name, u.code,
       count(*), count(DISTINCT u.submission_id), max(r.received_at)
FROM uses u
JOIN recent r ON r.id = u.submission_id
JOIN facilities_facility_view f ON f.id = u.facility_id
LEFT JOIN geo_province_view p ON p.id = f.province_id
WHERE %(province)s::bigint IS NULL OR f.province_id = %(province)s::bigint
GROUP BY p.code, p.name_vi, f.code, f.name, u.code
ORDER BY count(*) DESC, f.code, u.code
"""  # noqa: S608


def code_usage(system_key: str, codes: list[str], since: datetime, province_id: int | None) -> list[CodeUsage] | None:
    """Per facility and code: records holding one of `codes` that came in a submission received
    since `since`. None for a list the book does not store codes of."""
    sql = usage_sql(system_key)
    if sql is None:
        return None
    if not codes:
        return []
    with connection.cursor() as cur:
        cur.execute(sql, {"since": since, "codes": list(codes), "province": province_id})
        return [CodeUsage(*row) for row in cur.fetchall()]
