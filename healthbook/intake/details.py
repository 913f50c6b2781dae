"""The detail rows of merged visits (medications, services, lab results, notes, follow-ups,
FHIR items, papers, tables kept as received): built in memory per submission, then written
with one COPY per table -- per submission, or per batch of submissions (`PendingDetails`).
"""

from __future__ import annotations

import operator
from datetime import date, datetime, time, timedelta
from decimal import Decimal, InvalidOperation
from zoneinfo import ZoneInfo

from django.db import models

from healthbook.models import (
    Allergy,
    BirthCertificate,
    ClinicalNote,
    ClinicalProcedure,
    Condition,
    DiagnosticReport,
    DischargePaper,
    Document,
    Encounter,
    FollowUpAppointment,
    Immunization,
    LabObservation,
    Medication,
    PregnancyCheckup,
    ReceivedTable,
    RecordSummary,
    Referral,
    ServiceItem,
    SickLeaveCertificate,
)
from healthbook.models.lab_ranges import range_text

from .records import PartialDate, VisitData

VN_TZ = ZoneInfo("Asia/Ho_Chi_Minh")
PAPER_MODELS = {
    "discharge": DischargePaper,
    "record_summary": RecordSummary,
    "birth": BirthCertificate,
    "sick_leave": SickLeaveCertificate,
    "referral": Referral,
}
DETAIL_MODELS = (
    Medication,
    ServiceItem,
    LabObservation,
    ClinicalNote,
    FollowUpAppointment,
    Immunization,
    PregnancyCheckup,
    DischargePaper,
    RecordSummary,
    BirthCertificate,
    SickLeaveCertificate,
    Referral,
    Document,
    ReceivedTable,
    Condition,
    Allergy,
    ClinicalProcedure,
    DiagnosticReport,
)
# Rows of FHIR items not tied to an encounter: upserted by (facility, source_key) (merge.py).
LOOSE_MODELS = (
    Medication,
    FollowUpAppointment,
    Immunization,
    Document,
    LabObservation,
    Condition,
    Allergy,
    ClinicalProcedure,
    DiagnosticReport,
    ReceivedTable,
)
# FHIR interpretation codes shown as the book's abnormal flag (v3-ObservationInterpretation)
FLAGS = {"H": "H", "HH": "H", "HU": "H", "L": "L", "LL": "L", "LU": "L", "A": "A", "AA": "A"}
SAME_PREGNANCY_DAYS = 28
FULL_TERM_DAYS = 280  # 40 weeks from the first day of the last period


def due_date_from(ck, on: date) -> date | None:
    """The due date a check-up implies: 280 days after the last period when sent, else its day
    plus what remains of 40 weeks of gestational age."""
    if ck.last_period is not None and ck.last_period.precision == "day":
        return ck.last_period.value + timedelta(days=FULL_TERM_DAYS)
    weeks = _decimal(ck.gestational_age_weeks, 1)
    if weeks is None or not 0 < weeks <= 45:
        return None
    return on + timedelta(days=FULL_TERM_DAYS - round(float(weeks) * 7))


def pregnancy_key_date(key: str) -> date | None:
    """The due date a pregnancy key names (keys are ISO dates; anything else is no pregnancy)."""
    try:
        return date.fromisoformat(key)
    except (TypeError, ValueError):
        return None


def _s(value, n: int) -> str:
    return (value or "")[:n]


def _day(d: PartialDate | None) -> date | None:
    return d.value if d is not None else None


def _midnight(d: date | None) -> datetime | None:
    return datetime.combine(d, time(0, 0), tzinfo=VN_TZ) if d else None


def _decimal(value: str | None, places: int = 6) -> Decimal | None:
    if not value:
        return None
    try:
        d = Decimal(value.strip().replace(",", "."))
    except (InvalidOperation, AttributeError):
        return None
    if not d.is_finite() or abs(d) >= Decimal(10) ** 11:
        return None
    return d.quantize(Decimal(1).scaleb(-places))


def _int(value: str | None) -> int | None:
    d = _decimal(value, 0)
    return int(d) if d is not None and 0 <= d < 32768 else None


