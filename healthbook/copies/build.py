"""What a copy holds: the whole book as a FHIR Bundle (built by $everything's own builder,
healthbook.book.fhir, page after page) and a readable PDF of it (fpdf2, with the vendored
DejaVu Sans font for Vietnamese), zipped together."""

from __future__ import annotations

import datetime as dt
import io
import json
import logging
import zipfile
from pathlib import Path

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _
from fpdf import FPDF

from accesslog.models import Purpose
from codelists import lookups
from core.privacy import mask_id
from facilities.fhir import fhir_base
from healthbook.book import fhir_record, record
from healthbook.book.access import BookAccess
from healthbook.book.fhir import encounter_resources, loose_resources, patient_resource
from healthbook.book.selectors import encounters_page
from healthbook.models import HealthBook

FONT_DIR = Path(settings.BASE_DIR) / "static" / "fonts" / "dejavu"
# fpdf2 subsets the font with fontTools, which logs every table it prunes at INFO.
logging.getLogger("fontTools").setLevel(logging.WARNING)
PAGE = 50  # visits per round of the builder (eight queries each)


def book_bundle(book: HealthBook) -> dict:
    """The whole book as one FHIR `collection` Bundle: the Patient, every visit with what
    belongs to it, then everything not tied to a visit — what walking $everything's pages gives."""
    access = BookAccess(book=book, citizen=book.citizen, purpose=Purpose.TREAT, emergency_until=None)
    patient = fhir_record.as_fhir(patient_resource(access))
    patient_ref = {"reference": f"Patient/{patient['id']}"}
    resources, page, more = [patient], 1, True
    while more:
        encounters, more = encounters_page(book, page=page, count=PAGE)
        icd = lookups.names("icd10", {c for e in encounters for c in [e.main_diagnosis, *e.secondary_diagnoses]})
        record.name_conditions([c for e in encounters for c in e.conditions.all()])
        record.name_procedures([p for e in encounters for p in e.clinicalprocedures.all()])
        record.name_labs([lab for e in encounters for lab in e.labobservations.all()])
        for e in encounters:
            resources.extend(encounter_resources(e, patient_ref, icd))
        page += 1
    resources.extend(loose_resources(access, patient_ref))
    return {
        "resourceType": "Bundle",
        "type": "collection",
        "timestamp": timezone.now().isoformat(),
        "entry": [{"fullUrl": f"{fhir_base()}/{r['resourceType']}/{r['id']}", "resource": r} for r in resources],
    }


def _text(concept) -> str:
    if not isinstance(concept, dict):
        return ""
    coding = (concept.get("coding") or [{}])[0]
    label = concept.get("text") or coding.get("display") or ""
    code = coding.get("code") or ""
    return f"{code} {label}".strip() if code and code not in label else label or code


def _date(resource: dict) -> str:
    for key in ("effectiveDateTime", "occurrenceDateTime", "authoredOn", "recordedDate", "date", "start", "issued"):
        value = resource.get(key)
        if value:
            break
    else:
        value = (resource.get("period") or {}).get("start") or (resource.get("effectivePeriod") or {}).get("start")
    if not value:
        return ""
    try:
        parsed = dt.datetime.fromisoformat(str(value))
    except ValueError:
        try:
            return dt.date.fromisoformat(str(value)[:10]).strftime("%d/%m/%Y")
        except ValueError:
            return str(value)
    if parsed.tzinfo is not None:
        parsed = timezone.localtime(parsed)
    return parsed.strftime("%d/%m/%Y")


def _value(resource: dict) -> str:
    q = resource.get("valueQuantity")
    if isinstance(q, dict) and q.get("value") is not None:
        return f"{q.get('value')} {q.get('unit') or ''}".strip()
    return str(resource.get("valueString") or _text(resource.get("valueCodeableConcept")) or "")


