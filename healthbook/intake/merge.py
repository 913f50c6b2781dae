"""Merge the visits of one accepted submission into the books, exactly once, set-wise.

Encounters are keyed by (facility, key). Per submission:

1. `INSERT … ON CONFLICT DO NOTHING` of every encounter (one statement), then
   `SELECT … FOR UPDATE` of them in key order (one statement; concurrent workers on the same
   keys queue here instead of deadlocking).
2. Per encounter: created by this run → insert its detail; same content hash → nothing
   changes; other content → the current version and its detail go to EncounterHistory as
   JSON, the encounter is updated (version + 1) and its detail replaced.
3. Detail rows: one `bulk_create` per table for the whole submission; FHIR items not tied to
   an encounter are upserted by (facility, source_key) (`ON CONFLICT DO UPDATE`).

An encounter key already used by the facility for another citizen's book is an error
(ENCOUNTER_OTHER_PATIENT): `EncounterConflict` is raised and the caller rolls back.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from datetime import date, datetime, time, timedelta
from decimal import Decimal, InvalidOperation
from zoneinfo import ZoneInfo

from django.db import models
from django.forms.models import model_to_dict

from healthbook.models import (
    BirthCertificate,
    ClinicalNote,
    DischargePaper,
    Document,
    Encounter,
    EncounterHistory,
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

from .problems import Problem, problem
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
)
SAME_PREGNANCY_DAYS = 28


class EncounterConflict(Exception):
    def __init__(self, problems: list[Problem]):
        self.problems = problems


@dataclasses.dataclass
class MergeCounts:
    created: int = 0
    updated: int = 0
    unchanged: int = 0


def _json_default(o):
    if isinstance(o, (datetime, date, Decimal)):
        return o.isoformat() if not isinstance(o, Decimal) else str(o)
    if isinstance(o, bytes):
        return hashlib.sha256(o).hexdigest()
    raise TypeError(type(o))


def _plain(o):
    """Dataclasses → dicts, recursively (much cheaper than dataclasses.asdict's deep copies)."""
    if dataclasses.is_dataclass(o):
        return {f.name: _plain(getattr(o, f.name)) for f in dataclasses.fields(o)}
    if isinstance(o, list):
        return [_plain(x) for x in o]
    if isinstance(o, dict):
        return {k: _plain(x) for k, x in o.items()}
    return o


_field_names: dict[type, tuple[str, ...]] = {}


def _hash_default(o):
    """json default: a dataclass → its fields as a dict (the C encoder walks the rest)."""
    if dataclasses.is_dataclass(o):
        names = _field_names.get(type(o))
        if names is None:
            names = _field_names[type(o)] = tuple(f.name for f in dataclasses.fields(o))
        return {n: getattr(o, n) for n in names}
    return _json_default(o)


def visit_hash(v: VisitData) -> str:
    """SHA-256 of the visit's canonical JSON (its problems left out).

    Same bytes as `json.dumps(_plain(v))` (so stored content hashes stay valid), without the
    Python-level recursive copy first."""
    data = _hash_default(v)
    data.pop("problems", None)
    raw = json.dumps(data, sort_keys=True, default=_hash_default, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()


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


def encounter_fields(v: VisitData, received_at: datetime) -> dict:
    e = v.encounter
    return {
        "source": e.source,
        "occurred_at": e.admitted_at or e.discharged_at or received_at,
        "visit_type": _s(e.visit_type, 4),
        "admitted_at": e.admitted_at,
        "inpatient_at": e.inpatient_at,
        "discharged_at": e.discharged_at,
        "main_diagnosis": _s(e.main_diagnosis, 20),
        "secondary_diagnoses": [c[:20] for c in e.secondary_diagnoses],
        "traditional_diagnoses": [c[:20] for c in e.traditional_diagnoses],
        "procedures": [c[:20] for c in e.procedures],
        "diagnosis_text_admission": e.diagnosis_text_admission or "",
        "diagnosis_text_discharge": e.diagnosis_text_discharge or "",
        "result": _s(e.result, 4),
        "discharge_type": _s(e.discharge_type, 4),
        "departments": [c[:50] for c in e.departments],
        "follow_up_dates": [d.value for d in e.follow_up_dates],
        "referred_from": _s(e.referred_from, 20),
        "referred_to": _s(e.referred_to, 20),
        "record_number": _s(e.record_number, 100),
        "visit_object": _s(e.visit_object, 10),
        "weight_kg": _s(e.weight_kg, 20),
        "treatment_days": _s(e.treatment_days, 10),
        "note": e.note or "",
        "patient_as_sent": {
            "name": v.patient.full_name,
            "birth_date": v.patient.birth_date.value.isoformat() if v.patient.birth_date else None,
            "personal_id": v.patient.personal_id,
            "cards": v.patient.card_numbers,
            "sex": v.patient.sex,
        },
    }


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

    def __init__(self, *, submission, facility, checks, pregnancy_keys, signature_verified: bool):
        self.submission, self.facility, self.checks = submission, facility, checks
        self.pregnancy_keys = pregnancy_keys
        self.doc_status = (
            Document.SignatureStatus.VERIFIED if signature_verified else (Document.SignatureStatus.NOT_REQUIRED)
        )
        self.rows: dict[type, list] = {m: [] for m in DETAIL_MODELS}
        self.loose: dict[type, list] = {Medication: [], FollowUpAppointment: [], Immunization: [], Document: []}

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
                )
            )
        sex = v.patient.sex
        for lab in v.lab_results:
            number = _decimal(lab.value)
            check = self.checks.get(("lab-indicator", lab.indicator_code))
            low, high = _lab_range(check.properties, sex) if check is not None and check.ok else (None, None)
            flag = ""
            if number is not None and low is not None and number < low:
                flag = "L"
            elif number is not None and high is not None and number > high:
                flag = "H"
            rng = f"{low if low is not None else ''}–{high if high is not None else ''}" if (low or high) else ""
            self.rows[LabObservation].append(
                copy_row(
                    LabObservation,
                    **self._base(book, enc, lab.resulted_at or at0, key("", lab.seq)),
                    service_code=_s(lab.service_code, 50),
                    indicator_code=_s(lab.indicator_code, 255),
                    indicator_name=_s(lab.indicator_name, 255),
                    value=lab.value or "",
                    value_number=number,
                    unit=_s(lab.unit, 50),
                    reference_range=rng[:100],
                    abnormal_flag=flag,
                    description=lab.description or "",
                    conclusion=lab.conclusion or "",
                    reader=_s(lab.reader, 255),
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
                    occurred_on=_day(imm.occurred_date),
                    dose_number=_s(imm.dose_number, 10),
                    lot_number=_s(imm.lot_number, 100),
                    status=_s(imm.status, 20),
                )
            )
        for ck in v.pregnancy_checkups:
            edd = _day(ck.expected_delivery_date)
            self.rows[PregnancyCheckup].append(
                PregnancyCheckup(
                    **self._base(book, enc, ck.at or at0, key("", ck.key)),
                    pregnancy_key=self.pregnancy_key(book, edd, ck.at or at0),
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
                ReceivedTable(**self._base(book, enc, at0, key("", table)), table=table[:20], rows=rows)
            )

    def pregnancy_key(self, book, edd: date | None, at: datetime) -> str:
        """Group check-ups of one pregnancy: an EDD within four weeks of a known one is the same."""
        edd = edd or (at.date() + timedelta(days=200))
        known = self.pregnancy_keys.setdefault(book.pk, [])
        for other, k in known:
            if abs((other - edd).days) <= SAME_PREGNANCY_DAYS:
                return k
        k = edd.isoformat()
        known.append((edd, k))
        return k


def _history_data(encounters: list[Encounter]) -> dict[int, dict]:
    """Each encounter's fields and detail rows as JSON-ready dicts (set-wise: one query per table)."""
    ids = [e.pk for e in encounters]
    out = {e.pk: {"encounter": json.loads(json.dumps(model_to_dict(e), default=_json_default))} for e in encounters}
    for model in DETAIL_MODELS:
        for row in model.objects.filter(encounter_id__in=ids).values():
            data = json.loads(json.dumps(row, default=_json_default))
            out[row["encounter_id"]].setdefault(model._meta.model_name, []).append(data)
    return out


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
    with connection.cursor() as cur:
        with cur.cursor.copy(f"COPY {model._meta.db_table} ({columns}) FROM STDIN") as copy:
            for obj in rows:
                d = obj.__dict__
                out = []
                for a, f, how in getters:
                    v = d[a]
                    if how == _PLAIN or (how == _AWARE_DATETIME and (v is None or v.tzinfo is not None)):
                        out.append(v)
                    else:
                        out.append(f.get_db_prep_save(f.pre_save(obj, True), connection))
                copy.write_row(out)


def visits_merge(
    *,
    submission,
    facility,
    visits: list[VisitData],
    books: list,
    checks: dict,
    versions: dict,
    policy,
    signature_verified: bool,
) -> MergeCounts:
    """Merge accepted visits (books[i] is the HealthBook of visits[i]); see the module docstring."""
    counts = MergeCounts()
    received_at = submission.received_at
    enc_visits = [(v, b, i) for i, (v, b) in enumerate(zip(visits, books, strict=True)) if v.encounter is not None]
    hashes = {v.encounter.key: visit_hash(v) for v, _b, _i in enc_visits}
    keys = sorted(hashes)
    pre_existing = set(Encounter.objects.filter(facility=facility, key__in=keys).values_list("key", flat=True))
    icd10 = {i: versions.get(i, {}).get("icd10") for _v, _b, i in enc_visits}
    fresh = []
    for v, book, i in enc_visits:
        if v.encounter.key in pre_existing:
            continue
        fresh.append(
            Encounter(
                book=book,
                facility=facility,
                submission=submission,
                key=v.encounter.key[:100],
                version=1,
                content_hash=hashes[v.encounter.key],
                icd10_version_id=icd10[i],
                codelist_versions=versions.get(i, {}),
                **encounter_fields(v, received_at),
            )
        )
    if fresh:
        Encounter.objects.bulk_create(fresh, ignore_conflicts=True)
    locked = {
        e.key: e for e in Encounter.objects.select_for_update().filter(facility=facility, key__in=keys).order_by("key")
    }
    conflicts = [
        problem(
            "ENCOUNTER_OTHER_PATIENT",
            table="XML1" if v.encounter.source == "xml130" else "Encounter",
            record_key=v.encounter.key,
            field="MA_LK",
            policy=policy,
        )
        for v, book, _i in enc_visits
        if locked[v.encounter.key].book_id != book.pk
    ]
    if conflicts:
        raise EncounterConflict(conflicts)
    pregnancy_keys: dict[int, list] = {}
    book_ids = {b.pk for b in books if b is not None}
    if any(v.pregnancy_checkups for v in visits):
        for row in (
            PregnancyCheckup.objects.filter(book_id__in=book_ids, expected_delivery_date__isnull=False)
            .values("book_id", "expected_delivery_date", "pregnancy_key")
            .distinct()
        ):
            pregnancy_keys.setdefault(row["book_id"], []).append((row["expected_delivery_date"], row["pregnancy_key"]))
    builder = DetailBuilder(
        submission=submission,
        facility=facility,
        checks=checks,
        pregnancy_keys=pregnancy_keys,
        signature_verified=signature_verified,
    )
    changed: list[tuple[Encounter, VisitData, int]] = []
    for v, book, i in enc_visits:
        enc = locked[v.encounter.key]
        if v.encounter.key not in pre_existing and enc.submission_id == submission.pk:
            counts.created += 1
            builder.add(v, book, enc)
        elif enc.content_hash == hashes[v.encounter.key]:
            counts.unchanged += 1
        else:
            changed.append((enc, v, i))
    if changed:
        old = _history_data([e for e, _v, _i in changed])
        EncounterHistory.objects.bulk_create(
            [
                EncounterHistory(
                    encounter=e,
                    version=e.version,
                    content_hash=e.content_hash,
                    submission_id=e.submission_id,
                    replaced_by=submission,
                    data=old[e.pk],
                )
                for e, _v, _i in changed
            ]
        )
        ids = [e.pk for e, _v, _i in changed]
        for model in DETAIL_MODELS:
            model.objects.filter(encounter_id__in=ids).delete()
        update_fields = list(encounter_fields(changed[0][1], received_at)) + [
            "version",
            "content_hash",
            "submission",
            "icd10_version",
            "codelist_versions",
            "updated_at",
        ]
        for enc, v, i in changed:
            for name, value in encounter_fields(v, received_at).items():
                setattr(enc, name, value)
            enc.version += 1
            enc.content_hash = hashes[enc.key]
            enc.submission = submission
            enc.icd10_version_id = icd10[i]
            enc.codelist_versions = versions.get(i, {})
            enc.updated_at = submission.processed_at or received_at
            builder.add(v, enc.book, enc)
        Encounter.objects.bulk_update([e for e, _v, _i in changed], update_fields)
        counts.updated = len(changed)
    for v, book in zip(visits, books, strict=True):
        if v.encounter is None and book is not None:
            builder.add(v, book, None)
    for model, rows in builder.rows.items():
        if rows:
            copy_rows(model, rows)
    for model, rows in builder.loose.items():
        rows = list({r.source_key: r for r in rows}.values())  # one row per key, or ON CONFLICT fails
        if rows:
            fields = [
                f.name
                for f in model._meta.concrete_fields
                if f.name not in ("id", "facility", "source_key", "encounter")
            ]
            model.objects.bulk_create(
                rows, update_conflicts=True, unique_fields=["facility", "source_key"], update_fields=fields
            )
    return counts