def _lab_range(props: dict, sex: str | None) -> tuple[Decimal | None, Decimal | None]:
    by_sex = props.get("ref_by_sex") or {}
    sub = by_sex.get({"1": "M", "2": "F"}.get(sex or "", ""), {})
    low, high = sub.get("ref_low", props.get("ref_low")), sub.get("ref_high", props.get("ref_high"))
    return (Decimal(str(low)) if low is not None else None, Decimal(str(high)) if high is not None else None)


class CopyRow:
    """A detail row bound for `copy_rows`: its attribute values by attname, nothing else.

    Much cheaper to build than a model instance (no descriptors, no signals); used for the
    rows of encounters, which are only ever COPYed."""

    def __init__(self, values: dict):
        self.__dict__ = values


_row_fields: dict[type, list] = {}


def _model(model, **kw):
    return model(**kw)


def copy_row(model, **kw) -> CopyRow:
    """Like `model(**kw)` for `copy_rows`: related objects become ids, missing fields defaults."""
    fields = _row_fields.get(model)
    if fields is None:
        fields = _row_fields[model] = [f for f in model._meta.concrete_fields if not f.primary_key]
    d = {}
    for f in fields:
        if f.name in kw:
            v = kw[f.name]
            d[f.attname] = (v.pk if v is not None else None) if f.is_relation else v
        elif f.attname in kw:
            d[f.attname] = kw[f.attname]
        else:
            d[f.attname] = f.get_default()
    return CopyRow(d)


