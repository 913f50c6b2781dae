"""FHIR resources of the clinical record (issue 17): Condition, AllergyIntolerance, Procedure,
DiagnosticReport, lab and vital-sign Observations, MedicationStatement and MedicationDispense.

Each function maps one validated ``fhir.resources`` R4B object onto the plain records of
:mod:`records`; :mod:`fhir_bundle` decides which visit an item belongs to. Codes stay the
strings sent, with the system they were sent in; names come later from the code lists
(codelists.lookups) where the system is a national one, else the display as sent.
"""

from __future__ import annotations

from datetime import date, datetime

from healthbook.models.lab_ranges import range_text

from .records import (
    AllergyData,
    ConditionData,
    DiagnosticReportData,
    LabResultData,
    MedicationData,
    PartialDate,
    ProcedureData,
)

ICD10_SYSTEMS = ("http://hl7.org/fhir/sid/icd-10", "http://hl7.org/fhir/sid/icd-10-vn")
ICD9CM_SYSTEMS = ("http://hl7.org/fhir/sid/icd-9-cm", "http://www.cms.gov/Medicare/Coding/ICD9")
SNOMED = "http://snomed.info/sct"
LOINC = "http://loinc.org"
# The national lab-indicator list (Decision 1227/QĐ-BYT) as the portal's terminology serves it;
# an Observation coded in it is checked against that list, a LOINC one is kept as sent.
LAB_INDICATOR_SYSTEM_SUFFIX = "/CodeSystem/lab-indicator"
# The national drug list: a code in it names the substance of an allergy (drug code).
DRUG_SYSTEM_SUFFIX = "/CodeSystem/drug"


def pdate(v) -> PartialDate | None:
    if v is None:
        return None
    if isinstance(v, datetime):
        return PartialDate(v.date())
    if isinstance(v, date):
        return PartialDate(v)
    s = str(v)  # FHIR partial dates "2024" / "2024-05"
    if len(s) == 4 and s.isdigit():
        return PartialDate(date(int(s), 1, 1), "year")
    if len(s) == 7 and s[:4].isdigit() and s[5:7].isdigit() and 1 <= int(s[5:7]) <= 12:
        return PartialDate(date(int(s[:4]), int(s[5:7]), 1), "month")
    return None


def num(q) -> str | None:
    return None if q is None or q.value is None else format(q.value, "f")


def first_coding(cc, prefer: tuple[str, ...] = ()) -> tuple[str | None, str | None, str | None]:
    """(system, code, display) of the preferred system's coding, else the first with a code;
    the concept's text stands in for a missing display."""
    if cc is None:
        return None, None, None
    codings = [c for c in (cc.coding or []) if c.code]
    chosen = next((c for c in codings if c.system in prefer), codings[0] if codings else None)
    if chosen is None:
        return None, None, cc.text
    return chosen.system, chosen.code, chosen.display or cc.text


def _status(cc) -> str | None:
    return next((c.code for c in (cc.coding or []) if c.code), None) if cc is not None else None


def _notes(annotations) -> str | None:
    texts = [a.text for a in annotations or [] if a.text]
    return "\n".join(texts) or None


def _dt(v) -> datetime | None:
    return v if isinstance(v, datetime) else None


def condition(res) -> ConditionData:
    system, code, display = first_coding(res.code, ICD10_SYSTEMS)
    category = next((_status(c) for c in res.category or [] if _status(c)), None)
    return ConditionData(
        key=res.id or "",
        code=code,
        system=system,
        display=display,
        category=category,
        clinical_status=_status(res.clinicalStatus),
        verification_status=_status(res.verificationStatus),
        severity=first_coding(res.severity)[2] or first_coding(res.severity)[1],
        onset=pdate(res.onsetDateTime),
        abatement=pdate(res.abatementDateTime),
        recorded_on=pdate(res.recordedDate),
        note=_notes(res.note),
    )


