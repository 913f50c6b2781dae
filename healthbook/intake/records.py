"""Plain records produced by both readers (XML 130 and FHIR), consumed by one merge step.

No Django models here: the merge step (stage 2) maps these onto the book.  Codes are always
strings; dates carry their precision (XML 130 allows "00" for an unknown day or month);
times are aware datetimes in Asia/Ho_Chi_Minh (XML 130 times are local wall-clock times).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from .problems import Problem

# Fields added after content hashes were first stored (issue 17): the visit hash leaves them out
# while they are empty, so a visit sent again as before keeps its stored hash (merge.visit_hash).
ADDED_FIELDS: dict[str, frozenset[str]] = {
    "EncounterData": frozenset({"reason_for_visit", "treatment_method", "blood_group"}),
    "MedicationData": frozenset({"kind", "status"}),
    "ServiceData": frozenset({"performer", "ordered_by"}),
    "LabResultData": frozenset({"code_system", "category", "reference_range", "interpretation", "report_id"}),
    "VisitData": frozenset({"conditions", "allergies", "procedures", "reports", "received_resources"}),
    "PregnancyCheckupData": frozenset({"last_period"}),
    "ImmunizationData": frozenset({"other_codings", "sent_code", "sent_system"}),
}


@dataclass(frozen=True, slots=True)
class PartialDate:
    """A date with precision "day", "month" or "year" (day/month set to 1 when unknown)."""

    value: date
    precision: str = "day"


@dataclass
class PatientData:
    facility_patient_id: str | None = None
    full_name: str | None = None
    personal_id: str | None = None  # SO_CCCD / số định danh cá nhân (or passport)
    social_insurance_number: str | None = None  # mã số BHXH (last 10 chars of the card)
    card_numbers: list[str] = field(default_factory=list)
    birth_date: PartialDate | None = None
    birth_time: str | None = None  # "HHmm" when given
    sex: str | None = None  # GIOI_TINH code: 1 male, 2 female, 3 undetermined
    address: str | None = None
    phone: str | None = None
    nationality: str | None = None
    ethnicity: str | None = None
    occupation: str | None = None
    province_code: str | None = None
    commune_code: str | None = None
    # Names of the units as written (FHIR Patient.address state / city), matched through geo
    # (healthbook.intake.residence) only when no code is sent
    province_name: str | None = None
    commune_name: str | None = None


@dataclass
class EncounterData:
    source: str  # "xml130" | "fhir"
    facility_code: str | None
    key: str  # MA_LK, or the FHIR Encounter id
    visit_type: str | None = None  # MA_LOAI_KCB
    admitted_at: datetime | None = None
    inpatient_at: datetime | None = None
    discharged_at: datetime | None = None
    main_diagnosis: str | None = None  # ICD-10, as sent
    secondary_diagnoses: list[str] = field(default_factory=list)
    traditional_diagnoses: list[str] = field(default_factory=list)
    procedures: list[str] = field(default_factory=list)  # ICD-9-CM
    diagnosis_text_admission: str | None = None
    diagnosis_text_discharge: str | None = None
    result: str | None = None  # KET_QUA_DTRI
    discharge_type: str | None = None  # MA_LOAI_RV
    departments: list[str] = field(default_factory=list)
    follow_up_dates: list[PartialDate] = field(default_factory=list)
    referred_from: str | None = None
    referred_to: str | None = None
    record_number: str | None = None
    visit_object: str | None = None  # MA_DOITUONG_KCB
    weight_kg: str | None = None
    treatment_days: str | None = None
    note: str | None = None
    reason_for_visit: str | None = None  # LY_DO_VV
    treatment_method: str | None = None  # PP_DIEU_TRI
    blood_group: str | None = None  # NHOM_MAU


@dataclass
class MedicationData:
    seq: str | None
    code: str | None  # MA_THUOC (active-ingredient code) or a FHIR medication code
    name: str | None
    unit: str | None = None
    strength: str | None = None
    route: str | None = None
    form: str | None = None
    dosage: str | None = None
    usage: str | None = None
    quantity: str | None = None
    registration_no: str | None = None
    ordered_at: datetime | None = None
    executed_at: datetime | None = None
    prescriber: str | None = None
    prescription_code: str | None = None  # national e-prescription code (FHIR only)
    kind: str | None = None  # FHIR: "request" | "statement" | "dispense" (None: XML2, a drug given)
    status: str | None = None  # FHIR status as sent


@dataclass
class ServiceData:
    seq: str | None
    code: str | None
    name: str | None
    group: str | None = None
    procedure_code: str | None = None
    supply_code: str | None = None
    quantity: str | None = None
    ordered_at: datetime | None = None
    performed_at: datetime | None = None
    resulted_at: datetime | None = None
    department: str | None = None
    performer: str | None = None  # NGUOI_THUC_HIEN: who performed it (health IDs, ";"-separated)
    ordered_by: str | None = None  # MA_BAC_SI: who examined and ordered it (not the performer)


@dataclass
class LabResultData:
    seq: str | None
    service_code: str | None
    indicator_code: str | None
    indicator_name: str | None
    value: str | None
    unit: str | None = None
    description: str | None = None
    conclusion: str | None = None
    resulted_at: datetime | None = None
    reader: str | None = None
    # FHIR Observations (laboratory, vital signs): the code system of indicator_code (national
    # indicator list or LOINC), the range and interpretation as sent, and the DiagnosticReport id
    code_system: str | None = None
    category: str | None = None  # "laboratory" | "vital-signs" | another FHIR category
    reference_range: str | None = None
    interpretation: str | None = None
    report_id: str | None = None


@dataclass
class ClinicalNoteData:
    seq: str | None
    text: str | None
    stage: str | None = None
    consultation: str | None = None
    surgery: str | None = None
    at: datetime | None = None
    author: str | None = None


@dataclass
class FollowUpData:
    """XML14 follow-up slip, or a FHIR Appointment."""

    slip_number: str | None
    appointment_at: datetime | None
    appointment_date: PartialDate | None
    diagnosis: str | None = None
    main_diagnosis: str | None = None
    doctor: str | None = None
    issued_on: PartialDate | None = None
    facility_code: str | None = None
    description: str | None = None


@dataclass
class DocumentData:
    """A certificate or paper: XML7 discharge, XML8 summary, XML9 birth, XML11 sick leave,
    XML13 referral, or a FHIR DocumentReference (death notice, driver certificate).
    ``fields`` holds every value as received."""

    kind: str  # discharge | record_summary | birth | sick_leave | referral | death_notice | driver_health
    number: str | None = None
    issued_on: PartialDate | None = None
    fields: dict = field(default_factory=dict)
    content_type: str | None = None
    content: bytes | None = None


@dataclass
class ImmunizationData:
    key: str
    vaccine_code: str | None
    vaccine_system: str | None
    vaccine_name: str | None
    occurred_at: datetime | None
    occurred_date: PartialDate | None
    dose_number: str | None = None
    lot_number: str | None = None
    status: str | None = None
    # issue 17: the codings after the first one (system, code, display), and the coding as sent
    # when the dose was translated to the national vaccine list (CVX, a product name)
    other_codings: list[tuple[str | None, str | None, str | None]] = field(default_factory=list)
    sent_code: str | None = None
    sent_system: str | None = None


@dataclass
class PregnancyCheckupData:
    key: str  # the Encounter id
    at: datetime | None
    gestational_age_weeks: str | None = None
    weight_kg: str | None = None
    systolic_mmhg: str | None = None
    diastolic_mmhg: str | None = None
    fundal_height_cm: str | None = None
    fetal_heart_rate_bpm: str | None = None
    expected_delivery_date: PartialDate | None = None
    last_period: PartialDate | None = None  # first day of the last menstrual period (LOINC 8665-2)


@dataclass
class ConditionData:
    """A FHIR Condition: a problem-list entry or a diagnosis of a visit (ICD-10)."""

    key: str
    code: str | None
    system: str | None
    display: str | None
    category: str | None = None  # problem-list-item | encounter-diagnosis
    clinical_status: str | None = None
    verification_status: str | None = None
    severity: str | None = None
    onset: PartialDate | None = None
    abatement: PartialDate | None = None
    recorded_on: PartialDate | None = None
    note: str | None = None


@dataclass
class AllergyData:
    """A FHIR AllergyIntolerance: SNOMED CT, a national drug code, or free text only."""

    key: str
    code: str | None
    system: str | None
    display: str | None  # the coding's display, else the code's text
    type: str | None = None  # allergy | intolerance
    category: str | None = None  # food, medication, environment, biologic (comma-separated)
    criticality: str | None = None
    clinical_status: str | None = None
    verification_status: str | None = None
    reactions: str | None = None  # manifestations, as text
    onset: PartialDate | None = None
    recorded_on: PartialDate | None = None
    note: str | None = None


@dataclass
class ProcedureData:
    """A FHIR Procedure (ICD-9-CM)."""

    key: str
    code: str | None
    system: str | None
    display: str | None
    status: str | None = None
    performed_at: datetime | None = None
    performed_date: PartialDate | None = None
    performer: str | None = None
    note: str | None = None


@dataclass
class DiagnosticReportData:
    """A FHIR DiagnosticReport: groups lab Observations (their LabResultData.report_id)."""

    key: str
    code: str | None
    system: str | None
    display: str | None
    status: str | None = None
    category: str | None = None
    issued_at: datetime | None = None
    effective_at: datetime | None = None
    conclusion: str | None = None


@dataclass
class CheckInData:
    """A check-in: XML 130's check-in table (XML0) alone in a HOSO, sent when the patient registers
    at the desk, or a FHIR Encounter whose status is `arrived` or `in-progress`. It carries no
    clinical content: it says that the patient is at the facility now."""

    source: str  # "xml130" | "fhir"
    key: str  # MA_LK, or the FHIR Encounter's MA_LK identifier / id
    patient: PatientData
    checked_in_at: datetime | None  # NGAY_VAO / Encounter.period.start
    # every time the message reports, by field: (field, time); the latest is the window's anchor
    times: list[tuple[str, datetime]] = field(default_factory=list)
    visit_type: str | None = None  # MA_LOAI_KCB
    facility_code: str | None = None  # MA_CSKCB as sent


@dataclass
class VisitData:
    """Everything one submission says about one visit (XML: one HOSO = one MA_LK)."""

    encounter: EncounterData | None  # None: FHIR items not tied to an Encounter
    patient: PatientData
    medications: list[MedicationData] = field(default_factory=list)
    services: list[ServiceData] = field(default_factory=list)
    lab_results: list[LabResultData] = field(default_factory=list)
    notes: list[ClinicalNoteData] = field(default_factory=list)
    follow_ups: list[FollowUpData] = field(default_factory=list)
    documents: list[DocumentData] = field(default_factory=list)
    immunizations: list[ImmunizationData] = field(default_factory=list)
    pregnancy_checkups: list[PregnancyCheckupData] = field(default_factory=list)
    other_tables: dict[str, list[dict]] = field(default_factory=dict)  # kept and shown as received
    conditions: list[ConditionData] = field(default_factory=list)
    allergies: list[AllergyData] = field(default_factory=list)
    procedures: list[ProcedureData] = field(default_factory=list)
    reports: list[DiagnosticReportData] = field(default_factory=list)
    # FHIR resources of a type the book does not map: kept as received ({"resourceType", "id", …})
    received_resources: list[dict] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