class DetailBuilder:
    """Builds the unsaved detail rows of a submission."""

    def __init__(self, *, submission, facility, checks, pregnancy_keys, signature_verified: bool, rows=None):
        self.submission, self.facility, self.checks = submission, facility, checks
        self.pregnancy_keys = pregnancy_keys
        self.doc_status = (
            Document.SignatureStatus.VERIFIED if signature_verified else (Document.SignatureStatus.NOT_REQUIRED)
        )
        self.rows: dict[type, list] = rows if rows is not None else {m: [] for m in DETAIL_MODELS}
        self.loose: dict[type, list] = {m: [] for m in LOOSE_MODELS}

    def _base(self, book, enc, at, key):
        return {
            "book": book,
            "facility": self.facility,
            "submission": self.submission,
            "encounter": enc,
            "occurred_at": at,
            "source_key": key[:120],
        }

    def add(self, v: VisitData, book, enc: Encounter | None) -> None:
        at0 = enc.occurred_at if enc is not None else self.submission.received_at
        prefix = f"{enc.key}/" if enc is not None else ""
        n = iter(range(1, 1_000_000))

        def key(kind: str, rid: str | None) -> str:
            return f"{prefix}{next(n)}" if enc is not None else f"{kind}/{rid or next(n)}"

        target = self.rows if enc is not None else self.loose
        for m in v.medications:
            target[Medication].append(
                (copy_row if enc is not None else _model)(
                    Medication,
                    **self._base(book, enc, m.ordered_at or at0, key("MedicationRequest", m.seq)),
                    code=_s(m.code, 255),
                    name=_s(m.name, 1024),
                    unit=_s(m.unit, 50),
                    strength=_s(m.strength, 1024),
                    route=_s(m.route, 10),
                    form=_s(m.form, 1024),
                    dosage=m.dosage or "",
                    usage=m.usage or "",
                    quantity=_s(m.quantity, 20),
                    registration_no=_s(m.registration_no, 255),
                    ordered_at=m.ordered_at,
                    executed_at=m.executed_at,
                    prescriber=_s(m.prescriber, 255),
                    prescription_code=_s(m.prescription_code, 50),
                    kind=_s(m.kind, 10),
                    status=_s(m.status, 20),
                )
            )
        for s in v.services:
            self.rows[ServiceItem].append(
                copy_row(
                    ServiceItem,
                    **self._base(book, enc, s.performed_at or s.ordered_at or at0, key("", s.seq)),
                    code=_s(s.code, 50),
                    name=_s(s.name, 1024),
                    group=_s(s.group, 4),
                    procedure_code=_s(s.procedure_code, 255),
                    supply_code=_s(s.supply_code, 255),
                    quantity=_s(s.quantity, 20),
                    ordered_at=s.ordered_at,
                    performed_at=s.performed_at,
                    resulted_at=s.resulted_at,
                    department=_s(s.department, 50),
                    performer=_s(s.performer, 255),
                    ordered_by=_s(s.ordered_by, 255),
                )
            )
        make = copy_row if enc is not None else _model
        report_keys: dict[str, str] = {}
        for r in v.reports:
            base = self._base(book, enc, r.effective_at or r.issued_at or at0, key("DiagnosticReport", r.key))
            report_keys[r.key] = base["source_key"]
            target[DiagnosticReport].append(
                make(
                    DiagnosticReport,
                    **base,
                    code=_s(r.code, 100),
                    code_system=_s(r.system, 255),
                    display=_s(r.display, 1024),
                    status=_s(r.status, 20),
                    category=_s(r.category, 50),
                    issued_at=r.issued_at,
                    conclusion=r.conclusion or "",
                )
            )
        sex = v.patient.sex
        for lab in v.lab_results:
            number = _decimal(lab.value)
            national = lab.code_system in (None, "", "lab-indicator")
            check = self.checks.get(("lab-indicator", lab.indicator_code)) if national else None
            low, high = _lab_range(check.properties, sex) if check is not None and check.ok else (None, None)
            flag = FLAGS.get(lab.interpretation or "", "")
            if flag:
                pass
            elif number is not None and low is not None and number < low:
                flag = "L"
            elif number is not None and high is not None and number > high:
                flag = "H"
            rng = range_text(low, high)
            target[LabObservation].append(
                make(
                    LabObservation,
                    **self._base(book, enc, lab.resulted_at or at0, key("Observation", lab.seq)),
                    service_code=_s(lab.service_code, 50),
                    indicator_code=_s(lab.indicator_code, 255),
                    indicator_name=_s(lab.indicator_name, 255),
                    value=lab.value or "",
                    value_number=number,
                    unit=_s(lab.unit, 50),
                    reference_range=(lab.reference_range or rng)[:100],
                    abnormal_flag=flag,
                    description=lab.description or "",
                    conclusion=lab.conclusion or "",
                    reader=_s(lab.reader, 255),
                    code_system=_s(lab.code_system, 255),
                    category=_s(lab.category, 50),
                    interpretation=_s(lab.interpretation, 20),
                    report_key=report_keys.get(lab.report_id or "", ""),
                )
            )
        for c in v.conditions:
            target[Condition].append(
                make(
                    Condition,
                    **self._base(book, enc, _midnight(_day(c.onset or c.recorded_on)) or at0, key("Condition", c.key)),
                    code=_s(c.code, 100),
                    code_system=_s(c.system, 255),
                    display=_s(c.display, 1024),
                    category=_s(c.category, 50),
                    clinical_status=_s(c.clinical_status, 20),
                    verification_status=_s(c.verification_status, 20),
                    severity=_s(c.severity, 255),
                    onset_on=_day(c.onset),
                    abatement_on=_day(c.abatement),
                    recorded_on=_day(c.recorded_on),
                    note=c.note or "",
                )
            )
        for a in v.allergies:
            target[Allergy].append(
                make(
                    Allergy,
                    **self._base(
                        book, enc, _midnight(_day(a.recorded_on or a.onset)) or at0, key("AllergyIntolerance", a.key)
                    ),
                    code=_s(a.code, 100),
                    code_system=_s(a.system, 255),
                    display=_s(a.display, 1024),
                    type=_s(a.type, 20),
                    category=_s(a.category, 100),
                    criticality=_s(a.criticality, 20),
                    clinical_status=_s(a.clinical_status, 20),
                    verification_status=_s(a.verification_status, 20),
                    reactions=a.reactions or "",
                    onset_on=_day(a.onset),
                    recorded_on=_day(a.recorded_on),
                    note=a.note or "",
                )
            )
        for p in v.procedures:
            target[ClinicalProcedure].append(
                make(
                    ClinicalProcedure,
                    **self._base(
                        book,
                        enc,
                        p.performed_at or _midnight(_day(p.performed_date)) or at0,
                        key("Procedure", p.key),
                    ),
                    code=_s(p.code, 100),
                    code_system=_s(p.system, 255),
                    display=_s(p.display, 1024),
                    status=_s(p.status, 20),
                    performed_at=p.performed_at,
                    performed_on=_day(p.performed_date),
                    performer=_s(p.performer, 255),
                    note=p.note or "",
                )
            )
        for res in v.received_resources:
            rtype = str(res.get("resourceType"))[:64]
            rid = res.get("id")
            target[ReceivedTable].append(
                make(
                    ReceivedTable,
                    **self._base(book, enc, at0, key(rtype, rid if isinstance(rid, str) else None)),
                    table=rtype,
                    rows=[res],
                )
            )
        for note in v.notes:
            self.rows[ClinicalNote].append(
                copy_row(
                    ClinicalNote,
                    **self._base(book, enc, note.at or at0, key("", note.seq)),
                    text=note.text or "",
                    stage=note.stage or "",
                    consultation=note.consultation or "",
                    surgery=note.surgery or "",
                    author=_s(note.author, 255),
                )
            )
        for fu in v.follow_ups:
            target[FollowUpAppointment].append(
                FollowUpAppointment(
                    **self._base(
                        book,
                        enc,
                        at0 if enc is not None else (fu.appointment_at or at0),
                        key("Appointment", fu.slip_number),
                    ),
                    slip_number=_s(fu.slip_number, 200),
                    appointment_at=fu.appointment_at,
                    appointment_date=_day(fu.appointment_date),
                    diagnosis=fu.diagnosis or "",
                    main_diagnosis=_s(fu.main_diagnosis, 20),
                    doctor=_s(fu.doctor, 255),
                    issued_on=_day(fu.issued_on),
                    at_facility_code=_s(fu.facility_code, 5),
                    description=fu.description or "",
                )
            )
        for imm in v.immunizations:
            target[Immunization].append(
                Immunization(
                    **self._base(
                        book,
                        enc,
                        imm.occurred_at or _midnight(_day(imm.occurred_date)) or at0,
                        key("Immunization", imm.key),
                    ),
                    vaccine_code=_s(imm.vaccine_code, 100),
                    vaccine_system=_s(imm.vaccine_system, 255),
                    vaccine_name=_s(imm.vaccine_name, 255),
                    sent_code=_s(imm.sent_code, 100),
                    sent_system=_s(imm.sent_system, 255),
                    occurred_on=_day(imm.occurred_date),
                    dose_number=_s(imm.dose_number, 10),
                    lot_number=_s(imm.lot_number, 100),
                    status=_s(imm.status, 20),
                )
            )
        for ck in v.pregnancy_checkups:
            edd = _day(ck.expected_delivery_date)
            due = edd or due_date_from(ck, (ck.at or at0).date())
            self.rows[PregnancyCheckup].append(
                PregnancyCheckup(
                    **self._base(book, enc, ck.at or at0, key("", ck.key)),
                    pregnancy_key=self.pregnancy_key(book, due, ck.at or at0),
                    gestational_age_weeks=_decimal(ck.gestational_age_weeks, 1),
                    weight_kg=_decimal(ck.weight_kg, 2),
                    systolic_mmhg=_int(ck.systolic_mmhg),
                    diastolic_mmhg=_int(ck.diastolic_mmhg),
                    fundal_height_cm=_decimal(ck.fundal_height_cm, 1),
                    fetal_heart_rate_bpm=_int(ck.fetal_heart_rate_bpm),
                    expected_delivery_date=edd,
                )
            )
        for doc in v.documents:
            issued = _day(doc.issued_on)
            base = self._base(book, enc, _midnight(issued) or at0, key("DocumentReference", doc.number))
            fields = {
                k: (v2 if isinstance(v2, (str, int, float, type(None))) else str(v2)) for k, v2 in doc.fields.items()
            }
            if doc.kind in PAPER_MODELS:
                model = PAPER_MODELS[doc.kind]
                self.rows[model].append(model(**base, number=_s(doc.number, 200), issued_on=issued, fields=fields))
            else:
                target[Document].append(
                    Document(
                        **base,
                        number=_s(doc.number, 200),
                        issued_on=issued,
                        fields=fields,
                        kind=doc.kind,
                        content_type=_s(doc.content_type, 100),
                        content=doc.content,
                        signature_status=self.doc_status,
                    )
                )
        for table, rows in v.other_tables.items():
            self.rows[ReceivedTable].append(
                ReceivedTable(**self._base(book, enc, at0, key("", table)), table=table[:64], rows=rows)
            )

    def pregnancy_key(self, book, edd: date | None, at: datetime) -> str:
        """Group check-ups of one pregnancy: a due date (sent, or derived from the gestational age)
        within four weeks of a known pregnancy's is the same pregnancy; without one, the check-up
        joins the pregnancy whose due date is still ahead of it, the nearest first, else opens one
        due ~200 days later. Known pregnancies are every key already in the book (merge.py), so a
        guessed key is remembered across submissions and facilities."""
        known = self.pregnancy_keys.setdefault(book.pk, [])
        if edd is None:
            ahead = sorted(
                (other, k) for other, k in known if at.date() <= other <= at.date() + timedelta(days=FULL_TERM_DAYS)
            )
            if ahead:
                return ahead[0][1]
        edd = edd or (at.date() + timedelta(days=200))
        for other, k in known:
            if abs((other - edd).days) <= SAME_PREGNANCY_DAYS:
                return k
        k = edd.isoformat()
        known.append((edd, k))
        return k