def _line(resource: dict) -> str:
    kind = resource.get("resourceType")
    if kind == "Encounter":
        reasons = "; ".join(_text(c) for c in resource.get("reasonCode") or [])
        where = (resource.get("serviceProvider") or {}).get("display") or ""
        return " · ".join(x for x in (_date(resource), where, reasons) if x)
    if kind in ("MedicationRequest", "MedicationStatement", "MedicationDispense"):
        what = _text(resource.get("medicationCodeableConcept"))
        dose = "; ".join(
            (d.get("text") or "") for d in resource.get("dosage") or resource.get("dosageInstruction") or []
        )
        return " · ".join(x for x in (_date(resource), what, dose) if x)
    if kind == "Immunization":
        return " · ".join(x for x in (_date(resource), _text(resource.get("vaccineCode"))) if x)
    if kind == "DocumentReference":
        return " · ".join(x for x in (_date(resource), _text(resource.get("type")), resource.get("description")) if x)
    return " · ".join(x for x in (_date(resource), _text(resource.get("code")), _value(resource)) if x)


def _sections() -> list[tuple[str, tuple[str, ...]]]:
    return [
        (_("Visits"), ("Encounter",)),
        (_("Diagnoses and problems"), ("Condition", "AllergyIntolerance")),
        (_("Procedures"), ("Procedure",)),
        (_("Results and measurements"), ("Observation", "DiagnosticReport")),
        (_("Medicines"), ("MedicationRequest", "MedicationStatement", "MedicationDispense")),
        (_("Vaccinations"), ("Immunization",)),
        (_("Appointments"), ("Appointment",)),
        (_("Certificates and documents"), ("DocumentReference",)),
    ]


def book_pdf(bundle: dict, book: HealthBook) -> bytes:
    """A readable copy: who, when made, then the bundle's resources by section, one line each."""
    citizen = book.citizen
    pdf = FPDF(format="A4")
    pdf.set_title(_("Copy of the electronic health book"))
    pdf.add_font("DejaVu", "", str(FONT_DIR / "DejaVuSans.ttf"))
    pdf.add_font("DejaVu", "B", str(FONT_DIR / "DejaVuSans-Bold.ttf"))
    pdf.set_auto_page_break(auto=True, margin=15)
    pdf.add_page()
    pdf.set_font("DejaVu", "B", 15)
    pdf.multi_cell(0, 8, _("Copy of the electronic health book"), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("DejaVu", "", 10)
    sex = citizen.get_sex_display() if citizen.sex else "—"
    born = citizen.birth_date.strftime("%d/%m/%Y") if citizen.birth_date else str(citizen.birth_year or "—")
    made = timezone.localtime().strftime("%d/%m/%Y %H:%M")
    for text in (
        f"{citizen.full_name} · {born} · {sex} · {mask_id(citizen.personal_id) or '—'}",
        _("Made on %(when)s (Vietnam time) at the citizen's request.") % {"when": made},
    ):
        pdf.multi_cell(0, 6, text, new_x="LMARGIN", new_y="NEXT")
    resources = [e["resource"] for e in bundle.get("entry", [])]
    for title, kinds in _sections():
        lines = [_line(r) for r in resources if r.get("resourceType") in kinds]
        lines = [line for line in lines if line]
        pdf.ln(3)
        pdf.set_font("DejaVu", "B", 12)
        pdf.multi_cell(0, 7, f"{title} ({len(lines)})", new_x="LMARGIN", new_y="NEXT")
        pdf.set_font("DejaVu", "", 9)
        for line in lines or ["—"]:
            pdf.multi_cell(0, 5, line, new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())


def copy_archive(book: HealthBook) -> bytes:
    """The ZIP the citizen downloads: sskdt-copy.json (FHIR Bundle) and sskdt-copy.pdf."""
    bundle = book_bundle(book)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("sskdt-copy.json", json.dumps(bundle, ensure_ascii=False, indent=1, default=str))
        archive.writestr("sskdt-copy.pdf", book_pdf(bundle, book))
    return buffer.getvalue()
