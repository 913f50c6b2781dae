"""Reads of the clinical record a facility sends beyond visits (issue 17): allergies, problems
and diagnoses, procedures, diagnostic reports with their results, vital signs, medication
statements, and what was kept as received. Fixed number of queries whatever the book's size;
code names from codelists.lookups (ICD-10, ICD-9-CM, lab indicators), else the display sent.

The XML 130 tables of the sensitive categories -- HIV (XML6) and tuberculosis (XML15),
SENSITIVE_TABLES -- are kept and shown under a stricter rule than the care relationship: on the
visit page only, and only to the doctors of the facility that sent that visit, reading under a
care relationship (not an emergency access); never on the other pages, in the history API or in
$everything (docs/intake.md, "The whole record").
"""

from __future__ import annotations

import json

from django.db.models import Q

from accesslog.models import Purpose
from codelists import lookups
from healthbook.book.selectors import CERTIFICATE_MODELS, SENSITIVE_TABLES
from healthbook.models import (
    Allergy,
    ClinicalProcedure,
    Condition,
    DiagnosticReport,
    Document,
    FollowUpAppointment,
    Immunization,
    LabObservation,
    Medication,
    PregnancyCheckup,
    ReceivedTable,
    RecordSummary,
)

RECORD_LIMIT = 500  # rows of one kind on the page (newest first); the APIs page the same rows
VITAL_SIGNS = "vital-signs"


def name_conditions(rows) -> None:
    icd = lookups.names("icd10", {r.code for r in rows if r.code})
    for r in rows:
        r.display_name = icd.get(r.code) or r.display or r.code


def name_procedures(rows) -> None:
    icd9 = lookups.names("icd9cm", {r.code for r in rows if r.code})
    for r in rows:
        r.display_name = icd9.get(r.code) or r.display or r.code


NATIONAL_LAB = ("", "lab-indicator")  # XML4 rows (no system) and FHIR ones in the national list


def name_labs(rows) -> None:
    national = lookups.names("lab-indicator", {r.indicator_code for r in rows if r.code_system in NATIONAL_LAB})
    for r in rows:
        r.display_name = (
            (national.get(r.indicator_code) if r.code_system in NATIONAL_LAB else None)
            or r.indicator_name
            or r.indicator_code
        )


def attach_results(reports, labs) -> None:
    """Each report's `results`: the lab rows it groups (same facility, report_key = its source_key)."""
    by_key: dict[tuple[int, str], list] = {}
    for lab in labs:
        by_key.setdefault((lab.facility_id, lab.report_key), []).append(lab)
    for r in reports:
        r.results = by_key.get((r.facility_id, r.source_key), [])


def clinical_record(access) -> dict:
    """The book's allergies, conditions, procedures, reports (with results), vital signs,
    medication statements and dispenses, and FHIR resources kept as received (seven queries)."""
    book = access.book
    allergies = list(Allergy.objects.filter(book=book).select_related("facility").order_by("-occurred_at", "-id"))
    conditions = list(
        Condition.objects.filter(book=book).select_related("facility").order_by("-occurred_at", "-id")[:RECORD_LIMIT]
    )
    procedures = list(
        ClinicalProcedure.objects.filter(book=book)
        .select_related("facility")
        .order_by("-occurred_at", "-id")[:RECORD_LIMIT]
    )
    reports = list(
        DiagnosticReport.objects.filter(book=book)
        .select_related("facility")
        .order_by("-occurred_at", "-id")[:RECORD_LIMIT]
    )
    labs = list(
        LabObservation.objects.filter(book=book)
        .filter(~Q(report_key="") | Q(category=VITAL_SIGNS))
        .order_by("-occurred_at", "-id")[: RECORD_LIMIT * 4]
    )
    statements = list(
        Medication.objects.filter(book=book, kind__in=("statement", "dispense"))
        .select_related("facility")
        .order_by("-occurred_at", "-id")[:RECORD_LIMIT]
    )
    received = list(
        ReceivedTable.objects.filter(book=book, encounter__isnull=True)
        .select_related("facility")
        .order_by("-occurred_at", "-id")[:RECORD_LIMIT]
    )
    name_conditions(conditions)
    name_procedures(procedures)
    name_labs(labs)
    attach_results(reports, [lab for lab in labs if lab.report_key])
    return {
        "allergies": allergies,
        "active_conditions": [c for c in conditions if c.is_active],
        "other_conditions": [c for c in conditions if not c.is_active],
        "procedures": procedures,
        "reports": reports,
        "vital_signs": [lab for lab in labs if lab.category == VITAL_SIGNS],
        "statements": statements,
        "received": received,
    }


def sensitive_allowed(user, access, visit) -> bool:
    """The stricter rule of SENSITIVE_TABLES: a doctor of the facility that sent the visit, under
    a care relationship (an emergency access does not open them)."""
    return access.purpose == Purpose.TREAT and getattr(user, "facility_id", None) == visit.facility_id