def allergy(res) -> AllergyData:
    system, code, display = first_coding(res.code, (SNOMED,))
    reactions = []
    for r in res.reaction or []:
        for m in r.manifestation or []:
            text = first_coding(m)[2] or first_coding(m)[1]
            if text:
                reactions.append(text)
    return AllergyData(
        key=res.id or "",
        code=code,
        system=system,
        display=display or (res.code.text if res.code else None),
        type=res.type,
        category=",".join(res.category or []) or None,
        criticality=res.criticality,
        clinical_status=_status(res.clinicalStatus),
        verification_status=_status(res.verificationStatus),
        reactions="; ".join(reactions) or None,
        onset=pdate(res.onsetDateTime),
        recorded_on=pdate(res.recordedDate),
        note=_notes(res.note),
    )


def procedure(res) -> ProcedureData:
    system, code, display = first_coding(res.code, ICD9CM_SYSTEMS)
    performer = next(
        (p.actor.display or p.actor.reference for p in res.performer or [] if p.actor is not None),
        None,
    )
    start = res.performedPeriod.start if res.performedPeriod is not None else None
    performed = res.performedDateTime or start
    return ProcedureData(
        key=res.id or "",
        code=code,
        system=system,
        display=display,
        status=res.status,
        performed_at=_dt(performed),
        performed_date=pdate(performed),
        performer=performer,
        note=_notes(res.note),
    )


def diagnostic_report(res) -> DiagnosticReportData:
    system, code, display = first_coding(res.code, (LOINC,))
    return DiagnosticReportData(
        key=res.id or "",
        code=code,
        system=system,
        display=display,
        status=res.status,
        category=next((_status(c) for c in res.category or [] if _status(c)), None),
        issued_at=_dt(res.issued),
        effective_at=_dt(res.effectiveDateTime),
        conclusion=res.conclusion,
    )


def _range_text(ranges) -> str | None:
    for r in ranges or []:
        if r.text:
            return r.text
        low, high = r.low.value if r.low else None, r.high.value if r.high else None
        if low is not None or high is not None:
            return range_text(low, high)
    return None


def observation(res, report_id: str | None) -> LabResultData:
    """A lab or vital-sign Observation: national indicator code preferred, else LOINC."""
    codings = [c for c in (res.code.coding or []) if c.code]
    national = next((c for c in codings if (c.system or "").endswith(LAB_INDICATOR_SYSTEM_SUFFIX)), None)
    chosen = national or next((c for c in codings if c.system == LOINC), codings[0] if codings else None)
    value, unit = None, None
    if res.valueQuantity is not None:
        value, unit = num(res.valueQuantity), res.valueQuantity.unit or res.valueQuantity.code
    elif res.valueString is not None:
        value = res.valueString
    elif res.valueCodeableConcept is not None:
        value = first_coding(res.valueCodeableConcept)[2] or first_coding(res.valueCodeableConcept)[1]
    elif res.valueBoolean is not None:
        value = "true" if res.valueBoolean else "false"
    elif res.valueInteger is not None:
        value = str(res.valueInteger)
    interpretation = next((_status(i) for i in res.interpretation or [] if _status(i)), None)
    category = next((_status(c) for c in res.category or [] if _status(c)), None)
    return LabResultData(
        seq=res.id,
        service_code=None,
        indicator_code=chosen.code if chosen else None,
        indicator_name=(chosen.display if chosen else None) or res.code.text,
        value=value,
        unit=unit,
        conclusion=_notes(res.note),
        resulted_at=_dt(res.effectiveDateTime) or _dt(res.issued),
        code_system="lab-indicator" if national is not None else (chosen.system if chosen else None),
        category=category,
        reference_range=_range_text(res.referenceRange),
        interpretation=interpretation,
        report_id=report_id,
    )


def medication_statement(res, kind: str) -> MedicationData:
    """MedicationStatement ("statement") or MedicationDispense ("dispense")."""
    _system, code, display = first_coding(res.medicationCodeableConcept)
    dosage = getattr(res, "dosage", None) if kind == "statement" else getattr(res, "dosageInstruction", None)
    qty = getattr(res, "quantity", None)
    when = res.effectiveDateTime if kind == "statement" else res.whenHandedOver
    return MedicationData(
        seq=res.id,
        code=code,
        name=display,
        dosage=dosage[0].text if dosage else None,
        quantity=num(qty),
        unit=qty.unit if qty is not None else None,
        ordered_at=_dt(when),
        kind=kind,
        status=res.status,
    )