# Field classes whose Python value psycopg adapts exactly as Django's get_db_prep_save would
# (no conversion): COPY rows take the attribute as is, skipping Django's per-value prep.
_PLAIN_FIELDS = (
    models.CharField,
    models.TextField,
    models.IntegerField,
    models.BooleanField,
    models.DecimalField,
    models.DateField,
    models.UUIDField,
)
_PLAIN, _AWARE_DATETIME, _DJANGO = 0, 1, 2
_copy_plans: dict[type, tuple[str, list]] = {}


def _prep_kind(f) -> int:
    if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False) or f.choices:
        return _DJANGO
    if isinstance(f, models.ForeignKey):
        return _PLAIN if isinstance(f.target_field, models.AutoField) else _DJANGO  # integer ids
    if type(f).get_db_prep_save is not models.Field.get_db_prep_save or not isinstance(f, _PLAIN_FIELDS):
        return _DJANGO
    # a naive datetime would be read in TIME_ZONE by Django but in UTC by PostgreSQL: let Django do those
    return _AWARE_DATETIME if isinstance(f, models.DateTimeField) else _PLAIN


def _copy_plan(model):
    """(column list, [(attname, field, how)]) for COPY rows of `model`."""
    plan = _copy_plans.get(model)
    if plan is None:
        from django.db import connection

        fields = [f for f in model._meta.concrete_fields if not f.primary_key]
        columns = ", ".join(connection.ops.quote_name(f.column) for f in fields)
        plan = _copy_plans[model] = (columns, [(f.attname, f, _prep_kind(f)) for f in fields])
    return plan