def visit_record(visit, *, sensitive: bool = False) -> dict:
    """A visit's conditions, procedures, reports, record summaries (XML8) and the tables kept as
    received (XML10, XML12, …; XML6 and XML15 only when `sensitive`): five queries."""
    conditions = list(Condition.objects.filter(encounter=visit).order_by("id"))
    procedures = list(ClinicalProcedure.objects.filter(encounter=visit).order_by("id"))
    reports = list(DiagnosticReport.objects.filter(encounter=visit).order_by("id"))
    name_conditions(conditions)
    name_procedures(procedures)
    return {
        "conditions": conditions,
        "procedures": procedures,
        "reports": reports,
        "record_summaries": list(RecordSummary.objects.filter(encounter=visit).order_by("id")),
        "received_tables": [
            t
            for t in ReceivedTable.objects.filter(encounter=visit).order_by("table", "id")
            if sensitive or t.table not in SENSITIVE_TABLES
        ],
        "sensitive_tables": SENSITIVE_TABLES,
    }


def not_in_a_visit(access) -> dict:
    """Every row of the book not tied to a visit (the last page of the history API and of
    $everything): allergies, conditions, procedures, reports, lab results and vital signs,
    medications (e-prescriptions, statements, dispenses), immunizations, pregnancy check-ups,
    appointments, record summaries sent as FHIR documents, FHIR resources kept as received --
    eleven queries."""
    book = access.book

    def rows(model, *order):
        return list(model.objects.filter(book=book, encounter__isnull=True).order_by(*order, "id"))

    out = {
        "allergies": rows(Allergy, "occurred_at"),
        "conditions": rows(Condition, "occurred_at"),
        "procedures": rows(ClinicalProcedure, "occurred_at"),
        "reports": rows(DiagnosticReport, "occurred_at"),
        "lab_results": rows(LabObservation, "occurred_at"),
        "medications": rows(Medication, "occurred_at"),
        # vaccinations are never shown under a visit: all of them come here
        "immunizations": list(Immunization.objects.filter(book=book).order_by("occurred_at", "id")),
        "pregnancy_checkups": rows(PregnancyCheckup, "occurred_at"),
        "follow_ups": rows(FollowUpAppointment, "appointment_date"),
        "record_summaries": rows(RecordSummary, "occurred_at"),
        "received": [
            r for r in rows(ReceivedTable, "occurred_at") if r.table not in SENSITIVE_TABLES and r.table[:3] != "XML"
        ],
    }
    name_conditions(out["conditions"])
    name_procedures(out["procedures"])
    name_labs(out["lab_results"])
    return out


def reports_with_results(reports, labs) -> list[tuple]:
    """(report, its results) pairs, the results among `labs`."""
    attach_results(reports, [lab for lab in labs if lab.report_key])
    return [(r, r.results) for r in reports]


# ---------------------------------------------------------------- one certificate

SAFE_FILE_TYPES = ("application/pdf",)  # served as sent; anything else as a plain download


def certificate(access, kind: str, cert_id: int) -> dict | None:
    """One certificate or paper of the book, opened: every field as received, the facility that
    signed the submission carrying it, when that submission was received, whether its signature
    was verified, and whether a stored file can be downloaded (two queries)."""
    models = dict(CERTIFICATE_MODELS)
    if kind in models:
        qs = models[kind].objects.filter(book=access.book, pk=cert_id)
    elif kind in Document.Kind.values:
        qs = Document.objects.filter(book=access.book, pk=cert_id, kind=kind).defer("content")
    else:
        return None
    row = qs.select_related("facility", "submission").first()
    if row is None:
        return None
    sub = row.submission
    is_document = isinstance(row, Document)
    return {
        "kind": kind,
        "row": row,
        "verified": row.signature_status == "verified" if is_document else sub.signature_verified,
        "fingerprint": sub.signature_fingerprint,
        "received_at": sub.received_at,
        "has_file": is_document and Document.objects.filter(pk=row.pk, content__isnull=False).exists(),
    }


def certificate_file(access, kind: str, cert_id: int) -> tuple[bytes, str, str] | None:
    """(bytes, content type, file name) of a certificate: a document's stored file, or a paper's
    fields as received (JSON). One query."""
    models = dict(CERTIFICATE_MODELS)
    if kind in models:
        row = models[kind].objects.filter(book=access.book, pk=cert_id).first()
        if row is None:
            return None
        data = json.dumps(row.fields, ensure_ascii=False, indent=1).encode("utf-8")
        return data, "application/json", f"{kind}-{row.pk}.json"
    if kind not in Document.Kind.values:
        return None
    row = Document.objects.filter(book=access.book, pk=cert_id, kind=kind, content__isnull=False).first()
    if row is None:
        return None
    content_type = row.content_type if row.content_type in SAFE_FILE_TYPES else "application/octet-stream"
    suffix = ".pdf" if content_type == "application/pdf" else ".bin"
    return bytes(row.content), content_type, f"{kind}-{row.pk}{suffix}"