def copy_rows(model, rows: list) -> None:
    """Insert unsaved model instances with one COPY (the detail rows of a whole submission)."""
    from django.db import connection

    columns, getters = _copy_plan(model)
    take = operator.itemgetter(*(a for a, _f, _how in getters))  # all attributes in one C call
    special = [(i, f, how) for i, (_a, f, how) in enumerate(getters) if how != _PLAIN]
    with connection.cursor() as cur:
        with cur.cursor.copy(f"COPY {model._meta.db_table} ({columns}) FROM STDIN") as copy:
            for obj in rows:
                out = list(take(obj.__dict__))
                for i, f, how in special:  # aware datetimes as they are; the rest through Django
                    if how == _AWARE_DATETIME and (out[i] is None or out[i].tzinfo is not None):
                        continue
                    out[i] = f.get_db_prep_save(f.pre_save(obj, True), connection)
                copy.write_row(out)


class PendingDetails:
    """Encounter detail rows waiting for their COPY (one per table for a whole batch).

    `keys` holds (facility id, encounter key) of the encounters whose rows are pending: a
    submission that touches one of them flushes first, so whatever it reads (history, rows to
    replace) includes every row written before it -- as when submissions were merged one by
    one."""

    def __init__(self):
        self.rows: dict[type, list] = {m: [] for m in DETAIL_MODELS}
        self.keys: set[tuple[int, str]] = set()

    def touches(self, facility_id: int, keys) -> bool:
        return any((facility_id, k) in self.keys for k in keys)

    def flush(self) -> None:
        for model, rows in self.rows.items():
            if rows:
                copy_rows(model, rows)
                rows.clear()
        self.keys.clear()
